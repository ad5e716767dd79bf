"""Tests of authentication: JWT retries, 401 refreshes and tokens shared by workers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from box_sdk_gen import BoxSDKError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sentinel.box import (
    BoxEmulator,
    BoxTokenError,
    Cipher,
    RedisTokenStorage,
    make_client,
    upload_file,
)
from sentinel.box._emulator import EmulatorConfig

from .conftest import settings_for

pytestmark = pytest.mark.timeout(120)

TOKEN_ENDPOINT = "POST /oauth2/token"
CLIENTS = {"app-id": "app-secret"}
CCG = {"client_id": "app-id", "client_secret": "app-secret", "enterprise_id": "42"}
WORKER = Path(__file__).with_name("box_process.py")


def _token_requests(emulator: BoxEmulator, **filters: Any) -> list[Any]:
    return [
        record
        for record in emulator.requests.records()
        if record.endpoint == TOKEN_ENDPOINT
        and all(getattr(record, key) == value for key, value in filters.items())
    ]


@pytest.fixture
def jwt_files(tmp_path: Path) -> tuple[Path, str]:
    """Write a Box JWT app config with a fresh RSA key; return it and the public key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        )
        .decode()
    )
    config = {
        "boxAppSettings": {
            "clientID": "jwt-app",
            "clientSecret": "jwt-secret",
            "appAuth": {
                "publicKeyID": "key-1",
                "privateKey": private,
                "passphrase": "passphrase",
            },
        },
        "enterpriseID": "42",
    }
    path = tmp_path / "box_config.json"
    path.write_text(json.dumps(config))
    return path, public


def test_jwt_retry_after_429_sends_new_assertion_id(
    tmp_path: Path, jwt_files: tuple[Path, str]
) -> None:
    config_file, public_key = jwt_files
    config = EmulatorConfig(tokens=[], jwt_public_keys={"key-1": public_key})
    with BoxEmulator(tmp_path / "box", config=config) as emulator:
        # The emulator handles the grant, so the assertion id is spent, and only
        # then responds 429. A retry with the same assertion would fail.
        emulator.faults.add(
            429, 1, retry_after=0, path_prefix="/oauth2/token", after=True
        )
        settings = settings_for(
            emulator, auth={"jwt_config_file": str(config_file)}, max_attempts=3
        )
        user = make_client(settings).users.get_user_me()

        requests = _token_requests(emulator)
    assert user.id
    assert [record.status for record in requests] == [429, 200]
    assert requests[0].grant_type == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    assert requests[0].token != requests[1].token


def test_plain_sdk_jwt_retry_reuses_assertion_id(
    tmp_path: Path, jwt_files: tuple[Path, str]
) -> None:
    from box_sdk_gen import BoxClient, BoxJWTAuth, JWTConfig
    from box_sdk_gen.networking.network import NetworkSession

    from sentinel.box import base_urls

    config_file, _ = jwt_files
    with BoxEmulator(tmp_path / "box", tokens=[]) as emulator:
        emulator.faults.add(
            429, 1, retry_after=0, path_prefix="/oauth2/token", after=True
        )
        session = NetworkSession(base_urls=base_urls(settings_for(emulator)))
        auth = BoxJWTAuth(JWTConfig.from_config_file(str(config_file)))
        with pytest.raises(BoxSDKError):
            BoxClient(auth, network_session=session).users.get_user_me()
        requests = _token_requests(emulator)
    assert len({record.token for record in requests}) == 1
    assert [record.status for record in requests][:2] == [429, 400]


def test_upload_after_401_refreshes_and_sends_whole_body(tmp_path: Path) -> None:
    with BoxEmulator(tmp_path / "box", tokens=[], clients=CLIENTS) as emulator:
        client = make_client(settings_for(emulator, auth=CCG, max_attempts=3))
        assert client.users.get_user_me().id
        emulator.expire_access_tokens()
        local = tmp_path / "big.bin"
        body = os.urandom(300_000)
        local.write_bytes(body)

        result = upload_file(client, local, "/Sentinel")

        rejected = [
            record for record in emulator.requests.records() if record.status == 401
        ]
        downloaded = client.downloads.download_file(result.file_id).read()
        token_calls = len(_token_requests(emulator, status=200))
    assert result.action == "uploaded"
    assert downloaded == body
    assert rejected  # the stale token was refused at least once
    assert token_calls == 2


def test_developer_token_401_is_not_refreshed(tmp_path: Path) -> None:
    with BoxEmulator(tmp_path / "box", tokens=["good"]) as emulator:
        client = make_client(settings_for(emulator, auth={"developer_token": "bad"}))
        with pytest.raises(BoxSDKError) as caught:
            client.users.get_user_me()
        assert "401" in str(caught.value)
        assert not _token_requests(emulator)


