"""A plugin module that exits the interpreter at import, as a careless script does."""

import sys

sys.exit(3)
