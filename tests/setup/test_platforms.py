"""The one declaration of what Rocket 2 needs (app.platforms) covers what the code uses.

The tables below are Slack's and GitHub's published requirements (each Web API method's
reference page, "Scopes"; GitHub's "Permissions required for GitHub Apps" and each webhook
event's "Availability"). A handler or client call that needs something the declaration lacks
fails here; so does a call missing from the table (add its line from the platform's docs).
"""

from __future__ import annotations

import re
from pathlib import Path

from slack_sdk import WebClient

from app import features
from app.factory import create_app
from app.platforms import GITHUB, SLACK, grants
from config import load_config
from tests.support.keys import valid_env

APP = Path(__file__).resolve().parents[2] / "app"

# Slack Web API method → the bot scopes it needs (api.slack.com/methods/<method>, "Scopes").
SLACK_METHOD_SCOPES: dict[str, set[str]] = {
    "auth.test": set(),
    "chat.postMessage": {"chat:write"},
    "chat.postEphemeral": {"chat:write"},
    "conversations.list": {"channels:read"},
    "conversations.members": {"channels:read"},
    "conversations.open": {"im:write"},
    "users.info": {"users:read", "users:read.email"},  # the profile's e-mail needs the second
    # apps.manifest.* take an app configuration token, not the bot token (rocket2 setup).
    "apps.manifest.validate": set(),
    "apps.manifest.create": set(),
    "apps.manifest.update": set(),
}
# Slack event → the scope that subscribes to it (api.slack.com/events/<type>).
SLACK_EVENT_SCOPES = {"app_mention": "app_mentions:read", "team_join": "users:read"}
# GitHub webhook event → the App permission it needs ("Webhook events and payloads").
GITHUB_EVENT_PERMISSION = {"organization": "members", "team": "members", "membership": "members"}
# GitHub REST path (after the base URL) → the App permission it needs; None: no permission.
GITHUB_PATH_PERMISSION: tuple[tuple[re.Pattern[str], str | None], ...] = (
    (re.compile(r"^orgs/[^/]+/(members|memberships|teams)\b"), "members"),
    (re.compile(r"^users/[^/]+$"), None),
    (re.compile(r"^user/x$"), None),  # GET /user/{id}
    (re.compile(r"^user/emails$"), "emails"),
)


def slack_methods_called() -> set[str]:
    """Every slack_sdk WebClient method called anywhere in app/ (the stand-ins excepted)."""
    names = {n for n in dir(WebClient) if not n.startswith("_") and "_" in n}
    called = set()
    for source in APP.rglob("*.py"):
        if "dev" in source.relative_to(APP).parts:
            continue
        for name in re.findall(r"\.([a-z]+_[A-Za-z_]+)\(", source.read_text()):
            if name in names:
                called.add(name.replace("_", "."))
    return called


def github_calls() -> set[tuple[str, str]]:
    """(HTTP method, path template) of every call app/github/client.py makes."""
    text = (APP / "github" / "client.py").read_text()
    calls = {
        (method, re.sub(r"\{[^}]*\}", "x", path))
        for method, path in re.findall(r'_api\(\s*"([A-Z]+)",\s*f?"([^"]+)"', text)
    }
    calls |= {
        ("GET", re.sub(r"\{[^}]*\}", "x", p)) for p in re.findall(r'_pages\(\s*f"([^"]+)"', text)
    }
    return calls


def test_every_slack_method_called_has_its_scopes_declared():
    called = slack_methods_called()
    assert {"chat.postMessage", "users.info", "conversations.open"} <= called
    unknown = called - SLACK_METHOD_SCOPES.keys()
    assert not unknown, f"add these methods' scopes from Slack's reference: {unknown}"
    needed = set().union(*(SLACK_METHOD_SCOPES[m] for m in called))
    assert needed <= set(SLACK.bot_scopes), needed - set(SLACK.bot_scopes)


def test_every_slack_event_handled_is_declared_with_its_scope():
    handled = set(features.slack_events())
    assert handled == set(SLACK.bot_events)
    assert {SLACK_EVENT_SCOPES[e] for e in handled} <= set(SLACK.bot_scopes)
    assert "commands" in SLACK.bot_scopes  # the slash command itself


def test_every_github_event_handled_is_declared_with_its_permission():
    handled = set(features.webhook_router().events)
    assert handled == set(GITHUB.events)
    for event in handled:
        assert grants(GITHUB.permissions.get(GITHUB_EVENT_PERMISSION[event]), "read"), event


def test_every_github_call_has_its_permission_declared():
    calls = github_calls()
    assert ("PUT", "orgs/x/teams/x/memberships/x") in calls
    for method, path in calls:
        rule = next((p for rx, p in GITHUB_PATH_PERMISSION if rx.match(path)), "unknown")
        assert rule != "unknown", f"add the permission of {method} {path} from GitHub's docs"
        if rule is not None:
            level = "read" if method == "GET" else "write"
            assert grants(GITHUB.permissions.get(rule), level), (method, path, rule)


def test_the_link_second_factor_may_read_the_users_emails():
    assert grants(GITHUB.permissions.get("emails"), "read")


def test_the_declared_paths_are_the_ones_rocket2_serves(key_pem):
    config = load_config(valid_env(key_pem))
    rules = {rule.rule for rule in create_app(config).url_map.iter_rules()}
    assert {SLACK.command.path, SLACK.events_path, GITHUB.callback_path} <= rules
    assert config.github_webhook_endpt in rules


def test_the_by_hand_page_names_what_the_declaration_says():
    readme = (APP.parent / "docs" / "operators" / "deploying.md").read_text()
    slack = readme.split("### The Slack app", 1)[1].split("###", 1)[0]
    scopes = slack.split("bot scopes", 1)[1].split(";", 1)[0]
    assert sorted(re.findall(r"`([a-z_.:]+)`", scopes)) == sorted(SLACK.bot_scopes)
    assert all(f"`{event}`" in slack for event in SLACK.bot_events)
    assert f"`{SLACK.command.command}`" in slack and SLACK.command.path in slack
    github = readme.split("### The GitHub App", 1)[1].split("\n## ", 1)[0]
    assert "*Members: read and write*" in github and "*Email addresses: read*" in github
    assert all(f"*{event.capitalize()}*" in github for event in GITHUB.events)
    assert GITHUB.callback_path in github
