"""`make run`'s playground end to end: `rocket2 dev send` and `dev event` through the real
Gunicorn and the stand-ins; the GitHub stand-in's signed webhooks; state kept across restarts."""

from __future__ import annotations

import httpx
import pytest

from tests.support import playground as playground_support
from tests.support.gunicorn import wait_until
from tests.support.playground import Playground, start_playground, stop_playground

playground = playground_support.playground


def become_admin(playground: Playground, who: str, slack_id: str) -> None:
    playground.send("/rocket user add", who)
    promoted = playground.rocket2("user", "promote", slack_id, "admin")
    assert promoted.returncode == 0, promoted.stderr


def test_help_comes_back_as_readable_text(playground: Playground):
    done = playground.dev("send", "/rocket help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Rocket 2 commands\n=================")
    assert "`/rocket team create" in done.stdout
    assert "*" not in done.stdout.splitlines()[0]


def test_the_walk_through_user_add_edit_team_create_add_list(playground: Playground):
    added = playground.send("/rocket user add")
    assert "Your member record is created" in added
    assert "✅" in added  # :white_check_mark:, as Slack shows it
    promoted = playground.rocket2("user", "promote", "U0DEVYOU01", "admin")
    assert promoted.returncode == 0, promoted.stderr

    linked = playground.link("you-on-github")  # the authorize page of the GitHub stand-in
    assert "now linked to the GitHub account you-on-github" in linked, linked
    created = playground.send("/rocket team create --lead @you rockets")
    assert "Created team rockets on GitHub" in created

    playground.send("/rocket user add", "ada")
    assert "updated" in playground.send("/rocket user edit --username @ada --github ada-lovelace")
    assert "Added @ada in team rockets." in playground.send("/rocket team add rockets @ada")

    listed = playground.send("/rocket team list")
    assert "rockets · 2 member(s), 1 lead(s)" in listed
    teams = {t["slug"]: t for t in playground.state()["github"]["teams"]}
    assert teams["rockets"]["maintainers"] == ["you-on-github"]
    assert teams["rockets"]["members"] == ["ada-lovelace"]


def test_a_change_on_github_reaches_rocket2_by_signed_webhook(playground: Playground):
    playground.send("/rocket user add", "grace")
    playground.send("/rocket user add")
    playground.rocket2("user", "promote", "U0DEVYOU01", "admin")
    playground.send("/rocket user edit --username @grace --github grace-hopper")
    made = httpx.post(
        playground.standins_url + "/dev/api/github/teams", json={"name": "Moon Base"}, timeout=5
    )
    assert made.status_code == 201, made.text
    added = httpx.post(
        playground.standins_url + "/dev/api/github/teams/moon-base/members",
        json={"login": "grace-hopper"},
        timeout=5,
    )
    assert added.status_code == 200, added.text

    def mirrored() -> bool:
        return "@grace" in playground.send("/rocket team view moon-base")

    wait_until(mirrored, timeout=20, interval=0.5, what="the membership webhook mirrored")
    deliveries = playground.state()["github"]["deliveries"]
    assert {"event": "membership", "action": "added", "status": 200}.items() <= next(
        d for d in deliveries if d["event"] == "membership"
    ).items()
    assert "POST /webhook" in playground.output()


def test_a_link_that_gives_power_without_a_matching_email_waits_for_an_admin(
    playground: Playground,
):
    become_admin(playground, "you", "U0DEVYOU01")
    playground.send("/rocket user add", "grace")
    for step in ({"name": "Night Shift"}, {"login": "linus-t", "role": "maintainer"}):
        path = "teams" if "name" in step else "teams/night-shift/members"
        made = httpx.post(f"{playground.standins_url}/dev/api/github/{path}", json=step, timeout=5)
        assert made.status_code < 300, made.text
    playground.send("/rocket team refresh")  # the mirror learns who maintains Night Shift

    page = playground.link("linus-t", "grace")  # linus-t maintains a team; no e-mail matches
    assert "Waiting for an admin" in page and "Nothing is linked" in page, page
    asked = [
        m["text"] for m in playground.state()["slack"]["messages"] if "asks to link" in m["text"]
    ]
    assert asked and "/rocket user approve @them linus-t" in asked[-1]
    assert "linus-t" not in playground.send("/rocket user view --username @grace")

    approved = playground.send("/rocket user approve @grace linus-t")
    assert "linus-t" in approved, approved
    viewed = playground.send("/rocket user view --username @grace")
    assert "linus-t" in viewed, viewed


def test_team_join_gets_its_dm(playground: Playground):
    done = playground.dev("event", "team_join", "--name", "Katherine Johnson")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("to @katherinejohnson (U0DEV")
    assert "Welcome to the club!" in done.stdout
    newcomer = done.stdout.split("(")[1].split(")")[0]
    dms = [m for m in playground.state()["slack"]["messages"] if m["kind"] == "dm"]
    assert [m["blocks"][0]["text"]["text"] for m in dms if m["to"] == newcomer] == [
        "Welcome to the club!"
    ]


def test_a_mention_gets_an_ephemeral_answer(playground: Playground):
    done = playground.dev("event", "app_mention", "--text", "karma view", "--as", "ada")
    assert done.returncode == 0, done.stderr
    assert "@ada has" in done.stdout and "karma" in done.stdout


def test_a_reply_that_comes_in_the_ack_is_printed(playground: Playground):
    done = playground.dev("send", "/rocket help " + "x" * 4100)
    assert done.returncode == 0, done.stderr
    assert "That command is too long for Rocket 2" in done.stdout
    assert "no reply" not in done.stderr


def test_exit_status_says_what_happened(playground: Playground):
    unknown = playground.dev("send", "/rocket help", "--as", "@nobody")
    assert unknown.returncode == 2
    assert "nobody called @nobody" in unknown.stderr


def test_the_start_is_quiet_and_says_where_to_go(playground: Playground):
    output = playground.output()
    assert f"open {playground.standins_url}/" in output
    assert 'rocket2 dev send "/rocket help"' in output
    assert "setup plugin" not in output
    assert "alembic" not in output
    assert "database upgraded from empty to" in output
    assert "failed, carrying on" not in output
    assert "Traceback" not in output


def test_state_survives_a_restart(tmp_path):
    first = start_playground(tmp_path)
    try:
        made = httpx.post(
            first.standins_url + "/dev/api/github/teams", json={"name": "kept"}, timeout=5
        )
        assert made.status_code == 201
        first.send("/rocket user add")
    finally:
        assert stop_playground(first) in (0, 143)
    with pytest.raises(httpx.ConnectError):  # TERM to `make run` stopped the stand-ins too
        httpx.get(first.standins_url + "/", timeout=2)
    assert (tmp_path / "data" / "dev" / "github.json").is_file()
    second = start_playground(tmp_path, (first.port, first.standins_port))
    try:
        state = second.state()
        assert "kept" in {t["slug"] for t in state["github"]["teams"]}
        assert any(c["text"] == "/rocket user add" for c in state["slack"]["commands"])
    finally:
        stop_playground(second)
