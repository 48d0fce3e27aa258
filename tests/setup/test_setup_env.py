"""`rocket2 setup env`: the Slack values and SLACK_TEAM_ID from auth.test into the env file,
then config check; --for tells each deploy what to do with the file."""

from __future__ import annotations

from dotenv import dotenv_values

from tests.setup.conftest import StandIns, assert_no_secret, secrets_in


def test_team_id_comes_from_auth_test_and_config_check_runs(standins: StandIns):
    env_file = standins.directory / ".env"
    token = dotenv_values(env_file)["SLACK_API_TOKEN"]
    text = env_file.read_text().replace("SLACK_TEAM_ID=T0DEV00001\n", "")
    env_file.write_text(text)
    done = standins.run(
        "setup",
        "env",
        "--no-input",
        "--slack-token",
        str(token),
        "--notification-channel",
        "#ops",
        "--force",
        "--for",
        "compose",
    )
    assert done.returncode == 0, done.stderr
    values = dotenv_values(env_file)
    assert values["SLACK_TEAM_ID"] == "T0DEV00001"
    assert values["SLACK_NOTIFICATION_CHANNEL"] == "#ops"
    assert "GITHUB_KEY fingerprint SHA256:" in done.stdout  # config check's table
    assert "docker compose reads .env" in done.stdout
    assert env_file.stat().st_mode & 0o777 == 0o600
    assert_no_secret(done.stdout + done.stderr, secrets_in(env_file))


def test_a_refused_token_is_named(standins: StandIns):
    done = standins.run(
        "setup", "env", "--no-input", "--slack-token", "xoxb-0-0-wrong", "--env-file", "other.env"
    )
    assert done.returncode == 2
    assert "auth.test refused the bot token" in done.stderr
    assert "xoxb-0-0-wrong" not in done.stdout + done.stderr


def test_for_heroku_prints_the_config_set_command(standins: StandIns):
    done = standins.run("setup", "env", "--no-input", "--for", "heroku")
    assert done.returncode == 0, done.stderr
    command = done.stdout.split("heroku config:set ", 1)[1]
    assert "'GITHUB_KEY=-----BEGIN RSA PRIVATE KEY-----\n" in command  # raw PEM, as Heroku keeps it
    assert "DATABASE_URL" not in command and "PORT=" not in command
