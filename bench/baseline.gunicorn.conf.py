"""Gunicorn for the bare Flask baseline: the same settings as gunicorn.conf.py, none of its hooks.

The real file is executed and its setting values copied; the hooks (config validation,
scheduler election, start-up notice) are left out, and the app is bench.baseline_app.
"""

import runpy
import types
from pathlib import Path

_real = runpy.run_path(str(Path(__file__).resolve().parents[1] / "gunicorn.conf.py"))
globals().update(
    {
        name: value
        for name, value in _real.items()
        if not name.startswith("_")
        and not callable(value)
        and not isinstance(value, types.ModuleType)
        and name != "wsgi_app"
    }
)
wsgi_app = "bench.baseline_app:app"
