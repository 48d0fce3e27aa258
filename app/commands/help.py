"""The command list, as a Block Kit message shown only to the user who asked."""

from __future__ import annotations

from typing import Any

COMMANDS: tuple[tuple[str, str], ...] = (
    ("/rocket help", "show this list"),
    ("/rocket user add [-f]", "create your member record"),
    ("/rocket user view [--username @u] [--github gh] [--email e] [--inspect]", "show a member"),
    ("/rocket user edit [--name --email --pos --github --major --bio]", "update your record"),
    ("/rocket user delete @u", "remove a member record (admin)"),
    ("/rocket team list", "list the teams"),
    ("/rocket team view TEAM", "show a team with its members and leads"),
    ("/rocket team create NAME [--displayname --platform --channel #c --lead @u]", "new team"),
    ("/rocket team add|remove TEAM @u", "change a team's members (lead of the team)"),
    ("/rocket team edit TEAM [--displayname --platform --github NEWNAME]", "edit a team"),
    ("/rocket team lead TEAM @u [--remove]", "set or unset a team lead"),
    ("/rocket team delete TEAM", "delete a team"),
    ("/rocket team refresh", "mirror every team from GitHub (lead)"),
    ("/rocket export emails [--team T]", "members' emails (lead)"),
    ("/rocket karma view|set|reset", "show, set or reset karma"),
    ("/rocket @u ++", "give someone karma"),
)

TITLE = "Rocket 2 commands"


def command_list_message(unknown: str | None = None) -> dict[str, Any]:
    """The command list as an ephemeral message; ``unknown`` names a command we did not know."""
    lines = "\n".join(f"`{usage}` — {what}" for usage, what in COMMANDS)
    intro = f"I don't know the command `{_plain(unknown)}`. " if unknown else ""
    intro += "Here is what I can do:"
    return {
        "response_type": "ephemeral",
        "text": f"{TITLE}: {intro}\n{lines}",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": TITLE}},
            {"type": "section", "text": {"type": "mrkdwn", "text": intro}},
            {"type": "section", "text": {"type": "mrkdwn", "text": lines}},
        ],
    }


def _plain(word: str) -> str:
    """The user's word, shortened and with backticks removed so it cannot break formatting."""
    return word.replace("`", "")[:40]