class Workers:
    """Child processes that each drive one Box client over stdin."""

    def __init__(self, count: int, spec: dict[str, Any]) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SENTINEL")}
        self.processes = [
            subprocess.Popen(
                [sys.executable, str(WORKER), json.dumps(spec)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env=env,
            )
            for _ in range(count)
        ]
        for process in self.processes:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "ready"

    def run_all(self, command: str) -> list[dict[str, Any]]:
        """Send ``command`` to every process at once; return their responses."""
        for process in self.processes:
            assert process.stdin is not None
            process.stdin.write(command + "\n")
            process.stdin.flush()
        answers = []
        for process in self.processes:
            assert process.stdout is not None
            answers.append(json.loads(process.stdout.readline()))
        return answers

    def run_each(self, commands: list[str]) -> list[dict[str, Any]]:
        """Send one command to each process at once; return their responses."""
        for process, command in zip(self.processes, commands, strict=True):
            assert process.stdin is not None
            process.stdin.write(command + "\n")
            process.stdin.flush()
        answers = []
        for process in self.processes:
            assert process.stdout is not None
            answers.append(json.loads(process.stdout.readline()))
        return answers

    def close(self) -> None:
        """Ask every process to exit and wait for it."""
        for process in self.processes:
            if process.stdin is not None:
                process.stdin.write("exit\n")
                process.stdin.close()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()


@pytest.fixture
def workers() -> Iterator[list[Workers]]:
    started: list[Workers] = []
    yield started
    for group in started:
        group.close()


def test_four_processes_after_401_make_one_token_call(
    tmp_path: Path, redis_url: str, workers: list[Workers]
) -> None:
    with BoxEmulator(tmp_path / "box", tokens=[], clients=CLIENTS) as emulator:
        settings = settings_for(emulator, auth=CCG, max_attempts=3)
        assert make_client(settings, redis_url=redis_url).users.get_user_me().id
        group = Workers(4, {"settings": settings, "redis_url": redis_url})
        workers.append(group)
        emulator.expire_access_tokens()
        emulator.requests.reset()
        # The refresh is slow, so every process meets the 401 before the new
        # token is stored and all of them queue on the lock.
        emulator.faults.add_delay(2.0, path_prefix="/oauth2/token")

        answers = group.run_all("me")

        token_calls = _token_requests(emulator)
        rejected = emulator.requests.count("GET /2.0/users/me", status=401)
    assert all(answer["ok"] for answer in answers), answers
    assert len(token_calls) == 1
    assert rejected == 4


def test_two_processes_spend_an_oauth_refresh_token_once(
    tmp_path: Path, redis_url: str, workers: list[Workers]
) -> None:
    with BoxEmulator(tmp_path / "box", clients=CLIENTS) as emulator:
        seed = emulator.issue_oauth_tokens()["refresh_token"]
        auth = {"client_id": "app-id", "client_secret": "app-secret"}
        settings = settings_for(emulator, auth={**auth, "refresh_token": seed})
        group = Workers(2, {"settings": settings, "redis_url": redis_url})
        workers.append(group)
        emulator.faults.add_delay(1.0, path_prefix="/oauth2/token")

        first = group.run_all("me")
        emulator.expire_access_tokens()
        emulator.faults.add_delay(1.0, path_prefix="/oauth2/token")
        second = group.run_all("me")

        refreshes = _token_requests(emulator, grant_type="refresh_token")
    assert all(answer["ok"] for answer in first + second), first + second
    assert [record.status for record in refreshes] == [200, 200]
    assert refreshes[0].token == seed
    assert refreshes[1].token != seed


def test_redis_token_storage_encrypts_at_rest(
    emulator: BoxEmulator, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cryptography.fernet import Fernet

    from sentinel.queue import connect

    monkeypatch.setenv("BOX_TOKEN_KEY", Fernet.generate_key().decode())
    store = {"key": "test:token", "encryption_key_env": "BOX_TOKEN_KEY"}
    settings = settings_for(emulator, auth=CCG, token_store=store)
    client = make_client(settings, redis_url=redis_url)
    assert client.users.get_user_me().id

    redis = connect(redis_url)
    raw = redis.get("test:token")
    token = client.auth.retrieve_token().access_token
    other = RedisTokenStorage(redis, "test:token", cipher=Cipher(Fernet.generate_key()))
    assert raw is not None
    assert token not in raw
    with pytest.raises(BoxTokenError, match="cannot be decrypted"):
        other.get()
    redis.close()


def test_missing_encryption_key_is_a_config_error(
    emulator: BoxEmulator, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sentinel.box import BoxConfigError

    monkeypatch.delenv("BOX_TOKEN_KEY", raising=False)
    store = {"encryption_key_env": "BOX_TOKEN_KEY"}
    with pytest.raises(BoxConfigError, match="BOX_TOKEN_KEY"):
        make_client(
            settings_for(emulator, auth=CCG, token_store=store), redis_url=redis_url
        )


def test_processes_share_one_upload_schedule_through_redis(
    tmp_path: Path, redis_url: str, workers: list[Workers]
) -> None:
    with BoxEmulator(tmp_path / "box") as emulator:
        emulator.set_limits({"upload": {"requests": 5, "seconds": 1, "burst": 3}})
        limits = {"upload": "5/s", "general": None}
        settings = settings_for(emulator, rate_limit=limits)
        group = Workers(3, {"settings": settings, "redis_url": redis_url})
        workers.append(group)
        for index in range(3):
            folder = tmp_path / f"files-{index}"
            folder.mkdir()
            for number in range(4):
                (folder / f"{index}-{number}.txt").write_text(f"{index} {number}")
        commands = [f"upload_dir {tmp_path / f'files-{i}'} /Shared" for i in range(3)]

        answers = group.run_each(commands)

        uploads = emulator.requests.count(limit_class="upload")
        limited = emulator.requests.count(status=429)
    assert all(answer["ok"] for answer in answers), answers
    assert uploads == 12
    assert limited == 0
