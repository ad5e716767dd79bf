"""Offline installs of plugin distributions into a folder, for tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def install_offline(target: Path, *sources: str | os.PathLike[str]) -> Path:
    """Install the distributions in ``sources`` into the folder ``target``.

    Each source is a project folder, a wheel or an sdist. pip runs with the
    test interpreter and never reaches a package index: no dependencies,
    no index and no isolated build environment, so the build backend must
    already be installed. All sources go to one pip call, in their order.
    Returns ``target``, ready for ``sys.path`` or ``PYTHONPATH``; raises
    :class:`subprocess.CalledProcessError` when pip fails.
    """
    if not sources:
        raise ValueError(
            f"no distribution to install into {target}; pass at least one source"
        )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(target),
            *map(str, sources),
        ],
        check=True,
    )
    return target
