"""One declaration per setting: each Config field is the setting, and the loader, the generated
documents and `config check` take every setting from it, with no list of names anywhere else."""

from __future__ import annotations

import dataclasses
import logging
import subprocess
import sys
import typing
from pathlib import Path

import pytest

from config import Config, ConfigError, GitHubKey, Secret, load_config
from config.cli import render_table
from config.declaration import declared, setting, settings_class
from config.docs import app_json_env, env_example, markdown_reference
from config.settings import SETTINGS
from tests.support.keys import valid_env

REPO = Path(__file__).resolve().parents[2]
NOT_SETTINGS = {"sources", "warnings"}
HINTS = typing.get_type_hints(Config)


def test_every_config_field_is_a_declared_setting_and_back():
    fields = [f.name for f in dataclasses.fields(Config) if f.name not in NOT_SETTINGS]
    assert fields == [s.attr for s in SETTINGS]
    assert [s.name for s in SETTINGS] == [s.attr.upper() for s in SETTINGS]
    assert len({s.name for s in SETTINGS}) == len(SETTINGS) == 36


@pytest.mark.parametrize("declaration", SETTINGS, ids=lambda s: s.name)
def test_a_declaration_reaches_the_docs_app_json_and_config_check(declaration, env):
    assert f"\n{declaration.name}=\n" in env_example()
    assert f"| `{declaration.name}` |" in markdown_reference()
    assert (declaration.name in app_json_env()) is not declaration.heroku_sets
    table = render_table(load_config(env)).split("\n\n")[0]  # before the fingerprint line
    rows = [line.split()[:2] for line in table.splitlines()]
    assert [row[1] for row in rows if row[:1] == [declaration.name]] in (["env"], ["default"])


@pytest.mark.parametrize("declaration", SETTINGS, ids=lambda s: s.name)
def test_a_secret_is_hidden_by_its_type_and_masked(declaration, env):
    secret_type = HINTS[declaration.attr] in (Secret, GitHubKey)
    assert secret_type is declaration.secret
    config = load_config(env)
    value = getattr(config, declaration.attr)
    if declaration.secret and value:
        text = value.reveal()
        assert text not in repr(config)
        parts = declaration.secret_parts(text) if declaration.secret_parts else (text,)
        assert set(parts) <= set(config.secret_values())


@pytest.mark.parametrize(
    "declaration", [s for s in SETTINGS if not s.required], ids=lambda s: s.name
)
def test_the_config_default_is_the_loaders_default(declaration, env):
    env.pop(declaration.name, None)
    config = load_config(env)
    loaded = getattr(config, declaration.attr)
    field = next(f for f in dataclasses.fields(Config) if f.name == declaration.attr)
    assert field.default_factory() == loaded
    assert declaration.parse(typing.cast(str, declaration.default)) == loaded
    assert config.sources[declaration.name] == "default"


# A valid value for each setting the test environment leaves at its default.
VALID = {
    "SLACK_TEAM_ID": "T0123ABCDEF",
    "GITHUB_CLIENT_ID": "Iv23liExampleClientId",
    "GITHUB_CLIENT_SECRET": "c" * 40,
    "PUBLIC_URL": "https://rocket2.example.org",
    "GITHUB_ADMIN_TEAM_NAME": "admins",
    "GITHUB_LEADS_TEAM_NAME": "leads",
    "SLACK_RESPONSE_URL_ORIGINS": "http://127.0.0.1:8080",
    "REPLICA_URL": "s3://club-backups/rocket2",
    "REPLICA_ENDPOINT": "https://s3.example.org",
    "REPLICA_ACCESS_KEY_ID": "AKIDEXAMPLE",
    "REPLICA_SECRET_ACCESS_KEY": "s" * 40,
    "BACKUP_DIR": "/app/backups",
    "HEALTHZ_TOKEN": "h" * 32,
}


