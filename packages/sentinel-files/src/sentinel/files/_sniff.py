"""Format detection by content for text files whose name does not say the format."""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass
from pathlib import Path

# Suffixes that say "text" without saying which format.
SNIFFED_SUFFIXES = frozenset({"", ".txt", ".dat"})
SAMPLE_BYTES = 64 * 1024
# A JSON document is confirmed by parsing it whole, so only up to this size.
JSON_PARSE_LIMIT = 1 << 20
SAMPLE_LINES = 50
# Share of sampled records that must have the most common field count.
DELIMITED_CONSISTENCY = 0.9
BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
XML_START = re.compile(r"<(\?xml[\s?]|!--|!DOCTYPE\s|[A-Za-z_][\w.:-]*[\s/>])")
YAML_KEY = re.compile(
    r"""(?:[^\s#:\-?&*!|>'"%@`{\[][^:#]*?|"[^"]*"|'[^']*'):(?:\s|$)"""
)
YAML_ITEM = re.compile(r"-(?:\s|$)")
CHECKSUM_LINE = re.compile(r"[0-9a-fA-F]{32,128} [ *]\S.*")
MARKDOWN_LINE = re.compile(r"(#{1,6} |\|.*\||```|[-*] |\d+\. |> )")


@dataclass(frozen=True, slots=True)
class Sniffed:
    """A format found by content, or None with the reason nothing matched."""

    format: str | None
    reason: str


def sniff_text(path: Path, head: bytes) -> Sniffed:
    """Tell the format of a text file from its content alone.

    Tries JSON (the first character opens an object or array and the whole
    file parses), XML (a declaration or a root element first), YAML (a
    document marker or key-value lines that parse) and delimited text (the
    same field count on nearly every sampled line), in that order, and
    returns the first match with its reason, or no format with the reason
    each one failed.
    """
    text = _decode(head)
    if text is None:
        return Sniffed(None, "the content is neither UTF-8 nor UTF-16 text")
    body = _complete_lines(text, len(head) >= SAMPLE_BYTES)
    stripped = body.lstrip()
    if not stripped:
        return Sniffed(None, "the file holds only white space")
    for check in (_json, _xml, _yaml, _delimited):
        found = check(path, stripped)
        if found is not None:
            return found
    return Sniffed(None, _plain_text_reason(stripped))


def _decode(head: bytes) -> str | None:
    for mark, encoding in BOMS:
        if head.startswith(mark):
            return head.decode(encoding, errors="replace")
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut by the sample's end
            return head[: exc.start].decode("utf-8")
    try:
        # Text in a single-byte encoding is still text; cp1252 leaves only
        # five bytes undefined, so most such files decode.
        return head.decode("cp1252")
    except UnicodeDecodeError:
        return None


def _complete_lines(text: str, cut: bool) -> str:
    """Drop the last line of a sample that ends inside it."""
    if cut and "\n" in text:
        return text[: text.rindex("\n") + 1]
    return text


def _json(path: Path, text: str) -> Sniffed | None:
    if text[0] not in "{[":
        return None
    size = path.stat().st_size
    if size > JSON_PARSE_LIMIT:
        return None
    data = path.read_bytes()
    try:
        json.loads(data.decode(json.detect_encoding(data)))
    except (ValueError, UnicodeDecodeError):
        return None
    kind = "an object" if text[0] == "{" else "an array"
    return Sniffed("json", f"content starts {kind} and the whole file parses as JSON")


def _xml(path: Path, text: str) -> Sniffed | None:
    match = XML_START.match(text)
    if match is None:
        return None
    opening = match.group(1)
    if opening.startswith("?xml"):
        return Sniffed("xml", "content starts with an XML declaration")
    if opening.startswith(("!--", "!DOCTYPE")):
        return Sniffed("xml", "content starts with an XML comment or doctype")
    name = re.match(r"[\w.:-]+", opening)
    tag = name.group() if name else opening
    if f"</{tag}" not in text and not text.rstrip().endswith("/>"):
        return None
    return Sniffed("xml", f"content starts with the root element <{tag}>")


def _yaml(path: Path, text: str) -> Sniffed | None:
    lines = _significant_lines(text)
    if not lines:
        return None
    marker = lines[0].startswith(("---", "%YAML"))
    if not (marker or _key_value_lines(lines)) or not _parses_as_collections(text):
        return None
    if marker:
        return Sniffed("yaml", "content starts with a YAML document marker")
    return Sniffed(
        "yaml",
        f"all {len(lines)} sampled lines are YAML key-value lines, list items or "
        f"indented under them, and they parse as YAML",
    )


def _key_value_lines(lines: list[str]) -> bool:
    """Tell whether every top-level line is a key or list item, with one key."""
    top = [
        line
        for line in lines
        if not line[0].isspace() and not line.startswith(("---", "..."))
    ]
    return (
        bool(top)
        and all(YAML_KEY.match(line) or YAML_ITEM.match(line) for line in top)
        and any(YAML_KEY.match(line) for line in top)
    )


def _parses_as_collections(text: str) -> bool:
    """Tell whether every document of ``text`` is a mapping or a sequence.

    Composing builds nodes without constructing values, and an alias is a
    reference to a node already built, so the cost stays linear in the text.
    """
    import yaml

    from sentinel.files._yaml import Yaml12Loader

    try:
        roots = [node for node in yaml.compose_all(text, Loader=Yaml12Loader) if node]
    except yaml.YAMLError:
        return False
    return bool(roots) and all(
        isinstance(node, yaml.MappingNode | yaml.SequenceNode) for node in roots
    )


def _significant_lines(text: str) -> list[str]:
    lines = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            lines.append(line)
            if len(lines) >= SAMPLE_LINES:
                break
    return lines


def _delimited(path: Path, text: str) -> Sniffed | None:
    from sentinel.files._dialect import detect_dialect

    if len(text.splitlines()) < 2:
        return None
    dialect = detect_dialect(text, complete=True)
    share, fields = _consistency(text, dialect.delimiter)
    if fields < 2 or share < DELIMITED_CONSISTENCY:
        return None
    kind = "tsv" if dialect.delimiter == "\t" else "csv"
    return Sniffed(
        kind,
        f"delimited text: {round(share * 100)}% of sampled lines have {fields} "
        f"{dialect.delimiter_name}-separated fields",
    )


def _consistency(text: str, delimiter: str) -> tuple[float, int]:
    import csv
    import io
    from collections import Counter

    counts = []
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        for record in reader:
            if record:
                counts.append(len(record))
            if len(counts) >= 500:
                break
    except csv.Error:
        return 0.0, 0
    if len(counts) < 2:
        return 0.0, 0
    fields, agreeing = Counter(counts).most_common(1)[0]
    return agreeing / len(counts), fields


def _plain_text_reason(text: str) -> str:
    lines = _significant_lines(text) or text.splitlines()
    if lines and all(CHECKSUM_LINE.fullmatch(line.strip()) for line in lines):
        return (
            "a checksum list (a hex digest and a file name per line), not a data "
            "table: its lines have no delimiter that splits them into columns"
        )
    markdown = sum(1 for line in text.splitlines() if MARKDOWN_LINE.match(line))
    if text.startswith("#") and markdown:
        return (
            "Markdown or other prose: headings and paragraphs, not JSON, XML, "
            "YAML or delimited lines"
        )
    return (
        "plain text: not JSON, XML or YAML, and no delimiter splits its lines "
        "into the same number of fields"
    )
