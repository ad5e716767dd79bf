"""Tests of the Box emulator through the real box_sdk_gen client and raw HTTP."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import requests
from box_sdk_gen import BoxAPIError, BoxClient, BoxSDKError
from box_sdk_gen.managers.folders import CreateFolderParent
from box_sdk_gen.managers.uploads import (
    UploadFileAttributes,
    UploadFileAttributesParentField,
    UploadFileVersionAttributes,
)

from sentinel.box import BoxEmulator, make_client

from .conftest import settings_for

pytestmark = pytest.mark.timeout(60)


def _upload(client: BoxClient, folder_id: str, name: str, data: bytes) -> object:
    attributes = UploadFileAttributes(
        name=name, parent=UploadFileAttributesParentField(id=folder_id)
    )
    return client.uploads.upload_file(attributes, io.BytesIO(data)).entries[0]


def test_users_me_returns_emulated_user(client: BoxClient) -> None:
    user = client.users.get_user_me()
    assert user.id
    assert user.name == "Sentinel Emulator"


def test_root_folder_has_id_zero(client: BoxClient) -> None:
    root = client.folders.get_folder_by_id("0")
    assert root.id == "0"
    assert root.name == "All Files"
    assert root.item_collection.total_count == 0


def test_create_folder_mirrors_on_disk(
    client: BoxClient, emulator: BoxEmulator
) -> None:
    folder = client.folders.create_folder("Reports", CreateFolderParent(id="0"))
    assert folder.parent.id == "0"
    assert folder.path_collection.total_count == 1
    assert (emulator.store.root / "Reports").is_dir()


def test_create_folder_conflict_names_existing(client: BoxClient) -> None:
    first = client.folders.create_folder("Reports", CreateFolderParent(id="0"))
    with pytest.raises(BoxAPIError) as caught:
        client.folders.create_folder("REPORTS", CreateFolderParent(id="0"))
    info = caught.value.response_info
    assert info.status_code == 409
    assert info.code == "item_name_in_use"
    assert info.context_info["conflicts"][0]["id"] == first.id


def test_upload_stores_content_and_sha1(
    client: BoxClient, emulator: BoxEmulator
) -> None:
    entry = _upload(client, "0", "a.txt", b"hello")
    assert entry.sha_1 == "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"
    assert entry.size == 5
    assert (emulator.store.root / "a.txt").read_bytes() == b"hello"


def test_upload_conflict_names_file_and_sha1(client: BoxClient) -> None:
    entry = _upload(client, "0", "a.txt", b"hello")
    with pytest.raises(BoxAPIError) as caught:
        _upload(client, "0", "A.TXT", b"other")
    info = caught.value.response_info
    assert info.status_code == 409
    assert info.code == "item_name_in_use"
    assert info.context_info["conflicts"]["id"] == entry.id
    assert info.context_info["conflicts"]["sha1"] == entry.sha_1


def test_download_returns_uploaded_bytes(client: BoxClient) -> None:
    data = bytes(range(256)) * 1000
    entry = _upload(client, "0", "blob.bin", data)
    assert client.downloads.download_file(entry.id).read() == data


def test_download_redirects_to_download_url(
    emulator: BoxEmulator, client: BoxClient
) -> None:
    entry = _upload(client, "0", "a.txt", b"hello")
    response = requests.get(
        f"{emulator.api_url}/2.0/files/{entry.id}/content",
        headers={"Authorization": "Bearer any"},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302
    assert "/download/" in response.headers["Location"]
    assert requests.get(response.headers["Location"], timeout=10).content == b"hello"


def test_new_version_keeps_old_content(client: BoxClient) -> None:
    entry = _upload(client, "0", "a.txt", b"one")
    files = client.uploads.upload_file_version(
        entry.id,
        UploadFileVersionAttributes(name="a.txt"),
        io.BytesIO(b"two"),
        if_match=entry.etag,
    )
    updated = files.entries[0]
    assert updated.id == entry.id
    assert updated.etag != entry.etag
    assert client.downloads.download_file(entry.id).read() == b"two"
    old = client.downloads.download_file(entry.id, version=entry.file_version.id)
    assert old.read() == b"one"


def test_new_version_stale_etag_fails_412(client: BoxClient) -> None:
    entry = _upload(client, "0", "a.txt", b"one")
    attributes = UploadFileVersionAttributes(name="a.txt")
    client.uploads.upload_file_version(
        entry.id, attributes, io.BytesIO(b"two"), if_match=entry.etag
    )
    with pytest.raises(BoxAPIError) as caught:
        client.uploads.upload_file_version(
            entry.id, attributes, io.BytesIO(b"three"), if_match=entry.etag
        )
    assert caught.value.response_info.status_code == 412
    assert caught.value.response_info.code == "precondition_failed"


def test_folder_items_pages_by_offset(client: BoxClient) -> None:
    folder = client.folders.create_folder("many", CreateFolderParent(id="0"))
    names = {f"file-{index:02}.txt" for index in range(25)}
    for name in names:
        _upload(client, folder.id, name, name.encode())
    client.folders.create_folder("sub", CreateFolderParent(id=folder.id))

    seen = []
    for offset in (0, 10, 20):
        page = client.folders.get_folder_items(folder.id, offset=offset, limit=10)
        assert page.total_count == 26
        assert page.offset == offset
        seen.extend(entry.name for entry in page.entries)
    assert seen[0] == "sub"
    assert set(seen[1:]) == names
    assert len(seen) == 26


def test_folder_items_fields_add_keys(client: BoxClient) -> None:
    _upload(client, "0", "a.txt", b"hello")
    plain = client.folders.get_folder_items("0").entries[0]
    sized = client.folders.get_folder_items("0", fields=["size"]).entries[0]
    assert plain.size is None
    assert sized.size == 5


def test_delete_file_and_folder(client: BoxClient, emulator: BoxEmulator) -> None:
    folder = client.folders.create_folder("gone", CreateFolderParent(id="0"))
    entry = _upload(client, folder.id, "a.txt", b"x")
    with pytest.raises(BoxAPIError) as caught:
        client.folders.delete_folder_by_id(folder.id)
    assert caught.value.response_info.code == "folder_not_empty"
    client.files.delete_file_by_id(entry.id)
    client.folders.delete_folder_by_id(folder.id)
    assert not (emulator.store.root / "gone").exists()
    with pytest.raises(BoxAPIError) as caught:
        client.files.get_file_by_id(entry.id)
    assert caught.value.response_info.status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/2.0/files/999999", 404, "not_found"),
        ("GET", "/2.0/folders/999999/items", 404, "not_found"),
        ("GET", "/2.0/no/such/route", 404, "not_found"),
        ("GET", "/2.0/folders/0/items?limit=-3", 400, "bad_request"),
        ("POST", "/2.0/folders", 400, "bad_request"),
    ],
    ids=["file", "folder", "route", "bad-limit", "no-body"],
)
def test_errors_are_box_error_objects(
    emulator: BoxEmulator, method: str, path: str, status: int, code: str
) -> None:
    response = requests.request(
        method,
        emulator.api_url + path,
        headers={"Authorization": "Bearer any"},
        timeout=10,
    )
    body = response.json()
    assert response.status_code == status
    assert body["type"] == "error"
    assert body["status"] == status
    assert body["code"] == code
    assert body["message"]
    assert body["request_id"]
    assert "context_info" in body


def test_upload_file_part_first_is_rejected(emulator: BoxEmulator) -> None:
    response = requests.post(
        emulator.upload_url + "/2.0/files/content",
        headers={"Authorization": "Bearer any"},
        files=[
            ("file", ("a.txt", b"data")),
            ("attributes", (None, '{"name": "a.txt", "parent": {"id": "0"}}')),
        ],
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["code"] == "metadata_after_file_contents"


def test_missing_token_fails_401(emulator: BoxEmulator) -> None:
    response = requests.get(emulator.api_url + "/2.0/users/me", timeout=10)
    assert response.status_code == 401
    assert response.json()["type"] == "error"


def test_configured_tokens_reject_others(tmp_path: Path) -> None:
    with BoxEmulator(tmp_path, tokens=["good"]) as emulator:
        good = make_client(settings_for(emulator, auth={"developer_token": "good"}))
        bad = make_client(settings_for(emulator, auth={"developer_token": "bad"}))
        assert good.users.get_user_me().id
        # The SDK handles a 401 by refreshing, which a developer token cannot do.
        with pytest.raises(BoxSDKError):
            bad.users.get_user_me()


def test_client_credentials_get_token(tmp_path: Path) -> None:
    clients = {"app-id": "app-secret"}
    with BoxEmulator(tmp_path, tokens=[], clients=clients) as emulator:
        auth = {"client_id": "app-id", "client_secret": "app-secret", "user_id": "1"}
        client = make_client(settings_for(emulator, auth=auth))
        assert client.users.get_user_me().id


def test_client_credentials_wrong_secret(tmp_path: Path) -> None:
    with BoxEmulator(tmp_path, clients={"app-id": "app-secret"}) as emulator:
        response = requests.post(
            emulator.api_url + "/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "app-id",
                "client_secret": "wrong",
            },
            timeout=10,
        )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client"


def test_refresh_token_grant_rotates(emulator: BoxEmulator) -> None:
    token_url = emulator.api_url + "/oauth2/token"
    first = requests.post(
        token_url,
        data={"grant_type": "refresh_token", "refresh_token": "seed"},
        timeout=10,
    ).json()
    second = requests.post(
        token_url,
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        timeout=10,
    ).json()
    assert second["access_token"] != first["access_token"]
    assert second["token_type"] == "bearer"


def test_injected_429_is_retried_by_sdk(
    emulator: BoxEmulator, box_settings: dict[str, object]
) -> None:
    emulator.faults.add(429, 2, retry_after=0, path_prefix="/2.0/users")
    client = make_client({**box_settings, "max_attempts": 5})
    assert client.users.get_user_me().id
    assert emulator.faults.pending() == 0


def test_injected_503_surfaces_after_attempts(
    emulator: BoxEmulator, client: BoxClient
) -> None:
    emulator.faults.add(503, 1)
    with pytest.raises(BoxAPIError) as caught:
        client.users.get_user_me()
    assert caught.value.response_info.status_code == 503
    assert caught.value.response_info.code == "unavailable"


def test_fault_control_endpoint(emulator: BoxEmulator) -> None:
    control = emulator.url + "/_emulator/faults"
    added = requests.post(control, json={"status": 500, "count": 1}, timeout=10)
    assert added.json()["pending"] == 1
    response = requests.get(
        emulator.api_url + "/2.0/users/me",
        headers={"Authorization": "Bearer any"},
        timeout=10,
    )
    assert response.status_code == 500
    assert response.json()["code"] == "internal_server_error"


def test_restart_keeps_ids_and_sha1(tmp_path: Path) -> None:
    root = tmp_path / "box"
    with BoxEmulator(root) as emulator:
        entry = _upload(make_client(settings_for(emulator)), "0", "a.txt", b"hello")
    with BoxEmulator(root) as emulator:
        again = make_client(settings_for(emulator)).files.get_file_by_id(entry.id)
    assert again.name == "a.txt"
    assert again.sha_1 == entry.sha_1


def test_files_added_on_disk_are_served(tmp_path: Path) -> None:
    root = tmp_path / "box"
    (root / "drop").mkdir(parents=True)
    (root / "drop" / "b.txt").write_bytes(b"from disk")
    with BoxEmulator(root) as emulator:
        client = make_client(settings_for(emulator))
        folder = client.folders.get_folder_items("0").entries[0]
        entry = client.folders.get_folder_items(folder.id).entries[0]
        data = client.downloads.download_file(entry.id).read()
    assert folder.name == "drop"
    assert entry.name == "b.txt"
    assert data == b"from disk"


def test_emulator_binds_loopback_by_default(emulator: BoxEmulator) -> None:
    assert emulator.url.startswith("http://127.0.0.1:")
    assert emulator.port > 0
