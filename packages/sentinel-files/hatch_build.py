"""Compile the C sheet scanner of sentinel-files while hatchling builds a wheel.

The extension is optional: where no C compiler works, the build goes on
with a warning, and the cell-bomb check of XlsxFile uses its pure-Python
scanner instead. An editable install compiles the module next to its
source, where the editable path entry finds it. A regular wheel gets it
from a temporary folder.
"""

from __future__ import annotations

import shlex
import subprocess
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = Path("src/sentinel/files/_sheetscan.c")
MODULE = "sentinel/files/_sheetscan"


class SheetScanBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Build ``sentinel.files._sheetscan`` for the running interpreter."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
        root = Path(self.root)
        if version == "editable":
            target = root / "src" / f"{MODULE}{suffix}"
        else:
            self._folder = tempfile.TemporaryDirectory(prefix="sheetscan-")
            target = Path(self._folder.name) / f"_sheetscan{suffix}"
        if not self._compile(root / SOURCE, target):
            return
        if version != "editable":
            build_data["force_include"][str(target)] = f"{MODULE}{suffix}"
        build_data["pure_python"] = False
        build_data["infer_tag"] = True

    def _compile(self, source: Path, target: Path) -> bool:
        variables = sysconfig.get_config_vars()
        command = [
            *shlex.split(variables.get("LDSHARED") or "cc -shared"),
            *shlex.split(variables.get("CFLAGS") or "-O2"),
            *shlex.split(variables.get("CCSHARED") or "-fPIC"),
            "-I",
            sysconfig.get_paths()["include"],
            str(source),
            "-o",
            str(target),
        ]
        try:
            subprocess.run(command, check=True, capture_output=True, text=True)
        except (OSError, subprocess.CalledProcessError) as exc:
            output = getattr(exc, "stderr", "") or str(exc)
            self.app.display_warning(
                f"could not compile {source.name}; XlsxFile uses its pure-Python "
                f"sheet scanner instead: {output.strip()[:2000]}"
            )
            return False
        return True

    def finalize(
        self, version: str, build_data: dict[str, Any], artifact_path: str
    ) -> None:
        folder = getattr(self, "_folder", None)
        if folder is not None:
            folder.cleanup()
