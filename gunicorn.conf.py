"""Gunicorn settings for Rocket 2 (skeleton; completed by the web-app issue)."""

from config import load_config
from config.cli import default_env_file

_config = load_config(env_file=default_env_file(None))

wsgi_app = "app.wsgi:app"
bind = f"0.0.0.0:{_config.port}"
workers = _config.web_concurrency
accesslog = "-"
errorlog = "-"
