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
attempt is counted whenever the job ran. A thread may send several calls
before it reads any reply. They share one connection, so the server runs
them in the order they were sent. Their replies are read in that order,
all at once when they are ready.

Only plain ``redis.Redis`` clients on an ordinary connection pool take this
path; cluster, Sentinel and single-connection clients, and any call that
meets a connection error, go through redis-py's own script call, with its
retries.
"""

from __future__ import annotations

import threading
from collections import deque
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
        self, caller: ScriptCaller, name: str, args: Sequence[Any], line: _Line | None
    ) -> None:
        self._caller = caller
        self._name = name
        self._args = args
        self._line = line
        self._reply: Any = None
        self._error: redis.ResponseError | None = None
        self._done = line is None

    @classmethod
    def settled(cls, caller: ScriptCaller, name: str, reply: Any) -> Pending:
        """Return a pending call whose reply is already known."""
        pending = cls(caller, name, (), None)
        pending._reply = reply
        return pending

    def result(self) -> Any:
        """Read the reply; later calls return the same reply.

        The replies of calls sent before this one on the same connection
        are read first. A call whose reply is lost to a connection error,
        or that met an empty script cache, runs again through redis-py
        (every script is safe to repeat).
        """
        if not self._done and self._line is not None:
            self._line.read_through(self)
        if not self._done:
            self._run_again()
        if self._error is not None:
            raise self._error
        return self._reply

    def _settle(
        self, reply: Any = None, error: redis.ResponseError | None = None
    ) -> None:
        self._reply, self._error, self._done = reply, error, True
        self._line = None

    def _run_again(self) -> None:
        try:
            self._settle(self._caller._slow(self._name, self._args))
        except redis.ResponseError as exc:
            self._settle(error=exc)


class _Line:
    """One pooled connection of a thread, with the calls whose replies are unread."""

    def __init__(self, caller: ScriptCaller, connection: Any) -> None:
        self.caller = caller
        self.connection: Any = connection
        self.unread: deque[Pending] = deque()

    def read_through(self, target: Pending) -> None:
        """Read replies in order up to and including that of ``target``."""
        while self.unread:
            pending = self.unread.popleft()
            try:
                reply = self.connection.read_response()
            except NoScriptError:
                # The server lost its script cache (a restart without the
                # scripts): load them through redis-py and run the call again.
                pending._run_again()
            except redis.ResponseError as exc:
                pending._settle(error=exc)
            except (redis.ConnectionError, redis.TimeoutError):
                # The replies are lost, not necessarily the calls: every
                # script is safe to repeat (a finished job or a marked start
                # is fenced), so each unread call runs again when its reply
                # is asked for.
                self.unread.appendleft(pending)
                self.close(drop=True)
                self.detach_unread()
                return
            except BaseException:
                self.unread.appendleft(pending)
                self.close(drop=True)
                self.detach_unread()
                raise
            else:
                pending._settle(reply)
            if pending is target:
                break
        if not self.unread:
            self.close()

    def detach_unread(self) -> None:
        """Leave the unread calls to run again through redis-py."""
        while self.unread:
            self.unread.popleft()._line = None

    def close(self, *, drop: bool = False) -> None:
        """Give the connection back to the pool; ``drop`` disconnects it first."""
        connection, self.connection = self.connection, None
        if self.caller._line() is self:
            self.caller._local.line = None
        if connection is not None:
            if drop:
                connection.disconnect()
            self.caller._pool.release(connection)


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
        self._local = threading.local()
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

    def send(self, name: str, args: Sequence[Any]) -> Pending:
        """Send script ``name`` with ``args`` now; read the reply later.

        Calls that one thread sends before reading their replies go out on
        one connection, in order.
        """
        if not self.fast:
            return Pending.settled(self, name, self._slow(name, args))
        line = self._line()
        if line is None:
            try:
                connection = self._pool.get_connection()
            except (redis.ConnectionError, redis.TimeoutError):
                return Pending.settled(self, name, self._slow(name, args))
            line = _Line(self, connection)
        try:
            line.connection.send_packed_command(
                [self._pack(name, args)], check_health=False
            )
        except (redis.ConnectionError, redis.TimeoutError):
            line.close(drop=True)
            line.detach_unread()
            return Pending.settled(self, name, self._slow(name, args))
        except BaseException:
            line.close(drop=True)
            line.detach_unread()
            raise
        pending = Pending(self, name, args, line)
        line.unread.append(pending)
        self._local.line = line
        return pending

    def _line(self) -> _Line | None:
        line: _Line | None = getattr(self._local, "line", None)
        return line

    def _slow(self, name: str, args: Sequence[Any]) -> Any:
        return self.scripts[name](keys=self.keys, args=list(args))

    def _pack(self, name: str, args: Sequence[Any]) -> bytes:
        parts = [
            b"*%d\r\n" % (3 + len(self.keys) + len(args)),
            self._prefixes[name],
        ]
        encoding, errors = self._encoding, self._errors
        for arg in args:
            # Exact type checks come first because they cover every argument
            # the queue sends and cost less than isinstance.
            kind = type(arg)
            if kind is str:
                value = arg.encode(encoding, errors)
            elif kind is int or kind is float:
                value = repr(arg).encode()
            elif isinstance(arg, bytes):
                value = arg
            elif isinstance(arg, str):
                value = arg.encode(encoding, errors)
            elif isinstance(arg, int | float) and not isinstance(arg, bool):
                value = repr(arg).encode()
            else:
                raise redis.DataError(
                    f"script argument {arg!r} is a {type(arg).__name__}; expected "
                    f"bytes, str, int or float"
                )
            parts.append(b"$%d\r\n%s\r\n" % (len(value), value))
        return b"".join(parts)
