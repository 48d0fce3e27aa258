"""The WSGI entry point Gunicorn loads: `app.wsgi:app`.

Under gunicorn.conf.py the master has already loaded and validated the config and the worker
inherits it; elsewhere (another WSGI server, a shell) it is loaded here.
"""

from __future__ import annotations

from app.factory import create_app
from app.server import instance

app = create_app(instance.current_config())
