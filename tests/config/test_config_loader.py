"""load_config: every variable, defaults, errors by name without values, _FILE, .env, quotes."""

from __future__ import annotations

import logging

import pytest

from config import Config, ConfigError, Secret, load_config, loader
from config.settings import SETTINGS

REQUIRED = [s.name for s in SETTINGS if s.required]


def test_valid_environment_loads_with_defaults(env):
    config = load_config(env)
    assert isinstance(config, Config)
    assert config.github_app_id == 4242
    assert config.github_org_name == "rocket-club"
    assert config.slack_api_token.reveal() == env["SLACK_API_TOKEN"]
    assert config.slack_notification_channel == "#rocket2"
    assert config.slack_announcement_channel == "#rocket2-announcements"
    assert config.github_default_team_name == "all"
    assert config.github_admin_team_name == ""
    assert config.github_webhook_endpt == "/webhook"
    assert (config.port, config.web_concurrency) == (5000, 1)
    assert (config.log_level, config.log_format) == ("INFO", "text")
    assert config.scheduler_timezone == "America/Los_Angeles"
    assert config.slack_api_url == "https://slack.com/api/"
    assert config.github_api_url == "https://api.github.com"
    assert config.database_url.reveal() == "sqlite:///data/rocket2.db"
    assert config.sources["GITHUB_KEY"] == "env"
    assert config.sources["PORT"] == "default"


def test_config_is_immutable(env):
    config = load_config(env)
    with pytest.raises(AttributeError):
        config.port = 1  # type: ignore[misc]


def test_all_missing_required_named_in_one_error():
    with pytest.raises(ConfigError) as caught:
        load_config({})
    assert set(caught.value.names) == set(REQUIRED)
    text = str(caught.value)
    for name in REQUIRED:
        assert f"{name}: is required but not set" in text


def test_empty_value_is_unset(env):
    env["SLACK_SIGNING_SECRET"] = ""
    env["PORT"] = ""
    with pytest.raises(ConfigError) as caught:
        load_config(env)
    assert caught.value.names == ("SLACK_SIGNING_SECRET",)


BAD_VALUES = {
    "SLACK_API_TOKEN": ("s3cr3t-not-a-token-value", "Slack token"),
    "GITHUB_APP_ID": ("-12abcdefgh", "positive whole number"),
    "GITHUB_ORG_NAME": ("bad--org_name!!", "GitHub login"),
    "GITHUB_WEBHOOK_ENDPT": ("webhook-no-slash", "start with /"),
    "PORT": ("99999999", "port number"),
    "WEB_CONCURRENCY": ("zero-workers", "positive whole number"),
    "LOG_LEVEL": ("CHATTYLEVEL", "one of DEBUG"),
    "LOG_FORMAT": ("xmlformat", "one of text, json"),
    "SCHEDULER_TIMEZONE": ("Mars/Olympus_Mons", "IANA time zone"),
    "SLACK_API_URL": ("ftp://files.example", "http"),
    "GITHUB_API_URL": ("not-a-url-at-all", "http"),
    "DATABASE_URL": ("mysql://user:pw@host/db", "sqlite or postgresql"),
    "FORWARDED_ALLOW_IPS": ("10.0.0.1,nothost", "IP addresses"),
    "SLACK_NOTIFICATION_CHANNEL": ("Not A Channel!!", "Slack channel"),
    "GITHUB_ADMIN_TEAM_NAME": ("bad/team/name", "team name"),
}


@pytest.mark.parametrize("name", list(BAD_VALUES))
def test_bad_value_named_without_the_value(env, name):
    value, expected = BAD_VALUES[name]
    env[name] = value
    with pytest.raises(ConfigError) as caught:
        load_config(env)
    assert caught.value.names == (name,)
    text = str(caught.value)
    assert expected in text
    assert value not in text
    assert " — " in text  # what is wrong — how to fix it


@pytest.mark.parametrize("path", ["/", "/slack/hooks", "/slack", "/healthz"])
def test_webhook_path_rules(env, path):
    env["GITHUB_WEBHOOK_ENDPT"] = path
    with pytest.raises(ConfigError) as caught:
        load_config(env)
    assert caught.value.names == ("GITHUB_WEBHOOK_ENDPT",)


def test_many_problems_reported_at_once(env):
    env.update(PORT="0", LOG_FORMAT="yaml", GITHUB_APP_ID="x")
    del env["GITHUB_KEY"]
    with pytest.raises(ConfigError) as caught:
        load_config(env)
    assert set(caught.value.names) == {"PORT", "LOG_FORMAT", "GITHUB_APP_ID", "GITHUB_KEY"}


def test_secret_pasted_into_wrong_variable_is_not_echoed(env):
    env["GITHUB_ORG_NAME"] = env["SLACK_SIGNING_SECRET"] + "!"
    with pytest.raises(ConfigError) as caught:
        load_config(env)
    assert env["SLACK_SIGNING_SECRET"] not in str(caught.value)


def test_repr_and_str_hide_secrets(env):
    config = load_config(env)
    shown = repr(config) + str(config)
    for name in ("SLACK_SIGNING_SECRET", "SLACK_API_TOKEN", "GITHUB_WEBHOOK_SECRET"):
        assert env[name] not in shown
    assert "BEGIN" not in shown and "PRIVATE" not in shown
    assert config.github_key.fingerprint in shown
    assert str(Secret("abc")) == "**********"


