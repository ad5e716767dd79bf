"""End to end: ``sentinel run`` on embedded defaults processes the whole corpus."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sentinel.testing import AgentProcess as BaseAgentProcess

from .conftest import free_port

pytestmark = pytest.mark.slow

SUPPORTED_IN_OTHER = {"other/table.tsv"}
# Files the manifest calls implementation-defined that sentinel's default policy
# rejects: a number that overflows a 64-bit float is refused, not read as inf.
REJECTED_BY_POLICY = {"json/i_number_huge_exp.json"}
DEADLINE_SECONDS = 300


class AgentProcess(BaseAgentProcess):
    """A ``sentinel run`` process with its output collected in the background."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.web_url = ""
        self.box_url = ""
        self.copied: list[str] = []
        self.status: dict[str, Any] = {}
        super().__init__(workdir, env)

    def wait_for_line(self, text: str, timeout: float = 60) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if any(text in line for line in self.lines):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        pytest.fail(f"agent never printed {text!r}; output:\n{self.output()}")


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def expected_failed(relative: str, row: dict[str, str] | None) -> bool:
    """Tell whether the agent must reject a corpus file, by the manifest's facts."""
    if row is None:
        # README.md, SHA256SUMS: not data files of a supported format, except the
        # manifest itself, which is a TSV file.
        return not relative.endswith(".tsv")
    if relative.startswith("other/") and relative not in SUPPORTED_IN_OTHER:
        return True
    if relative in REJECTED_BY_POLICY:
        return True
    return "must be rejected" in row["expected"]


def sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def wait_until_idle(agent: AgentProcess, total: int) -> dict[str, Any]:
    end = time.monotonic() + DEADLINE_SECONDS
    status: dict[str, Any] = {}
    while time.monotonic() < end:
        status = get_json(f"{agent.web_url}/api/status")
        folders = status["folders"]["inbox"]
        queue = status["queue"]
        busy = queue["queued"] + queue["active"] + queue["delayed"]
        if folders["processed"] + folders["failed"] == total and busy == 0:
            return status
        assert agent.process.poll() is None, agent.output()
        time.sleep(1)
    pytest.fail(
        f"agent did not finish the corpus; last status {status}\n{agent.output()}"
    )


def copy_corpus(corpus: Path, inbox: Path) -> list[str]:
    copied = []
    for source in sorted(corpus.rglob("*")):
        if source.is_file():
            relative = source.relative_to(corpus).as_posix()
            target = inbox / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            # Copy under a temporary name and rename, as careful writers do; the
            # watcher must ignore the partial name.
            partial = target.with_name(target.name + ".part")
            shutil.copyfile(source, partial)
            partial.rename(target)
            copied.append(relative)
    return copied


@pytest.fixture(scope="module")
def finished_agent(
    tmp_path_factory: pytest.TempPathFactory, corpus: Path
) -> Iterator[AgentProcess]:
    """One agent run over the corpus, shared by the tests that read its results."""
    workdir = tmp_path_factory.mktemp("agent")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("SENTINEL")
    }
    web_port, box_port = free_port(), free_port()
    env.update(
        SENTINEL__WEB__PORT=str(web_port), SENTINEL__BOX__EMULATOR__PORT=str(box_port)
    )
    env.update(SENTINEL__QUEUE__WORKERS="2", SENTINEL__QUEUE__RETRY_BACKOFF="0.2")
    running = AgentProcess(workdir, env)
    running.web_url = f"http://127.0.0.1:{web_port}"
    running.box_url = f"http://127.0.0.1:{box_port}"
    try:
        running.wait_for_line("dashboard at http://")
        running.wait_for_line("sentinel is running")
        running.copied = copy_corpus(corpus, workdir / "inbox")
        running.status = wait_until_idle(running, len(running.copied))
        yield running
    finally:
        stop(running)
        running.close()


def stop(agent: AgentProcess) -> int:
    if agent.process.poll() is None:
        agent.process.send_signal(signal.SIGINT)
        try:
            return agent.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            agent.process.kill()
            agent.process.wait(timeout=30)
            pytest.fail(f"agent did not stop within 60 s of SIGINT\n{agent.output()}")
    return agent.process.returncode


