"""Tests of RedisModel: versioned JSON and msgpack records in a real server."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
import redis

from sentinel.queue import EmbeddedRedis, RecordError, RedisModel

FORMATS = pytest.mark.parametrize("fmt", ["json", "msgpack"])
NON_UTF8 = bytes(range(256))
# Text decoded from non-UTF-8 bytes with surrogateescape keeps the bytes.
ESCAPED = b"caf\xe9 \xff".decode("utf-8", "surrogateescape")


class Upload(RedisModel):
    path: str
    size: int = 0
    data: bytes = b""
    tags: list[str] = []
    meta: dict[str, Any] = {}


class UploadV2(RedisModel):
    """The same record after ``size`` was removed and ``owner`` was added."""

    version: ClassVar[int] = 2
    path: str
    data: bytes = b""
    owner: str = "nobody"


class UploadV3(RedisModel):
    """A version that renames ``path`` and converts older records."""

    version: ClassVar[int] = 3
    location: str
    owner: str = "nobody"

    @classmethod
    def upgrade(cls, fields: dict[str, Any], version: int) -> dict[str, Any]:
        if version < 3:
            fields["location"] = fields.pop("path")
        return fields


class Trusted(RedisModel):
    allow_pickle: ClassVar[bool] = True
    name: str


@pytest.fixture(params=[True, False], ids=["decoding", "raw"])
def any_client(request: pytest.FixtureRequest, server: EmbeddedRedis) -> Iterator[Any]:
    connection = redis.Redis.from_url(server.url, decode_responses=request.param)
    yield connection
    connection.close()


@FORMATS
def test_model_round_trips_binary_and_non_utf8(any_client: Any, fmt: str) -> None:
    upload = Upload(
        path=ESCAPED,
        size=2**62,
        data=NON_UTF8,
        tags=["ä", "\x00"],
        meta={"raw": b"\x80\x81", "nested": [1.5, None, True]},
    )
    upload.save(any_client, "model:upload", format=fmt)
    loaded = Upload.load(any_client, "model:upload")
    assert loaded == upload
    assert loaded is not None
    assert loaded.data == NON_UTF8
    assert loaded.path.encode("utf-8", "surrogateescape") == b"caf\xe9 \xff"


@FORMATS
def test_model_old_records_load_after_fields_change(any_client: Any, fmt: str) -> None:
    Upload(path="/in/a.csv", size=3, data=b"\xff").save(any_client, "k", format=fmt)
    v2 = UploadV2.load(any_client, "k")
    assert v2 == UploadV2(path="/in/a.csv", data=b"\xff", owner="nobody")
    v3 = UploadV3.load(any_client, "k")
    assert v3 == UploadV3(location="/in/a.csv")
    # A newer record still loads in the older class: unknown fields are ignored.
    UploadV2(path="/in/b.csv", owner="ops").save(any_client, "k2", format=fmt)
    assert Upload.load(any_client, "k2") == Upload(path="/in/b.csv")


def test_model_record_names_its_version_and_format(client: redis.Redis) -> None:
    Upload(path="/x").save(client, "json")
    stored = client.get("json")
    assert stored is not None
    assert stored.startswith('J{"v": 1, "type": "Upload"')
    UploadV2(path="/x").save(client, "packed", format="msgpack", ttl=60)
    assert 0 < client.pttl("packed") <= 60_000


def test_model_missing_key_loads_none(client: redis.Redis) -> None:
    assert Upload.load(client, "absent") is None


def test_model_refuses_pickle_by_default(client: redis.Redis) -> None:
    with pytest.raises(RecordError, match="does not allow pickle"):
        Upload(path="/x").dumps("pickle")
    # A pickle written by someone else is refused too, before it is unpickled.
    body = {"v": 1, "type": "Upload", "fields": {"path": "/x"}}
    client.set("evil", b"P" + pickle.dumps(body))
    with pytest.raises(RecordError, match="does not allow pickle"):
        Upload.load(client, "evil")


def test_model_pickle_when_enabled(client: redis.Redis) -> None:
    Trusted(name="a").save(client, "trusted", format="pickle")
    assert Trusted.load(client, "trusted") == Trusted(name="a")


def test_model_rejects_unfit_and_corrupt_records(client: redis.Redis) -> None:
    UploadV2(path="/x").save(client, "v2")

    class NeedsSize(RedisModel):
        path: str
        checksum: str

    with pytest.raises(RecordError, match="give new fields a default"):
        NeedsSize.load(client, "v2")
    client.set("corrupt", "J{not json")
    with pytest.raises(RecordError, match="corrupt"):
        Upload.load(client, "corrupt")
    client.set("foreign", "hello")
    with pytest.raises(RecordError, match="not a known format tag"):
        Upload.load(client, "foreign")
    with pytest.raises(RecordError, match="cannot be stored as JSON"):
        Upload(path="/x", meta={"when": object()}).dumps()
