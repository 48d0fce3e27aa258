"""A linking error the member can fix is shown to them with the fix, through a real Gunicorn;
only configuration errors show "unavailable" (app/members/linking/oauth.py's mapping)."""

from __future__ import annotations

import html
import re

from tests.support import rocket as rocket_support

rocket_module = rocket_support.rocket_module
rocket = rocket_support.rocket
ME = rocket_support.ME


def link_of(reply: dict) -> str:
    match = re.search(r"<(https?://[^|>]+)\|", reply["text"])
    assert match, reply["text"]
    return html.unescape(match.group(1))


def test_an_unverified_email_is_the_members_to_fix_not_an_outage(rocket):
    rocket.github.add_user("octo-cat")
    rocket.github.unverified_emails.add("octo-cat")  # GitHub: unverified_user_email
    url = link_of(rocket.command("user link", ME))
    response = rocket.callback(rocket.github.approve(url, "octo-cat"))
    assert response.status_code == 400 and "GitHub refused" in response.text
    assert "unavailable" not in response.text.lower()
    assert rocket.user(ME) is None or rocket.user(ME).github_id is None

    rocket.github.unverified_emails.clear()  # the member verified it: linking works
    response = rocket.callback(rocket.github.approve(url, "octo-cat"))
    assert response.status_code == 200
    assert rocket.user(ME).github_verified is True