@pytest.mark.parametrize("declaration", SETTINGS, ids=lambda s: s.name)
def test_every_setting_can_come_from_a_file(declaration, env, tmp_path):
    value = env.pop(declaration.name, None) or VALID.get(declaration.name) or declaration.default
    assert value
    if declaration.together:
        for other in SETTINGS:
            if other.together == declaration.together and other is not declaration:
                env[other.name] = VALID[other.name]
    path = tmp_path / "value"
    path.write_text(value + "\n")
    path.chmod(0o600)
    env[f"{declaration.name}_FILE"] = str(path)
    config = load_config(env)
    assert config.sources[declaration.name] == "_FILE"
    assert getattr(config, declaration.attr) == declaration.parse(value)


def test_an_empty_real_variable_is_unset_so_the_env_file_gives_it(env, tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("PORT=6000\nLOG_LEVEL=debug\n")
    dotenv.chmod(0o600)
    env.update(PORT="", LOG_LEVEL="WARNING")
    config = load_config(env, env_file=dotenv)
    assert (config.port, config.sources["PORT"]) == (6000, ".env")
    assert (config.log_level, config.sources["LOG_LEVEL"]) == ("WARNING", "env")


def test_a_group_given_in_part_names_each_missing_member_and_its_purpose(key_pem):
    with pytest.raises(ConfigError) as caught:
        load_config(valid_env(key_pem, PUBLIC_URL="https://rocket2.example.org"))
    assert [str(p) for p in caught.value.problems] == [
        f"{name}: is needed with PUBLIC_URL (GitHub account linking) — set all of "
        "GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET, PUBLIC_URL, or none of them"
        for name in ("GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET")
    ]


def test_the_minimum_length_is_declared_and_warned_by_name(env, caplog):
    minimums = {s.name: s.min_length for s in SETTINGS if s.min_length}
    assert minimums == {
        "SLACK_SIGNING_SECRET": 32,
        "GITHUB_WEBHOOK_SECRET": 32,
        "GITHUB_CLIENT_SECRET": 40,
        "HEALTHZ_TOKEN": 32,
    }
    env.update(SLACK_SIGNING_SECRET="s" * 31, GITHUB_WEBHOOK_SECRET="w" * 32)
    with caplog.at_level(logging.WARNING, logger="rocket2.config"):
        config = load_config(env)
    assert config.warnings == (
        "SLACK_SIGNING_SECRET: shorter than 32 characters; use a long random value "
        "(Slack and GitHub issue secrets at least this long)",
    )
    assert env["SLACK_SIGNING_SECRET"] not in caplog.text


# The declaration itself: a new setting is one field.


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) == 0:
        raise ValueError("must be a positive whole number")
    return int(value)


@settings_class
class Example:
    max_things: int = setting(_positive, description="How many.", fix="use 1 or more")
    pool_size: int = setting(_positive, description="Pool.", fix="use 1 or more", default="4")


def test_a_declared_field_is_a_named_setting_with_its_parsed_default():
    first, second = declared(Example)
    assert (first.name, first.required, second.name, second.required) == (
        "MAX_THINGS",
        True,
        "POOL_SIZE",
        False,
    )
    example = Example(max_things=2)
    assert (example.max_things, example.pool_size) == (2, 4)
    with pytest.raises(TypeError):
        Example()  # type: ignore[call-arg]
    with pytest.raises(dataclasses.FrozenInstanceError):
        example.pool_size = 5


MISDECLARED = """
from config import parsers
from config.declaration import setting, settings_class


@settings_class
class Misdeclared:
    port: str = setting(parsers.port, description="Port.", fix="a port", default="5000")
    app_id: int = setting(parsers.positive_int, description="Id.", fix="a number")


Misdeclared(port="1")
"""


def test_mypy_checks_each_parser_against_its_attribute_and_the_required_ones(tmp_path):
    """The declaration keeps the attribute types precise: mypy --strict sees through it."""
    source = tmp_path / "misdeclared.py"
    source.write_text(MISDECLARED)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(source)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        'misdeclared.py:8: error: Incompatible types in assignment (expression has type "int"'
        in (result.stdout)
    )
    assert 'misdeclared.py:12: error: Missing named argument "app_id"' in result.stdout
    assert "Found 2 errors" in result.stdout
