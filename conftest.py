"""Settings shared by every test session of the repository."""

from __future__ import annotations

import os
import tempfile

# Keep the plugin-scan cache of this test session out of the user's cache
# folder, and fresh for every session. Child processes inherit it.
os.environ.setdefault(
    "SENTINEL_CACHE_DIR", tempfile.mkdtemp(prefix="sentinel-test-cache-")
)
