"""Every command group end to end: signed slash commands to a real Gunicorn (one per database
for this module), replies read from the fake Slack's response_url, GitHub the fake."""

from __future__ import annotations

import json

from app.store import Permission
from tests.support import rocket as rocket_support

rocket_module = rocket_support.rocket_module
rocket = rocket_support.rocket

ME = "U0CALLER01"
OTHER = "U0OTHER001"
ADMIN = "U0ADMIN001"


def test_help_and_unknown(rocket):
    reply = rocket.command("help")
    assert reply["response_type"] == "ephemeral"
    assert reply["blocks"][0]["text"]["text"] == "Rocket 2 commands"
    assert "/rocket user edit" in json.dumps(reply["blocks"])
    reply = rocket.command("launch now")
    assert "I don't know the command `launch`" in reply["text"]


def test_user_commands(rocket):
    gh_id = rocket.github.add_user("octo-cat")
    assert "created" in rocket.command("user add", ME)["text"]
    reply = rocket.command("user edit --github <@x|x> --name “Ada L”", ME)  # a bad login
    assert "argument --github: is not a GitHub username" in reply["text"]
    assert "usage: /rocket user edit" in json.dumps(reply["blocks"])

    reply = rocket.command("user edit --name “Ada L” —major CS", ME)
    assert "Your record is updated" in reply["text"]
    rocket.add_user(ADMIN, Permission.admin)
    reply = rocket.command(f"user edit --username <@{ME}> --github octo-cat", ADMIN)
    assert f"<@{ME}>'s record is updated" in reply["text"]
    assert "octo-cat" in rocket.github.invitations
    assert rocket.user(ME).github_id == gh_id

    shown = json.dumps(rocket.command("user view --github OCTO-CAT --inspect", OTHER)["blocks"])
    assert "Ada L" in shown and "<https://github.com/octo-cat|octo-cat>" in shown

    reply = rocket.command(f"user delete <@{ME}|ada>", OTHER)
    assert "Only admins can delete member records" in reply["text"]
    assert "deleted" in rocket.command(f"user delete <@{ME}|ada>", ADMIN)["text"]
    assert rocket.user(ME) is None


def test_github_failure_is_told_and_nothing_is_stored(rocket):
    rocket.github.add_user("octo-cat")
    rocket.add_user(ME, Permission.admin, name="Before")
    rocket.github.fail("PUT", r"/orgs/[^/]+/memberships/octo-cat", 403, message="Forbidden")
    reply = rocket.command("user edit --github octo-cat --name After", ME)
    assert "GitHub could not add `octo-cat` to the organisation (HTTP 403" in reply["text"]
    user = rocket.user(ME)
    assert (user.github_id, user.name) == (None, "Before")


def test_karma_commands(rocket):
    rocket.add_user(OTHER, karma=0)
    rocket.add_user(ADMIN, Permission.admin)
    assert "they have 1 now" in rocket.command(f"<@{OTHER}|o> ++", ME)["text"]
    assert "cannot give karma to yourself" in rocket.command(f"<@{OTHER}> ++", OTHER)["text"]
    assert rocket.command(f"karma view <@{OTHER}>", ME)["text"] == f"<@{OTHER}> has 1 karma"
    assert "Only admins can set karma" in rocket.command(f"karma set <@{OTHER}> 9", ME)["text"]
    assert "now has 0 karma" in rocket.command(f"karma set <@{OTHER}> 0", ADMIN)["text"]
    assert rocket.command(f"karma view <@{OTHER}>", ME)["text"] == f"<@{OTHER}> has 0 karma"
    assert "(1 changed)" in rocket.command("karma reset --all", ADMIN)["text"]
    assert rocket.user(OTHER).karma == 1


def test_a_crash_answers_with_the_request_id_and_logs_the_traceback(rocket):
    from sqlalchemy import text

    with rocket.store.engine.begin() as connection:
        connection.execute(text("ALTER TABLE users RENAME TO users_gone"))
    try:
        reply = rocket.command("user view", ME)
    finally:
        with rocket.store.engine.begin() as connection:
            connection.execute(text("ALTER TABLE users_gone RENAME TO users"))
    assert "something went wrong" in reply["text"]
    ref = reply["text"].split("reference: `")[1].split("`")[0]
    access = rocket.server.wait_for_output(f"request_id={ref}")
    assert any("POST /slack/commands" in line for line in access)
    failed = [line for line in access if "command user view failed" in line]
    assert failed and "Traceback" in failed[0]  # in the log, on one line; not in the reply
    assert "Traceback" not in json.dumps(reply)


def test_mentioning_the_bot_works_like_the_command(rocket):
    rocket.add_user(OTHER, karma=4)
    mention = {
        "type": "app_mention",
        "user": ME,
        "channel": "C0001",
        "text": f"<@UBOT> <@{OTHER}|other> ++",
    }
    assert rocket.event("Ev-mention-1", mention).status_code == 200
    reply = rocket.slack.wait_for("/api/chat.postEphemeral")[0]
    assert (reply["user"], reply["channel"]) == (ME, "C0001")
    assert f"You gave <@{OTHER}> a karma point: they have 5 now." in reply["text"]
