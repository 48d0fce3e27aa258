"""Issue 11 findings 7, 8, 9 and 11 and item 12, reproduced through a real Gunicorn (and
Debian's real nginx), asserting the new outcome: user text escaped in replies, e-mails shown
only to those who may see them, control characters escaped in both log formats, database
passwords masked, short secrets and readable secret files warned about, private file modes,
security headers everywhere, and no X-Forwarded-Host."""

from __future__ import annotations

import io
import json
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.logs import configure_logging
from app.store import Permission
from config import load_config, redact_url
from tests.conftest import require_binary
from tests.support import rocket as rocket_support
from tests.support.cli import rocket2
from tests.support.db import create_postgres_database, drop_postgres_database, postgres_server_url
from tests.support.gunicorn import free_port, wait_until
from tests.support.nginx import NginxServer
from tests.support.rocket import ADMIN, LEAD, ME, OTHER, assert_refused
from tests.support.slack import FakeSlack, command_body, event_body, signed_headers

rocket_module = rocket_support.rocket_module
rocket = rocket_support.rocket

FORM = "application/x-www-form-urlencoded"
HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "content-security-policy": (
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
}
# ESC (with a terminal sequence), the C1 "next line", DEL and the two Unicode line separators.
NASTY = "Ev\x1b[2J\u0085\u2028\u2029\x7fend"
NASTY_IN_TEXT = "Ev\\x1b[2J\\x85\\u2028\\u2029\\x7fend"


def said(reply: dict[str, Any]) -> str:
    """Everything a reply shows: the fallback text and the blocks."""
    return reply["text"] + json.dumps(reply["blocks"], ensure_ascii=False)


# ---- finding 7: user text is escaped in every reply --------------------------------------------


def test_card_fallback_text_escapes_the_name(rocket):
    rocket.add_user(ME, name="Ada <!here> & <https://evil.example|co>")
    reply = rocket.command("user view", ME)
    assert "Ada &lt;!here&gt; &amp; &lt;https://evil.example|co&gt;" in reply["text"]
    assert "<!here>" not in said(reply) and "<https://evil" not in said(reply)


def test_export_escapes_stored_addresses(rocket):
    rocket.add_user(LEAD, Permission.team_lead, email="lead@club.example")
    # An address stored before the stricter check (or by Slack's own profile on team_join).
    rocket.add_user(OTHER, email="a@b.c<!here>`x")
    reply = rocket.command("export emails", LEAD)
    shown = said(reply)
    assert "<!here>" not in shown
    assert "```a@b.c&lt;!here&gt;'x, lead@club.example```" in shown  # no backtick ends the block


def test_edit_refuses_an_email_with_markup(rocket):
    rocket.add_user(ME)
    for bad in ("a@b.c<!here>", "a*b@club.example", "a|b@club.example", "a`b@club.example"):
        assert_refused(rocket.command(f"user edit --email {bad}", ME), "is not an e-mail address")
    assert rocket.user(ME).email == ""
    assert "is updated" in rocket.command("user edit --email ada@club.example", ME)["text"]
    assert rocket.user(ME).email == "ada@club.example"


# ---- item 12: who sees an e-mail ---------------------------------------------------------------


def test_email_is_shown_only_to_the_member_leads_and_admins(rocket):
    rocket.add_user(ME)
    rocket.add_user(OTHER, name="Grace", email="grace@club.example")
    rocket.add_user(LEAD, Permission.team_lead)
    rocket.add_user(ADMIN, Permission.admin)
    member_view = said(rocket.command(f"user view --username <@{OTHER}>", ME))
    assert "Grace" in member_view and "_hidden_" in member_view
    assert "grace@club.example" not in member_view
    for caller in (OTHER, LEAD, ADMIN):
        shown = said(rocket.command(f"user view --username <@{OTHER}>", caller))
        assert "grace@club.example" in shown and "_hidden_" not in shown
    # Looking up by someone else's address answers alike whether it is on file or not.
    found = rocket.command("user view --email grace@club.example", ME)
    missing = rocket.command("user view --email nobody@club.example", ME)
    assert_refused(found, "only team leads and admins can find members by someone else's e-mail")
    assert found["text"].replace("grace", "nobody") == missing["text"]
    assert "Grace" not in said(found)
    assert "grace@club.example" in said(
        rocket.command("user view --email grace@club.example", LEAD)
    )


# ---- finding 8: control characters in log lines ------------------------------------------------


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


