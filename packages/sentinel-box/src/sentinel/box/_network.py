"""A box_sdk_gen network client that paces, times out and retries every attempt."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests
from box_sdk_gen.internal.utils import ResponseByteStream
from box_sdk_gen.networking.box_network_client import (
    APIRequest,
    APIResponse,
    BoxNetworkClient,
)
from box_sdk_gen.networking.fetch_options import FetchOptions
from box_sdk_gen.networking.fetch_response import FetchResponse
from requests.structures import CaseInsensitiveDict

from sentinel.box._ratelimit import Pacer
from sentinel.box._retry import RetryPolicy, retryable_status

logger = logging.getLogger(__name__)

TOKEN_PATH = "/oauth2/token"  # noqa: S105 - a URL path, not a secret


def request_class(method: str, url: str) -> str:
    """Return the limit class of a request: ``upload``, ``search`` or ``general``.

    Box counts the request that creates a file or a version (a plain upload
    or an upload session) as an upload. The parts and the commit of a
    chunked upload, downloads and token calls count as general requests.
    """
    path = urlsplit(url).path
    method = method.upper()
    if method == "GET" and path.endswith("/2.0/search"):
        return "search"
    if method == "POST" and "/2.0/files/" in path:
        tail = path.rsplit("/2.0/files/", 1)[1]
        if tail in {"content", "upload_sessions"}:
            return "upload"
        pieces = tail.split("/")
        if len(pieces) == 2 and pieces[1] in {"content", "upload_sessions"}:
            return "upload"
    return "general"


def is_token_request(url: str) -> bool:
    """Tell whether ``url`` is the OAuth 2.0 token endpoint."""
    return urlsplit(url).path.endswith(TOKEN_PATH)


class PacedNetworkClient(BoxNetworkClient):
    """Sends the SDK's requests with pacing, a timeout and retries.

    Before every attempt (retries and token calls included) the client
    waits for a slot of the request's class for the Box user it acts as: the
    ``As-User`` header when present, else ``subject``. Responses 429 and 5xx
    and network errors are retried with exponential backoff, or after the
    Retry-After the server sent, in seconds or as an HTTP date. A 401
    makes the authentication refresh its token once, then the request is
    sent again with the whole body. Token requests get a single attempt
    here: the authentication retries them itself, because a JWT assertion
    must carry a new id each time.
    """

    def __init__(
        self,
        pacer: Pacer,
        policy: RetryPolicy,
        subject: str,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(session)
        self.pacer = pacer
        self.policy = policy
        self.subject = subject
        self._sleep = sleep
        self.retries = 0

    def fetch(self, options: FetchOptions) -> FetchResponse:  # noqa: RET503
        """Send one SDK request, retrying as the policy allows.

        Returns the first response below 400, or raises the SDK's error.
        """
        sanitizer = options.network_session.data_sanitizer  # type: ignore[union-attr]
        attempts = 1 if is_token_request(options.url) else self.policy.max_attempts
        positions = (
            self._get_options_stream_position(options),
            self._get_multipart_stream_positions(options),
        )
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            request = self._prepare_request(options)
            self._pace(request)
            response, fetch_response = self._send(options, request)
            status = fetch_response.status
            accepted_later = status == 202 and "Retry-After" in fetch_response.headers
            if 200 <= status < 400 and not accepted_later:
                return fetch_response
            if status == 401 and not refreshed and self._refresh(options, request):
                # A rejected token is not a failed attempt: refresh once, resend.
                refreshed = True
                attempt -= 1
            elif (retryable_status(status) or accepted_later) and attempt < attempts:
                delay = self.policy.delay(
                    attempt, fetch_response.headers.get("Retry-After")
                )
                logger.info(
                    "%s %s: got %s on attempt %d of %d, retrying in %.2f s",
                    request.method,
                    request.url,
                    status or type(response.raised_exception).__name__,
                    attempt,
                    attempts,
                    delay,
                )
                self.retries += 1
                self._sleep(delay)
            else:
                break
            _close(response)
            self._rewind(options, positions, response.raised_exception)
        self._raise_on_unsuccessful_request(
            request=request, response=response, data_sanitizer=sanitizer
        )

    def _send(
        self, options: FetchOptions, request: APIRequest
    ) -> tuple[APIResponse, FetchResponse]:
        response = self._make_request(request)
        try:
            return response, self._fetch_response(options, response)
        except requests.RequestException as error:
            # The connection broke while the body was read: no response at all.
            _close(response)
            return APIResponse(raised_exception=error), FetchResponse(
                status=0, headers={}
            )

    def _pace(self, request: APIRequest) -> None:
        user = _header(request.headers, "As-User") or self.subject
        self.pacer.wait(user, request_class(request.method, request.url))

    def _refresh(self, options: FetchOptions, request: APIRequest) -> bool:
        auth = options.auth
        refresh_after = getattr(auth, "refresh_after", None)
        if refresh_after is None or is_token_request(request.url):
            # A developer token cannot be refreshed, so the 401 is final.
            return False
        header = _header(request.headers, "Authorization") or ""
        failed = header.removeprefix("Bearer ").strip() or None
        refresh_after(failed, network_session=options.network_session)
        return True

    def _rewind(
        self,
        options: FetchOptions,
        positions: tuple[int, dict[str, int]],
        raised: Exception | None,
    ) -> None:
        # The SDK's own helpers seek every body stream back to where it
        # started, so a retried upload carries the whole file again.
        self._reset_options_stream(options, positions[0], raised)
        self._reset_multipart_streams(options, positions[1], raised)

    def _fetch_response(
        self, options: FetchOptions, response: APIResponse
    ) -> FetchResponse:
        network = response.network_response
        if network is None:
            return FetchResponse(status=0, headers={})
        headers: Any = CaseInsensitiveDict(network.headers)
        if options.response_format == "binary" and 200 <= network.status_code < 300:
            return FetchResponse(
                url=network.url,
                status=network.status_code,
                headers=headers,
                content=ResponseByteStream(  # type: ignore[no-untyped-call]
                    network.iter_content(chunk_size=65536)
                ),
            )
        return FetchResponse(
            url=network.url,
            status=network.status_code,
            headers=headers,
            data=self._read_json_body(network.text),
            content=io.BytesIO(network.content),
        )


def _header(headers: dict[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted and value:
            return str(value)
    return None


def _close(response: APIResponse) -> None:
    if response.network_response is not None:
        response.network_response.close()
