"""Settings shared by every test layer: one INSTANCE and data directory per test run.

Set before any Dockyard module reads its settings, so nothing a test run creates can touch a real
installation's containers, routes, queue or database.
"""

from __future__ import annotations

import os
import tempfile
import uuid

TEST_INSTANCE = f"test-{uuid.uuid4().hex[:8]}"
TEST_DATA_DIR = tempfile.mkdtemp(prefix="dockyard-tests-")

os.environ["DOCKYARD_INSTANCE"] = TEST_INSTANCE
os.environ["DOCKYARD_DATA_DIR"] = TEST_DATA_DIR
os.environ.setdefault("DOCKYARD_REDIS_URL", "redis://127.0.0.1:6379/0")
for name in ("DOCKYARD_DATABASE_URL", "DOCKYARD_SECRET_KEY", "DOCKYARD_CADDY_ADMIN", "DOCKYARD_HTTP_PORT"):
    os.environ.pop(name, None)
