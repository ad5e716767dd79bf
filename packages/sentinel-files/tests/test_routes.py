"""Tests of route validation, the start-up checks and the job follower."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sentinel.core import EventLog
from sentinel.files import RouteConfigError
from sentinel.files._cli import files
from sentinel.files._routes import check_folders, check_tasks, load_routes
from sentinel.files._service import JobFollower


def test_load_routes_fills_defaults(tmp_path: Path) -> None:
    (route,) = load_routes({"routes": [{"folder": "drop/reports"}]}, tmp_path)
    assert route.name == "reports"
    assert route.task == "box.upload"
    assert route.patterns == ("*",)
    assert route.recursive is True
    assert route.follow_symlinks is False
    assert route.processed == (tmp_path / "processed").resolve()


@pytest.mark.parametrize(
    ("route", "key"),
    [
        ({"folder": "a", "task": ""}, "files.routes[1].task"),
        ({"folder": "a", "patterns": [3]}, "files.routes[1].patterns"),
        ({"folder": "a", "recursive": "yes"}, "files.routes[1].recursive"),
        ({"folder": "a", "options": ["x"]}, "files.routes[1].options"),
        ({"folder": "a", "taks": "x"}, "files.routes[1].taks"),
        ({"folder": "b", "name": "first"}, "files.routes[1].name"),
    ],
    ids=["empty-task", "pattern", "recursive", "options", "unknown-key", "duplicate"],
)
def test_load_routes_names_bad_key(
    tmp_path: Path, route: dict[str, Any], key: str
) -> None:
    routes = [{"name": "first", "folder": "first"}, route]
    with pytest.raises(RouteConfigError) as caught:
        load_routes({"routes": routes}, tmp_path)
    assert key in str(caught.value)
    assert caught.value.hint


def test_check_folders_reports_file_in_the_way(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("a file")
    routes = load_routes({"routes": [{"folder": "data/inbox"}]}, tmp_path)
    with pytest.raises(RouteConfigError) as caught:
        check_folders(routes)
    assert "files.routes[0].folder" in str(caught.value)
    assert str(tmp_path / "data") in str(caught.value)


def test_check_tasks_reports_unregistered_task(tmp_path: Path) -> None:
    routes = load_routes({"routes": [{"folder": "in", "task": "ftp.put"}]}, tmp_path)
    with pytest.raises(RouteConfigError, match=r"files\.routes\[0\]\.task"):
        check_tasks(routes, ["box.upload", "files.process"])


class FinishedJobs:
    """The finished-job lists of a queue, as ``recent`` returns them."""

    def __init__(self) -> None:
        self.jobs: dict[str, list[dict[str, Any]]] = {"done": [], "failed": []}

    def recent(self, state: str, limit: int = 50) -> list[dict[str, Any]]:
        return self.jobs[state][:limit]

    def finish(
        self, state: str, job_id: str, finished_at: float, **fields: Any
    ) -> None:
        job = {"id": job_id, "task": "files.process", "finished_at": finished_at}
        self.jobs[state].insert(0, {**job, **fields})


def test_job_follower_records_outcomes_once() -> None:
    queue = FinishedJobs()
    events = EventLog()
    follower = JobFollower(queue, events)
    payload = {"path": "/in/a.csv", "route": "inbox"}
    queue.finish("done", "old", follower.started - 60, payload=payload)
    queue.finish(
        "done",
        "1",
        follower.started + 1,
        payload=payload,
        result={"status": "processed", "path": "/processed/a.csv"},
    )
    queue.finish(
        "failed", "2", follower.started + 2, payload=payload, error="invalid JSON"
    )
    assert follower.poll() == 2
    assert follower.poll() == 0
    actions = [(e["action"], e["reason"]) for e in reversed(events.recent("file"))]
    assert actions == [
        ("processed", "moved to /processed/a.csv"),
        ("failed", "invalid JSON"),
    ]


def test_files_help_lists_subcommands() -> None:
    result = CliRunner().invoke(files, ["--help"])
    assert result.exit_code == 0
    assert "inspect PATH" in result.output
    assert "why" in result.output
