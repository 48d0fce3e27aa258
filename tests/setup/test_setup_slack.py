"""`rocket2 setup slack`: the manifest checked offline against Slack's vendored schema and our
rules; with an app configuration token, the stand-in's Manifest API creates or updates the app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dotenv import dotenv_values
from jsonschema import Draft7Validator

from app.platforms import SLACK
from app.setup.slack_manifest import build_manifest, manifest_problems, rule_problems
from tests.setup.conftest import StandIns, assert_no_secret, secrets_in
from tests.support.cli import rocket2

SCHEMA = Path(__file__).resolve().parents[2] / "app/setup/schemas/slack-manifest.schema.1.0.0.json"


def test_the_printed_manifest_validates_against_slacks_schema(tmp_path: Path):
    done = rocket2(
        "setup", "slack", "--public-url", "https://rocket.example.org", env={}, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    manifest = json.loads(done.stdout)
    assert list(Draft7Validator(json.loads(SCHEMA.read_text())).iter_errors(manifest)) == []
    assert json.loads((tmp_path / "slack-manifest.json").read_text()) == manifest
    assert manifest["oauth_config"]["scopes"]["bot"] == list(SLACK.bot_scopes)
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == list(SLACK.bot_events)
    assert manifest["settings"]["event_subscriptions"]["request_url"] == (
        "https://rocket.example.org/slack/events"
    )
    (command,) = manifest["features"]["slash_commands"]
    assert command["url"] == "https://rocket.example.org/slack/commands"
    assert command["should_escape"] is True
    assert "https://api.slack.com/apps?new_app=1&manifest_json=" in done.stderr
    assert "rocket2 setup env" in done.stderr


def test_our_rules_refuse_what_rocket2_cannot_work_with():
    manifest = build_manifest("https://rocket.example.org")
    manifest["oauth_config"]["scopes"]["bot"].append("admin")
    manifest["settings"]["socket_mode_enabled"] = True
    manifest["settings"]["token_rotation_enabled"] = True
    manifest["features"]["slash_commands"][0]["should_escape"] = False
    manifest["features"]["slash_commands"][0]["url"] = "http://rocket.example.org/slack/commands"
    problems = "\n".join(rule_problems(manifest))
    for pointer in (
        "/oauth_config/scopes/bot",
        "/settings/socket_mode_enabled",
        "/settings/token_rotation_enabled",
        "/features/slash_commands",
        "/features/slash_commands/0/url",
    ):
        assert pointer + ":" in problems
    manifest["display_information"]["name"] = "x" * 36  # Slack's schema: at most 35
    assert any(p.startswith("/display_information/name:") for p in manifest_problems(manifest))


@pytest.mark.parametrize("url", ["http://rocket.example.org", "https://host/path", "rocket"])
def test_a_public_url_that_is_not_an_https_origin_is_refused(tmp_path: Path, url: str):
    done = rocket2("setup", "slack", "--public-url", url, env={}, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("setup: --public-url must be")
    assert not (tmp_path / "slack-manifest.json").exists()


def test_with_a_config_token_the_app_is_created_and_its_signing_secret_kept(standins: StandIns):
    env_file = standins.directory / ".env"
    token = standins.config_token()
    before = dotenv_values(env_file)["SLACK_SIGNING_SECRET"]
    args = ("setup", "slack", "--public-url", "https://rocket.example.org")
    refused = standins.run(*args, SLACK_CONFIG_TOKEN=token)
    assert refused.returncode == 2
    assert "already sets SLACK_SIGNING_SECRET" in refused.stderr and "--force" in refused.stderr
    assert dotenv_values(env_file)["SLACK_SIGNING_SECRET"] == before

    created = standins.run(*args, "--config-token", token, "--force")
    assert created.returncode == 0, created.stderr
    assert "Slack app A0DEV" in created.stdout
    assert "https://slack.com/oauth/v2/authorize?client_id=" in created.stdout
    after = dotenv_values(env_file)["SLACK_SIGNING_SECRET"]
    assert after and after != before
    assert env_file.stat().st_mode & 0o777 == 0o600
    app_id = created.stdout.split("Slack app ", 1)[1].split(" ", 1)[0].rstrip(";")
    moved = standins.run(
        "setup",
        "slack",
        "--public-url",
        "https://new.example.org",
        "--config-token",
        token,
        "--update",
        app_id,
    )
    assert moved.returncode == 0, moved.stderr
    assert f"Slack app {app_id} updated" in moved.stdout
    for done in (refused, created, moved):
        assert_no_secret(done.stdout + done.stderr, [token, *secrets_in(env_file)])


def test_slacks_refusals_are_told_in_operator_words(standins: StandIns):
    args = ("setup", "slack", "--public-url", "https://rocket.example.org")
    bad_token = standins.run(*args, "--config-token", "xoxe.xoxp-1-not-the-one")
    assert bad_token.returncode == 2
    assert "Slack refused the app configuration token" in bad_token.stderr
    unknown = standins.run(*args, "--config-token", standins.config_token(), "--update", "A0NOPE")
    assert unknown.returncode == 2
    assert "Slack knows no app with that id" in unknown.stderr
    assert "Traceback" not in bad_token.stderr + unknown.stderr


def test_an_invalid_manifest_is_shown_with_slacks_pointers(standins: StandIns):
    from app.slack import manifests

    manifest = build_manifest("https://rocket.example.org")
    del manifest["settings"]["event_subscriptions"]["request_url"]
    with pytest.raises(manifests.ManifestApiError) as refused:
        manifests.validate(standins.url + "/api/", standins.config_token(), manifest)
    assert str(refused.value).startswith("Slack refused the manifest:\n")
    assert "/settings/event_subscriptions: Event Subscription requires" in str(refused.value)
