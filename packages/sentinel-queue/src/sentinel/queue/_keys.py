"""Names of the Redis keys of one queue, all under one hash tag."""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "sentinel"


@dataclass(frozen=True, slots=True)
class QueueKeys:
    """The keys of the queue ``name``.

    Every key carries the hash tag ``{name}``, so a whole queue lives in one
    Redis Cluster slot and a script may touch all of them at once.
    """

    name: str

    def _key(self, suffix: str) -> str:
        return f"{PREFIX}:{{{self.name}}}:{suffix}"

    @property
    def queued(self) -> str:
        """List of job ids waiting to run; new ids enter on the left."""
        return self._key("queued")

    @property
    def active(self) -> str:
        """Sorted set of running job ids scored by lease deadline (server time)."""
        return self._key("active")

    @property
    def delayed(self) -> str:
        """Sorted set of job ids waiting for a retry, scored by due time."""
        return self._key("delayed")

    @property
    def jobs(self) -> str:
        """Hash of job id to the job's immutable JSON: task, payload, limits."""
        return self._key("jobs")

    @property
    def status(self) -> str:
        """Hash of job id to the job's mutable JSON: state, attempts, times, error."""
        return self._key("status")

    @property
    def results(self) -> str:
        """Hash of job id to the JSON result of a done job."""
        return self._key("results")

    @property
    def progress(self) -> str:
        """Hash of job id to the last progress report of a running job."""
        return self._key("progress")

    @property
    def unique(self) -> str:
        """Hash of unique key to the id of the unfinished job that holds it."""
        return self._key("unique")

    @property
    def done(self) -> str:
        """Capped list of the most recent done job ids, newest first."""
        return self._key("done")

    @property
    def failed(self) -> str:
        """Capped list of the most recent failed job ids, newest first."""
        return self._key("failed")

    @property
    def cancelled(self) -> str:
        """Capped list of the most recent cancelled job ids, newest first."""
        return self._key("cancelled")

    @property
    def expires(self) -> str:
        """Sorted set of finished job ids scored by the time their data is removed."""
        return self._key("expires")

    @property
    def stats(self) -> str:
        """Hash of counters: done and failed jobs since the queue was created."""
        return self._key("stats")

    @property
    def wake(self) -> str:
        """List that idle workers block on; enqueue pushes a token to wake one."""
        return self._key("wake")
