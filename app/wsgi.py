"""The WSGI entry point Gunicorn loads: `app.wsgi:app`."""

from __future__ import annotations

from app import create_app
from config import load_config
from config.cli import default_env_file

app = create_app(load_config(env_file=default_env_file(None)))
