"""Search over the Box emulator's items, with Box's query parameters."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sentinel.box._emulator._store import EmulatorStore, Item
from sentinel.box._errors import EmulatorApiError

DEFAULT_LIMIT = 30
MAX_LIMIT = 200
# Box rejects paging deeper than this into search results.
MAX_OFFSET = 10_000
_TERMS = re.compile(r'"([^"]*)"|(\S+)')
_TYPES = ("file", "folder", "web_link")


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A parsed search request."""

    phrases: tuple[str, ...]
    excluded: tuple[str, ...]
    item_type: str | None
    ancestors: frozenset[str]
    extensions: frozenset[str]
    offset: int
    limit: int

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> SearchQuery:
        """Read ``query``, ``type``, ``ancestor_folder_ids``, paging and filters."""
        text = params.get("query", "").strip()
        if not text:
            raise EmulatorApiError(
                400,
                "bad_request",
                "Missing 'query'; send the text to search for",
                {"errors": [{"reason": "missing_parameter", "name": "query"}]},
            )
        item_type = params.get("type") or None
        if item_type is not None and item_type not in _TYPES:
            raise _invalid("type", item_type, "file, folder or web_link")
        phrases, excluded = _terms(text)
        return cls(
            phrases=phrases,
            excluded=excluded,
            item_type=item_type,
            ancestors=_id_list(params.get("ancestor_folder_ids")),
            extensions=frozenset(
                ext.lower().lstrip(".")
                for ext in _id_list(params.get("file_extensions"))
            ),
            offset=_number(params, "offset", 0, MAX_OFFSET),
            limit=max(1, _number(params, "limit", DEFAULT_LIMIT, MAX_LIMIT)),
        )

    def matches(self, store: EmulatorStore, item: Item) -> bool:
        """Tell whether ``item`` matches the query."""
        name = item.name.lower()
        if self.item_type is not None and item.type != self.item_type:
            return False
        if self.extensions and (
            item.is_folder or name.rpartition(".")[2] not in self.extensions
        ):
            return False
        if any(phrase not in name for phrase in self.phrases):
            return False
        if any(word in name for word in self.excluded):
            return False
        if self.ancestors:
            above = {ancestor.id for ancestor in store.ancestors(item)}
            return not above.isdisjoint(self.ancestors)
        return True


def _terms(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Split a query into required phrases and excluded words, lowercased.

    Quoted text must appear as written; a word after NOT, or with a leading
    minus sign, must not appear; AND between words changes nothing.
    """
    phrases: list[str] = []
    excluded: list[str] = []
    negate = False
    for quoted, word in _TERMS.findall(text):
        term = (quoted or word).lower()
        if not quoted and word in {"AND", "OR"}:
            continue
        if not quoted and word == "NOT":
            negate = True
            continue
        if not quoted and term.startswith("-") and len(term) > 1:
            negate, term = True, term[1:]
        (excluded if negate else phrases).append(term)
        negate = False
    return tuple(phrases), tuple(excluded)


def _id_list(raw: str | None) -> frozenset[str]:
    if not raw:
        return frozenset()
    return frozenset(part.strip() for part in raw.split(",") if part.strip())


def _number(params: Mapping[str, str], name: str, default: int, maximum: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0 or (name == "offset" and value > maximum):
        raise _invalid(name, raw, f"an integer from 0 to {maximum}")
    return min(value, maximum)


def _invalid(name: str, value: str, expected: str) -> EmulatorApiError:
    return EmulatorApiError(
        400,
        "bad_request",
        f"Invalid value {value!r} for query parameter {name!r}; expected {expected}",
        {"errors": [{"reason": "invalid_parameter", "name": name, "message": value}]},
    )


def search(store: EmulatorStore, query: SearchQuery) -> tuple[int, list[Item]]:
    """Return the number of matches and the page of them that ``query`` asks for.

    Results are ordered by name, folders first, so pages are stable.
    """
    found = [item for item in store.all_items() if query.matches(store, item)]
    found.sort(key=lambda item: (not item.is_folder, item.name.lower(), int(item.id)))
    return len(found), found[query.offset : query.offset + query.limit]
