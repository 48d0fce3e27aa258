"""A worker's start-up objects are frozen out of the cyclic garbage collector, so a full
collection under load does not scan the whole loaded app (it stalled the acks' p99)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.gunicorn import REPO

PROBE = """
import gc, json, os, sys, tempfile, time
from tests.support.keys import valid_env
from config import load_config
from app.factory import create_app
from app.server.hooks import freeze_startup_objects
os.chdir(tempfile.mkdtemp())
create_app(load_config(valid_env(SLACK_API_URL="http://127.0.0.1:9/",
                                 GITHUB_API_URL="http://127.0.0.1:9/")))
tracked = len(gc.get_objects())
freeze_startup_objects()
print(json.dumps({"tracked": tracked, "frozen": gc.get_freeze_count(),
                  "still_scanned": len(gc.get_objects())}))
"""


def test_the_loaded_app_is_frozen_out_of_full_collections():
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr[-2000:]
    counts = json.loads(out.stdout.strip().splitlines()[-1])
    assert counts["tracked"] > 10_000  # the loaded app is a large heap
    assert counts["frozen"] >= counts["tracked"]
    assert counts["still_scanned"] < counts["tracked"] // 100
