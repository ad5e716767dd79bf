"""Tests of the folder watcher against real folders and file-system events."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sentinel.files._watcher import FolderWatcher, ReadyFile, Route

QUIET = 0.5


class Collector:
    """Record ready files in a thread-safe list."""

    def __init__(self) -> None:
        self.files: list[ReadyFile] = []
        self.lock = threading.Lock()

    def __call__(self, ready: ReadyFile) -> None:
        with self.lock:
            self.files.append(ready)

    def names(self) -> list[str]:
        with self.lock:
            return sorted(ready.relative for ready in self.files)

    def wait_for(self, count: int, timeout: float = 20.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.names()) < count:
            time.sleep(0.05)
        return self.names()

    def settle(self, seconds: float = QUIET * 3) -> list[str]:
        time.sleep(seconds)
        return self.names()


@pytest.fixture(params=[False, True], ids=["events", "polling"])
def polling(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


def start(
    inbox: Path, polling: bool, state_file: Path | None = None, **route: object
) -> tuple[FolderWatcher, Collector]:
    collector = Collector()
    watcher = FolderWatcher(
        [(Route("inbox", inbox, **route), collector)],  # type: ignore[arg-type]
        quiet_seconds=QUIET,
        settle_seconds=QUIET,
        polling=polling,
        poll_interval=0.1,
        state_file=state_file,
    )
    watcher.start()
    return watcher, collector


@pytest.fixture
def running(inbox: Path, polling: bool) -> Iterator[Collector]:
    watcher, collector = start(inbox, polling)
    yield collector
    watcher.stop()


def test_watcher_reports_slow_write_once_complete(
    inbox: Path, running: Collector
) -> None:
    path = inbox / "slow.csv"
    with path.open("w") as stream:
        for index in range(8):
            stream.write(f"{index},value\n")
            stream.flush()
            time.sleep(0.25)
    assert running.wait_for(1) == ["slow.csv"]
    assert running.settle() == ["slow.csv"]
    assert running.files[0].size == path.stat().st_size


def test_watcher_reports_multi_write_save_once(inbox: Path, running: Collector) -> None:
    with (inbox / "saved.json").open("w") as stream:
        for _ in range(20):
            stream.write("[1, 2, 3]\n")
            stream.flush()
            os.fsync(stream.fileno())
    assert running.wait_for(1) == ["saved.json"]
    assert running.settle() == ["saved.json"]


def test_watcher_finds_files_present_at_start(inbox: Path, polling: bool) -> None:
    (inbox / "old.csv").write_text("a\n1\n")
    (inbox / "sub").mkdir()
    (inbox / "sub" / "nested.csv").write_text("a\n1\n")
    watcher, collector = start(inbox, polling)
    try:
        assert collector.wait_for(2) == ["old.csv", "sub/nested.csv"]
        assert collector.settle() == ["old.csv", "sub/nested.csv"]
    finally:
        watcher.stop()


def test_watcher_reports_thousand_files_once_each(
    inbox: Path, running: Collector
) -> None:
    for index in range(1000):
        (inbox / f"file-{index:04}.csv").write_text(f"id\n{index}\n")
    expected = sorted(f"file-{index:04}.csv" for index in range(1000))
    assert running.wait_for(1000, timeout=60) == expected
    assert running.settle() == expected


def test_watcher_ignores_temporary_names_until_renamed(
    inbox: Path, running: Collector
) -> None:
    for name in ("~$book.xlsx", "upload.part", "data.tmp", ".hidden.csv", "x.swp"):
        (inbox / name).write_text("a\n1\n")
    assert running.settle() == []
    (inbox / "upload.part").rename(inbox / "upload.csv")
    assert running.wait_for(1) == ["upload.csv"]
    assert running.settle() == ["upload.csv"]


def test_watcher_reports_file_moved_in(
    tmp_path: Path, inbox: Path, running: Collector
) -> None:
    outside = tmp_path / "outside.csv"
    outside.write_text("a\n1\n")
    outside.rename(inbox / "moved.csv")
    assert running.wait_for(1) == ["moved.csv"]


def test_watcher_route_patterns_filter_names(inbox: Path, polling: bool) -> None:
    watcher, collector = start(inbox, polling, patterns=("*.csv",), recursive=False)
    try:
        (inbox / "keep.csv").write_text("a\n1\n")
        (inbox / "skip.json").write_text("{}")
        (inbox / "deep").mkdir()
        (inbox / "deep" / "nested.csv").write_text("a\n1\n")
        assert collector.wait_for(1) == ["keep.csv"]
        assert collector.settle() == ["keep.csv"]
    finally:
        watcher.stop()


def test_watcher_slow_route_does_not_delay_other(tmp_path: Path) -> None:
    slow_folder, fast_folder = tmp_path / "slow", tmp_path / "fast"
    release = threading.Event()
    fast = Collector()

    def slow_handler(ready: ReadyFile) -> None:
        release.wait(30)

    watcher = FolderWatcher(
        [
            (Route("slow", slow_folder), slow_handler),
            (Route("fast", fast_folder), fast),
        ],
        quiet_seconds=QUIET,
        settle_seconds=QUIET,
    )
    watcher.start()
    try:
        for index in range(300):
            (slow_folder / f"s{index}.csv").write_text("a\n")
        (fast_folder / "f.csv").write_text("a\n")
        assert fast.wait_for(1) == ["f.csv"]
    finally:
        release.set()
        watcher.stop()


def test_route_relative_rejects_temporary_and_other_folders(tmp_path: Path) -> None:
    route = Route("r", tmp_path / "in", exclude=(tmp_path / "in" / "done",))
    assert route.relative(tmp_path / "in" / "a" / "b.csv") == "a/b.csv"
    assert route.relative(tmp_path / "in" / "done" / "b.csv") is None
    assert route.relative(tmp_path / "in" / ".git" / "b.csv") is None
    assert route.relative(tmp_path / "in" / "~$b.xlsx") is None
    assert route.relative(tmp_path / "other" / "b.csv") is None


def test_watcher_waits_for_close_of_paused_writer(inbox: Path) -> None:
    watcher, collector = start(inbox, polling=False)
    path = inbox / "paused.csv"
    try:
        with path.open("w") as stream:
            stream.write("id\n1\n")
            stream.flush()
            time.sleep(QUIET * 4)
            assert collector.names() == []
            stream.write("2\n")
        assert collector.wait_for(1) == ["paused.csv"]
        assert collector.settle() == ["paused.csv"]
        assert collector.files[0].size == path.stat().st_size
    finally:
        watcher.stop()


def test_watcher_appends_within_settle_report_once(inbox: Path) -> None:
    watcher, collector = start(inbox, polling=False)
    try:
        for index in range(6):
            with (inbox / "f.csv").open("a") as stream:
                stream.write(f"{index},x\n")
            time.sleep(QUIET / 3)
        assert collector.wait_for(1) == ["f.csv"]
        assert collector.settle() == ["f.csv"]
        assert collector.files[0].size == len("0,x\n") * 6
    finally:
        watcher.stop()


def test_watcher_state_survives_restart(tmp_path: Path, inbox: Path) -> None:
    state = tmp_path / "state" / "watcher.json"
    (inbox / "before.csv").write_text("a\n1\n")
    watcher, first = start(inbox, polling=False, state_file=state)
    try:
        assert first.wait_for(1) == ["before.csv"]
    finally:
        watcher.stop()
    assert state.is_file()
    (inbox / "while-stopped.csv").write_text("a\n2\n")
    watcher, second = start(inbox, polling=False, state_file=state)
    try:
        assert second.wait_for(1) == ["while-stopped.csv"]
        assert second.settle() == ["while-stopped.csv"]
    finally:
        watcher.stop()


def test_watcher_rescan_after_lost_events(inbox: Path) -> None:
    from watchdog.events import EventsLostEvent

    watcher, collector = start(inbox, polling=False)
    try:
        (inbox / "seen.csv").write_text("a\n1\n")
        assert collector.wait_for(1) == ["seen.csv"]
        # Files written while no watch exists have no events at all, as
        # when the kernel queue overflows.
        observer = watcher._observer
        observer.unschedule_all()
        (inbox / "lost.csv").write_text("a\n2\n")
        from sentinel.files._watcher import _EventHandler

        observer.schedule(_EventHandler(watcher), str(inbox), recursive=True)
        watcher.inject(EventsLostEvent(str(inbox), is_directory=True))
        assert collector.wait_for(2) == ["lost.csv", "seen.csv"]
        assert collector.settle() == ["lost.csv", "seen.csv"]
        assert watcher.rescans == 1
    finally:
        watcher.stop()


def test_watcher_reports_move_between_routes(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    collector = Collector()
    watcher = FolderWatcher(
        [(Route("a", first), collector), (Route("b", second), collector)],
        quiet_seconds=QUIET,
        settle_seconds=QUIET,
    )
    watcher.start()
    try:
        (first / "x.csv").write_text("a\n1\n")
        assert collector.wait_for(1) == ["x.csv"]
        (first / "x.csv").rename(second / "x.csv")
        assert collector.wait_for(2) == ["x.csv", "x.csv"]
        moved = collector.files[1]
        assert moved.route == "b"
        assert moved.moved_from == first / "x.csv"
        assert collector.settle() == ["x.csv", "x.csv"]
    finally:
        watcher.stop()


def test_watcher_reports_ten_thousand_files_once_each(
    inbox: Path,
) -> None:
    watcher, collector = start(inbox, polling=False)
    try:
        for index in range(10_000):
            (inbox / f"file-{index:05}.csv").write_text("id\n")
        expected = sorted(f"file-{index:05}.csv" for index in range(10_000))
        assert collector.wait_for(10_000, timeout=60) == expected
        assert collector.settle() == expected
    finally:
        watcher.stop()


def test_watcher_start_failure_stops_cleanly(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    watcher = FolderWatcher([(Route("r", blocker / "inbox"), Collector())])
    with pytest.raises(NotADirectoryError):
        watcher.start()
    watcher.stop()
