"""Write the hook reference of docs/plugins.md from the hook specifications.

Run ``python docs/gen_plugins_md.py`` after changing a hook spec; with
``--check`` it only reports whether the file is up to date (exit status 1
when it is not), which is what the documentation test runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sentinel.core._hookdocs import render_reference, replace_reference

PLUGINS_MD = Path(__file__).resolve().parent / "plugins.md"


def main(argv: list[str] | None = None) -> int:
    """Update or check the generated block; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="Only compare.")
    parser.add_argument("--path", type=Path, default=PLUGINS_MD, help="File to write.")
    options = parser.parse_args(argv)

    current = options.path.read_text(encoding="utf-8")
    updated = replace_reference(current, render_reference())
    if current == updated:
        return 0
    if options.check:
        print(
            f"{options.path}: the hook reference is out of date; "
            "run python docs/gen_plugins_md.py",
            file=sys.stderr,
        )
        return 1
    options.path.write_text(updated, encoding="utf-8")
    print(f"{options.path}: hook reference updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
