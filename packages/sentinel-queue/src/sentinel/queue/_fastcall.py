"""Script calls with pre-encoded keys, sent on a pooled connection of redis-py.

A queue sends the same thirteen keys with every script call. redis-py
encodes and frames each argument again on every call, which costs more
client CPU than the server spends running the script. :class:`ScriptCaller`
frames the constant part of each ``EVALSHA`` (name, digest, key count and
keys) once, and per call encodes only the arguments.

It also lets a caller send a call and read its reply later
(:meth:`ScriptCaller.send`): the worker sends the mark that counts a job's
attempt and runs the job while the server handles it. The request is in
the server's socket buffer before the job's first instruction, and a
process that dies after writing still delivers what it wrote, so the
attempt is counted whenever the job ran.

Only plain ``redis.Redis`` clients on an ordinary connection pool take this
path; cluster, Sentinel and single-connection clients, and any call that
meets a connection error, go through redis-py's own script call, with its
retries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import redis
from redis.exceptions import NoScriptError

_FAST_POOLS = (redis.ConnectionPool, redis.BlockingConnectionPool)


def _bulk(value: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(value), value)


class Pending:
    """A script call that was sent and whose reply is read by :meth:`result`."""

    def __init__(
        self, caller: ScriptCaller, name: str, args: Sequence[Any], connection: Any
    ) -> None:
        self._caller = caller
        self._name = name
        self._args = args
        self._connection = connection
        self._reply: Any = None
        self._done = connection is None

    @classmethod
    def settled(cls, caller: ScriptCaller, name: str, reply: Any) -> Pending:
        """Return a pending call whose reply is already known."""
        pending = cls(caller, name, (), None)
        pending._reply = reply
        return pending

    def result(self) -> Any:
        """Read the reply; later calls return the same reply.

        After an error, the next call runs the script again through
        redis-py (every script is safe to repeat).
        """
        if self._done:
            return self._reply
        connection, self._connection = self._connection, None
        if connection is None:
            reply = self._caller._slow(self._name, self._args)
        else:
            reply = self._caller._read(connection, self._name, self._args)
        self._reply, self._done = reply, True
        return reply


class ScriptCaller:
    """Run the registered scripts of one queue, framing its keys only once."""

    def __init__(
        self, client: Any, scripts: Mapping[str, Any], keys: Sequence[str]
    ) -> None:
        self.client = client
        self.scripts = scripts
        self.keys = list(keys)
        pool: Any = getattr(client, "connection_pool", None)
        self.fast = (
            type(client) is redis.Redis
            and type(pool) in _FAST_POOLS
            and getattr(client, "connection", None) is None
        )
        self._pool: Any = pool
        self._prefixes: dict[str, bytes] = {}
        if self.fast:
            encoder = pool.get_encoder()
            self._encoding = encoder.encoding
            self._errors = encoder.encoding_errors
            framed_keys = b"".join(
                _bulk(key.encode(self._encoding, self._errors)) for key in self.keys
            )
            count = _bulk(str(len(self.keys)).encode())
            for name, script in scripts.items():
                self._prefixes[name] = (
                    _bulk(b"EVALSHA") + _bulk(script.sha.encode()) + count + framed_keys
                )

    def call(self, name: str, args: Sequence[Any]) -> Any:
        """Run script ``name`` with ``args`` and return its reply."""
        return self.send(name, args).result()

    def call_many(self, name: str, calls: Sequence[Sequence[Any]]) -> list[Any]:
        """Run script ``name`` once per argument list, in one round trip.

        The calls are written together and their replies read in order.
        A call whose reply is lost to a connection error, or that met an
        empty script cache, runs again through redis-py (every script is
        safe to repeat). The first error reply is raised once every reply
        was read.
        """
        if not calls:
            return []
        if not self.fast:
            return [self._slow(name, args) for args in calls]
        try:
            connection = self._pool.get_connection()
        except (redis.ConnectionError, redis.TimeoutError):
            return [self._slow(name, args) for args in calls]
        try:
            connection.send_packed_command(
                [self._pack(name, args) for args in calls], check_health=False
            )
        except (redis.ConnectionError, redis.TimeoutError):
            self._drop(connection)
            return [self._slow(name, args) for args in calls]
        except BaseException:
            self._drop(connection)
            raise
        return self._read_many(connection, name, calls)

    def _read_many(
        self, connection: Any, name: str, calls: Sequence[Sequence[Any]]
    ) -> list[Any]:
        replies: list[Any] = []
        again: list[int] = []
        error: redis.ResponseError | None = None
        try:
            for index in range(len(calls)):
                try:
                    replies.append(connection.read_response())
                except NoScriptError:
                    replies.append(None)
                    again.append(index)
                except redis.ResponseError as exc:
                    replies.append(None)
                    error = error or exc
        except (redis.ConnectionError, redis.TimeoutError):
            self._drop(connection)
            again.extend(range(len(replies), len(calls)))
            replies.extend([None] * (len(calls) - len(replies)))
        except BaseException:
            self._drop(connection)
            raise
        else:
            self._pool.release(connection)
        for index in again:
            replies[index] = self._slow(name, calls[index])
        if error is not None:
            raise error
        return replies

    def send(self, name: str, args: Sequence[Any]) -> Pending:
        """Send script ``name`` with ``args`` now; read the reply later."""
        if not self.fast:
            return Pending.settled(self, name, self._slow(name, args))
        try:
            connection = self._pool.get_connection()
        except (redis.ConnectionError, redis.TimeoutError):
            return Pending.settled(self, name, self._slow(name, args))
        try:
            connection.send_packed_command([self._pack(name, args)], check_health=False)
        except (redis.ConnectionError, redis.TimeoutError):
            self._drop(connection)
            return Pending.settled(self, name, self._slow(name, args))
        except BaseException:
            self._drop(connection)
            raise
        return Pending(self, name, args, connection)

    def _read(self, connection: Any, name: str, args: Sequence[Any]) -> Any:
        try:
            reply = connection.read_response()
        except NoScriptError:
            # The server lost its script cache (a restart without the
            # scripts): load them through redis-py and run the call again.
            self._pool.release(connection)
            return self._slow(name, args)
        except (redis.ConnectionError, redis.TimeoutError):
            # The reply is lost, not necessarily the call: every script is
            # safe to repeat (a finished job or a marked start is fenced).
            self._drop(connection)
            return self._slow(name, args)
        except redis.ResponseError:
            self._pool.release(connection)
            raise
        except BaseException:
            self._drop(connection)
            raise
        self._pool.release(connection)
        return reply

    def _drop(self, connection: Any) -> None:
        connection.disconnect()
        self._pool.release(connection)

    def _slow(self, name: str, args: Sequence[Any]) -> Any:
        return self.scripts[name](keys=self.keys, args=list(args))

    def _pack(self, name: str, args: Sequence[Any]) -> bytes:
        parts = [
            b"*%d\r\n" % (3 + len(self.keys) + len(args)),
            self._prefixes[name],
        ]
        for arg in args:
            if isinstance(arg, bytes):
                value = arg
            elif isinstance(arg, str):
                value = arg.encode(self._encoding, self._errors)
            elif isinstance(arg, int | float) and not isinstance(arg, bool):
                value = repr(arg).encode()
            else:
                raise redis.DataError(
                    f"script argument {arg!r} is a {type(arg).__name__}; expected "
                    f"bytes, str, int or float"
                )
            parts.append(b"$%d\r\n%s\r\n" % (len(value), value))
        return b"".join(parts)
