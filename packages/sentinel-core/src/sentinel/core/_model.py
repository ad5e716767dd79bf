"""A small slots-based base type with field inspection and dict conversion."""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any, ClassVar, Self, dataclass_transform

_MISSING: Any = object()


class _Field:
    """Name, annotation and default of one model field."""

    __slots__ = ("annotation", "default", "name")

    def __init__(self, name: str, annotation: Any, default: Any) -> None:
        self.name = name
        self.annotation = annotation
        self.default = default

    @property
    def required(self) -> bool:
        """Tell whether the field has no default."""
        return self.default is _MISSING

    def __repr__(self) -> str:
        return f"Field({self.name!r}, {self.annotation!r})"


@dataclass_transform(kw_only_default=True)
class _ModelMeta(type):
    """Build ``__slots__`` from a class's annotations before the class exists.

    Slots must be declared in the class body, so the metaclass moves each
    annotated default out of the namespace (where it would clash with the slot
    descriptor) into the field table.
    """

    def __new__(
        mcs,
        name: str,
        bases: tuple[type, ...],
        namespace: dict[str, Any],
        **kwargs: Any,
    ) -> _ModelMeta:
        annotations = namespace.get("__annotations__", {})
        own: dict[str, _Field] = {}
        for field_name, annotation in annotations.items():
            if _is_classvar(annotation):
                continue
            default = namespace.pop(field_name, _MISSING)
            own[field_name] = _Field(field_name, annotation, default)
        namespace["__slots__"] = tuple(own)
        cls = super().__new__(mcs, name, bases, namespace, **kwargs)
        inherited: dict[str, _Field] = {}
        for base in reversed(cls.__mro__[1:]):
            inherited.update(getattr(base, "__model_fields__", {}))
        cls.__model_fields__ = {**inherited, **own}  # type: ignore[attr-defined]
        return cls


def _is_classvar(annotation: Any) -> bool:
    if isinstance(annotation, str):
        return annotation.startswith(("ClassVar", "typing.ClassVar"))
    return typing.get_origin(annotation) is ClassVar


class Model(metaclass=_ModelMeta):
    """Base for records stored and sent by sentinel.

    Subclasses declare annotated fields; instances have ``__slots__`` and no
    ``__dict__``, so each costs no more memory than a hand-written slots
    class. Fields are keyword arguments to the constructor.
    """

    __model_fields__: ClassVar[dict[str, _Field]]

    def __init__(self, **values: Any) -> None:
        cls = type(self)
        for name, spec in cls.__model_fields__.items():
            if name in values:
                value = values.pop(name)
            elif spec.required:
                raise TypeError(f"{cls.__name__}() missing required field {name!r}")
            else:
                value = _copy_default(spec.default)
            object.__setattr__(self, name, value)
        if values:
            unknown = ", ".join(sorted(values))
            raise TypeError(f"{cls.__name__}() got unknown fields: {unknown}")

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a plain dict; nested models become dicts too."""
        return {
            name: _plain(getattr(self, name)) for name in type(self).__model_fields__
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, strict: bool = False) -> Self:
        """Build an instance from a dict, ignoring unknown keys unless ``strict``.

        Ignoring unknown keys lets records written by a newer version load in
        an older one.
        """
        known = cls.__model_fields__
        if strict:
            unknown = set(data) - set(known)
            if unknown:
                raise TypeError(f"{cls.__name__}: unknown fields {sorted(unknown)}")
        return cls(**{key: value for key, value in data.items() if key in known})

    def replace(self, **changes: Any) -> Self:
        """Return a copy with some fields changed."""
        return type(self)(**{**self.to_dict_shallow(), **changes})

    def to_dict_shallow(self) -> dict[str, Any]:
        """Return the fields as a dict without converting nested values."""
        return {name: getattr(self, name) for name in type(self).__model_fields__}

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.to_dict_shallow() == other.to_dict_shallow()

    __hash__ = None  # type: ignore[assignment]  # mutable records must not be hashable

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={getattr(self, name)!r}" for name in type(self).__model_fields__
        )
        return f"{type(self).__name__}({fields})"


def fields(model: type[Model] | Model) -> dict[str, _Field]:
    """Return the fields of a model class or instance, in declaration order."""
    cls = model if isinstance(model, type) else type(model)
    return dict(cls.__model_fields__)


def _copy_default(default: Any) -> Any:
    if isinstance(default, (list, dict, set)):
        return type(default)(default)
    return default


def _plain(value: Any) -> Any:
    if isinstance(value, Model):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value
