"""The core's own plugin: its config sections and commands live in plugin.toml.

It implements no hook; the declaration file beside it gives the ``logging``
and ``plugins`` config sections and the ``sentinel plugin`` command group,
which the host reads without importing anything.
"""

from __future__ import annotations
