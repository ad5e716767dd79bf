"""Tests of upload sessions, search, token rules, limits, faults and counts."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import socket
import subprocess
import sys
import time
import uuid
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from box_sdk_gen import BoxAPIError, BoxClient
from box_sdk_gen.managers.uploads import (
    UploadFileAttributes,
    UploadFileAttributesParentField,
)
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sentinel.box import BoxEmulator, make_client
from sentinel.box._emulator import EmulatorConfig, RateLimit, load_config
from sentinel.box._errors import BoxConfigError

from .conftest import settings_for

pytestmark = pytest.mark.timeout(60)

PART = 1024
SESSIONS = "/api/2.0/files/upload_sessions"


@pytest.fixture
def chunked(tmp_path: Path) -> Any:
    config = EmulatorConfig(part_size=PART, min_chunked_size=PART)
    with BoxEmulator(tmp_path / "box", config=config) as running:
        yield running


def _client(emulator: BoxEmulator) -> BoxClient:
    return make_client(settings_for(emulator))


def _api(emulator: BoxEmulator, method: str, path: str, **kwargs: Any) -> Any:
    headers = {"Authorization": "Bearer test-token", **kwargs.pop("headers", {})}
    return requests.request(
        method, emulator.url + path, headers=headers, timeout=10, **kwargs
    )


def _sha(data: bytes) -> str:
    return "sha=" + base64.b64encode(hashlib.sha1(data).digest()).decode()


def _session(emulator: BoxEmulator, size: int, name: str = "big.bin") -> Any:
    body = {"folder_id": "0", "file_size": size, "file_name": name}
    response = _api(emulator, "POST", SESSIONS, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _put_part(
    emulator: BoxEmulator, session_id: str, data: bytes, offset: int, total: int
) -> Any:
    headers = {
        "Digest": _sha(data),
        "Content-Range": f"bytes {offset}-{offset + len(data) - 1}/{total}",
        "Content-Type": "application/octet-stream",
    }
    return _api(emulator, "PUT", f"{SESSIONS}/{session_id}", data=data, headers=headers)


def test_big_file_exact_part_multiple(chunked: BoxEmulator) -> None:
    data = bytes(range(256)) * 16  # four parts of 1024 bytes
    entry = _client(chunked).chunked_uploads.upload_big_file(
        io.BytesIO(data), "big.bin", len(data), "0"
    )
    assert entry.size == len(data)
    assert (chunked.store.root / "big.bin").read_bytes() == data
    assert chunked.requests.count(f"PUT {SESSIONS}/{{session}}") == 4


def test_big_file_version_reuses_parts(chunked: BoxEmulator) -> None:
    client = _client(chunked)
    old = b"a" * PART + b"b" * PART + b"c" * 100
    entry = client.chunked_uploads.upload_big_file(
        io.BytesIO(old), "v.bin", len(old), "0"
    )
    new = b"a" * PART + b"X" * PART + b"c" * 100
    updated = client.chunked_uploads.upload_big_file_version(
        entry.id, io.BytesIO(new), len(new)
    )
    assert updated is not None
    assert updated.sha_1 == hashlib.sha1(new).hexdigest()
    # Only the changed part travels again; the others are plan hits.
    assert chunked.requests.count(f"PUT {SESSIONS}/{{session}}") == 3 + 1


def test_session_shape_and_part_list(chunked: BoxEmulator) -> None:
    session = _session(chunked, 2 * PART + 10)
    assert session["type"] == "upload_session"
    assert session["total_parts"] == 3
    assert session["part_size"] == PART
    assert session["session_endpoints"]["list_parts"].endswith("/parts")
    data = b"x" * PART
    part = _put_part(chunked, session["id"], data, PART, 2 * PART + 10).json()["part"]
    assert part["sha1"] == hashlib.sha1(data).hexdigest()
    listed = _api(chunked, "GET", f"{SESSIONS}/{session['id']}/parts").json()
    assert listed["total_count"] == 1
    assert listed["entries"][0]["offset"] == PART


@pytest.mark.parametrize(
    ("content_range", "digest", "status"),
    [
        ("bytes 0-99/3000", None, 416),
        ("bytes 1-1024/3000", None, 416),
        ("bytes 0-1023/999", None, 416),
        ("bytes 0-1023/3000", "sha=AAAAAAAAAAAAAAAAAAAAAAAAAAA=", 412),
    ],
    ids=["short-part", "unaligned", "wrong-total", "bad-digest"],
)
def test_upload_part_rejects_bad_headers(
    chunked: BoxEmulator, content_range: str, digest: str | None, status: int
) -> None:
    session = _session(chunked, 3000)
    data = b"y" * PART
    headers = {"Content-Range": content_range, "Digest": digest or _sha(data)}
    response = _api(
        chunked, "PUT", f"{SESSIONS}/{session['id']}", data=data, headers=headers
    )
    assert response.status_code == status
    assert response.json()["type"] == "error"


def test_stored_part_500_then_409(chunked: BoxEmulator) -> None:
    session = _session(chunked, PART + 1)
    chunked.faults.add(500, path_prefix=SESSIONS, method="PUT", after=True)
    data = b"z" * PART
    assert _put_part(chunked, session["id"], data, 0, PART + 1).status_code == 500
    again = _put_part(chunked, session["id"], data, 0, PART + 1)
    assert again.status_code == 409
    assert again.json()["code"] == "range_overlap"
    listed = _api(chunked, "GET", f"{SESSIONS}/{session['id']}/parts").json()
    assert [entry["offset"] for entry in listed["entries"]] == [0]


def test_commit_returns_202_first(tmp_path: Path) -> None:
    config = EmulatorConfig(part_size=PART, min_chunked_size=1, commit_processing=1)
    with BoxEmulator(tmp_path, config=config) as emulator:
        data = b"q" * 10
        session = _session(emulator, len(data))
        part = _put_part(emulator, session["id"], data, 0, len(data)).json()["part"]
        commit = f"{SESSIONS}/{session['id']}/commit"
        body = {"parts": [part]}
        first = _api(
            emulator, "POST", commit, json=body, headers={"Digest": _sha(data)}
        )
        assert first.status_code == 202
        assert first.headers["Retry-After"] == "1"
        second = _api(
            emulator, "POST", commit, json=body, headers={"Digest": _sha(data)}
        )
        assert second.status_code == 201
        assert second.json()["entries"][0]["sha1"] == hashlib.sha1(data).hexdigest()


def test_commit_with_missing_part_fails(chunked: BoxEmulator) -> None:
    session = _session(chunked, PART + 5)
    part = _put_part(chunked, session["id"], b"a" * PART, 0, PART + 5).json()["part"]
    response = _api(
        chunked,
        "POST",
        f"{SESSIONS}/{session['id']}/commit",
        json={"parts": [part]},
        headers={"Digest": _sha(b"a" * PART + b"b" * 5)},
    )
    assert response.status_code == 400


def test_abort_removes_session(chunked: BoxEmulator) -> None:
    session = _session(chunked, 5000)
    assert _api(chunked, "DELETE", f"{SESSIONS}/{session['id']}").status_code == 204
    assert _api(chunked, "GET", f"{SESSIONS}/{session['id']}").status_code == 404


def test_session_for_taken_name_conflicts(chunked: BoxEmulator) -> None:
    upload = _client(chunked).uploads.upload_file(
        UploadFileAttributes(
            name="taken.bin", parent=UploadFileAttributesParentField(id="0")
        ),
        io.BytesIO(b"1"),
    )
    body = {"folder_id": "0", "file_size": 5000, "file_name": "TAKEN.bin"}
    response = _api(chunked, "POST", SESSIONS, json=body)
    assert response.status_code == 409
    assert response.json()["context_info"]["conflicts"]["id"] == upload.entries[0].id


def test_small_file_session_rejected(emulator: BoxEmulator) -> None:
    body = {"folder_id": "0", "file_size": 10, "file_name": "small.bin"}
    response = _api(emulator, "POST", SESSIONS, json=body)
    assert response.status_code == 400
    assert response.json()["code"] == "file_size_too_small"


def test_search_filters_type_and_ancestor(client: BoxClient) -> None:
    from box_sdk_gen.managers.folders import CreateFolderParent
    from box_sdk_gen.managers.search import SearchForContentType

    inner = client.folders.create_folder("reports", CreateFolderParent(id="0"))
    for folder_id, name in [
        ("0", "report-a.csv"),
        (inner.id, "report-b.csv"),
        (inner.id, "notes.txt"),
    ]:
        client.uploads.upload_file(
            UploadFileAttributes(
                name=name, parent=UploadFileAttributesParentField(id=folder_id)
            ),
            io.BytesIO(name.encode()),
        )
    found = client.search.search_for_content(query="report")
    assert {entry.name for entry in found.entries} == {
        "reports",
        "report-a.csv",
        "report-b.csv",
    }
    files = client.search.search_for_content(
        query="report", type=SearchForContentType.FILE, ancestor_folder_ids=[inner.id]
    )
    assert [entry.name for entry in files.entries] == ["report-b.csv"]
    page = client.search.search_for_content(query="report", limit=2, offset=2)
    assert page.total_count == 3
    assert len(page.entries) == 1


def test_search_without_query_fails_400(emulator: BoxEmulator) -> None:
    response = _api(emulator, "GET", "/2.0/search")
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


def test_folder_items_marker_paging(client: BoxClient) -> None:
    for index in range(5):
        client.uploads.upload_file(
            UploadFileAttributes(
                name=f"f{index}.txt", parent=UploadFileAttributesParentField(id="0")
            ),
            io.BytesIO(b"x"),
        )
    names, marker = [], None
    while True:
        page = client.folders.get_folder_items(
            "0", usemarker=True, marker=marker, limit=2
        )
        names += [entry.name for entry in page.entries]
        marker = page.next_marker
        if not marker:
            break
    assert names == [f"f{index}.txt" for index in range(5)]


def _token(emulator: BoxEmulator, **form: str) -> requests.Response:
    return requests.post(emulator.url + "/oauth2/token", data=form, timeout=10)


def test_refresh_token_works_once(emulator: BoxEmulator) -> None:
    pair = emulator.issue_oauth_tokens()
    first = _token(
        emulator, grant_type="refresh_token", refresh_token=pair["refresh_token"]
    )
    assert first.status_code == 200
    assert first.json()["refresh_token"] != pair["refresh_token"]
    again = _token(
        emulator, grant_type="refresh_token", refresh_token=pair["refresh_token"]
    )
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert emulator.requests.count(token=pair["refresh_token"]) == 2


def _assertion(key: Any, jti: str, kid: str = "k1") -> str:
    claims = {
        "iss": "app",
        "sub": "20000001",
        "box_sub_type": "enterprise",
        "aud": "https://api.box.com/oauth2/token",
        "jti": jti,
        "exp": int(time.time()) + 30,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def test_jwt_assertion_id_is_single_use(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = (
        key.public_key()
        .public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        .decode()
    )
    config = EmulatorConfig(jwt_public_keys={"k1": public})
    with BoxEmulator(tmp_path, config=config) as emulator:
        form = {
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "client_id": "app",
            "client_secret": "s",
        }
        jti = uuid.uuid4().hex
        assert (
            _token(emulator, assertion=_assertion(key, jti), **form).status_code == 200
        )
        reused = _token(emulator, assertion=_assertion(key, jti), **form)
        assert reused.status_code == 400
        assert "jti" in reused.json()["error_description"]
        other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        forged = _token(
            emulator, assertion=_assertion(other_key, uuid.uuid4().hex), **form
        )
        assert forged.status_code == 400
        assert emulator.requests.count("POST /oauth2/token", status=200) == 1


def test_expired_access_tokens_get_401(emulator: BoxEmulator) -> None:
    pair = emulator.issue_oauth_tokens()
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    me = requests.get(emulator.url + "/2.0/users/me", headers=headers, timeout=10)
    assert me.status_code == 200
    assert emulator.expire_access_tokens() == 1
    again = requests.get(emulator.url + "/2.0/users/me", headers=headers, timeout=10)
    assert again.status_code == 401


def test_as_user_header_picks_the_user(emulator: BoxEmulator) -> None:
    response = _api(emulator, "GET", "/2.0/users/me", headers={"As-User": "777"})
    assert response.json()["id"] == "777"


@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_user_limit_returns_429(tmp_path: Path, form: str) -> None:
    config = EmulatorConfig(user_limits={"general": "2/min"}, retry_after_form=form)
    with BoxEmulator(tmp_path, config=config) as emulator:
        statuses = [
            _api(emulator, "GET", "/2.0/folders/0").status_code for _ in range(3)
        ]
        assert statuses == [200, 200, 429]
        refused = _api(emulator, "GET", "/2.0/folders/0")
        assert refused.json()["code"] == "rate_limit_exceeded"
        retry_after = refused.headers["Retry-After"]
        if form == "seconds":
            assert 1 <= int(retry_after) <= 60
        else:
            assert parsedate_to_datetime(retry_after).tzinfo is not None
        # Another user has a bucket of its own.
        other = _api(emulator, "GET", "/2.0/folders/0", headers={"As-User": "5"})
        assert other.status_code == 200
        assert emulator.requests.count(status=429) == 2


def test_upload_limit_separate_from_general(tmp_path: Path) -> None:
    config = EmulatorConfig(user_limits={"upload": "1/min"})
    with BoxEmulator(tmp_path, config=config) as emulator:
        client = _client(emulator)

        def upload(name: str) -> None:
            client.uploads.upload_file(
                UploadFileAttributes(
                    name=name, parent=UploadFileAttributesParentField(id="0")
                ),
                io.BytesIO(b"x"),
            )

        upload("one.txt")
        with pytest.raises(BoxAPIError) as caught:
            upload("two.txt")
        assert caught.value.response_info.status_code == 429
        client.folders.get_folder_by_id("0")
        assert emulator.requests.count(status=429, limit_class="upload") == 1


def test_injected_429_in_http_date_form(emulator: BoxEmulator) -> None:
    emulator.faults.add(429, retry_after=3, retry_after_form="http-date")
    response = _api(emulator, "GET", "/2.0/users/me")
    assert response.status_code == 429
    date = parsedate_to_datetime(response.headers["Retry-After"])
    assert date.timestamp() >= time.time() + 1


def test_dropped_connection_fails_the_client(emulator: BoxEmulator) -> None:
    emulator.faults.add_drop(path_prefix="/2.0/users")
    # The response stops partway: a broken read, as when a connection is cut.
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        _api(emulator, "GET", "/2.0/users/me")
    assert _api(emulator, "GET", "/2.0/users/me").status_code == 200
    assert emulator.requests.count("GET /2.0/users/me", status=0) == 1


def test_fault_after_keeps_the_upload(client: BoxClient, emulator: BoxEmulator) -> None:
    emulator.faults.add(503, path_prefix="/api/2.0/files/content", after=True)
    with pytest.raises(BoxAPIError):
        client.uploads.upload_file(
            UploadFileAttributes(
                name="kept.txt", parent=UploadFileAttributesParentField(id="0")
            ),
            io.BytesIO(b"kept"),
        )
    assert (emulator.store.root / "kept.txt").read_bytes() == b"kept"


def test_requests_counted_by_endpoint_token(emulator: BoxEmulator) -> None:
    _api(emulator, "GET", "/2.0/folders/0")
    _api(emulator, "GET", "/2.0/folders/0/items")
    _token(emulator, grant_type="client_credentials", client_id="id", client_secret="s")
    summary = requests.get(emulator.url + "/_emulator/requests", timeout=10).json()
    assert summary["by_endpoint"]["GET /2.0/folders/{id}"] == 1
    assert summary["by_endpoint"]["POST /oauth2/token"] == 1
    assert emulator.requests.count(token="test-token") == 2
    assert emulator.requests.count(grant_type="client_credentials") == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("240/min", RateLimit(240, 60.0)),
        ("20/s", RateLimit(20, 1.0)),
        ("6/1", RateLimit(6, 1.0)),
        ("100/10s", RateLimit(100, 10.0)),
        ({"requests": 5, "seconds": 2, "burst": 1}, RateLimit(5, 2.0, 1)),
    ],
    ids=["per-minute", "per-second", "bare-seconds", "ten-seconds", "mapping"],
)
def test_rate_limit_parse(text: object, expected: RateLimit) -> None:
    assert RateLimit.parse(text) == expected


@pytest.mark.parametrize("text", ["fast", "0/s", "5/fortnight"], ids=str)
def test_rate_limit_parse_rejects(text: str) -> None:
    with pytest.raises(BoxConfigError):
        RateLimit.parse(text)


def test_load_config_from_yaml_and_json(tmp_path: Path) -> None:
    yaml_file = tmp_path / "emulator.yaml"
    yaml_file.write_text("box_limits: true\npart_size: 2048\ntokens: [a, b]\n")
    config = load_config(yaml_file)
    assert config.user_limits["upload"] == RateLimit(240, 60.0)
    assert config.enterprise_limits["search"] == RateLimit(12, 1.0)
    assert config.part_size == 2048
    json_file = tmp_path / "emulator.json"
    json_file.write_text(json.dumps({"user_limits": {"upload": "20/s"}}))
    assert load_config(json_file).user_limits["upload"].rate == 20
    json_file.write_text(json.dumps({"part_sise": 1}))
    with pytest.raises(BoxConfigError, match="part_sise"):
        load_config(json_file)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_emulator_command_applies_limits(tmp_path: Path) -> None:
    config = tmp_path / "emulator.json"
    config.write_text(json.dumps({"latency": 0}))
    port = _free_port()
    command = [
        sys.executable,
        "-c",
        "from sentinel.box._emulator._command import emulator_command as c; c()",
        "--root",
        str(tmp_path / "box"),
        "--port",
        str(port),
        "--config",
        str(config),
        "--limit",
        "general=1/min",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert f"127.0.0.1:{port}" in banner
        url = f"http://127.0.0.1:{port}/2.0/folders/0"
        headers = {"Authorization": "Bearer any"}
        codes = [
            requests.get(url, headers=headers, timeout=10).status_code for _ in range(2)
        ]
        assert codes == [200, 429]
    finally:
        process.terminate()
        process.wait(timeout=20)
        if process.stdout is not None:
            process.stdout.close()


def test_sdk_jwt_auth_acts_as_service(tmp_path: Path) -> None:
    from box_sdk_gen import BoxJWTAuth, JWTConfig
    from box_sdk_gen.networking.base_urls import BaseUrls
    from box_sdk_gen.networking.network import NetworkSession

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        )
        .decode()
    )
    config = EmulatorConfig(
        clients={"app": "app-secret"}, jwt_public_keys={"key-1": public}
    )
    with BoxEmulator(tmp_path, config=config) as emulator:
        auth = BoxJWTAuth(
            JWTConfig(
                "app", "app-secret", "key-1", private, "secret", enterprise_id="1"
            )
        )
        session = NetworkSession(
            base_urls=BaseUrls(
                base_url=emulator.api_url,
                upload_url=emulator.upload_url,
                oauth_2_url=emulator.oauth_url,
            )
        )
        client = BoxClient(auth, network_session=session)
        assert client.users.get_user_me().id == "10000002"
        assert client.users.get_user_me().id == "10000002"
        jwt_grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
        assert emulator.requests.count(grant_type=jwt_grant) == 1


def test_session_settings_change_live(emulator: BoxEmulator) -> None:
    emulator.config.part_size = 512
    emulator.config.min_chunked_size = 1
    session = _session(emulator, 1500)
    assert session["part_size"] == 512
    assert session["total_parts"] == 3
