"""The stand-ins' one HTTP server, on the loopback address of SLACK_API_URL (never another).

``/`` is the page; ``/api/<method>`` Slack's Web API; ``/respond/<id>`` response_urls;
``/github/…`` GitHub's REST API; ``/dev/api/…`` what the page and `rocket2 dev …` ask for.
With ``record``, every Slack and GitHub exchange is appended to a file (app.dev.recording).
The ``/dev/api/`` writes take JSON only, from a loopback Host, so another web site open in the
same browser cannot drive them (a cross-site JSON POST needs a preflight nobody answers).
"""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from werkzeug import Request, Response
from werkzeug.serving import make_server

from app.dev.github import Answer, GitHubStandIn
from app.dev.github.standin import playground_seed
from app.dev.github_apps import GitHubAppsStandIn, public_pem
from app.dev.http import json_response
from app.dev.recording import OUTSIDE, ExchangeLog
from app.dev.slack import EMAIL_DOMAIN, SlackStandIn
from app.dev.slack_manifest import SlackManifestStandIn
from app.dev.state import DEFAULT_DIR, JsonState
from app.dev.webhooks import WebhookSender
from config import Config
from config.devmode import development_mode, is_loopback_host

log = logging.getLogger("rocket2.dev")


def standins_url(config: Config) -> str:
    """Where the stand-ins listen: the origin of SLACK_API_URL."""
    parts = urlsplit(config.slack_api_url)
    return f"{parts.scheme}://{parts.netloc}"


def rocket_url(config: Config) -> str:
    """Where Rocket 2 itself listens on this machine."""
    return f"http://127.0.0.1:{config.port}"


PLAYGROUND_EMAILS = (("you-on-github", "you"), ("ada-lovelace", "ada"), ("grace-hopper", "grace"))