def box_sha1s(box_url: str) -> dict[str, str]:
    """List every file under /Sentinel/Inbox in the emulator with its sha1."""
    from box_sdk_gen import BaseUrls, BoxClient, BoxDeveloperTokenAuth, NetworkSession

    client = BoxClient(
        auth=BoxDeveloperTokenAuth(token="e2e-token"),
        network_session=NetworkSession(
            base_urls=BaseUrls(
                base_url=box_url,
                upload_url=f"{box_url}/api",
                oauth_2_url=f"{box_url}/api/oauth2",
            )
        ),
    )
    found: dict[str, str] = {}

    def walk(folder_id: str, prefix: str) -> None:
        items = client.folders.get_folder_items(
            folder_id, fields=["name", "sha1"], limit=1000
        )
        for item in items.entries or []:
            if item.type == "folder":
                walk(item.id, f"{prefix}{item.name}/")
            else:
                found[f"{prefix}{item.name}"] = item.sha_1

    root = client.folders.get_folder_items("0", limit=1000)
    sentinel = next(entry for entry in root.entries or [] if entry.name == "Sentinel")
    inbox_items = client.folders.get_folder_items(sentinel.id, limit=1000)
    inbox = next(entry for entry in inbox_items.entries or [] if entry.name == "Inbox")
    walk(inbox.id, "")
    return found


def test_run_processes_whole_corpus(
    finished_agent: AgentProcess, corpus: Path, manifest: dict[str, dict[str, str]]
) -> None:
    agent = finished_agent
    copied = agent.copied
    status = agent.status
    failed = {rel for rel in copied if expected_failed(rel, manifest.get(rel))}
    processed = set(copied) - failed

    processed_dir, failed_dir = agent.workdir / "processed", agent.workdir / "failed"
    for relative in sorted(processed):
        moved = processed_dir / relative
        assert moved.is_file(), f"{relative} not in processed/\n{agent.output()}"
        assert sha1(moved) == sha1(corpus / relative)
    for relative in sorted(failed):
        assert (failed_dir / relative).is_file(), f"{relative} not in failed/"
        reason = (failed_dir / f"{relative}.reason.txt").read_text(encoding="utf-8")
        assert reason.strip(), f"{relative} has an empty reason"
    assert not [p for p in (agent.workdir / "inbox").rglob("*") if p.is_file()]

    uploaded = box_sha1s(agent.box_url)
    assert set(uploaded) == processed
    for relative in processed:
        assert uploaded[relative] == sha1(corpus / relative), relative

    assert status["folders"]["inbox"] == {
        "inbox": 0,
        "processed": len(processed),
        "failed": len(failed),
    }
    assert status["queue"]["done"] == len(processed)
    assert status["queue"]["failed"] == len(failed)
    assert agent.process.poll() is None


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs chromium: run 'make chromium'")
def test_dashboard_numbers_match_folders(finished_agent: AgentProcess) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    workdir = finished_agent.workdir
    counts = {
        name: len(
            [
                path
                for path in (workdir / name).rglob("*")
                if path.is_file() and not path.name.endswith(".reason.txt")
            ]
        )
        for name in ("inbox", "processed", "failed")
    }
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page()
            page.goto(finished_agent.web_url)
            for name, count in counts.items():
                cell = page.get_by_test_id(f"folder-inbox-{name}")
                sync_api.expect(cell).to_have_text(str(count), timeout=20_000)
            sync_api.expect(page.get_by_test_id("queue-done")).to_have_text(
                str(counts["processed"])
            )
            sync_api.expect(page.get_by_test_id("queue-failed")).to_have_text(
                str(counts["failed"])
            )
        finally:
            browser.close()


@pytest.mark.parametrize(
    ("relative", "words"),
    [
        pytest.param("xml/xmlbomb.xml", ["entit"], id="entity-expansion"),
        pytest.param("xml/external.xml", ["entit"], id="external-entity"),
        pytest.param("xlsx/encryptAES.xlsx", ["encrypt"], id="encrypted-aes"),
        pytest.param("xlsx/pass_protected.xlsx", ["encrypt"], id="password"),
        pytest.param("other/date.xls", ["unsupported", "xls"], id="unsupported-xls"),
        pytest.param("other/any_sheets.ods", ["unsupported"], id="unsupported-ods"),
    ],
)
def test_failure_reasons_name_the_problem(
    finished_agent: AgentProcess, relative: str, words: list[str]
) -> None:
    reason = (finished_agent.workdir / "failed" / f"{relative}.reason.txt").read_text(
        encoding="utf-8"
    )
    for word in words:
        assert word in reason.lower(), reason


def test_sigint_stops_cleanly(finished_agent: AgentProcess) -> None:
    assert finished_agent.process.poll() is None
    assert stop(finished_agent) == 0
    assert "Traceback" not in finished_agent.output()
