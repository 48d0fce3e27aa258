"""`rocket2 setup github`: GitHub's App manifest flow from a one-shot loopback page, the code
exchanged for the App's values, the seven values written to the env file (no secret printed)."""

from __future__ import annotations

import argparse
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote

from app.github import apps
from app.setup.envfile import EnvFileRefused, existing_values, update_env_file
from app.setup.github_manifest import build_manifest
from app.setup.loopback import ManifestPage
from app.setup.slack_command import checked_public_url, env_file_of, fail
from config import ConfigError, decode_github_key, load_settings
from config.parsers import github_login

WRITTEN = (
    "GITHUB_APP_ID",
    "GITHUB_KEY",
    "GITHUB_WEBHOOK_SECRET",
    "GITHUB_CLIENT_ID",
    "GITHUB_CLIENT_SECRET",
    "GITHUB_ORG_NAME",
    "PUBLIC_URL",
)
REFUSALS = {
    "state": "GitHub's answer carried a state that is not this run's, so it was refused "
    "(another tab or an old link?); nothing was created here. Run `rocket2 setup github` again",
    "code": "GitHub's answer carried no code; run `rocket2 setup github` again",
}
SETTINGS = ("GITHUB_API_URL", "GITHUB_OAUTH_URL", "GITHUB_WEBHOOK_ENDPT")


def cmd_setup_github(args: argparse.Namespace) -> int:
    """Run the manifest flow; write the values; point to the installation page."""
    try:
        org = github_login(args.org)
    except ValueError as exc:
        return fail(f"--org {exc}")
    try:
        public_url = checked_public_url(args.public_url)
        urls = load_settings(SETTINGS, env_file=env_file_of(args))
    except (ValueError, ConfigError) as exc:
        return fail(str(exc))
    env_file = Path(args.env_file)
    clash = [n for n, v in existing_values(env_file).items() if n in WRITTEN]
    clash = [n for n in clash if not _same(n, existing_values(env_file)[n], org, public_url)]
    if clash and not args.force:
        return fail(
            f"{env_file} already sets {', '.join(clash)}; nothing was created. Rerun with "
            "--force to replace them with a new App's (keep a copy of the file first)"
        )
    try:
        if not apps.organisation_exists(urls["GITHUB_API_URL"], org):
            return fail(
                f"GitHub has no organisation {org}; check --org (the LOGIN in "
                "https://github.com/LOGIN)"
            )
    except apps.AppCallError as exc:
        return fail(f"cannot ask GitHub about {org}: {exc}")
    created = _run_flow(args, org, public_url, urls)
    if isinstance(created, int):
        return created
    return _write(args, env_file, created, org, public_url)


def _same(name: str, value: str, org: str, public_url: str) -> bool:
    return (name, value) in (("GITHUB_ORG_NAME", org), ("PUBLIC_URL", public_url))


def _run_flow(
    args: argparse.Namespace, org: str, public_url: str, urls: dict[str, Any]
) -> dict[str, Any] | int:
    state = secrets.token_urlsafe(24)
    form_url = (
        f"{urls['GITHUB_OAUTH_URL'].rstrip('/')}/organizations/{quote(org, safe='')}"
        f"/settings/apps/new?state={state}"
    )
    page = ManifestPage(form_url, state, org, args.port)
    page.serve(
        build_manifest(
            name=args.name,
            public_url=public_url,
            webhook_path=urls["GITHUB_WEBHOOK_ENDPT"],
            redirect_url=page.redirect_url,
        )
    )
    print(f"Open {page.url} in a browser signed in to GitHub as an owner of {org}.", flush=True)
    if not args.no_browser:
        import webbrowser

        webbrowser.open(page.url)
    callback = page.wait(args.timeout)
    if callback is None:
        return fail(
            f"GitHub did not send the browser back within {args.timeout:g} s; run "
            "`rocket2 setup github` again"
        )
    if callback.refused:
        return fail(REFUSALS[callback.refused])
    try:
        return apps.convert_manifest_code(urls["GITHUB_API_URL"], callback.code)
    except apps.AppCallError as exc:
        if exc.status in (404, 422):
            return fail(
                "GitHub did not accept the code: it expired (GitHub allows one hour) "
                "or was already used. Run `rocket2 setup github` again"
            )
        return fail(f"GitHub refused to hand over the new App's values: {exc}")


def _write(
    args: argparse.Namespace, env_file: Path, app: dict[str, Any], org: str, public_url: str
) -> int:
    values = {
        "GITHUB_APP_ID": str(app["id"]),
        "GITHUB_KEY": str(app["pem"]),
        "GITHUB_WEBHOOK_SECRET": str(app["webhook_secret"]),
        "GITHUB_CLIENT_ID": str(app["client_id"]),
        "GITHUB_CLIENT_SECRET": str(app["client_secret"]),
        "GITHUB_ORG_NAME": org,
        "PUBLIC_URL": public_url,
    }
    try:
        update_env_file(env_file, values, force=args.force)
    except EnvFileRefused as exc:  # the file changed while the browser was on GitHub
        return fail(str(exc))
    fingerprint = decode_github_key(values["GITHUB_KEY"]).fingerprint
    print(f"GitHub App {app.get('slug', '')} (id {app['id']}) created for {org}.")
    print(f"Wrote {', '.join(WRITTEN)} to {env_file} (mode 600); key {fingerprint}.")
    print(f"Next: install it on {org}: {app['html_url']}/installations/new")
    print("Then: rocket2 setup env, the deploy, and rocket2 doctor.")
    return 0