class StandIns:
    """The Slack and GitHub stand-ins behind one WSGI application."""

    def __init__(
        self, config: Config, data_dir: Path = DEFAULT_DIR, record: Path | None = None
    ) -> None:
        own = standins_url(config)
        self.record = ExchangeLog(record) if record is not None else None
        webhook_url = rocket_url(config) + config.github_webhook_endpt
        self.webhooks = WebhookSender(webhook_url, config.github_webhook_secret.reveal())
        self.slack = SlackStandIn.playground(
            data_dir,
            token=config.slack_api_token.reveal(),
            signing_secret=config.slack_signing_secret.reveal(),
            rocket_url=rocket_url(config),
            own_url=own,
        )
        self.slack_apps = SlackManifestStandIn(data_dir)
        self.slack.granted_scopes = self.slack_apps.granted_scopes
        self.github = GitHubStandIn(
            api_url=own + "/github",
            org=config.github_org_name,
            app_id=config.github_app_id,
            public_key=config.github_key.private_key.public_key(),
            installation_id=1,
            events=self.webhooks.send,
        )
        self.github.auto_accept_invitations = True  # a playground has nobody to click it
        if config.github_client_id:
            self.github.set_oauth_app(config.github_client_id, config.github_client_secret.reveal())
        self._github_state = JsonState(
            data_dir / "github.json", lambda: playground_seed(config.github_org_name)
        )
        self.github.load_json(self._github_state.data)
        # The playground's people verified the same addresses on GitHub as in Slack, so a link
        # that gives power passes the e-mail factor; linus-t's address matches nobody's.
        for login, name in PLAYGROUND_EMAILS:
            self.github.set_emails(login, (f"{name}@{EMAIL_DOMAIN}", True))
        self.github_apps = GitHubAppsStandIn(
            data_dir,
            self.github,
            self.webhooks,
            web_base=config.github_oauth_url,
            playground_app={
                "id": config.github_app_id,
                "name": "Rocket 2 playground",
                "public_key": public_pem(config.github_key.private_key.public_key()),
                "hook_url": webhook_url,
                "installed": True,
            },
        )

    def save_github(self) -> None:
        """Keep the organisation in data/dev/github.json."""
        with self._github_state.lock:
            self._github_state.data = self.github.to_json()
            self._github_state.save()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        """The WSGI entry point."""
        request = Request(environ)
        if self.record is not None:
            request.get_data(cache=True)  # kept for the record, whatever the handler reads
        response = self.route(request)
        if self.record is not None:
            self.record.write(request, response)
        return response(environ, start_response)

    def route(self, request: Request) -> Response:
        """Dispatch by path prefix."""
        path = request.path
        if path.startswith("/api/apps.manifest."):
            return self.slack_apps.handle(request, path[len("/api/") :])
        if path.startswith("/api/"):
            return self.slack.handle_api(request, path[len("/api/") :])
        if path.startswith("/respond/"):
            return self.slack.handle_response(request, path[len("/respond/") :])
        if path.startswith("/github/"):
            if self.github_apps.claims(request, path[len("/github") :]):
                return self.github_apps.handle(request, path[len("/github") :])
            response, outside = self.github.handle(request, path[len("/github") :])
            request.environ[OUTSIDE] = outside
            if request.method != "GET":
                self.save_github()
            return response
        if path in ("/", "/index.html") and request.method == "GET":
            page = resources.files("app.dev").joinpath("page.html").read_text("utf-8")
            return Response(
                page,
                content_type="text/html; charset=utf-8",
                headers={
                    "Content-Security-Policy": "default-src 'self'; "
                    "script-src 'unsafe-inline'; style-src 'unsafe-inline'"
                },
            )
        if path.startswith("/dev/api/"):
            if not is_loopback_host(request.host.rsplit(":", 1)[0]):
                return json_response({"error": "loopback only"}, 403)
            try:
                return self.dev_api(request, path[len("/dev/api/") :])
            except Answer as refused:
                return refused.response
            except LookupError as exc:
                return json_response({"error": str(exc)}, 404)
            finally:
                if request.method != "GET":
                    self.save_github()
        return Response("Not Found", status=404)

    def dev_api(self, request: Request, path: str) -> Response:
        """The page's and the CLI's calls."""
        if request.method == "GET":
            return self._read(request, path)
        if request.mimetype != "application/json":
            return json_response({"error": "JSON bodies only"}, 415)
        body: dict[str, Any] = request.get_json(silent=True) or {}
        parts = path.split("/")
        if request.method == "POST" and path == "command":
            return json_response(self.slack.slash_command(str(body["text"]), str(body["as"])))
        if request.method == "POST" and path == "join":
            return json_response(self.slack.join(str(body.get("name") or "Newcomer")))
        if request.method == "POST" and path == "mention":
            return json_response(self.slack.mention(str(body["text"]), str(body["as"])))
        if request.method == "POST" and path == "slack/scopes":
            self.slack_apps.set_granted_scopes([str(s) for s in body["scopes"]])
            return json_response({"ok": True})
        if request.method == "POST" and path == "github/app":
            return json_response(self.github_apps.change_app(int(body["app_id"]), body))
        if request.method == "POST" and path == "github/accounts":
            self.github.add_user(str(body["login"]))
            return json_response(self.github.simple_user(str(body["login"])), 201)
        if request.method == "POST" and path == "github/members":
            self.github.add_org_member(str(body["login"]), str(body.get("role") or "member"))
            return json_response({"ok": True}, 201)
        if request.method == "POST" and path == "github/teams":
            team_id = self.github.add_team(str(body.get("name") or "").strip())
            return json_response({"slug": self.github.teams[team_id].slug}, 201)
        if request.method == "POST" and len(parts) == 4 and parts[:2] == ["github", "teams"]:
            role = str(body.get("role") or "member")
            self.github.put_team_membership(parts[2], str(body["login"]), role)
            return json_response({"ok": True})
        if request.method == "DELETE" and len(parts) == 5 and parts[:2] == ["github", "teams"]:
            self.github.remove_team_member(parts[2], parts[4])
            return json_response({"ok": True})
        return json_response({"error": "not found"}, 404)

    def _read(self, request: Request, path: str) -> Response:
        if path == "state":
            return json_response(
                {
                    "slack": self.slack.view(),
                    "github": {
                        **self.github.view(),
                        "deliveries": list(reversed(self.webhooks.deliveries[-10:])),
                    },
                    "webhooks_idle": self.webhooks.idle(),
                }
            )
        if path.startswith("commands/"):
            command = self.slack.command(path[len("commands/") :])
            return json_response(command) if command else json_response({"error": "unknown"}, 404)
        if path == "messages":
            since = int(request.args.get("since", "0"))
            return json_response({"messages": self.slack.messages_since(since)})
        if path == "slack/config-token":
            return json_response({"token": self.slack_apps.config_token})
        if path == "people":
            return json_response(self.slack.view()["users"])
        return json_response({"error": "not found"}, 404)


def serve(config: Config, data_dir: Path = DEFAULT_DIR, record: Path | None = None) -> None:
    """Serve the stand-ins until interrupted; refuses any address but loopback. ``record``:
    append every Slack and GitHub exchange to this file (app.dev.recording)."""
    parts = urlsplit(config.slack_api_url)
    host, port = parts.hostname or "", parts.port or 80
    if not is_loopback_host(host) or not development_mode(config):
        raise SystemExit(
            "dev stand-ins: SLACK_API_URL and GITHUB_API_URL must both be on loopback; refusing"
        )
    app = StandIns(config, data_dir, record)
    server = make_server(host, port, app, threaded=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    print(f"dev stand-ins (Slack and GitHub) on {standins_url(config)}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
