"""Raises when imported: the host must refuse the plugin before importing it."""

raise RuntimeError("the newer plugin was imported by a core it does not support")