def _signed_post(
    server: Any, env: dict[str, str], path: str, body: bytes, kind: str, status: int = 200
) -> None:
    headers = signed_headers(env["SLACK_SIGNING_SECRET"], body, content_type=kind)
    response = httpx.post(server.url + path, content=body, headers=headers, timeout=10)
    assert response.status_code == status, response.text


def test_control_characters_from_a_request_are_escaped_in_text_logs(gunicorn_server, env, slack):
    env.update(SLACK_API_URL=slack.api_url)
    server = gunicorn_server(env)
    body = event_body(NASTY, {"type": "team_join"})
    _signed_post(server, env, "/slack/events", body, "json", status=400)
    # The whole record is on one line (splitlines() also breaks at U+0085 and U+2028).
    line = server.wait_for_output("signed slack request refused")[0]
    # An id that is not shaped like Slack's never reaches the log, escaped or not.
    assert "at `$.event_id`" in line, line
    assert NASTY_IN_TEXT not in line
    output = server.output()
    for raw in ("\x1b", "\u0085", "\u2028", "\u2029", "\x7f"):
        assert raw not in output


def test_control_characters_from_a_request_are_escaped_in_json_logs(gunicorn_server, env, slack):
    env.update(SLACK_API_URL=slack.api_url, LOG_FORMAT="json")
    server = gunicorn_server(env)
    body = event_body(NASTY, {"type": "team_join"})
    _signed_post(server, env, "/slack/events", body, "json", status=400)
    line = server.wait_for_output("signed slack request refused")[0]
    message = json.loads(line)["message"]
    assert message.startswith("signed slack request refused: Expected `str`"), message
    assert message.endswith("at `$.event_id`"), message
    for raw in ("\x1b", "\u0085", "\u2028", "\u2029", "\x7f"):
        assert raw not in server.output()


def test_every_c0_c1_control_is_escaped_by_both_formatters(env):
    controls = "".join(chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029))
    for log_format in ("text", "json"):
        stream = io.StringIO()
        configure_logging(load_config({**env, "LOG_FORMAT": log_format}), stream)
        logging.getLogger("test.hygiene").warning("value=%s.", controls)
        written = stream.getvalue()
        assert written.count("\n") == 1 and written.endswith("\n"), repr(written)
        assert not any(c in written[:-1] for c in controls), repr(written)
        if log_format == "json":
            assert json.loads(written)["message"] == f"value={controls}."
        else:
            assert "value=\\x00\\x01" in written and "\\t\\n\\x0b\\x0c\\r" in written
    configure_logging(None)


# ---- finding 9: secrets ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("sqlite:///data/rocket2.db", "sqlite:///data/rocket2.db"),
        ("postgresql+psycopg://u:p%40w@h:5432/d", "postgresql+psycopg://u:***@h:5432/d"),
        (
            "postgresql+psycopg://h/d?password=x&sslmode=require",
            "postgresql+psycopg://h/d?password=***&sslmode=require",
        ),
        (
            "postgresql+psycopg://u:a@h/d?SSLPassword=k#f",
            "postgresql+psycopg://u:***@h/d?SSLPassword=***#f",
        ),
        ("postgresql+psycopg://u:p@[::1/d", "postgresql+psycopg://***"),
    ],
)
def test_redact_url_hides_every_password(url, shown):
    assert redact_url(url) == shown


