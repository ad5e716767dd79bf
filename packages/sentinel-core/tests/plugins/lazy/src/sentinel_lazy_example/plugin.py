"""Raises when imported: only commands that call hooks may import it."""

raise RuntimeError("the lazy plugin was imported")
