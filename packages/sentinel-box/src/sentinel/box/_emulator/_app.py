"""The aiohttp application that answers Box API requests from an EmulatorStore."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import BodyPartReader, web

from sentinel.box._emulator import _shapes as shapes
from sentinel.box._emulator._auth import (
    POLICY_KEY,
    TokenPolicy,
    authorize_endpoint,
    bearer_token,
    revoke_endpoint,
    token_endpoint,
)
from sentinel.box._emulator._config import EmulatorConfig
from sentinel.box._emulator._faults import Fault, FaultPlan, retry_after_value
from sentinel.box._emulator._limits import (
    RateLimiter,
    request_class,
    retry_after_seconds,
)
from sentinel.box._emulator._requests import RequestLog, RequestRecord, facts
from sentinel.box._emulator._search import SearchQuery, search
from sentinel.box._emulator._sessions import SessionRegistry
from sentinel.box._emulator._store import EmulatorStore, Item
from sentinel.box._errors import EmulatorApiError

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

STORE_KEY = web.AppKey("store", EmulatorStore)
FAULTS_KEY = web.AppKey("faults", FaultPlan)
CONFIG_KEY = web.AppKey("config", EmulatorConfig)
LIMITER_KEY = web.AppKey("limiter", RateLimiter)
LOG_KEY = web.AppKey("requests", RequestLog)
SESSIONS_KEY = web.AppKey("sessions", SessionRegistry)
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# Box puts uploads on their own host; the emulator serves them under this prefix
# so one port can stand in for both, like https://upload.box.com/api.
UPLOAD_PREFIX = "/api"
_CHUNK = 256 * 1024


class DownloadLinks:
    """Short-lived download URLs, like the signed ones Box redirects to."""

    lifetime = 900.0

    def __init__(self) -> None:
        self._links: dict[str, tuple[str, str | None, float]] = {}
        self._lock = threading.Lock()

    def create(self, file_id: str, version_id: str | None) -> str:
        """Return a new token that downloads one version of a file."""
        token = secrets.token_urlsafe(24)
        now = time.monotonic()
        with self._lock:
            expired = [key for key, link in self._links.items() if link[2] < now]
            for key in expired:
                del self._links[key]
            self._links[token] = (file_id, version_id, now + self.lifetime)
        return token

    def resolve(self, token: str) -> tuple[str, str | None]:
        """Return the file and version of a download token."""
        with self._lock:
            link = self._links.get(token)
        if link is None or link[2] < time.monotonic():
            raise EmulatorApiError(404, "not_found", "Download link expired or unknown")
        return link[0], link[1]


DOWNLOADS_KEY = web.AppKey("downloads", DownloadLinks)


# -- middlewares ---------------------------------------------------------------


def _error_response(error: EmulatorApiError) -> web.Response:
    context = error.context_info
    if context is not None and isinstance(context.get("conflicts"), Item):
        context = {**context, "conflicts": shapes.mini(context["conflicts"])}
    body = shapes.error_body(error.status, error.code, error.message, context)
    return web.json_response(body, status=error.status, headers=error.headers)


@web.middleware
async def errors_middleware(
    request: web.Request, handler: Handler
) -> web.StreamResponse:
    """Render every failure as a Box error object."""
    try:
        return await handler(request)
    except EmulatorApiError as error:
        logger.debug(
            "%s %s -> %d %s", request.method, request.path, error.status, error.code
        )
        return _error_response(error)
    except web.HTTPNotFound:
        return _error_response(
            EmulatorApiError(404, "not_found", f"No API route matches {request.path}")
        )
    except web.HTTPMethodNotAllowed:
        return _error_response(
            EmulatorApiError(
                405,
                "method_not_allowed",
                f"{request.method} is not allowed on {request.path}",
            )
        )
    except web.HTTPException:
        raise
    except Exception:
        # The emulator keeps serving after a bug, and the client sees a 500.
        logger.exception("%s %s failed in the emulator", request.method, request.path)
        return _error_response(
            EmulatorApiError(500, "internal_server_error", "Internal Server Error")
        )


@web.middleware
async def control_middleware(
    request: web.Request, handler: Handler
) -> web.StreamResponse:
    """Apply latency, faults, authentication and rate limits; log the request."""
    if request.path.startswith("/_emulator/"):
        return await handler(request)
    status = 0
    try:
        response = await _controlled(request, handler)
        status = 0 if facts(request).dropped else response.status
        return response
    except web.HTTPException as error:
        status = error.status
        raise
    finally:
        _record(request, status)


async def _controlled(request: web.Request, handler: Handler) -> web.StreamResponse:
    faults = request.app[FAULTS_KEY]
    if faults.latency > 0:
        await asyncio.sleep(faults.latency)
    fault = faults.take(request.method, request.path)
    if fault is not None and not fault.after:
        failed = await _apply_fault(request, fault)
        if failed is not None:
            return failed
    rejected = _authenticate(request) or _rate_limit(request)
    if rejected is not None:
        logger.debug(
            "%s %s: %d %s for user %s",
            request.method,
            request.path,
            rejected.status,
            rejected.code,
            facts(request).user_id or "-",
        )
        return _error_response(rejected)
    response = await handler(request)
    if fault is not None and fault.after:
        failed = await _apply_fault(request, fault)
        if failed is not None:
            return failed
    return response


async def _apply_fault(request: web.Request, fault: Fault) -> web.StreamResponse | None:
    logger.info(
        "%s %s: injecting %s",
        request.method,
        request.path,
        fault.action if fault.action != "error" else fault.status,
    )
    if fault.action == "delay":
        await asyncio.sleep(fault.delay)
        return None
    if fault.action == "drop":
        return await _drop_connection(request)
    return _error_response(fault.error())


async def _drop_connection(request: web.Request) -> web.StreamResponse:
    """Start a response, then close the socket before it is complete."""
    response = web.StreamResponse(status=200)
    response.content_type = "application/json"
    response.content_length = 4096
    await response.prepare(request)
    await response.write(b'{"type": "')
    facts(request).dropped = True
    transport = request.transport
    if transport is not None:
        transport.abort()
    return response


def _authenticate(request: web.Request) -> EmulatorApiError | None:
    """Check the bearer token of an API request and note whom it acts as."""
    if not request.path.startswith(("/2.0/", f"{UPLOAD_PREFIX}/2.0/")):
        return None
    token = bearer_token(request)
    user_id = request.app[POLICY_KEY].user_of(token)
    if user_id is None:
        return EmulatorApiError(
            401,
            "unauthorized",
            "The access token is missing, expired or invalid; send a valid one as "
            "'Authorization: Bearer TOKEN'",
            headers={
                "WWW-Authenticate": 'Bearer realm="Service", '
                'error="invalid_token", '
                'error_description="The access token provided is invalid."'
            },
        )
    # As-User makes an admin's or a service account's call act as that user.
    facts(request).user_id = request.headers.get("As-User", "").strip() or user_id
    return None


def _rate_limit(request: web.Request) -> EmulatorApiError | None:
    limiter = request.app[LIMITER_KEY]
    kind = request_class(request.method, request.path)
    facts(request).limit_class = kind
    if kind is None or not limiter.enabled:
        return None
    wait = limiter.acquire(facts(request).user_id, kind)
    if wait <= 0:
        return None
    form = request.app[CONFIG_KEY].retry_after_form
    return EmulatorApiError(
        429,
        "rate_limit_exceeded",
        f"Request rate limit exceeded for {kind} requests, please try again later",
        headers={"Retry-After": retry_after_value(retry_after_seconds(wait), form)},
    )


def _record(request: web.Request, status: int) -> None:
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else request.path
    noted = facts(request)
    token = bearer_token(request) or noted.credential
    request.app[LOG_KEY].add(
        RequestRecord(
            time=time.time(),
            method=request.method,
            endpoint=f"{request.method} {route}",
            path=request.path,
            status=status,
            token=token,
            user_id=noted.user_id,
            limit_class=noted.limit_class,
            grant_type=noted.grant_type,
        )
    )


# -- request parsing -----------------------------------------------------------


def _fields(request: web.Request) -> list[str] | None:
    raw = request.query.get("fields")
    if raw is None:
        return None
    return [name.strip() for name in raw.split(",") if name.strip()]


def _int_param(request: web.Request, name: str, default: int, maximum: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise EmulatorApiError(
            400,
            "bad_request",
            f"Invalid value {raw!r} for query parameter {name!r}; expected an "
            "integer of 0 or more",
            {"errors": [{"reason": "invalid_parameter", "name": name, "message": raw}]},
        )
    return min(value, maximum)


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise EmulatorApiError(
            400, "bad_request", "The request body must be a JSON object"
        )
    return body


def _parent_id(body: dict[str, Any]) -> str:
    parent = body.get("parent")
    if not isinstance(parent, dict) or not isinstance(parent.get("id"), str):
        raise EmulatorApiError(
            400, "bad_request", "Missing 'parent.id'; send the id of the parent folder"
        )
    return str(parent["id"])


def _if_match(request: web.Request) -> str | None:
    return request.headers.get("If-Match")


def _item_json(
    request: web.Request, item: Item, status: int = 200
) -> web.StreamResponse:
    if_none_match = request.headers.get("If-None-Match")
    if status == 200 and if_none_match is not None and if_none_match == str(item.etag):
        return web.Response(status=304)
    store = request.app[STORE_KEY]
    return web.json_response(
        shapes.select(store, item, _fields(request)), status=status
    )


# -- users and folders ---------------------------------------------------------


async def get_me(request: web.Request) -> web.StreamResponse:
    """Handle ``GET /2.0/users/me``."""
    store = request.app[STORE_KEY]
    root = store.get("0", "folder")
    user_id = facts(request).user_id or shapes.USER_ID
    return web.json_response(shapes.user_full(store.folder_size(root), user_id))


async def get_folder(request: web.Request) -> web.StreamResponse:
    """Handle ``GET /2.0/folders/{id}``."""
    item = request.app[STORE_KEY].get(request.match_info["id"], "folder")
    return _item_json(request, item)


async def get_folder_items(request: web.Request) -> web.StreamResponse:
    """Handle ``GET /2.0/folders/{id}/items`` with offset or marker paging."""
    store = request.app[STORE_KEY]
    folder = store.get(request.match_info["id"], "folder")
    limit = max(_int_param(request, "limit", DEFAULT_LIMIT, MAX_LIMIT), 1)
    sort = request.query.get("sort", "name")
    direction = request.query.get("direction", "ASC").upper()
    if sort not in {"id", "name", "date", "size"} or direction not in {"ASC", "DESC"}:
        raise EmulatorApiError(
            400,
            "bad_request",
            f"Invalid sort {sort!r} or direction {direction!r}; use sort id, name, "
            "date or size and direction ASC or DESC",
        )
    use_marker = request.query.get("usemarker", "").lower() == "true"
    if use_marker:
        offset = _decode_marker(request.query.get("marker"))
    else:
        offset = _int_param(request, "offset", 0, 1 << 31)
    page = shapes.items_page(
        store,
        folder,
        offset=offset,
        limit=limit,
        fields=_fields(request),
        sort=sort,
        direction=direction,
    )
    if use_marker:
        more = offset + limit < page.pop("total_count")
        del page["offset"]
        page["next_marker"] = _encode_marker(offset + limit) if more else None
    return web.json_response(page)


def _encode_marker(offset: int) -> str:
    return secrets.token_hex(2) + format(offset, "x")


def _decode_marker(marker: str | None) -> int:
    if not marker:
        return 0
    try:
        return int(marker[4:], 16)
    except ValueError:
        raise EmulatorApiError(
            400, "invalid_parameter", f"Invalid marker {marker!r}; pass a next_marker"
        ) from None


async def create_folder(request: web.Request) -> web.StreamResponse:
    """Handle ``POST /2.0/folders``."""
    store = request.app[STORE_KEY]
    body = await _json_body(request)
    try:
        item = store.create_folder(_parent_id(body), body.get("name"))
    except EmulatorApiError as error:
        # Box lists folder conflicts, while upload conflicts are one object.
        if error.context_info and isinstance(error.context_info.get("conflicts"), Item):
            conflict = shapes.mini(error.context_info["conflicts"])
            error.context_info = {"conflicts": [conflict]}
        raise
    return _item_json(request, item, status=201)


async def delete_folder(request: web.Request) -> web.StreamResponse:
    """Handle ``DELETE /2.0/folders/{id}``."""
    recursive = request.query.get("recursive", "").lower() == "true"
    request.app[STORE_KEY].delete_folder(
        request.match_info["id"], recursive=recursive, if_match=_if_match(request)
    )
    return web.Response(status=204)


# -- files ---------------------------------------------------------------------


async def get_file(request: web.Request) -> web.StreamResponse:
    """Handle ``GET /2.0/files/{id}``."""
    item = request.app[STORE_KEY].get(request.match_info["id"], "file")
    return _item_json(request, item)


async def delete_file(request: web.Request) -> web.StreamResponse:
    """Handle ``DELETE /2.0/files/{id}``."""
    request.app[STORE_KEY].delete_file(request.match_info["id"], _if_match(request))
    return web.Response(status=204)


async def get_file_content(request: web.Request) -> web.StreamResponse:
    """Handle ``GET /2.0/files/{id}/content`` with a redirect, as Box does."""
    store = request.app[STORE_KEY]
    file_id = request.match_info["id"]
    version = request.query.get("version")
    store.content_path(file_id, version)
    token = request.app[DOWNLOADS_KEY].create(file_id, version)
    location = request.url.origin().with_path(f"/download/{token}")
    raise web.HTTPFound(location)


async def download(request: web.Request) -> web.StreamResponse:
    """Serve file content for a download token; Range requests work."""
    file_id, version = request.app[DOWNLOADS_KEY].resolve(request.match_info["token"])
    store = request.app[STORE_KEY]
    item = store.get(file_id, "file")
    path = store.content_path(file_id, version)
    headers = {
        "Content-Disposition": f"attachment; filename*=UTF-8''{_quote(item.name)}",
        "Content-Type": "application/octet-stream",
    }
    return web.FileResponse(path, headers=headers)


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


async def _read_upload(
    request: web.Request, store: EmulatorStore
) -> tuple[dict[str, Any], Path, str, int]:
    """Read a multipart upload: the attributes part, then the file part."""
    if not request.content_type.startswith("multipart/"):
        raise EmulatorApiError(
            400, "bad_request", "Uploads must be multipart/form-data"
        )
    reader = await request.multipart()
    part = await reader.next()
    if isinstance(part, BodyPartReader) and part.name == "file":
        raise EmulatorApiError(
            400,
            "metadata_after_file_contents",
            "The 'attributes' part must come before the 'file' part",
        )
    if not isinstance(part, BodyPartReader) or part.name != "attributes":
        raise EmulatorApiError(400, "bad_request", "Missing the 'attributes' part")
    try:
        attributes = json.loads(await part.text())
    except ValueError:
        attributes = None
    if not isinstance(attributes, dict):
        raise EmulatorApiError(400, "bad_request", "'attributes' must be a JSON object")

    part = await reader.next()
    if not isinstance(part, BodyPartReader) or part.name != "file":
        raise EmulatorApiError(400, "bad_request", "Missing the 'file' part")
    upload = store.temp_upload()
    digest = hashlib.sha1(usedforsecurity=False)
    size = 0
    try:
        with upload.open("wb") as stream:
            while chunk := await part.read_chunk(_CHUNK):
                digest.update(chunk)
                stream.write(chunk)
                size += len(chunk)
    except BaseException:
        upload.unlink(missing_ok=True)
        raise
    return attributes, upload, digest.hexdigest(), size


def _check_digest(request: web.Request, sha1: str) -> None:
    # Box takes the SHA-1 of the content in the Content-MD5 header.
    expected = request.headers.get("Content-MD5")
    if expected is not None and expected.lower() != sha1:
        # NOTE: the error code is the emulator's choice; Box's may differ.
        raise EmulatorApiError(
            400,
            "bad_digest",
            f"The SHA-1 digest {expected!r} in Content-MD5 does not match the "
            f"uploaded content, whose SHA-1 is {sha1!r}",
        )


async def upload_file(request: web.Request) -> web.StreamResponse:
    """Handle ``POST <upload>/2.0/files/content``."""
    store = request.app[STORE_KEY]
    attributes, upload, sha1, size = await _read_upload(request, store)
    try:
        _check_digest(request, sha1)
        times = (
            attributes.get("content_created_at"),
            attributes.get("content_modified_at"),
        )
        item = store.add_file(
            _parent_id(attributes),
            attributes.get("name"),
            upload,
            sha1=sha1,
            size=size,
            content_times=times,
        )
    finally:
        upload.unlink(missing_ok=True)
    return _files_response(request, item)


async def upload_version(request: web.Request) -> web.StreamResponse:
    """Handle ``POST <upload>/2.0/files/{id}/content``."""
    store = request.app[STORE_KEY]
    file_id = request.match_info["id"]
    # Check before reading the body, so a stale etag costs no transfer.
    store.get(file_id, "file")
    attributes, upload, sha1, size = await _read_upload(request, store)
    try:
        _check_digest(request, sha1)
        item = store.add_version(
            file_id,
            upload,
            sha1,
            size,
            new_name=attributes.get("name"),
            if_match=_if_match(request),
            content_modified_at=attributes.get("content_modified_at"),
        )
    finally:
        upload.unlink(missing_ok=True)
    return _files_response(request, item)


def _files_response(request: web.Request, item: Item) -> web.StreamResponse:
    store = request.app[STORE_KEY]
    entry = shapes.select(store, item, _fields(request))
    return web.json_response({"total_count": 1, "entries": [entry]}, status=201)


async def preflight(request: web.Request) -> web.StreamResponse:
    """Handle ``OPTIONS /2.0/files/content``, the upload preflight check."""
    store = request.app[STORE_KEY]
    body = await _json_body(request)
    parent = store.get(_parent_id(body), "folder")
    name = body.get("name")
    if isinstance(name, str):
        existing = store.find_child(parent.id, name)
        if existing is not None:
            raise EmulatorApiError(
                409,
                "item_name_in_use",
                "Item with the same name already exists",
                {"conflicts": existing},
            )
    upload_url = request.url.origin().with_path(f"{UPLOAD_PREFIX}/2.0/files/content")
    return web.json_response({"upload_url": str(upload_url), "upload_token": None})


# -- upload sessions -----------------------------------------------------------


def _upload_base(request: web.Request) -> str:
    return str(request.url.origin().with_path(f"{UPLOAD_PREFIX}/2.0"))


async def create_session(request: web.Request) -> web.StreamResponse:
    """Handle ``POST <upload>/2.0/files/upload_sessions``."""
    sessions = request.app[SESSIONS_KEY]
    body = await _json_body(request)
    folder_id = body.get("folder_id")
    if not isinstance(folder_id, str):
        raise EmulatorApiError(
            400, "bad_request", "Missing 'folder_id'; send the id of the folder"
        )
    session = sessions.create(
        body.get("file_size"), body.get("file_name"), folder_id=folder_id
    )
    return web.json_response(sessions.shape(session, _upload_base(request)), status=201)


async def create_version_session(request: web.Request) -> web.StreamResponse:
    """Handle ``POST <upload>/2.0/files/{id}/upload_sessions``."""
    sessions = request.app[SESSIONS_KEY]
    body = await _json_body(request)
    session = sessions.create(
        body.get("file_size"),
        body.get("file_name"),
        file_id=request.match_info["id"],
    )
    return web.json_response(sessions.shape(session, _upload_base(request)), status=201)


async def get_session(request: web.Request) -> web.StreamResponse:
    """Handle ``GET <upload>/2.0/files/upload_sessions/{session}``."""
    sessions = request.app[SESSIONS_KEY]
    session = sessions.get(request.match_info["session"])
    return web.json_response(sessions.shape(session, _upload_base(request)))


async def upload_part(request: web.Request) -> web.StreamResponse:
    """Handle ``PUT <upload>/2.0/files/upload_sessions/{session}``."""
    sessions = request.app[SESSIONS_KEY]
    session = sessions.get(request.match_info["session"])
    offset, size = sessions.check_range(session, request.headers.get("Content-Range"))
    received = sessions.new_part_path(session)
    try:
        with received.open("wb") as stream:
            while chunk := await request.content.read(_CHUNK):
                stream.write(chunk)
    except BaseException:
        received.unlink(missing_ok=True)
        raise
    part = sessions.add_part(
        session, offset, size, received, request.headers.get("Digest")
    )
    return web.json_response({"part": part.shape()})


async def list_parts(request: web.Request) -> web.StreamResponse:
    """Handle ``GET <upload>/2.0/files/upload_sessions/{session}/parts``."""
    sessions = request.app[SESSIONS_KEY]
    parts = sessions.list_parts(sessions.get(request.match_info["session"]))
    offset = _int_param(request, "offset", 0, 10_000)
    limit = max(_int_param(request, "limit", DEFAULT_LIMIT, MAX_LIMIT), 1)
    return web.json_response(
        {
            "total_count": len(parts),
            "limit": limit,
            "offset": offset,
            "order": [{"by": "offset", "direction": "ASC"}],
            "entries": [part.shape() for part in parts[offset : offset + limit]],
        }
    )


async def plan_session(request: web.Request) -> web.StreamResponse:
    """Handle ``POST <upload>/2.0/files/upload_sessions/{session}/plan``."""
    sessions = request.app[SESSIONS_KEY]
    session = sessions.get(request.match_info["session"])
    body = await _json_body(request)
    requested = body.get("parts")
    if not isinstance(requested, list):
        raise EmulatorApiError(400, "bad_request", "Send 'parts': a list of parts")
    hits, misses = sessions.plan(session, requested)
    return web.json_response(
        {"upload_session_id": session.id, "hits": hits, "misses": misses}
    )


async def commit_session(request: web.Request) -> web.StreamResponse:
    """Handle ``POST <upload>/2.0/files/upload_sessions/{session}/commit``."""
    sessions = request.app[SESSIONS_KEY]
    session = sessions.get(request.match_info["session"])
    body = await _json_body(request)
    attributes = body.get("attributes")
    times = (None, None)
    if isinstance(attributes, dict):
        times = (
            attributes.get("content_created_at"),
            attributes.get("content_modified_at"),
        )
    item = sessions.commit(
        session,
        body.get("parts"),
        request.headers.get("Digest"),
        if_match=_if_match(request),
        content_times=times,
    )
    if item is None:
        # Box is still assembling the parts: the client commits again later.
        retry = request.app[CONFIG_KEY].commit_retry_after
        return web.Response(status=202, headers={"Retry-After": f"{retry:g}"})
    return _files_response(request, item)


async def abort_session(request: web.Request) -> web.StreamResponse:
    """Handle ``DELETE <upload>/2.0/files/upload_sessions/{session}``."""
    sessions = request.app[SESSIONS_KEY]
    sessions.abort(sessions.get(request.match_info["session"]))
    return web.Response(status=204)


# -- search --------------------------------------------------------------------


async def search_items(request: web.Request) -> web.StreamResponse:
    """Handle ``GET /2.0/search``."""
    store = request.app[STORE_KEY]
    query = SearchQuery.from_params(request.query)
    total, page = search(store, query)
    fields = _fields(request)
    return web.json_response(
        {
            "type": "search_results_items",
            "total_count": total,
            "limit": query.limit,
            "offset": query.offset,
            "entries": [shapes.select(store, item, fields) for item in page],
        }
    )


# -- control -------------------------------------------------------------------


async def add_fault(request: web.Request) -> web.StreamResponse:
    """Queue faults or set the latency: ``POST /_emulator/faults``."""
    faults = request.app[FAULTS_KEY]
    body = await _json_body(request)
    try:
        if "latency" in body:
            faults.latency = float(body["latency"])
        if "status" in body or "action" in body:
            retry_after = body.get("retry_after")
            faults.add(
                int(body.get("status", 500)),
                int(body.get("count", 1)),
                retry_after=None if retry_after is None else float(retry_after),
                path_prefix=str(body.get("path", "")),
                method=body.get("method"),
                action=str(body.get("action", "error")),
                after=bool(body.get("after", False)),
                delay=float(body.get("delay", 0.0)),
                retry_after_form=str(body.get("retry_after_form", "seconds")),
            )
    except (TypeError, ValueError) as error:
        raise EmulatorApiError(400, "bad_request", str(error)) from error
    return web.json_response({"pending": faults.pending(), "latency": faults.latency})


async def clear_faults(request: web.Request) -> web.StreamResponse:
    """Drop pending faults and the latency: ``DELETE /_emulator/faults``."""
    request.app[FAULTS_KEY].clear()
    return web.Response(status=204)


async def get_requests(request: web.Request) -> web.StreamResponse:
    """Report request counts: ``GET /_emulator/requests``."""
    log = request.app[LOG_KEY]
    summary = log.summary()
    if request.query.get("records", "").lower() == "true":
        since = float(request.query.get("since", "0") or 0)
        summary["records"] = log.as_dicts(since)
    return web.json_response(summary)


async def reset_requests(request: web.Request) -> web.StreamResponse:
    """Forget counts, refill the limits: ``DELETE /_emulator/requests``."""
    request.app[LOG_KEY].reset()
    request.app[LIMITER_KEY].reset()
    return web.Response(status=204)


async def expire_tokens(request: web.Request) -> web.StreamResponse:
    """Make issued access tokens fail: ``POST /_emulator/tokens/expire``."""
    count = request.app[POLICY_KEY].expire_access_tokens()
    return web.json_response({"expired": count})


def build_app(
    store: EmulatorStore,
    policy: TokenPolicy,
    faults: FaultPlan,
    *,
    config: EmulatorConfig | None = None,
    limiter: RateLimiter | None = None,
    log: RequestLog | None = None,
) -> web.Application:
    """Build the emulator application around a store, token policy and faults."""
    config = config or EmulatorConfig()
    app = web.Application(
        middlewares=[control_middleware, errors_middleware],
        # Box accepts files up to 50 GiB in one request on its largest plans.
        client_max_size=50 * 1024**3,
    )
    app[STORE_KEY] = store
    app[POLICY_KEY] = policy
    app[FAULTS_KEY] = faults
    app[CONFIG_KEY] = config
    app[LIMITER_KEY] = limiter or RateLimiter(
        config.user_limits, config.enterprise_limits
    )
    app[LOG_KEY] = log or RequestLog()
    app[SESSIONS_KEY] = SessionRegistry(store, config)
    app[DOWNLOADS_KEY] = DownloadLinks()
    _add_routes(app.router)
    return app


def _add_routes(router: web.UrlDispatcher) -> None:
    upload = f"{UPLOAD_PREFIX}/2.0/files"
    router.add_post("/oauth2/token", token_endpoint)
    router.add_post("/oauth2/revoke", revoke_endpoint)
    router.add_get("/api/oauth2/authorize", authorize_endpoint)
    router.add_get("/2.0/users/me", get_me)
    router.add_post("/2.0/folders", create_folder)
    router.add_get("/2.0/folders/{id}", get_folder)
    router.add_delete("/2.0/folders/{id}", delete_folder)
    router.add_get("/2.0/folders/{id}/items", get_folder_items)
    router.add_route("OPTIONS", "/2.0/files/content", preflight)
    router.add_get("/2.0/files/{id}", get_file)
    router.add_delete("/2.0/files/{id}", delete_file)
    router.add_get("/2.0/files/{id}/content", get_file_content)
    router.add_get("/2.0/search", search_items)
    router.add_post(f"{upload}/content", upload_file)
    router.add_post(f"{upload}/upload_sessions", create_session)
    router.add_get(f"{upload}/upload_sessions/{{session}}", get_session)
    router.add_put(f"{upload}/upload_sessions/{{session}}", upload_part)
    router.add_delete(f"{upload}/upload_sessions/{{session}}", abort_session)
    router.add_get(f"{upload}/upload_sessions/{{session}}/parts", list_parts)
    router.add_post(f"{upload}/upload_sessions/{{session}}/commit", commit_session)
    router.add_post(f"{upload}/upload_sessions/{{session}}/plan", plan_session)
    router.add_post(f"{upload}/{{id}}/content", upload_version)
    router.add_post(f"{upload}/{{id}}/upload_sessions", create_version_session)
    router.add_get("/download/{token}", download)
    router.add_post("/_emulator/faults", add_fault)
    router.add_delete("/_emulator/faults", clear_faults)
    router.add_get("/_emulator/requests", get_requests)
    router.add_delete("/_emulator/requests", reset_requests)
    router.add_post("/_emulator/tokens/expire", expire_tokens)