def test_database_url_query_password_is_masked_in_config_check_and_logs(env, tmp_path):
    env["DATABASE_URL"] = "postgres://u@db.example/x?sslmode=require&password=qs-pw-6271"
    result = rocket2("config", "check", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "postgresql+psycopg://u@db.example/x?sslmode=require&password=***" in result.stdout
    assert "qs-pw-6271" not in result.stdout + result.stderr
    # The log filter the server installs masks it wherever a record carries it.
    stream = io.StringIO()
    configure_logging(load_config(env), stream)
    logging.getLogger("test.hygiene").error("cannot reach %s", env["DATABASE_URL"])
    configure_logging(None)
    assert "qs-pw-6271" not in stream.getvalue()
    assert "password=**********" in stream.getvalue()


def test_database_url_query_password_is_masked_by_db_check(env, tmp_path):
    server = postgres_server_url()
    url = create_postgres_database(server)
    try:
        # The test server trusts local connections, so the password only has to be carried.
        env["DATABASE_URL"] = f"{url}?password=qs-pw-9315"
        assert rocket2("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
        result = rocket2("db", "check", env=env, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "password=***" in result.stdout
        assert "qs-pw-9315" not in result.stdout + result.stderr
    finally:
        drop_postgres_database(server, url)


def test_short_secrets_are_warned_about_by_name_never_by_value(gunicorn_server, env, tmp_path):
    env.update(
        SLACK_SIGNING_SECRET="sig-7f3a",
        GITHUB_WEBHOOK_SECRET="hook-2b9c",
        GITHUB_CLIENT_ID="Iv1.0123456789abcdef",
        GITHUB_CLIENT_SECRET="client-5d1e",
        PUBLIC_URL="https://rocket.club.example",
        SLACK_API_URL="http://127.0.0.1:9/",
    )
    result = rocket2("config", "check", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for name, minimum in (
        ("SLACK_SIGNING_SECRET", 32),
        ("GITHUB_WEBHOOK_SECRET", 32),
        ("GITHUB_CLIENT_SECRET", 40),
    ):
        assert f"{name}: shorter than {minimum} characters" in result.stderr
    server = gunicorn_server(env)  # a warning, not a refusal: it starts, and says so
    assert server.wait_for_output("SLACK_SIGNING_SECRET: shorter than 32 characters")
    for value in ("sig-7f3a", "hook-2b9c", "client-5d1e"):
        assert value not in result.stdout + result.stderr + server.output()
    long_enough = {**env, "SLACK_SIGNING_SECRET": "s" * 32, "GITHUB_WEBHOOK_SECRET": "w" * 32}
    long_enough["GITHUB_CLIENT_SECRET"] = "c" * 40
    assert "shorter than" not in rocket2("config", "check", env=long_enough, cwd=tmp_path).stderr


def test_a_short_secret_is_still_masked_and_the_mask_survives(env):
    env["GITHUB_WEBHOOK_SECRET"] = "*"  # a part of the mask itself
    env["SLACK_SIGNING_SECRET"] = "ab"
    stream = io.StringIO()
    configure_logging(load_config(env), stream)
    log = logging.getLogger("test.hygiene")
    log.warning("sig=ab hook=* token=%s", env["SLACK_API_TOKEN"])
    configure_logging(None)
    assert stream.getvalue().rstrip().endswith("sig=********** hook=********** token=**********")


# ---- finding 11: files -------------------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_real_start_keeps_data_and_the_database_private(gunicorn_server, env, slack, tmp_path):
    os.umask(0o022)  # what a shell usually has
    env.update(SLACK_API_URL=slack.api_url, WEB_CONCURRENCY="1")
    server = gunicorn_server(env)  # default DATABASE_URL: sqlite:///data/rocket2.db in its cwd
    _signed_post(server, env, "/slack/commands", command_body("user add", slack.response_url), FORM)
    slack.wait_for("/respond/hook")
    data = tmp_path / "data"
    database = data / "rocket2.db"
    wal, shm = data / "rocket2.db-wal", data / "rocket2.db-shm"
    wait_until(lambda: wal.exists() and shm.exists(), what="the WAL files of the open database")
    assert _mode(data) == 0o700
    for path in (database, wal, shm):
        assert _mode(path) == 0o600, path


def test_rocket2_db_upgrade_creates_private_files(env, tmp_path):
    os.umask(0o022)
    env["DATABASE_URL"] = "sqlite:///data/rocket2.db"
    assert rocket2("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    assert _mode(tmp_path / "data") == 0o700
    assert _mode(tmp_path / "data" / "rocket2.db") == 0o600


def test_a_database_from_before_umask_077_is_made_private_at_start(env, tmp_path):
    os.umask(0o022)
    env["DATABASE_URL"] = "sqlite:///data/rocket2.db"
    assert rocket2("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    data, database = tmp_path / "data", tmp_path / "data" / "rocket2.db"
    data.chmod(0o755)  # as an older release left them
    database.chmod(0o644)
    result = rocket2("db", "check", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert _mode(database) == 0o600
    assert "rocket2.db was readable by others; it is now 0600" in result.stderr
    assert "the database directory data is open to others: chmod 700 it" in result.stderr
    assert _mode(data) == 0o755  # a directory is never changed: it may be shared


def test_config_check_warns_about_readable_env_and_secret_files(env, tmp_path):
    secret_file = tmp_path / "signing.txt"
    secret_file.write_text(env.pop("SLACK_SIGNING_SECRET") + "\n")
    dotenv = tmp_path / ".env"
    dotenv.write_text(f"SLACK_SIGNING_SECRET_FILE={secret_file}\n")
    dotenv.chmod(0o644)
    secret_file.chmod(0o640)
    result = rocket2("config", "check", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "the .env file .env is readable by its group or by everyone (mode 644)" in result.stderr
    assert (
        f"SLACK_SIGNING_SECRET_FILE {secret_file} is readable by its group or by everyone "
        "(mode 640)" in result.stderr
    )
    assert secret_file.read_text().strip() not in result.stdout + result.stderr
    dotenv.chmod(0o600)
    secret_file.chmod(0o400)
    assert "readable by" not in rocket2("config", "check", env=env, cwd=tmp_path).stderr


# ---- finding 11: headers -----------------------------------------------------------------------


def assert_security_headers(response: httpx.Response, hsts: bool = False) -> None:
    """The four headers, each exactly once (nginx never doubles the app's), and HSTS if asked."""
    for name, value in HEADERS.items():
        assert response.headers.get_list(name) == [value], (response.status_code, name)
    if hsts:
        assert response.headers.get_list("strict-transport-security") == ["max-age=63072000"]


def _big() -> bytes:
    return b"x" * (2 * 1024 * 1024)


def test_the_app_sets_the_headers_on_every_response(gunicorn_server, env):
    server = gunicorn_server({**env, "SLACK_API_URL": "http://127.0.0.1:9/"})
    with httpx.Client(base_url=server.url, timeout=10) as http:
        responses = {
            "root": http.get("/"),
            "healthz": http.get("/healthz"),
            "404": http.get("/nope"),
            "405": http.get("/slack/commands"),
            "413": http.post("/slack/commands", content=_big()),  # last: it closes the connection
        }
    assert [r.status_code for r in responses.values()] == [200, 200, 404, 405, 413]
    for response in responses.values():
        assert_security_headers(response)


@pytest.fixture
def stack(gunicorn_server, env, tmp_path: Path) -> Iterator[NginxServer]:
    """nginx (the repo's nginx.conf) → Gunicorn running the app."""
    binary = require_binary("nginx")
    app = gunicorn_server({**env, "SLACK_API_URL": "http://127.0.0.1:9/"})
    with NginxServer(
        upstream=f"127.0.0.1:{app.port}", workdir=tmp_path / "nginx", binary=binary
    ) as n:
        yield n


@pytest.mark.nginx
def test_nginx_keeps_the_apps_headers_and_adds_them_to_its_own(stack):
    nginx = stack
    with httpx.Client(verify=nginx.ssl_context(), timeout=10) as http:
        proxied = [http.get(nginx.https_url + p) for p in ("/", "/healthz", "/nope")]
        too_big = http.post(nginx.https_url + "/slack/commands", content=_big())
    assert [r.status_code for r in proxied] == [200, 200, 404]
    assert too_big.status_code == 413 and "nginx" in too_big.text  # nginx's own page
    for response in [*proxied, too_big]:
        assert_security_headers(response, hsts=True)
    redirect = httpx.get(nginx.http_url + "/healthz", follow_redirects=False)
    assert redirect.status_code == 308
    assert_security_headers(redirect)
    (nginx.webroot / ".well-known" / "acme-challenge" / "tok").write_text("tok.auth")
    challenge = httpx.get(nginx.http_url + "/.well-known/acme-challenge/tok")
    assert challenge.text == "tok.auth"
    assert_security_headers(challenge)


@pytest.mark.nginx
def test_nginx_error_page_for_a_dead_upstream_has_the_headers(tmp_path):
    binary = require_binary("nginx")
    dead = f"127.0.0.1:{free_port()}"  # nothing listens there
    with NginxServer(upstream=dead, workdir=tmp_path, binary=binary) as nginx:
        response = httpx.get(nginx.https_url + "/healthz", verify=nginx.ssl_context(), timeout=10)
    assert response.status_code == 502
    assert_security_headers(response, hsts=True)


def test_x_forwarded_host_from_a_trusted_proxy_does_not_change_the_host(gunicorn_server, env):
    seen = (
        "hygiene-seen host=%({http_host}e)s scheme=%({wsgi.url_scheme}e)s rid=%({x-request-id}i)s"
    )
    server = gunicorn_server(
        {**env, "SLACK_API_URL": "http://127.0.0.1:9/", "FORWARDED_ALLOW_IPS": "*"},
        GUNICORN_CMD_ARGS=f"--access-logformat '{seen}'",
    )
    headers = {
        "X-Forwarded-Host": "evil.example",
        "X-Forwarded-Proto": "https",
        "X-Request-ID": "xfh-probe-1",
    }
    assert httpx.get(server.url + "/healthz", headers=headers).status_code == 200
    line = server.wait_for_output("rid=xfh-probe-1")[0]
    assert f"host=127.0.0.1:{server.port} " in line, line
    assert "evil.example" not in line
    assert "scheme=https" in line  # X-Forwarded-Proto is still trusted from the proxy
