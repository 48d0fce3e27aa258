"""`rocket2 config …` as an operator runs it, against environments written three ways."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config.docs import env_example, markdown_reference
from config.github_key import decode_github_key
from tests.support.cli import rocket2

REPO = Path(__file__).resolve().parents[2]


def _fingerprint(pem: str) -> str:
    return decode_github_key(pem).fingerprint


def test_check_prints_every_setting_source_and_fingerprint(env, tmp_path):
    result = rocket2("config", "check", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"GITHUB_KEY fingerprint {_fingerprint(env['GITHUB_KEY'])}" in out
    assert re.search(r"GITHUB_APP_ID\s+env\s+4242", out)
    assert re.search(r"PORT\s+default\s+5000", out)
    assert re.search(r"SLACK_API_TOKEN\s+env\s+set \(hidden\)", out)
    for name in ("SLACK_SIGNING_SECRET", "SLACK_API_TOKEN", "GITHUB_WEBHOOK_SECRET"):
        assert env[name] not in out + result.stderr
    assert "PRIVATE KEY" not in out


def test_check_failure_exits_2_with_problems_and_no_traceback(tmp_path):
    env = {"SLACK_API_TOKEN": "leaky-value-123456", "PORT": "http"}
    result = rocket2("config", "check", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    for name in ("SLACK_SIGNING_SECRET", "SLACK_API_TOKEN", "GITHUB_KEY", "PORT"):
        assert f"{name}:" in result.stderr
    assert "leaky-value-123456" not in result.stderr + result.stdout


def test_check_reads_dot_env_in_working_directory(env, tmp_path):
    escaped = env.pop("GITHUB_KEY").replace("\n", "\\n")
    (tmp_path / ".env").write_text(f"GITHUB_KEY={escaped}\n")
    result = rocket2("config", "check", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert re.search(r"GITHUB_KEY\s+\.env\s+set \(hidden\)", result.stdout)


# The three ways operators deliver the environment.


def test_written_as_dotenv_file_for_compose(env, tmp_path, key_pem):
    lines = [f"{k}={v}" for k, v in env.items() if k != "GITHUB_KEY"]
    encode = rocket2(
        "config", "encode-key", _write(tmp_path, key_pem), "--for", "compose", env={}, cwd=tmp_path
    )
    lines.append(encode.stdout.strip())
    (tmp_path / "app.env").write_text("\n".join(lines) + "\n")
    result = rocket2("config", "check", "--env-file", "app.env", env={}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert _fingerprint(key_pem) in result.stdout


def test_written_as_docker_run_env_file(env, tmp_path, key_pem):
    """docker run --env-file keeps quotes literally and cannot carry newlines."""
    delivered = {k: f"'{v}'" for k, v in env.items() if k != "GITHUB_KEY"}
    delivered["GITHUB_KEY"] = "'" + key_pem.replace("\n", "\\n").replace("-", "\\-") + "'"
    result = rocket2("config", "check", env=delivered, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert _fingerprint(key_pem) in result.stdout
    assert "SLACK_SIGNING_SECRET: surrounding quotes were removed" in result.stderr


def test_written_as_heroku_config_vars(env, tmp_path, key_pem):
    """Heroku carries the raw multi-line PEM."""
    env["GITHUB_KEY"] = key_pem
    env["DATABASE_URL"] = "postgres://u:hunter2pw@db.example:5432/x"
    env["FORWARDED_ALLOW_IPS"] = "*"
    result = rocket2("config", "check", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert _fingerprint(key_pem) in result.stdout
    assert "hunter2pw" not in result.stdout
    assert "postgresql+psycopg://u:***@db.example:5432/x" in result.stdout


def _write(tmp_path: Path, pem: str) -> str:
    path = tmp_path / "app.pem"
    path.write_text(pem)
    return str(path)


@pytest.mark.parametrize("target", ["dotenv", "compose", "inertia", "heroku"])
def test_encode_key_cli_round_trips(tmp_path, key_pem, target):
    result = rocket2(
        "config", "encode-key", _write(tmp_path, key_pem), "--for", target, env={}, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert _fingerprint(key_pem) in result.stderr
    if target == "heroku":
        import shlex

        value = shlex.split(result.stdout)[2].split("=", 1)[1]
    else:
        value = result.stdout.strip().split("=", 1)[1]
    assert _fingerprint(value) == _fingerprint(key_pem)


def test_encode_key_refuses_a_bad_file(tmp_path):
    path = tmp_path / "bad.pem"
    path.write_text("nothing to see here, move along")
    result = rocket2("config", "encode-key", str(path), "--for", "dotenv", env={}, cwd=tmp_path)
    assert result.returncode == 2
    assert "nothing to see" not in result.stderr


def test_committed_env_example_matches_schema(tmp_path):
    result = rocket2("config", "example", env={}, cwd=tmp_path)
    assert result.stdout == env_example()
    assert (REPO / ".env.example").read_text() == env_example()


def test_docs_config_reference_matches_schema():
    page = (REPO / "docs" / "operators" / "configuration.md").read_text()
    block = page.split("<!-- config-reference:start", 1)[1].split("-->", 1)[1]
    block = block.split("<!-- config-reference:end -->", 1)[0]
    assert block.strip() == markdown_reference().strip()
