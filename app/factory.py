"""The Rocket 2 Flask application factory: only wiring (each part's contract is in its module)."""

from __future__ import annotations

from dataclasses import replace

from flask import Flask

from app import features, sizes
from app.feature import Feature
from app.github.webhooks import webhook_client
from app.services import attach
from app.slack.authorize import BotAuthorization
from app.slack.client import slack_client
from app.web import github, health, linking, middleware, slack
from config import Config

MAX_CONTENT_LENGTH = sizes.REQUEST_BODY


def create_app(config: Config, with_features: tuple[Feature, ...] = features.FEATURES) -> Flask:
    """Build the Flask app from an already-validated Config and the feature list. No network
    I/O happens here.

    Blueprints: health (/, /healthz), slack (/slack/commands, /slack/events), github
    (GITHUB_WEBHOOK_ENDPT) and linking (/github/link, GitHub's callback). Background services
    (scheduler, start-up notice) are started by Gunicorn's hooks (app.server.hooks).
    """
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_CONTENT_LENGTH
    app.extensions["rocket2.config"] = config
    services = features.build_services(config, slack_client(config), with_features)
    attach(app, services)
    middleware.install_request_ids(app)
    middleware.install_body_limit(app, MAX_CONTENT_LENGTH)
    middleware.install_error_pages(app)
    middleware.install_security_headers(app)
    app.register_blueprint(health.bp)
    authorization = BotAuthorization(services.slack, config.slack_api_token.reveal())
    app.extensions["rocket2.slack_authorization"] = authorization
    events = features.slack_events(with_features)
    app.register_blueprint(slack.create_blueprint(services, authorization, events))
    webhook_services = replace(services, github=webhook_client(config))
    app.register_blueprint(
        github.create_blueprint(
            config.github_webhook_endpt,
            config.github_webhook_secret.reveal().encode(),
            features.webhook_router(with_features),
            webhook_services,
        )
    )
    app.register_blueprint(linking.create_blueprint(services))
    app.wsgi_app = middleware.TrustedProxyFix(app.wsgi_app, config.forwarded_allow_ips)  # type: ignore[method-assign]
    return app
