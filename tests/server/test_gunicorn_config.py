"""gunicorn.conf.py on a real Gunicorn: a bad config stops the master at once, HUP reloads
while serving (and a config broken meanwhile keeps the running one)."""

from __future__ import annotations

import signal
import threading

import httpx

from tests.support.gunicorn import secrets_of, wait_until


def test_bad_config_exits_fast_naming_every_bad_variable(gunicorn_server, env):
    del env["SLACK_API_TOKEN"]
    env.update(PORT="not-a-port", GITHUB_KEY="garbage-key-material-xyz", LOG_LEVEL="LOUD")
    server = gunicorn_server(env, wait=False, PORT="not-a-port")
    code = server.wait_exit(timeout=10)  # a bound on the wait (it fails past it), not a timing
    output = server.output()

    assert code != 0
    for name in ("SLACK_API_TOKEN", "PORT", "GITHUB_KEY", "LOG_LEVEL"):
        assert name in output
    assert "Traceback" not in output
    assert "Booting worker" not in output  # no worker was ever forked, so no boot loop
    for value in ("not-a-port", "garbage-key-material-xyz", "LOUD", env["SLACK_SIGNING_SECRET"]):
        assert value not in output
    server.assert_no_secrets(secrets_of(env))


def test_hup_reloads_workers_while_serving(gunicorn_server, env, tmp_path):
    env.update(SLACK_API_URL="http://127.0.0.1:9/", WEB_CONCURRENCY="2", LOG_LEVEL="DEBUG")
    server = gunicorn_server(env)
    server.wait_for_output("scheduler started")
    server.wait_for_output("start-up notice to")
    old_workers = len(server.lines("Booting worker"))

    results: list[object] = []
    stop = threading.Event()

    def hammer() -> None:
        with httpx.Client(timeout=5) as client:
            while not stop.is_set():
                try:
                    results.append(client.get(server.url + "/").status_code)
                except httpx.HTTPError as exc:
                    results.append(exc)

    thread = threading.Thread(target=hammer)
    thread.start()
    try:
        # A .env broken after start: the reload reports it and keeps the running config.
        (tmp_path / ".env").write_text("SCHEDULER_TIMEZONE=Mars/Olympus_Mons\n")
        server.signal(signal.SIGHUP)
        server.wait_for_output("keeping the previous one")
        server.wait_for_output("Booting worker", old_workers + 2)
        server.wait_for_output("Worker exiting", 2)
        server.wait_for_output("scheduler started", 2)  # the new generation took over
        count = len(results)
        wait_until(lambda: len(results) >= count + 20, what="requests served after the reload")
    finally:
        stop.set()
        thread.join()

    # Once per instance: the two new workers found the notice already sent.
    server.wait_for_output("start-up notice: already sent", 3)
    assert len(server.lines("start-up notice to")) == 1

    failures = [r for r in results if r != 200]
    assert failures == []
    assert len(results) > 20
    assert server.proc is not None and server.proc.poll() is None
    assert httpx.get(server.url + "/healthz").json()["status"] == "ok"
    assert "Olympus" not in server.output()
    server.assert_no_secrets(secrets_of(env))
