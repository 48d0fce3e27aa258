"""Gunicorn's logger class (``logger_class`` in gunicorn.conf.py), dressed as Rocket 2 logs."""

from __future__ import annotations

from typing import Any

from gunicorn import glogging

from app.logs import configure_logging, dress_handler
from app.server import instance


class RocketGunicornLogger(glogging.Logger):  # type: ignore[misc]
    """Gunicorn's logger with our formatters and filters on its error and access handlers."""

    def setup(self, cfg: Any) -> None:
        """Let Gunicorn build its handlers, then dress each one and configure the root logger."""
        super().setup(cfg)
        config = instance.config_or_none()
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                dress_handler(handler, config)
        configure_logging(config)
