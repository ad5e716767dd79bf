"""Jobs as stored in Redis: versioned JSON, never pickle."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sentinel.queue._errors import JobEncodingError

# Version of the job JSON; a reader rejects versions it does not know.
FORMAT_VERSION = 1

QUEUED = "queued"
ACTIVE = "active"
DELAYED = "delayed"
DONE = "done"
FAILED = "failed"
CANCELLED = "cancelled"
STATES = (QUEUED, ACTIVE, DELAYED, DONE, FAILED, CANCELLED)


def new_job_id() -> str:
    """Return a new random job id."""
    return uuid.uuid4().hex


def text(value: Any) -> str:
    """Return a reply value as text, whether or not the client decodes replies."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return "" if value is None else str(value)


def dump_json(value: Any, what: str) -> str:
    """Encode ``value`` as compact JSON or raise :class:`JobEncodingError`."""
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise JobEncodingError(
            f"{what} is not JSON-serialisable ({exc}); use dicts, lists, strings, "
            f"finite numbers, booleans and None only"
        ) from exc


def encode_spec(
    job_id: str,
    task: str,
    payload: Mapping[str, Any],
    max_attempts: int,
    unique_key: str | None,
    *,
    timeout: float | None = None,
) -> str:
    """Encode the immutable part of a job as versioned JSON."""
    spec = {
        "v": FORMAT_VERSION,
        "id": job_id,
        "task": task,
        "payload": dict(payload),
        "max_attempts": max_attempts,
        "unique_key": unique_key,
        "timeout": timeout,
    }
    return dump_json(spec, f"payload of task {task!r}")


def decode_spec(raw: str | bytes) -> dict[str, Any]:
    """Decode the immutable part of a job and check its format version."""
    spec: dict[str, Any] = json.loads(raw)
    version = spec.get("v")
    if version != FORMAT_VERSION:
        raise JobEncodingError(
            f"job {spec.get('id')!r} has format version {version!r}, expected "
            f"{FORMAT_VERSION}; upgrade sentinel-queue on this machine"
        )
    return spec


def timestamp(value: Any) -> float | None:
    """Return epoch seconds from a stored timestamp.

    The scripts store integer microseconds as a string, which keeps full
    precision; records written before that hold seconds as a number.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return int(value) / 1_000_000
    return float(value)


def _empty_to_none(value: Any) -> Any:
    # Lua returns false for a missing hash field, which redis-py gives as None;
    # a Lua table with no keys comes back from cjson as an empty object.
    return None if value in (None, "", False) else value


def job_record(
    job_id: str | bytes,
    spec_raw: str | bytes | None,
    status_raw: str | bytes | None,
    result_raw: str | bytes | None = None,
    progress_raw: str | bytes | None = None,
) -> dict[str, Any] | None:
    """Merge the stored parts of a job into one dict, or None when it is gone."""
    if not _empty_to_none(spec_raw) or not _empty_to_none(status_raw):
        return None
    spec = decode_spec(text(spec_raw))
    status: dict[str, Any] = json.loads(text(status_raw))
    result_text = _empty_to_none(result_raw)
    progress_text = _empty_to_none(progress_raw)
    return {
        "id": text(job_id),
        "task": spec["task"],
        "state": status["state"],
        "attempts": status["attempts"],
        "max_attempts": status["max_attempts"],
        "payload": spec["payload"],
        "result": json.loads(result_text) if result_text else None,
        "error": status.get("error"),
        "unique_key": spec.get("unique_key"),
        "worker": status.get("worker"),
        "progress": json.loads(progress_text) if progress_text else None,
        "priority": status.get("priority", 0),
        "cancel_requested": bool(status.get("cancel")),
        "started": status.get("started") is not None
        and status.get("started") == status.get("token"),
        "enqueued_at": timestamp(status.get("enqueued_at")),
        "started_at": timestamp(status.get("started_at")),
        "finished_at": timestamp(status.get("finished_at")),
    }


@dataclass(frozen=True, slots=True)
class Job:
    """A job fetched by a worker, with the fencing token of this delivery.

    ``token`` grows with every delivery of the job; the queue accepts a
    finish, failure or heartbeat only with the token of the current one.
    """

    id: str
    task: str
    payload: dict[str, Any]
    attempt: int
    max_attempts: int
    token: int
    enqueued_at: float
    timeout: float | None = None

    @classmethod
    def from_fetch(
        cls, job_id: str, spec_raw: str | bytes, status_raw: str | bytes
    ) -> Job:
        """Build the job from the parts that the fetch script returns.

        ``attempt`` is the number this delivery has once it starts: a job
        leased but not yet marked started has not counted it yet.
        """
        spec = decode_spec(spec_raw)
        status = json.loads(status_raw)
        token = int(status["token"])
        started = status.get("started") is not None and int(status["started"]) == token
        return cls(
            id=job_id,
            task=spec["task"],
            payload=spec["payload"],
            attempt=int(status["attempts"]) + (0 if started else 1),
            max_attempts=int(status["max_attempts"]),
            token=token,
            enqueued_at=timestamp(status["enqueued_at"]) or 0.0,
            timeout=spec.get("timeout"),
        )