def test_postgres_scheme_is_normalised(env):
    env["DATABASE_URL"] = "postgres://u:pw@db.example:5432/rocket"
    config = load_config(env)
    assert config.database_url.reveal() == "postgresql+psycopg://u:pw@db.example:5432/rocket"
    assert "pw" in config.secret_values()


# --- _FILE -------------------------------------------------------------------------------------


def test_file_variable_is_read_and_trailing_newline_trimmed(env, tmp_path, key_pem):
    (tmp_path / "secret").write_text("from-a-docker-secret\n")
    (tmp_path / "key.pem").write_text(key_pem)
    del env["SLACK_SIGNING_SECRET"], env["GITHUB_KEY"]
    env["SLACK_SIGNING_SECRET_FILE"] = str(tmp_path / "secret")
    env["GITHUB_KEY_FILE"] = str(tmp_path / "key.pem")
    config = load_config(env)
    assert config.slack_signing_secret.reveal() == "from-a-docker-secret"
    assert config.sources["SLACK_SIGNING_SECRET"] == "_FILE"
    assert config.sources["GITHUB_KEY"] == "_FILE"


def test_both_name_and_file_is_an_error(env, tmp_path):
    (tmp_path / "secret").write_text("x")
    env["SLACK_SIGNING_SECRET_FILE"] = str(tmp_path / "secret")
    with pytest.raises(ConfigError) as caught:
        load_config(env)
    assert caught.value.names == ("SLACK_SIGNING_SECRET",)
    assert "SLACK_SIGNING_SECRET_FILE" in str(caught.value)


def test_unreadable_file_names_variable_and_path(env, tmp_path):
    missing = tmp_path / "nope" / "key.pem"
    del env["GITHUB_KEY"]
    env["GITHUB_KEY_FILE"] = str(missing)
    with pytest.raises(ConfigError) as caught:
        load_config(env)
    text = str(caught.value)
    assert caught.value.names == ("GITHUB_KEY",)
    assert "GITHUB_KEY_FILE" in text and str(missing) in text


# --- .env --------------------------------------------------------------------------------------


def test_env_file_is_read_and_real_environment_wins(env, tmp_path):
    dotenv = tmp_path / ".env"
    escaped = env["GITHUB_KEY"].replace("\n", "\\n")
    dotenv.write_text(
        f"GITHUB_KEY=\"{escaped}\"\nLOG_LEVEL=debug\nPORT=6000\nSLACK_SIGNING_SECRET='from-file'\n"
    )
    real = {k: v for k, v in env.items() if k != "GITHUB_KEY"}
    real["PORT"] = "7000"
    config = load_config(real, env_file=dotenv)
    assert config.port == 7000 and config.sources["PORT"] == "env"
    assert config.log_level == "DEBUG" and config.sources["LOG_LEVEL"] == ".env"
    assert config.sources["GITHUB_KEY"] == ".env"
    assert config.slack_signing_secret.reveal() == env["SLACK_SIGNING_SECRET"]


def test_missing_env_file_is_an_error(env, tmp_path):
    with pytest.raises(ConfigError, match="--env-file"):
        load_config(env, env_file=tmp_path / "absent.env")


# --- quotes and old variables ------------------------------------------------------------------


def test_one_pair_of_quotes_stripped_with_a_warning(env, caplog):
    env["GITHUB_ORG_NAME"] = "'rocket-club'"
    env["SLACK_NOTIFICATION_CHANNEL"] = '"#ops"'
    env["LOG_LEVEL"] = "'\"INFO\"'"
    with caplog.at_level(logging.WARNING, logger="rocket2.config"), pytest.raises(ConfigError):
        load_config(env)  # only one pair is stripped: '"INFO"' is still wrong
    env["LOG_LEVEL"] = "INFO"
    with caplog.at_level(logging.WARNING, logger="rocket2.config"):
        config = load_config(env)
    assert config.github_org_name == "rocket-club"
    assert config.slack_notification_channel == "#ops"
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert "GITHUB_ORG_NAME" in warned and "SLACK_NOTIFICATION_CHANNEL" in warned
    assert "rocket-club" not in warned


def test_the_old_bots_variables_are_ignored_with_one_warning_each_per_process(env, caplog):
    loader._old_bot_logged.clear()  # a fresh process's state
    env.update(
        AWS_ACCESS_KEYID="AKIAxxxxxxxx",
        AWS_SECRET_KEY="shh-aws",
        GCP_SERVICE_ACCOUNT_CREDENTIALS="{}",
        AWS_CA_BUNDLE="/etc/ssl/certs/ca-certificates.crt",  # AWS's tools' own: no warning
        AWS_REGION="us-west-2",
    )
    with caplog.at_level(logging.WARNING, logger="rocket2.config"):
        config = load_config(env)
        load_config(env)
        load_config(env)
    messages = [r.getMessage() for r in caplog.records]
    for name in ("AWS_ACCESS_KEYID", "AWS_SECRET_KEY", "GCP_SERVICE_ACCOUNT_CREDENTIALS"):
        assert sum(m.startswith(name + ":") for m in messages) == 1
    assert not any("shh-aws" in m for m in messages)
    assert not any(m.startswith(("AWS_CA_BUNDLE", "AWS_REGION")) for m in messages)
    assert len(config.warnings) == 3
