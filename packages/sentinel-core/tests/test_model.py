"""Tests of the slots-based base type."""

from __future__ import annotations

import sys
import tracemalloc

import pytest

from sentinel.core import Model, fields


class Point(Model):
    x: int
    y: int = 0
    tags: list[str] = []


class Labelled(Point):
    label: str = ""


class PlainPoint:
    __slots__ = ("tags", "x", "y")

    def __init__(self, x: int, y: int = 0, tags: list[str] | None = None) -> None:
        self.x, self.y, self.tags = x, y, tags or []


def test_fields_in_declaration_order() -> None:
    assert list(fields(Point)) == ["x", "y", "tags"]
    assert list(fields(Labelled(x=1))) == ["x", "y", "tags", "label"]
    assert fields(Point)["x"].required
    assert not fields(Point)["y"].required


def test_round_trip_dict() -> None:
    point = Labelled(x=1, y=2, tags=["a"], label="p")
    assert point.to_dict() == {"x": 1, "y": 2, "tags": ["a"], "label": "p"}
    assert Labelled.from_dict(point.to_dict()) == point


def test_from_dict_ignores_unknown_unless_strict() -> None:
    assert Point.from_dict({"x": 1, "added_later": True}) == Point(x=1)
    with pytest.raises(TypeError, match="added_later"):
        Point.from_dict({"x": 1, "added_later": True}, strict=True)


def test_missing_required_field() -> None:
    with pytest.raises(TypeError, match="'x'"):
        Point()


def test_unknown_field_rejected() -> None:
    with pytest.raises(TypeError, match="z"):
        Point(x=1, z=2)


def test_mutable_default_not_shared() -> None:
    first, second = Point(x=1), Point(x=2)
    first.tags.append("a")
    assert second.tags == []


def test_equality_and_repr() -> None:
    assert Point(x=1) == Point(x=1, y=0)
    assert Point(x=1) != Point(x=2)
    assert Point(x=1) != Labelled(x=1)
    assert repr(Point(x=1)) == "Point(x=1, y=0, tags=[])"


def test_no_instance_dict() -> None:
    point = Point(x=1)
    assert not hasattr(point, "__dict__")
    with pytest.raises(AttributeError):
        point.other = 1  # type: ignore[attr-defined]


def test_nested_models_convert() -> None:
    class Line(Model):
        start: Point
        end: Point

    line = Line(start=Point(x=1), end=Point(x=2, y=3))
    assert line.to_dict()["end"] == {"x": 2, "y": 3, "tags": []}


def test_replace_returns_copy() -> None:
    point = Point(x=1)
    moved = point.replace(y=5)
    assert moved.y == 5
    assert point.y == 0


def _bytes_per_instance(factory: object) -> float:
    count = 20_000
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    items = [factory(i) for i in range(count)]  # type: ignore[operator]
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(items) == count
    return (after - before) / count


def test_memory_no_larger_than_plain_slots() -> None:
    assert sys.getsizeof(Point(x=1)) == sys.getsizeof(PlainPoint(1))
    model = _bytes_per_instance(lambda i: Point(x=i, tags=[]))
    plain = _bytes_per_instance(lambda i: PlainPoint(i, tags=[]))
    assert model <= plain * 1.01
