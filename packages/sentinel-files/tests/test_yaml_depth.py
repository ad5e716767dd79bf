"""Tests of the nesting limit of YAML files, written out and through aliases."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from sentinel.files import UnsafeContentError, YamlFile
from sentinel.files._yaml import MAX_DEPTH


def flow_sequences(levels: int) -> str:
    return "[" * levels + "]" * levels


def flow_mappings(levels: int) -> str:
    return "{a: " * levels + "1" + "}" * levels


def block_mappings(levels: int) -> str:
    # Each key is one level in, and the last key has a scalar value.
    lines = ["  " * level + "a:" for level in range(levels)]
    return "\n".join(lines) + " 1\n"


def block_sequences(levels: int) -> str:
    lines = ["  " * level + "-" for level in range(levels)]
    return "\n".join(lines) + " 1\n"


def alias_chain(levels: int) -> str:
    # The root mapping is one level, and each anchored sequence adds one more.
    lines = ["a0: &a0 [x]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}]" for i in range(1, levels - 1)]
    return "\n".join(lines) + "\n"


def unknown_tags(levels: int) -> str:
    # Nodes with unknown tags are constructed recursively, not by PyYAML's
    # generators, so they need the limit as much as composing does.
    return "!x [" * levels + "]" * levels


SHAPES: list[Callable[[int], str]] = [
    flow_sequences,
    flow_mappings,
    block_mappings,
    block_sequences,
    alias_chain,
    unknown_tags,
]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "deep.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("shape", SHAPES, ids=lambda shape: shape.__name__)
def test_yaml_at_max_depth_loads(tmp_path: Path, shape: Callable[[int], str]) -> None:
    loaded = YamlFile.load(write(tmp_path, shape(MAX_DEPTH)))
    assert len(loaded.documents) == 1


@pytest.mark.parametrize("shape", SHAPES, ids=lambda shape: shape.__name__)
def test_yaml_above_max_depth_rejected(
    tmp_path: Path, shape: Callable[[int], str]
) -> None:
    path = write(tmp_path, shape(MAX_DEPTH + 1))
    with pytest.raises(UnsafeContentError) as caught:
        YamlFile.load(path)
    assert caught.value.code == "nesting-depth"
    assert f"deeper than {MAX_DEPTH} levels" in caught.value.message
    assert caught.value.hint == "Flatten the structure."
    assert "row" in caught.value.location


@pytest.mark.parametrize("shape", SHAPES, ids=lambda shape: shape.__name__)
def test_yaml_far_too_deep_rejected(
    tmp_path: Path, shape: Callable[[int], str]
) -> None:
    # 2,000 levels is past the recursion limit of an unbounded composer.
    # Block styles indent each level, so far more makes the file huge.
    path = write(tmp_path, shape(2_000))
    with pytest.raises(UnsafeContentError) as caught:
        YamlFile.load(path)
    assert caught.value.code == "nesting-depth"


def test_yaml_100k_open_brackets_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "[" * 100_000)
    with pytest.raises(UnsafeContentError) as caught:
        YamlFile.load(path)
    assert caught.value.code == "nesting-depth"
    assert caught.value.location == {"row": 1, "column": MAX_DEPTH + 1}


def test_yaml_depth_error_names_line(tmp_path: Path) -> None:
    path = write(tmp_path, block_mappings(MAX_DEPTH + 5))
    with pytest.raises(UnsafeContentError) as caught:
        YamlFile.load(path)
    # Mapping number n starts on line n, so the first one past the limit
    # starts on line MAX_DEPTH + 1.
    assert caught.value.location["row"] == MAX_DEPTH + 1
    assert caught.value.where().startswith(f"line {MAX_DEPTH + 1},")


def test_yaml_alias_depth_counts_from_use(tmp_path: Path) -> None:
    # The anchored node alone fits, but used MAX_DEPTH - 10 levels down it
    # reaches past the limit.
    anchored = "base: &b " + flow_sequences(20) + "\n"
    used = "use: " + "[" * (MAX_DEPTH - 10) + "*b" + "]" * (MAX_DEPTH - 10) + "\n"
    path = write(tmp_path, anchored + used)
    with pytest.raises(UnsafeContentError) as caught:
        YamlFile.load(path)
    assert caught.value.code == "nesting-depth"


def test_yaml_depth_limit_per_document(tmp_path: Path) -> None:
    documents = "\n---\n".join([flow_sequences(MAX_DEPTH)] * 3)
    loaded = YamlFile.load(write(tmp_path, documents))
    assert len(loaded.documents) == 3


def test_yaml_recursive_alias_still_rejected(tmp_path: Path) -> None:
    with pytest.raises(UnsafeContentError) as caught:
        YamlFile.load(write(tmp_path, "a: &a [*a]\n"))
    assert caught.value.code == "recursive-alias"


def test_yaml_depth_error_when_stack_is_short(tmp_path: Path) -> None:
    # A caller already deep in the stack gets the same structured error
    # rather than a RecursionError.
    path = write(tmp_path, flow_sequences(MAX_DEPTH))

    def load_at(frames: int) -> YamlFile:
        if frames:
            return load_at(frames - 1)
        return YamlFile.load(path)

    with pytest.raises(UnsafeContentError) as caught:
        load_at(sys.getrecursionlimit() - 150)
    assert caught.value.code == "nesting-depth"
