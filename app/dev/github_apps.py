"""The GitHub stand-in's Apps: GitHub's App-creation form (the manifest flow's web pages), the
manifest conversion, the App's own view (``GET /app``, ``/app/hook/config``,
``/app/hook/deliveries``), its installation on the organisation, and installation tokens.

Shapes as GitHub's REST description (2022-11-28) and "Registering a GitHub App from a
manifest" give them: the form takes a JSON ``manifest`` and a ``state``; after "Create", the
browser goes to the manifest's ``redirect_url`` with ``code`` and ``state``; the code converts
once, within an hour. Web pages live under GITHUB_OAUTH_URL, the API under GITHUB_API_URL
(in the playground both are ``/github``). The playground's own App (GITHUB_APP_ID and
GITHUB_KEY of the dev .env) exists from the start, installed, with the declared permissions.
"""

from __future__ import annotations

import html
import json
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug import Request, Response
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule

from app.dev.github import GitHubStandIn, shapes, slugify
from app.dev.github.app_auth import MAX_JWT_LIFETIME
from app.dev.github.base import Answer, json_answer
from app.dev.http import json_response
from app.dev.recording import OUTSIDE
from app.dev.state import JsonState
from app.dev.webhooks import WebhookSender
from app.platforms import GITHUB

CODE_TTL = 3600  # GitHub: all three steps within one hour
ACTING_USER = "you-on-github"  # who is signed in to the stand-in's web pages
PLAYGROUND_INSTALLATION = 1  # the playground's GitHubStandIn(installation_id=1)


def Refused(status: int, message: str) -> Answer:
    """GitHub's error answer, raised at once."""
    return Answer(json_answer(status, shapes.error(message, status)))


