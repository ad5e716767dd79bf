"""Tests of the paced network layer: retries, Retry-After, timeouts and pacing."""

from __future__ import annotations

import contextlib
import threading
from email.utils import formatdate
from pathlib import Path

import pytest
from box_sdk_gen import BoxAPIError, BoxClient, BoxDeveloperTokenAuth, BoxSDKError
from box_sdk_gen.networking.network import NetworkSession

from sentinel.box import (
    BoxConfigError,
    BoxEmulator,
    Limit,
    MemoryLimiter,
    Pacer,
    RedisLimiter,
    RetryPolicy,
    base_urls,
    make_client,
    parse_retry_after,
)
from sentinel.box._network import request_class
from sentinel.box._ratelimit import Bucket

from .conftest import settings_for

pytestmark = pytest.mark.timeout(120)

ME = "GET /2.0/users/me"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("3", 3.0), ("0.5", 0.5), ("-4", 0.0), ("soon", None), ("", None), (None, None)],
    ids=["int", "fraction", "negative", "garbage", "empty", "absent"],
)
def test_parse_retry_after_seconds(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date() -> None:
    now = 1_700_000_000.0
    header = formatdate(now + 7, usegmt=True)
    assert parse_retry_after(header, now=now) == pytest.approx(7.0)
    assert parse_retry_after(formatdate(now - 60, usegmt=True), now=now) == 0.0


def test_retry_policy_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(base=1.0, cap=5.0, jitter=0.0)
    assert [policy.backoff(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]
    assert policy.delay(1, "0") == 0.0


@pytest.mark.parametrize(
    ("method", "url", "kind"),
    [
        ("POST", "http://h/api/2.0/files/content", "upload"),
        ("POST", "http://h/api/2.0/files/12/content", "upload"),
        ("POST", "http://h/api/2.0/files/upload_sessions", "upload"),
        ("PUT", "http://h/api/2.0/files/upload_sessions/AB", "general"),
        ("POST", "http://h/api/2.0/files/upload_sessions/AB/commit", "general"),
        ("GET", "http://h/2.0/search?query=x", "search"),
        ("GET", "http://h/2.0/files/12/content", "general"),
        ("POST", "http://h/oauth2/token", "general"),
    ],
    ids=["upload", "version", "session", "part", "commit", "search", "dl", "token"],
)
def test_request_class(method: str, url: str, kind: str) -> None:
    assert request_class(method, url) == kind


def test_retry_after_http_date_is_honoured(emulator: BoxEmulator) -> None:
    emulator.faults.add(
        429, 1, retry_after=1, path_prefix="/2.0/users", retry_after_form="http-date"
    )
    client = make_client(settings_for(emulator, max_attempts=3))

    assert client.users.get_user_me().id
    statuses = [r.status for r in emulator.requests.records() if r.endpoint == ME]
    assert statuses == [429, 200]


def test_plain_sdk_fails_on_http_date_retry_after(emulator: BoxEmulator) -> None:
    emulator.faults.add(
        429, 1, retry_after=1, path_prefix="/2.0/users", retry_after_form="http-date"
    )
    session = NetworkSession(base_urls=base_urls(settings_for(emulator)))
    plain = BoxClient(BoxDeveloperTokenAuth("token"), network_session=session)
    with pytest.raises(ValueError, match="could not convert"):
        plain.users.get_user_me()


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_retryable_answers_are_retried(emulator: BoxEmulator, status: int) -> None:
    emulator.faults.add(status, 2, retry_after=0, path_prefix="/2.0/users")
    client = make_client(settings_for(emulator, max_attempts=3, retry_backoff=0.01))

    assert client.users.get_user_me().id
    assert emulator.requests.count(ME) == 3


def test_retries_stop_after_max_attempts(emulator: BoxEmulator) -> None:
    emulator.faults.add(503, 5, path_prefix="/2.0/users")
    client = make_client(settings_for(emulator, max_attempts=2, retry_backoff=0.01))

    with pytest.raises(BoxAPIError) as caught:
        client.users.get_user_me()
    assert caught.value.response_info.status_code == 503
    assert emulator.requests.count(ME) == 2


def test_dropped_connection_is_retried(emulator: BoxEmulator) -> None:
    emulator.faults.add_drop(1, path_prefix="/2.0/users")
    client = make_client(settings_for(emulator, max_attempts=2, retry_backoff=0.01))

    assert client.users.get_user_me().id


def test_not_found_is_not_retried(emulator: BoxEmulator) -> None:
    client = make_client(settings_for(emulator, max_attempts=4))
    with pytest.raises(BoxAPIError):
        client.files.get_file_by_id("999999")
    assert emulator.requests.count("GET /2.0/files/{id}") == 1


def test_every_request_has_a_timeout(emulator: BoxEmulator) -> None:
    emulator.faults.add_delay(1.0, path_prefix="/2.0/users")
    client = make_client(settings_for(emulator, timeout=0.2, max_attempts=1))

    with pytest.raises(BoxSDKError, match="timed out"):
        client.users.get_user_me()


def test_invalid_settings_are_config_errors(emulator: BoxEmulator) -> None:
    with pytest.raises(BoxConfigError, match="max_attempts"):
        make_client(settings_for(emulator, max_attempts=0))
    with pytest.raises(BoxConfigError, match="cannot read limit"):
        make_client(settings_for(emulator, rate_limit={"upload": "fast"}))
    with pytest.raises(BoxConfigError, match="no Redis URL"):
        make_client(settings_for(emulator, rate_limit={"backend": "redis"}))


@pytest.mark.parametrize(
    ("text", "interval"),
    [("240/min", 0.25), ("20/s", 0.05), ("6/1", 1 / 6), ("1000/minute", 0.06)],
)
def test_limit_parse(text: str, interval: float) -> None:
    assert Limit.parse(text, "limit").interval == pytest.approx(interval)


def test_memory_limiter_spaces_reservations() -> None:
    clock = [100.0]
    limiter = MemoryLimiter(clock=lambda: clock[0])
    bucket = Bucket("k", Limit(10, 1.0))
    waits = [limiter.reserve([bucket]) for _ in range(4)]
    clock[0] += 10.0
    assert waits == pytest.approx([0.0, 0.1, 0.2, 0.3])
    assert limiter.reserve([bucket]) == 0.0


def test_memory_limiter_allows_a_burst() -> None:
    limiter = MemoryLimiter(clock=lambda: 0.0)
    bucket = Bucket("k", Limit(10, 1.0, burst=3))
    waits = [limiter.reserve([bucket]) for _ in range(5)]
    assert waits == pytest.approx([0.0, 0.0, 0.0, 0.1, 0.2])


def test_redis_limiter_shares_one_schedule(redis_url: str) -> None:
    from sentinel.queue import connect

    first, second = connect(redis_url), connect(redis_url)
    bucket = Bucket("test:rate", Limit(10, 1.0))
    waits = [RedisLimiter(client).reserve([bucket]) for client in (first, second) * 3]
    first.close()
    second.close()
    # Six reservations on one schedule: each waits one interval more.
    assert waits == sorted(waits)
    assert waits[-1] - waits[0] == pytest.approx(0.5, abs=0.05)


def test_pacer_counts_as_user_separately() -> None:
    pacer = Pacer(MemoryLimiter(), {"upload": Limit(1, 1.0)}, {"search": Limit(12, 1)})
    assert [b.key for b in pacer.buckets("user-1", "upload")] == [
        "sentinel:box:rate:user:user-1:upload"
    ]
    assert [b.key for b in pacer.buckets("42", "search")] == [
        "sentinel:box:rate:enterprise:search"
    ]
    assert pacer.buckets("42", "general") == []


def test_as_user_requests_are_paced_as_that_user(emulator: BoxEmulator) -> None:
    client = make_client(settings_for(emulator, as_user="7"))
    pacer = client.network_session.network_client.pacer  # type: ignore[attr-defined]
    client.users.get_user_me()
    records = [r for r in emulator.requests.records() if r.endpoint == ME]
    assert records[-1].user_id == "7"
    assert pacer.reservations == 1


def test_paced_threads_stay_within_the_limit(tmp_path: Path) -> None:
    with BoxEmulator(tmp_path / "box") as emulator:
        emulator.set_limits({"general": {"requests": 10, "seconds": 1, "burst": 2}})
        settings = settings_for(emulator, rate_limit={"general": "10/s"})
        client = make_client(settings)
        errors: list[BaseException] = []

        def call() -> None:
            try:
                for _ in range(6):
                    client.users.get_user_me()
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=call) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        limited = emulator.requests.count(status=429)
    assert not errors
    assert limited == 0


def test_unpaced_threads_trip_the_limit(tmp_path: Path) -> None:
    with BoxEmulator(tmp_path / "box") as emulator:
        emulator.set_limits({"general": {"requests": 10, "seconds": 1, "burst": 2}})
        settings = settings_for(emulator, rate_limit={"enabled": False})
        client = make_client(settings)
        for _ in range(8):
            with contextlib.suppress(BoxAPIError):
                client.users.get_user_me()
        limited = emulator.requests.count(status=429)
    assert limited > 0


def test_redis_limiter_falls_back_when_unreachable() -> None:
    from sentinel.queue import connect
    from sentinel.queue._server import find_free_port

    client = connect(f"redis://127.0.0.1:{find_free_port()}/0")
    limiter = RedisLimiter(client)
    bucket = Bucket("test:rate", Limit(10, 1.0))

    waits = [limiter.reserve([bucket]) for _ in range(3)]

    client.close()
    assert limiter.degraded
    assert waits[0] == 0.0
    assert len(waits) == 3
