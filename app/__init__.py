"""The Rocket 2 Flask application factory."""

from __future__ import annotations

from flask import Flask

from config import Config

__version__ = "2.0.0"

MAX_CONTENT_LENGTH = 1024 * 1024  # 1 MiB: Slack and GitHub payloads are far smaller; → 413


def create_app(config: Config) -> Flask:
    """Build the Flask app from an already-validated Config. No network I/O happens here.

    Blueprints: health (/, /healthz), slack (/slack/commands, /slack/events), github
    (GITHUB_WEBHOOK_ENDPT) and linking (/github/link, GitHub's callback). Background services
    (scheduler, start-up notice) are not started here; Gunicorn's hooks start them
    (app.gunicorn_hooks).
    """
    from app import commands, github_webhook, health, slack_endpoint
    from app.http import (
        TrustedProxyFix,
        install_error_pages,
        install_request_ids,
        install_security_headers,
    )
    from app.linking import views as linking_views
    from app.outside import slack_client
    from app.slack_authorize import BotAuthorization

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_CONTENT_LENGTH
    app.extensions["rocket2.config"] = config
    ctx = commands.make_context(config, slack_client(config))
    app.extensions["rocket2.commands"] = ctx

    install_request_ids(app)
    install_error_pages(app)
    install_security_headers(app)
    app.register_blueprint(health.bp)
    authorization = BotAuthorization(ctx.slack, config.slack_api_token.reveal())
    app.extensions["rocket2.slack_authorization"] = authorization
    events = commands.slack_event_handlers(ctx)
    app.register_blueprint(
        slack_endpoint.create_blueprint(
            slack_endpoint.build_bolt_app(ctx, authorization, events),
            config.slack_signing_secret.reveal(),
            frozenset(events),
        )
    )
    app.register_blueprint(
        github_webhook.create_blueprint(
            config.github_webhook_endpt,
            config.github_webhook_secret.reveal().encode(),
            commands.github_event_handlers(ctx),
        )
    )
    app.register_blueprint(linking_views.create_blueprint(ctx))
    app.wsgi_app = TrustedProxyFix(app.wsgi_app, config.forwarded_allow_ips)  # type: ignore[method-assign]
    return app
