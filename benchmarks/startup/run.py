"""Start-up time of the sentinel CLI against click alone and other plugin hosts.

Creates (or reuses) a virtual environment outside the repository, installs
every sentinel distribution and the competing tools there, and times each
command with hyperfine when it is on PATH, or by running it repeatedly and
taking the median. Then it adds N small generated distributions, each with
an entry point, and times everything again.

    python benchmarks/startup/run.py                  # 1000 extra distributions
    python benchmarks/startup/run.py --extra 100 --runs 10
    python benchmarks/startup/run.py --link-site --tools sentinel --extra 10
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ["core", "files", "queue", "box", "web", "log"]
COMPETITORS = {"llm": "llm", "datasette": "datasette", "pytest": "pytest"}
EXTRA_PREFIX = "startup_bench_extra_"
# Entry-point groups of the generated distributions. None is a group that
# sentinel, llm, datasette or pytest load, so the extras only add scan work.
EXTRA_GROUPS = ("console_scripts", "startup_bench.plugins", "gui_scripts")
GOAL_RATIO = 1.5


@dataclass
class Timing:
    """The wall times of one command in one scenario, in milliseconds."""

    scenario: str
    name: str
    command: list[str]
    median_ms: float
    min_ms: float
    runs: int
    error: str = ""


def default_env_dir() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache / "sentinel-benchmarks" / "startup-venv"


def build_env(env_dir: Path, tools: list[str], link_site: bool) -> Path:
    """Create the virtual environment and install what the run times."""
    python = env_dir / "bin" / "python"
    if not python.exists():
        venv.create(env_dir, with_pip=not link_site, clear=True)
    if link_site:
        _link_site(python)
        return python
    requirements = [str(REPO / "packages" / f"sentinel-{name}") for name in PACKAGES]
    requirements += [COMPETITORS[tool] for tool in tools if tool in COMPETITORS]
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", *requirements], check=True
    )
    return python


def _link_site(python: Path) -> None:
    """Make this interpreter's packages and console scripts usable in the env.

    Nothing is installed, so the smoke test needs no package index. The .pth
    line runs site.addsitedir, which also processes the .pth files of
    editable installs; a plain path line would not.
    """
    sites = [p for p in sys.path if p.endswith("site-packages")]
    lines = [f"import site; site.addsitedir({path!r})" for path in sites]
    (_site_packages(python) / "startup_bench_link.pth").write_text(
        "\n".join(lines) + "\n"
    )
    source_bin = Path(sys.executable).parent
    for tool in ("sentinel", *COMPETITORS):
        script = source_bin / tool
        if not script.is_file():
            continue
        body = script.read_text().split("\n", 1)[1]
        target = python.parent / tool
        target.write_text(f"#!{python}\n{body}")
        target.chmod(0o755)


def _site_packages(python: Path) -> Path:
    output = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(output.stdout.strip())


def add_extra_distributions(python: Path, count: int) -> int:
    """Write ``count`` minimal dist-info folders, each with one entry point."""
    site = _site_packages(python)
    remove_extra_distributions(python)
    for index in range(count):
        name = f"{EXTRA_PREFIX}{index:04d}"
        info = site / f"{name}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"
        )
        group = EXTRA_GROUPS[index % len(EXTRA_GROUPS)]
        (info / "entry_points.txt").write_text(f"[{group}]\n{name} = {name}:main\n")
        (info / "INSTALLER").write_text("startup-benchmark\n")
        (info / "RECORD").write_text(
            "".join(f"{info.name}/{part},,\n" for part in ("METADATA", "RECORD"))
        )
    return count


def remove_extra_distributions(python: Path) -> None:
    """Delete the dist-info folders that :func:`add_extra_distributions` wrote."""
    for info in _site_packages(python).glob(f"{EXTRA_PREFIX}*.dist-info"):
        shutil.rmtree(info)


def commands(python: Path, tools: list[str]) -> dict[str, list[str]]:
    """Return the commands to time by name; the floor comes first."""
    bin_dir = python.parent
    found = {
        "floor: python -c 'import click'": [str(python), "-c", "import click"],
        "sentinel --help": [str(bin_dir / "sentinel"), "--help"],
        "sentinel plugins --json": [str(bin_dir / "sentinel"), "plugins", "--json"],
    }
    if "llm" in tools:
        found["llm plugins"] = [str(bin_dir / "llm"), "plugins"]
    if "datasette" in tools:
        found["datasette plugins"] = [str(bin_dir / "datasette"), "plugins"]
    if "pytest" in tools:
        found["pytest --version"] = [str(bin_dir / "pytest"), "--version"]
    return found


def bench_environ(workdir: Path) -> dict[str, str]:
    """Build an environment without SENTINEL_* settings and with a private cache.

    Bytecode goes to one private folder that the warm-up runs fill, so every
    tool runs from compiled bytecode, as it would when installed with pip:
    with PYTHONDONTWRITEBYTECODE set and editable sources linked in, sentinel
    alone would compile its modules on every run.
    """
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SENTINEL")}
    environ.pop("PYTHONPATH", None)
    environ.pop("PYTHONDONTWRITEBYTECODE", None)
    environ["PYTHONPYCACHEPREFIX"] = str(workdir / "bytecode")
    environ["XDG_CACHE_HOME"] = str(workdir / "cache")
    environ["LLM_USER_PATH"] = str(workdir / "llm")
    return environ


def time_command(
    scenario: str, name: str, command: list[str], runs: int, workdir: Path
) -> Timing:
    """Time ``command``: warm up twice, then take the median of ``runs`` runs."""
    environ = bench_environ(workdir)
    if not Path(command[0]).exists():
        return Timing(scenario, name, command, 0.0, 0.0, 0, "not installed")
    if shutil.which("hyperfine"):
        median, fastest = _hyperfine(command, runs, workdir, environ)
        return Timing(scenario, name, command, median, fastest, runs)
    samples = []
    for attempt in range(runs + 2):
        started = time.perf_counter()
        result = subprocess.run(
            command, cwd=workdir, env=environ, capture_output=True, check=False
        )
        elapsed = (time.perf_counter() - started) * 1000
        if result.returncode != 0:
            error = result.stderr.decode(errors="replace").strip().splitlines()
            return Timing(
                scenario, name, command, 0.0, 0.0, 0, (error or ["failed"])[-1]
            )
        if attempt >= 2:
            samples.append(elapsed)
    return Timing(
        scenario, name, command, statistics.median(samples), min(samples), runs
    )


def _hyperfine(
    command: list[str], runs: int, workdir: Path, environ: dict[str, str]
) -> tuple[float, float]:
    """Return the median and minimum wall time in milliseconds, from hyperfine."""
    export = workdir / "hyperfine.json"
    subprocess.run(
        [
            "hyperfine",
            "--warmup",
            "2",
            "--runs",
            str(runs),
            "--export-json",
            str(export),
            "--style",
            "none",
            "-N",
            " ".join(command),
        ],
        cwd=workdir,
        env=environ,
        capture_output=True,
        check=True,
    )
    result = json.loads(export.read_text())["results"][0]
    return result["median"] * 1000, result["min"] * 1000


def run_scenario(
    scenario: str, python: Path, tools: list[str], runs: int, workdir: Path
) -> list[Timing]:
    """Time every command once in the current state of the environment."""
    return [
        time_command(scenario, name, command, runs, workdir)
        for name, command in commands(python, tools).items()
    ]


def goal_lines(timings: list[Timing]) -> list[str]:
    """Say, per scenario, whether sentinel met the start-up goal."""
    lines = []
    for scenario in dict.fromkeys(t.scenario for t in timings):
        rows = [t for t in timings if t.scenario == scenario and not t.error]
        floor = next((t for t in rows if t.name.startswith("floor")), None)
        ours = [t for t in rows if t.name.startswith("sentinel")]
        others = [t for t in rows if t not in ours and t is not floor]
        if floor is None or not ours:
            continue
        for timing in ours:
            ratio = timing.median_ms / floor.median_ms
            slower = [o.name for o in others if o.median_ms <= timing.median_ms]
            met = ratio <= GOAL_RATIO and not slower
            detail = f"{ratio:.2f}x floor"
            if slower:
                detail += f"; not faster than {', '.join(slower)}"
            verdict = "met" if met else "missed"
            lines.append(f"{scenario}: {timing.name}: {detail}: goal {verdict}")
    return lines


def format_table(timings: list[Timing]) -> str:
    """Render the timings as a Markdown table with ratios to the floor."""
    lines = [
        "| scenario | command | median ms | min ms | x floor |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    floors = {
        t.scenario: t.median_ms
        for t in timings
        if t.name.startswith("floor") and not t.error
    }
    for t in timings:
        if t.error:
            lines.append(f"| {t.scenario} | {t.name} | {t.error} | | |")
            continue
        floor = floors.get(t.scenario)
        ratio = f"{t.median_ms / floor:.2f}" if floor else "-"
        lines.append(
            f"| {t.scenario} | {t.name} | {t.median_ms:.1f} | {t.min_ms:.1f} "
            f"| {ratio} |"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--extra",
        type=int,
        default=1000,
        help="Generated distributions added in the second scenario (default 1000).",
    )
    parser.add_argument(
        "--runs", type=int, default=20, help="Timed runs per command (default 20)."
    )
    parser.add_argument(
        "--env-dir",
        type=Path,
        default=None,
        help="Virtual environment to create or reuse "
        "(default: $XDG_CACHE_HOME/sentinel-benchmarks/startup-venv).",
    )
    parser.add_argument(
        "--tools",
        default="sentinel,llm,datasette,pytest",
        help="Comma-separated tools to time besides the floor (default: all).",
    )
    parser.add_argument(
        "--link-site",
        action="store_true",
        help="Link this interpreter's site-packages instead of installing.",
    )
    parser.add_argument(
        "--skip-install",
        action="store_true",
        help="Reuse the environment as it is, without running pip.",
    )
    parser.add_argument("--json", type=Path, help="Also write the timings here.")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run both scenarios, print the table and the goal verdicts."""
    options = parse_args(argv)
    tools = [tool.strip() for tool in options.tools.split(",") if tool.strip()]
    env_dir = options.env_dir or default_env_dir()
    if options.skip_install:
        python = env_dir / "bin" / "python"
    else:
        python = build_env(env_dir, tools, options.link_site)
    with tempfile.TemporaryDirectory(prefix="startup-bench-") as folder:
        workdir = Path(folder)
        remove_extra_distributions(python)
        timings = run_scenario("plugins only", python, tools, options.runs, workdir)
        added = add_extra_distributions(python, options.extra)
        try:
            timings += run_scenario(
                f"+{added} distributions", python, tools, options.runs, workdir
            )
        finally:
            remove_extra_distributions(python)
    timer = "hyperfine" if shutil.which("hyperfine") else "median of repeated runs"
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {timer}")
    print(format_table(timings))
    for line in goal_lines(timings):
        print(line)
    if options.json:
        options.json.write_text(json.dumps([asdict(t) for t in timings], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
