"""Run the ``sentinel`` CLI as ``python -m sentinel.core``."""

from sentinel.core.cli import main

main()
