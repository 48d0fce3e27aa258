"""Gunicorn for the Bolt peer: the baseline's copy of gunicorn.conf.py's settings (no hooks),
serving bench.bolt_peer."""

import runpy
from pathlib import Path

_baseline = runpy.run_path(str(Path(__file__).with_name("baseline.gunicorn.conf.py")))
globals().update({k: v for k, v in _baseline.items() if k.islower() and not k.startswith("_")})
wsgi_app = "bench.bolt_peer:app"
