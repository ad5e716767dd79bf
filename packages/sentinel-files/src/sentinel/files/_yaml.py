"""YAML files loaded safely with YAML 1.2 core-schema scalars."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.events import AliasEvent, ScalarEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from sentinel.files._base import DataFile, describe_keys
from sentinel.files._errors import InvalidFileError, UnsafeContentError

# The expanded size (nodes counted once per alias that reaches them) above
# which a document is rejected; real configuration files stay far below it,
# and "billion laughs" style documents go far above it.
MAX_EXPANDED_NODES = 1_000_000
# The max levels of nested sequences and mappings, counted through aliases.
# Scalars add no level, as in the JSON limit. PyYAML 6's composer uses about
# three Python frames per level, so the limit stays well below the default
# recursion limit of 1000. The Compose and Kubernetes files that the corpus
# test reads nest at most 8 levels.
MAX_DEPTH = 100


class Yaml12Loader(yaml.SafeLoader):
    """A safe loader that resolves plain scalars by the YAML 1.2 core schema.

    Unlike YAML 1.1, ``on``, ``no`` and ``yes`` stay strings, ``1:20`` is
    not a sexagesimal integer and ``2001-01-23`` is not a timestamp. Tags
    that the loader does not know are built as plain data and recorded in
    ``unknown_tags`` instead of raising.
    """

    yaml_implicit_resolvers: dict[Any, Any] = {}

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self.unknown_tags: list[tuple[str, int]] = []
        self._depth = 0
        # The height of each node composed in the current document, by id,
        # so an alias adds the height of the node it names to the depth.
        self._heights: dict[int, int] = {}

    def compose_document(self) -> Node | None:
        self._heights = {}
        node: Node | None = super().compose_document()
        self._heights = {}
        return node

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        """Compose one node and raise UnsafeContentError above MAX_DEPTH levels."""
        if self.check_event(AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            target = self.anchors.get(event.anchor)
            # A node still being composed is an alias to its own ancestor,
            # which _check_expansion rejects as a recursive alias.
            height = self._heights.get(id(target), 0)
            self._check_depth(self._depth + height, event.start_mark)
            node: Node | None = super().compose_node(parent, index)
            return node
        if self.check_event(ScalarEvent):
            scalar: Node | None = super().compose_node(parent, index)
            return scalar
        self._depth += 1
        start = self.peek_event().start_mark  # type: ignore[no-untyped-call]
        self._check_depth(self._depth, start)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        self._heights[id(node)] = 1 + _max_child_height(node, self._heights)
        return node

    def _check_depth(self, depth: int, mark: yaml.Mark) -> None:
        if depth <= MAX_DEPTH:
            return
        raise UnsafeContentError(
            f"{self.name}: sequences and mappings nest deeper than {MAX_DEPTH} "
            f"levels; the document is rejected",
            code="nesting-depth",
            hint="Flatten the structure.",
            location={"row": mark.line + 1, "column": mark.column + 1},
        )


def _max_child_height(node: Node | None, heights: dict[int, int]) -> int:
    if isinstance(node, SequenceNode):
        children = node.value
    elif isinstance(node, MappingNode):
        children = [item for pair in node.value for item in pair]
    else:
        return 0
    return max((heights.get(id(child), 0) for child in children), default=0)


def _add_resolver(tag: str, pattern: str, first: str) -> None:
    Yaml12Loader.add_implicit_resolver(tag, re.compile(pattern, re.X), list(first))


_add_resolver("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", "~nN")
_add_resolver(
    "tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"
)
_add_resolver(
    "tag:yaml.org,2002:int",
    r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$",
    "-+0123456789",
)
_add_resolver(
    "tag:yaml.org,2002:float",
    r"""^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$""",
    "-+0123456789.",
)
# Merge keys are not part of YAML 1.2 but real compose files depend on them.
_add_resolver("tag:yaml.org,2002:merge", r"^(?:<<)$", "<")
# PyYAML looks up resolvers for the empty plain scalar under the key "".
Yaml12Loader.yaml_implicit_resolvers[""] = [
    ("tag:yaml.org,2002:null", re.compile(r"^$"))
]


def _construct_int(loader: yaml.SafeLoader, node: ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    if text.startswith("0o"):
        return int(text[2:], 8)
    return int(text, 0) if text.startswith("0x") else int(text, 10)


def _construct_set(loader: yaml.SafeLoader, node: MappingNode) -> dict[Any, None]:
    # A YAML set is a mapping to nulls; a dict keeps it JSON-compatible.
    return dict.fromkeys(loader.construct_mapping(node))


def _construct_unknown(loader: Yaml12Loader, suffix: str, node: Node) -> Any:
    loader.unknown_tags.append((node.tag, node.start_mark.line + 1))
    if isinstance(node, MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)  # type: ignore[arg-type]


Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
Yaml12Loader.add_constructor("tag:yaml.org,2002:set", _construct_set)
Yaml12Loader.add_multi_constructor("", _construct_unknown)


class YamlFile(DataFile):
    """A YAML stream of one or more documents, loaded with :class:`Yaml12Loader`."""

    __slots__ = ("documents",)

    format = "yaml"
    extensions = (".yaml", ".yml")

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.documents: list[Any] = []

    def _parse(self) -> None:
        with self.path.open("rb") as stream:
            loader = Yaml12Loader(stream)
            try:
                self._load_all(loader)
            except yaml.MarkedYAMLError as exc:
                raise _syntax_error(self.path, exc) from None
            except yaml.YAMLError as exc:
                raise InvalidFileError(
                    f"{self.path}: invalid YAML: {exc}",
                    code="yaml-syntax",
                    hint="Save the file as UTF-8 and check its syntax.",
                ) from None
            except RecursionError:
                # MAX_DEPTH keeps PyYAML within the default recursion limit,
                # but a caller may already run deep in the stack.
                raise UnsafeContentError(
                    f"{self.path}: nesting too deep to parse",
                    code="nesting-depth",
                    hint="Flatten the structure.",
                ) from None
            finally:
                loader.dispose()
        for tag, line in loader.unknown_tags:
            self.warn(
                "unknown-tag",
                f"tag {tag!r} is not a standard YAML tag; its node was loaded "
                f"as plain data",
                hint="Readers of this file must apply the tag's meaning themselves.",
                row=line,
            )

    def _load_all(self, loader: Yaml12Loader) -> None:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                break
            _check_expansion(self.path, node)
            self.documents.append(loader.construct_document(node))

    def _describe(self) -> dict[str, Any]:
        first = self.documents[0] if self.documents else None
        return {
            "encoding": "utf-8",
            "documents": len(self.documents),
            "types": [type(document).__name__ for document in self.documents],
            **describe_keys(first),
        }


def _check_expansion(path: Path, root: Node) -> None:
    sizes: dict[int, int] = {}
    total = _expanded_size(root, sizes, set())
    if total > MAX_EXPANDED_NODES:
        raise UnsafeContentError(
            f"{path}: aliases expand the document to {total} nodes, above the "
            f"limit of {MAX_EXPANDED_NODES}; alias expansion is refused",
            code="alias-expansion",
            hint="Write the repeated content out or reduce the use of aliases.",
        )


def _expanded_size(node: Node, sizes: dict[int, int], active: set[int]) -> int:
    # An alias reuses the node object it names, so sizes are memoised per
    # node: the walk is linear in the written document, not in its expansion.
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in active:
        raise UnsafeContentError(
            f"alias at line {node.start_mark.line + 1} refers to a node that "
            f"contains it; recursive documents are rejected",
            code="recursive-alias",
        )
    if isinstance(node, ScalarNode):
        return 1
    active.add(key)
    children: list[Node] = []
    if isinstance(node, SequenceNode):
        children = list(node.value)
    elif isinstance(node, MappingNode):
        children = [item for pair in node.value for item in pair]
    size = 1 + sum(_expanded_size(child, sizes, active) for child in children)
    active.discard(key)
    sizes[key] = min(size, MAX_EXPANDED_NODES + 1)
    return sizes[key]


def _syntax_error(path: Path, exc: yaml.MarkedYAMLError) -> InvalidFileError:
    mark = exc.problem_mark or exc.context_mark
    location = {}
    if mark is not None:
        location = {"row": mark.line + 1, "column": mark.column + 1}
    problem = exc.problem or "syntax error"
    if exc.context:
        problem = f"{exc.context}, {problem}"
    return InvalidFileError(
        f"{path}: invalid YAML: {problem}",
        code="yaml-syntax",
        hint="Fix the YAML at the reported line; indent with spaces, not tabs.",
        location=location,
    )
