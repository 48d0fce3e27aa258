"""GitHub: the App JWT is accepted, the App and its installation on GITHUB_ORG_NAME have the
declared permissions and events, the webhook is as declared and its recent deliveries are
healthy, and the admin and leads teams resolve."""

from __future__ import annotations

from typing import Any

from app.doctor.context import Context
from app.doctor.report import Result, fail, ok, warn
from app.github.apps import AppCallError
from app.platforms import GITHUB, missing_permissions

RECENT = 5
KEY_FIX = (
    "check GITHUB_APP_ID and GITHUB_KEY (`rocket2 config check` shows the key's fingerprint; "
    "the App's settings page lists its keys' fingerprints)"
)


def _app(ctx: Context) -> dict[str, Any]:
    app: dict[str, Any] = ctx.answer("GET /app", ctx.app_view.app)
    return app


def _settings_page(ctx: Context) -> str:
    try:
        return str(_app(ctx).get("html_url", "the App's settings page"))
    except Exception:
        return "the App's settings page"


def github_app(ctx: Context) -> Result:
    """GitHub accepts the App JWT (GET /app)."""
    try:
        app = _app(ctx)
    except AppCallError as exc:
        if exc.status == 0:
            return fail("github app", str(exc), "check GITHUB_API_URL and this machine's network")
        return fail("github app", f"GitHub refused the App JWT ({exc.status}: {exc})", KEY_FIX)
    return ok("github app", f"the App JWT is accepted: {app.get('slug')} (id {app.get('id')})")


def _lacks(granted: dict[str, str], events: list[str]) -> str:
    missing = [f"{name}: {level}" for name, level in missing_permissions(granted).items()]
    missing += [f"event {e}" for e in GITHUB.events if e not in events]
    return ", ".join(missing)


def github_permissions(ctx: Context) -> Result:
    """The App asks for every declared permission and event."""
    app = _app(ctx)
    lacks = _lacks(dict(app.get("permissions") or {}), list(app.get("events") or []))
    if lacks:
        return fail(
            "github permissions",
            f"the App lacks {lacks}",
            f"add them under Permissions & events on {_settings_page(ctx)}",
        )
    return ok("github permissions", "the App has the declared permissions and events")


def _installation(ctx: Context) -> dict[str, Any]:
    org = ctx.config.github_org_name
    found: dict[str, Any] = ctx.answer("installation", lambda: ctx.app_view.installation(org))
    return found


def github_installation(ctx: Context) -> Result:
    """The App is installed on GITHUB_ORG_NAME with the declared permissions and events."""
    org = ctx.config.github_org_name
    try:
        installation = _installation(ctx)
    except AppCallError as exc:
        if exc.status == 404:
            return fail(
                "github installation",
                f"the App is not installed on {org}",
                f"install it: {_settings_page(ctx)}/installations/new",
            )
        return fail("github installation", f"GitHub did not say ({exc.status}: {exc})", KEY_FIX)
    lacks = _lacks(
        dict(installation.get("permissions") or {}), list(installation.get("events") or [])
    )
    if lacks:
        return fail(
            "github installation",
            f"the installation on {org} lacks {lacks}",
            f"an owner of {org} accepts the App's new permissions (Settings → GitHub Apps)",
        )
    return ok("github installation", f"installed on {org} with the declared permissions")


def github_webhook(ctx: Context) -> Result:
    """The App's webhook URL is PUBLIC_URL + GITHUB_WEBHOOK_ENDPT, its content type JSON."""
    hook: dict[str, Any] = ctx.answer("hook config", ctx.app_view.hook_config)
    url = str(hook.get("url") or "")
    config = ctx.config
    wanted = (config.public_url + config.github_webhook_endpt) if config.public_url else ""
    path = "/" + url.split("://", 1)[-1].partition("/")[2]
    if (wanted and url != wanted) or path != config.github_webhook_endpt:
        return fail(
            "github webhook",
            f"GitHub delivers to {url or '(no URL)'}, Rocket 2 listens "
            f"on {wanted or config.github_webhook_endpt}",
            f"set the App's webhook URL to {wanted or '…' + config.github_webhook_endpt} "
            "or GITHUB_WEBHOOK_ENDPT to the URL's path",
        )
    if hook.get("content_type") != "json":
        return fail(
            "github webhook",
            f"the webhook's content type is {hook.get('content_type')}",
            f"choose application/json on {_settings_page(ctx)}",
        )
    return ok("github webhook", f"GitHub delivers JSON to {url}")


FIXES = {
    0: "GitHub could not connect: check PUBLIC_URL's DNS, port 443 and certificate",
    401: "GITHUB_WEBHOOK_SECRET differs from the App's webhook secret: set the same on both",
    403: "GITHUB_WEBHOOK_SECRET differs from the App's webhook secret: set the same on both",
    404: "the webhook URL's path is not GITHUB_WEBHOOK_ENDPT",
}
DOWN = "Rocket 2 or its proxy did not answer: check the deploy (docker compose ps, heroku ps)"


def github_deliveries(ctx: Context) -> Result:
    """GitHub's recent webhook deliveries got 2xx answers."""
    recent: list[dict[str, Any]] = ctx.answer("deliveries", lambda: ctx.app_view.deliveries(RECENT))
    codes = [int(d.get("status_code") or 0) for d in recent[:RECENT]]
    failed = [c for c in codes if not 200 <= c < 300]
    if not codes:
        return ok("github deliveries", "no delivery yet")
    if not failed:
        return ok("github deliveries", f"GitHub's last {len(codes)} deliveries got 2xx")
    worst = max(set(failed), key=failed.count)
    said = f"GitHub's last {len(codes)} deliveries got " + (
        str(worst) if len(set(codes)) == 1 else ", ".join(map(str, codes))
    )
    fix = FIXES.get(worst, DOWN)
    return (fail if len(failed) == len(codes) or codes[0] == worst else warn)(
        "github deliveries", said, fix
    )


def github_teams(ctx: Context) -> Result:
    """The admin and leads teams named in the config exist in the organisation."""
    from app.github import GitHubClient
    from app.teams.mirror import github_slug

    config = ctx.config
    named = {
        s: n
        for s, n in (
            ("GITHUB_ADMIN_TEAM_NAME", config.github_admin_team_name),
            ("GITHUB_LEADS_TEAM_NAME", config.github_leads_team_name),
        )
        if n
    }
    if not named:
        return ok("github teams", "no admin or leads team is configured")
    _installation(ctx)
    with GitHubClient.from_config(config, max_attempts=1) as client:
        missing = [f"{s}={n}" for s, n in named.items() if client.find_team(github_slug(n)) is None]
    if missing:
        return fail(
            "github teams",
            f"no such team in {config.github_org_name}: {', '.join(missing)}",
            "create the team on GitHub, or fix the setting",
        )
    return ok("github teams", f"{', '.join(named.values())} resolve in {config.github_org_name}")
