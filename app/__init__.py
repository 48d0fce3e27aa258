"""The Rocket 2 Flask application factory."""

from __future__ import annotations

from flask import Flask

from config import Config

__version__ = "2.0.0"


def create_app(config: Config) -> Flask:
    """Build the Flask app from an already-validated Config. No network I/O happens here."""
    app = Flask(__name__)
    app.extensions["rocket2.config"] = config

    from app.health import bp as health_bp

    app.register_blueprint(health_bp)
    return app
