"""The seconds of a rolling deploy (scripts/deploy.sh) when the old and the new version run at
once on one SQLite file, through two real Gunicorns: the new one starts (and migrates) while the
old one serves; each start posts one start-up notice, and the old one posts none again; a slash
command ``++`` delivered to both counts once (its trigger_id claim). Event claims across two
instances: test_onboarding.py; the scheduler's job: test_scheduler_postgres.py (SQLite case)."""

from __future__ import annotations

import httpx

from app.server.startup import NOTICE_TEXT
from tests.support import rocket as rocket_support
from tests.support.gunicorn import GunicornServer, free_port, server_env, wait_until
from tests.support.slack import command_body, signed_headers

FORM = "application/x-www-form-urlencoded"
BOB = "U0BOB00001"
ME = "U0123ABCDEF"
CHANNEL = "#rocket2-ops"


def notices(rocket: rocket_support.Rocket) -> list[dict[str, object]]:
    return [b for b in rocket.slack.bodies("/api/chat.postMessage") if b.get("text") == NOTICE_TEXT]


def test_old_and_new_version_on_one_sqlite_file_do_each_thing_once(tmp_path, key_pem):
    directory = tmp_path / "old"
    directory.mkdir()
    url = rocket_support.sqlite_url(directory)
    old = rocket_support.start_rocket(
        directory, key_pem, url, "sqlite", SLACK_NOTIFICATION_CHANNEL=CHANNEL
    )
    new: GunicornServer | None = None
    try:
        wait_until(lambda: len(notices(old)) == 1, what="the old version's start-up notice")
        old.add_user(BOB, karma=3)

        # The new version starts beside it on the same file, as deploy.sh starts it.
        port = free_port()
        new_dir = tmp_path / "new"
        new_dir.mkdir()
        new = GunicornServer(
            env=server_env(old.env, port), port=port, log_path=new_dir / "log", cwd=new_dir
        ).start()
        wait_until(lambda: len(notices(old)) == 2, what="the new version's start-up notice")

        body = command_body(f"<@{BOB}> ++", old.slack.response_url_for("overlap"), user_id=ME)
        headers = signed_headers(old.env["SLACK_SIGNING_SECRET"], body, content_type=FORM)
        for server_url in (old.server.url, new.url):
            response = httpx.post(server_url + "/slack/commands", content=body, headers=headers)
            assert response.status_code == 200
        replies = sorted(r["text"] for r in old.slack.wait_for("/respond/overlap", 2))
        assert replies == [
            "That karma point was counted already.",
            f"You gave <@{BOB}> a karma point: they have 4 now.",
        ]
        assert old.user(BOB).karma == 4

        # The old one drains and goes; the new one serves on and posts no second notice.
        old.server.stop()
        assert httpx.get(new.url + "/healthz").json()["status"] == "ok"
        assert len(notices(old)) == 2
        assert len([n for n in notices(old) if n["channel"] == CHANNEL]) == 2
    finally:
        if new is not None:
            new.stop()
        rocket_support.stop_rocket(old)
