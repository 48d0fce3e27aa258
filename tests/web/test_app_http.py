"""HTTP plumbing on a real Gunicorn: /healthz, request ids, ProxyFix only for trusted proxies,
JSON logs."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import httpx

from app.web.middleware import RequestIds
from tests.support.gunicorn import secrets_of, wait_until


def start(gunicorn_server, env, **overrides):
    env = {**env, "SLACK_API_URL": "http://127.0.0.1:9/", **overrides}
    return gunicorn_server(env), env


def test_healthz_reports_version_and_scheduler(gunicorn_server, env):
    server, _ = start(gunicorn_server, env)
    assert httpx.get(server.url + "/").text == "🚀"
    body = wait_until(
        lambda: (b := httpx.get(server.url + "/healthz").json())["scheduler"]["running"] and b,
        what="scheduler running in /healthz",
    )
    assert body["status"] == "ok"
    assert body["version"] == "2.0.0"
    assert set(body) == {"status", "version", "store", "scheduler", "special_teams"}
    assert body["store"] == "up"
    # No GITHUB_ADMIN_TEAM_NAME / GITHUB_LEADS_TEAM_NAME here (tests/security/test_security_roles.py
    # covers the other states).
    assert body["special_teams"] == {"admin": "not configured", "team_lead": "not configured"}


def test_request_id_is_echoed_and_logged(gunicorn_server, env):
    server, _ = start(gunicorn_server, env)
    resp = httpx.get(server.url + "/healthz", headers={"X-Request-ID": "req-abcdef123"})
    assert resp.headers["X-Request-ID"] == "req-abcdef123"
    generated = httpx.get(server.url + "/healthz").headers["X-Request-ID"]
    assert len(generated) == 32
    # A header that is not a sane id is replaced, not echoed into the log.
    odd = httpx.get(server.url + "/", headers={"X-Request-ID": "x y\tz"}).headers["X-Request-ID"]
    assert odd != "x y\tz"
    assert server.wait_for_output("request_id=req-abcdef123")
    assert server.wait_for_output(f"request_id={generated}")


def test_proxy_headers_trusted_only_from_forwarded_allow_ips(gunicorn_server, env):
    forwarded = {
        "X-Forwarded-For": "203.0.113.7",
        "X-Forwarded-Proto": "https",
        "X-Request-ID": "trusted-1",
    }
    server, _ = start(gunicorn_server, env)  # default FORWARDED_ALLOW_IPS=127.0.0.1
    httpx.get(server.url + "/", headers=forwarded)
    line = server.wait_for_output("request_id=trusted-1")[0]
    assert "203.0.113.7 " in line and "scheme=https" in line

    other, _ = start(gunicorn_server, env, FORWARDED_ALLOW_IPS="10.0.0.1")
    response = httpx.get(other.url + "/", headers={**forwarded, "X-Request-ID": "untrusted-1"})
    rid = response.headers["X-Request-ID"]
    assert rid != "untrusted-1"  # an untrusted peer's id is not believed either
    line = other.wait_for_output(f"request_id={rid}")[0]
    assert "203.0.113.7" not in line and "127.0.0.1 " in line and "scheme=http " in line


def test_json_logs_one_object_per_line(gunicorn_server, env):
    server, env = start(gunicorn_server, env, LOG_FORMAT="json", WEB_CONCURRENCY="2")
    httpx.get(server.url + "/healthz", headers={"X-Request-ID": "json-req-1"})
    server.wait_for_output("json-req-1")
    server.wait_for_output("scheduler started")
    server.stop()
    lines = [line for line in server.output().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert {"time", "level", "logger", "pid", "message"} <= set(records[0])
    access = [r for r in records if r["logger"] == "gunicorn.access"]
    assert any("json-req-1" in r["message"] for r in access)
    server.assert_no_secrets(secrets_of(env))


def test_generated_request_ids_are_unique_and_a_forked_child_has_its_own():
    ids = RequestIds()
    made = [ids.new() for _ in range(1000)]
    assert len(set(made)) == 1000
    assert all(re.fullmatch("[0-9a-f]{32}", rid) for rid in made)
    # Forked in a fresh single-threaded interpreter, as Gunicorn forks its workers (forking
    # pytest's own, threaded process could deadlock the child).
    script = (
        "import os\n"
        "from app.web.middleware import RequestIds\n"
        "ids = RequestIds()\n"
        "print(ids.new(), flush=True)\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    print(ids.new(), flush=True)\n"
        "    os._exit(0)\n"
        "os.waitpid(pid, 0)\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    parent, child = ran.stdout.split()
    assert re.fullmatch("[0-9a-f]{32}", child) and child[:16] != parent[:16]
