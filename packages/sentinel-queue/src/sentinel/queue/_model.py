"""Models stored in Redis as versioned JSON or msgpack records.

A record is one tag byte and a body: ``J`` and UTF-8 JSON, ``M`` and
msgpack, or ``P`` and a pickle (only for classes that enable it). The body
is a map of the class's ``version``, its name and its fields. Records are
read without decoding (``NEVER_DECODE``), so binary and non-UTF-8 values
round-trip whether or not the client decodes replies.
"""

from __future__ import annotations

import base64
import json
import pickle
from collections.abc import Mapping
from typing import Any, ClassVar, Self

import msgpack  # type: ignore[import-untyped]

from sentinel.core import Model
from sentinel.queue._errors import RecordError

JSON = "json"
MSGPACK = "msgpack"
PICKLE = "pickle"
_TAGS = {JSON: b"J", MSGPACK: b"M", PICKLE: b"P"}
_FORMATS = {tag: name for name, tag in _TAGS.items()}
# JSON cannot hold bytes: they are stored as {"$bytes": base64}.
_BYTES_KEY = "$bytes"
_NEVER_DECODE = "NEVER_DECODE"


def _to_json_value(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return {_BYTES_KEY: base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, Mapping):
        return {str(key): _to_json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_to_json_value(item) for item in value]
    return value


def _from_json_value(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {_BYTES_KEY} and isinstance(value[_BYTES_KEY], str):
            return base64.b64decode(value[_BYTES_KEY])
        return {key: _from_json_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_from_json_value(item) for item in value]
    return value


def _raw(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    # A decoding client can only have returned text that was valid UTF-8.
    return str(value).encode("utf-8", "surrogateescape")


class RedisModel(Model):
    """A :class:`sentinel.core.Model` that stores itself in Redis.

    ``version`` numbers the field layout: raise it when fields change and
    override :meth:`upgrade` to convert older records. Without an upgrade,
    fields added since a record was written take their defaults and fields
    removed since are ignored, so old records keep loading. ``format`` is
    ``"json"`` (readable in redis-cli) or ``"msgpack"`` (smaller, faster);
    either loads either. ``allow_pickle`` must be set on a class before it
    may write or read pickles, because loading a pickle runs code named by
    whoever wrote it.

    Field values are what JSON holds plus ``bytes``; nested models are
    stored as their dicts.
    """

    version: ClassVar[int] = 1
    format: ClassVar[str] = JSON
    allow_pickle: ClassVar[bool] = False

    @classmethod
    def upgrade(cls, fields: dict[str, Any], version: int) -> dict[str, Any]:
        """Convert the fields of a record written at ``version``; default: as is."""
        return fields

    def dumps(self, format: str | None = None) -> bytes:
        """Encode this instance as a record in ``format`` (default: the class's)."""
        chosen = format or type(self).format
        cls = type(self)
        body = {"v": cls.version, "type": cls.__qualname__, "fields": self.to_dict()}
        if chosen == JSON:
            try:
                text = json.dumps(_to_json_value(body), allow_nan=False)
            except (TypeError, ValueError) as exc:
                raise RecordError(
                    f"{cls.__name__} cannot be stored as JSON ({exc}); use strings, "
                    f"bytes, numbers, booleans, None, lists and dicts"
                ) from exc
            return _TAGS[JSON] + text.encode("ascii")
        if chosen == MSGPACK:
            try:
                packed: bytes = msgpack.packb(
                    body, use_bin_type=True, unicode_errors="surrogateescape"
                )
            except (TypeError, ValueError, OverflowError) as exc:
                raise RecordError(
                    f"{cls.__name__} cannot be stored as msgpack ({exc}); use "
                    f"strings, bytes, numbers, booleans, None, lists and dicts"
                ) from exc
            return _TAGS[MSGPACK] + packed
        if chosen == PICKLE:
            cls._check_pickle()
            return _TAGS[PICKLE] + pickle.dumps(body, protocol=5)
        raise RecordError(
            f"record format {chosen!r} is unknown; expected {JSON!r} or {MSGPACK!r}"
        )

    @classmethod
    def loads(cls, record: bytes | str) -> Self:
        """Decode a record written by :meth:`dumps` of this or another version."""
        raw = _raw(record)
        fmt = _FORMATS.get(raw[:1])
        body_bytes = raw[1:]
        try:
            if fmt == JSON:
                body = _from_json_value(json.loads(body_bytes))
            elif fmt == MSGPACK:
                body = msgpack.unpackb(
                    body_bytes, raw=False, unicode_errors="surrogateescape"
                )
            elif fmt == PICKLE:
                cls._check_pickle()
                body = pickle.loads(body_bytes)  # noqa: S301 - enabled by the class
            else:
                raise RecordError(
                    f"{cls.__name__} record starts with {raw[:1]!r}, not a known "
                    f"format tag; it was not written by RedisModel.dumps"
                )
        except (ValueError, msgpack.ExtraData, msgpack.FormatError) as exc:
            raise RecordError(f"{cls.__name__} record is corrupt ({exc})") from exc
        if not isinstance(body, dict) or not isinstance(body.get("fields"), dict):
            raise RecordError(f"{cls.__name__} record has no fields map")
        fields = cls.upgrade(dict(body["fields"]), int(body.get("v", 1)))
        try:
            return cls.from_dict(fields)
        except TypeError as exc:
            raise RecordError(
                f"{cls.__name__} record of version {body.get('v')!r} does not fit "
                f"version {cls.version} ({exc}); give new fields a default or "
                f"convert old records in {cls.__name__}.upgrade"
            ) from exc

    @classmethod
    def _check_pickle(cls) -> None:
        if not cls.allow_pickle:
            raise RecordError(
                f"{cls.__name__} does not allow pickle, which runs code named by "
                f"the record on load; store it as JSON or msgpack, or set "
                f"allow_pickle = True on the class if every writer is trusted"
            )

    def save(
        self,
        client: Any,
        key: str,
        *,
        ttl: float | None = None,
        format: str | None = None,
    ) -> None:
        """Store this instance at ``key``, expiring after ``ttl`` seconds if given."""
        px = int(ttl * 1000) if ttl else None
        client.set(key, self.dumps(format), px=px)

    @classmethod
    def load(cls, client: Any, key: str) -> Self | None:
        """Load the instance stored at ``key``, or None when the key is missing."""
        record = client.execute_command("GET", key, **{_NEVER_DECODE: True})
        return None if record is None else cls.loads(record)

    async def save_async(
        self,
        client: Any,
        key: str,
        *,
        ttl: float | None = None,
        format: str | None = None,
    ) -> None:
        """Like :meth:`save`, with a redis.asyncio client."""
        px = int(ttl * 1000) if ttl else None
        await client.set(key, self.dumps(format), px=px)

    @classmethod
    async def load_async(cls, client: Any, key: str) -> Self | None:
        """Like :meth:`load`, with a redis.asyncio client."""
        record = await client.execute_command("GET", key, **{_NEVER_DECODE: True})
        return None if record is None else cls.loads(record)