def _stamp(at: float) -> str:
    return datetime.fromtimestamp(int(at), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def public_pem(key: rsa.RSAPublicKey) -> str:
    """The public key as PEM (SubjectPublicKeyInfo)."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def _page(title: str, body: str, status: int = 200) -> Response:
    text = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"</head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return Response(text, status=status, content_type="text/html; charset=utf-8")


class GitHubAppsStandIn:
    """Apps registered on the stand-in, their codes, installations and deliveries."""

    def __init__(
        self,
        data_dir: Path,
        github: GitHubStandIn,
        webhooks: WebhookSender,
        *,
        web_base: str,
        playground_app: dict[str, Any],
    ) -> None:
        self.github = github
        self.webhooks = webhooks
        self.web_base = web_base.rstrip("/")
        self.state = JsonState(data_dir / "github_apps.json", lambda: {"apps": {}, "codes": {}})
        with self.state.lock:
            apps = self.state.data["apps"]
            key = str(playground_app["id"])
            apps.setdefault(key, self._app_record(**playground_app))
            apps[key]["public_key"] = playground_app["public_key"]
            self.state.save()
        o = "/organizations/<org>/settings/apps"
        self.routes = Map(
            [
                Rule(f"{o}/new", methods=["GET", "POST"], endpoint=self._form),
                Rule(f"{o}/new/create", methods=["POST"], endpoint=self._create),
                Rule(
                    "/apps/<slug>/installations/new",
                    methods=["GET", "POST"],
                    endpoint=self._install,
                ),
                Rule("/app-manifests/<code>/conversions", methods=["POST"], endpoint=self._convert),
                Rule("/app", methods=["GET"], endpoint=self._get_app),
                Rule("/app/hook/config", methods=["GET"], endpoint=self._hook_config),
                Rule("/app/hook/deliveries", methods=["GET"], endpoint=self._deliveries),
                Rule("/orgs/<org>/installation", methods=["GET"], endpoint=self._installation),
                Rule(
                    "/app/installations/<int:iid>/access_tokens",
                    methods=["POST"],
                    endpoint=self._access_token,
                ),
                Rule("/orgs/<org>", methods=["GET"], endpoint=self._get_org),
            ]
        )

    # ---- records ----------------------------------------------------------------------------

    def _app_record(
        self,
        *,
        id: int,
        name: str,
        public_key: str,
        hook_url: str,
        installed: bool,
        permissions: dict[str, str] | None = None,
        events: list[str] | None = None,
    ) -> dict[str, Any]:
        slug = slugify(name)
        return {
            "id": id,
            "slug": slug,
            "name": name,
            "public_key": public_key,
            "permissions": dict(permissions or GITHUB.permissions),
            "events": list(events or GITHUB.events),
            "hook": {"url": hook_url, "content_type": "json", "active": True},
            "callback_urls": [],
            "client_id": "Iv23" + secrets.token_hex(8),
            "installation": (
                {
                    "id": PLAYGROUND_INSTALLATION,
                    "permissions": dict(permissions or GITHUB.permissions),
                    "events": list(events or GITHUB.events),
                }
                if installed
                else None
            ),
            "failed_deliveries": [],
            "created_at": time.time(),
        }

    def claims(self, request: Request, path: str) -> bool:
        """Whether ``path`` (after ``/github``) is one of these endpoints."""
        try:
            self.routes.bind("stand-in").match(path, method=request.method)
        except HTTPException:
            return False
        return True

    def handle(self, request: Request, path: str) -> Response:
        """Answer one call or page."""
        try:
            endpoint, args = self.routes.bind("stand-in").match(path, method=request.method)
            with self.state.lock:
                response: Response = endpoint(request, **args)
            return response
        except Answer as refused:
            request.environ[OUTSIDE] = refused.outside
            return refused.response

    def _org_or_404(self, org: str, documented: bool = True) -> None:
        if org.lower() != self.github.org.lower():
            raise Answer(json_answer(404, shapes.error("Not Found", 404)), outside=not documented)

    # ---- the web pages (GITHUB_OAUTH_URL) ---------------------------------------------------

    def _owner(self, org: str) -> bool:
        with self.github.lock:
            role = self.github.org_members.get(ACTING_USER)
        return org.lower() == self.github.org.lower() and role == "admin"

    def _form(self, request: Request, org: str) -> Response:
        if not self._owner(org):  # GitHub answers 404 to a non-owner, as to no organisation
            return _page("Page not found", "<p>404</p>", 404)
        manifest_text = request.form.get("manifest", "")
        try:
            manifest = json.loads(manifest_text)
        except ValueError:
            return _page("Invalid GitHub App manifest", "<p>The manifest is not JSON.</p>", 400)
        name = str(manifest.get("name") or "")
        state = request.args.get("state", "")
        fields = "".join(
            f"<li>{html.escape(k)}: {html.escape(v)}</li>"
            for k, v in sorted(dict(manifest.get("default_permissions") or {}).items())
        )
        body = (
            f"<p>Create a GitHub App for <b>{html.escape(org)}</b> as {ACTING_USER}.</p>"
            f"<ul>{fields}</ul>"
            f"<form method='post' action='new/create'>"
            f"<input type='hidden' name='manifest' value='{html.escape(manifest_text)}'>"
            f"<input type='hidden' name='state' value='{html.escape(state)}'>"
            f"<label>GitHub App name <input id='name' name='name' value='{html.escape(name)}'>"
            f"</label> <button id='create' type='submit'>Create GitHub App for "
            f"{html.escape(org)}</button></form>"
        )
        return _page(f"Create GitHub App for {org}", body)

    def _create(self, request: Request, org: str) -> Response:
        if not self._owner(org):
            return _page("Page not found", "<p>404</p>", 404)
        manifest = json.loads(request.form.get("manifest", "{}"))
        name = (request.form.get("name") or manifest.get("name") or "").strip()
        taken = any(a["slug"] == slugify(name) for a in self.state.data["apps"].values())
        if not name or taken:
            return _page("Name already taken", "<p>Choose another GitHub App name.</p>", 422)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        app_id = max(int(i) for i in self.state.data["apps"]) + 1 if self.state.data["apps"] else 1
        hook = manifest.get("hook_attributes") or {}
        record = self._app_record(
            id=app_id,
            name=name,
            public_key=public_pem(key.public_key()),
            hook_url=str(hook.get("url") or ""),
            installed=False,
            permissions=dict(manifest.get("default_permissions") or {}),
            events=list(manifest.get("default_events") or []),
        )
        record["callback_urls"] = list(manifest.get("callback_urls") or [])
        record["url"] = str(manifest.get("url") or "")  # the manifest's homepage (external_url)
        code = secrets.token_hex(20)
        self.state.data["apps"][str(app_id)] = record
        self.state.data["codes"][code] = {
            "app_id": app_id,
            "expires_at": time.time() + CODE_TTL,
            "used": False,
            "pem": key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            ).decode(),
            "webhook_secret": secrets.token_hex(20),
            "client_secret": secrets.token_hex(20),
        }
        self.state.save()
        query = urlencode({"code": code, "state": request.form.get("state", "")})
        parts = urlsplit(str(manifest.get("redirect_url") or ""))
        extra = urlencode(parse_qsl(parts.query))
        target = urlunsplit(parts._replace(query=f"{extra}&{query}" if extra else query))
        return Response(status=302, headers={"Location": target})

    def _install(self, request: Request, slug: str) -> Response:
        app = next((a for a in self.state.data["apps"].values() if a["slug"] == slug), None)
        if app is None:
            return _page("Page not found", "<p>404</p>", 404)
        org = self.github.org
        if request.method == "GET":
            body = (
                f"<p>Install <b>{html.escape(app['name'])}</b> on {html.escape(org)}.</p>"
                "<form method='post'><button id='install' type='submit'>Install</button></form>"
            )
            return _page(f"Install {app['name']}", body)
        app["installation"] = {
            "id": 100 + int(app["id"]),
            "permissions": dict(app["permissions"]),
            "events": list(app["events"]),
        }
        self.state.save()
        return _page(f"{app['name']} is installed on {org}", "<p>You can close this page.</p>")

    # ---- the REST API (GITHUB_API_URL) ----------------------------------------------------

    def _convert(self, request: Request, code: str) -> Response:
        pending = self.state.data["codes"].get(code)
        if pending is None or pending["used"] or pending["expires_at"] < time.time():
            raise Refused(404, "Not Found")
        pending["used"] = True
        app = self.state.data["apps"][str(pending["app_id"])]
        body = {
            **self._app_json(app),
            "client_id": app["client_id"],
            "client_secret": pending.pop("client_secret"),
            "webhook_secret": pending.pop("webhook_secret"),
            "pem": pending.pop("pem"),
        }
        self.state.save()
        return json_response(body, 201)

    def _app_json(self, app: dict[str, Any]) -> dict[str, Any]:
        owner = {**shapes.simple_user(self.github.url, self.github.org, shapes.ORG_ID)}
        owner["type"] = "Organization"
        html_url = f"{self.web_base}/apps/{app['slug']}"
        return {
            "id": app["id"],
            "slug": app["slug"],
            "node_id": f"A_{app['id']}",
            "client_id": app["client_id"],
            "owner": owner,
            "name": app["name"],
            "description": "",
            "external_url": app.get("url") or html_url,
            "html_url": html_url,
            "created_at": _stamp(app["created_at"]),
            "updated_at": _stamp(app["created_at"]),
            "permissions": {"metadata": "read", **app["permissions"]},
            "events": app["events"],
            "installations_count": 1 if app["installation"] else 0,
        }

    def _authenticated_app(self, request: Request) -> dict[str, Any]:
        """The App whose JWT signs the request (GitHub's checks: RS256, iss, ≤ 10 minutes)."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Refused(401, "Requires authentication")
        try:
            issuer = str(jwt.decode(token, options={"verify_signature": False}).get("iss"))
            app = self.state.data["apps"].get(issuer)
            if app is None:
                raise Refused(401, "Integration not found")
            key = serialization.load_pem_public_key(app["public_key"].encode())
            claims = jwt.decode(
                token,
                key,  # type: ignore[arg-type]
                algorithms=["RS256"],
                options={"require": ["iat", "exp", "iss"], "verify_iat": False},
            )
        except jwt.PyJWTError as exc:
            raise Refused(401, "A JSON web token could not be decoded") from exc
        if claims["exp"] - claims["iat"] > MAX_JWT_LIFETIME:
            raise Refused(401, "'Expiration time' claim ('exp') is too far in the future")
        result: dict[str, Any] = app
        return result

    def _get_app(self, request: Request) -> Response:
        return json_response(self._app_json(self._authenticated_app(request)))

    def _hook_config(self, request: Request) -> Response:
        hook = self._authenticated_app(request)["hook"]
        body = {
            "content_type": hook["content_type"],
            "insecure_ssl": "0",
            "secret": "********",
            "url": hook["url"],
        }
        return json_response(body)

    def _deliveries(self, request: Request) -> Response:
        app = self._authenticated_app(request)
        per_page = max(1, min(int(request.args.get("per_page", 30)), 100))
        sent = [
            {
                "id": 5000 + i,
                "guid": d["id"],
                "delivered_at": _stamp(d["at"]),
                "redelivery": False,
                "duration": 0.05,
                "status": "OK" if d["status"] == 200 else str(d["status"]),
                "status_code": d["status"] if isinstance(d["status"], int) else 0,
                "event": d["event"],
                "action": d["action"] or None,
                "installation_id": (app["installation"] or {}).get("id"),
                "repository_id": None,
                "throttled_at": None,
            }
            for i, d in enumerate(self.webhooks.deliveries)
        ]
        merged = sorted([*sent, *app["failed_deliveries"]], key=lambda d: d["delivered_at"])
        return json_response(list(reversed(merged))[:per_page])

    def _installation(self, request: Request, org: str) -> Response:
        app = self._authenticated_app(request)
        self._org_or_404(org, documented=False)
        installation = app["installation"]
        if installation is None:  # GitHub's answer; its description lists 200 only
            raise Answer(json_answer(404, shapes.error("Not Found", 404)), outside=True)
        body = {
            **shapes.installation(self.github.url, self.github.org, app["id"], installation["id"]),
            "app_slug": app["slug"],
            "repository_selection": "all",
            "permissions": {"metadata": "read", **installation["permissions"]},
            "events": installation["events"],
            "created_at": _stamp(app["created_at"]),
            "updated_at": _stamp(app["created_at"]),
        }
        return json_response(body)

    def _access_token(self, request: Request, iid: int) -> Response:
        app = self._authenticated_app(request)
        if (app["installation"] or {}).get("id") != iid:
            raise Refused(404, "Not Found")
        token = "ghs_" + secrets.token_hex(18)
        expires = self.github.clock() + self.github.token_ttl
        with self.github.lock:
            self.github.tokens[token] = expires
        return json_response({"token": token, "expires_at": _stamp(expires)}, 201)

    def _get_org(self, request: Request, org: str) -> Response:
        self._org_or_404(org)
        return json_response(shapes.organization_full(self.github.url, self.github.org))

    # ---- the playground's controls (/dev/api/github/app) -------------------------------------

    def change_app(self, app_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """Change an App as its owner would on GitHub: permissions, events, the webhook URL,
        installed or not; ``failed_deliveries``: that many recent deliveries with that code."""
        with self.state.lock:
            app = self.state.data["apps"].get(str(app_id))
            if app is None:
                raise LookupError(f"no GitHub App {app_id} on the stand-in")
            if "permissions" in body:
                app["permissions"] = dict(body["permissions"])
            if "events" in body:
                app["events"] = list(body["events"])
            if "hook_url" in body:
                app["hook"]["url"] = str(body["hook_url"])
            if body.get("installed") is False:
                app["installation"] = None
            failed = body.get("failed_deliveries")
            if failed:
                app["failed_deliveries"] += [
                    {
                        "id": 9000 + i,
                        "guid": secrets.token_hex(8),
                        "delivered_at": _stamp(time.time()),
                        "redelivery": False,
                        "duration": 10.0,
                        "status": "Bad Gateway",
                        "status_code": int(failed["status_code"]),
                        "event": "membership",
                        "action": "added",
                        "installation_id": (app["installation"] or {}).get("id"),
                        "repository_id": None,
                        "throttled_at": None,
                    }
                    for i in range(int(failed["count"]))
                ]
            self.state.save()
            return {"ok": True}
