"""Issue 11, items 1, 2 (the admin notice) and 4: a GitHub account is linked only with GitHub's
proof (the App's web flow), through a real Gunicorn, the fake Slack and the fake GitHub (which
plays GitHub's authorize page, code exchange, /user and token revocation).

The member's browser is played by ``FakeGitHub.approve``/``deny`` (GitHub's redirect) and
``Rocket.callback`` (following it to this server's /github/link).
"""

from __future__ import annotations

import base64
import html
import json
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from app.members.linking.oauth import authorize_url
from app.members.linking.state import StateError, StateExpired, StateSigner, derive_key
from app.store import Permission
from config import ConfigError, load_config
from tests.support import rocket as rocket_support
from tests.support.keys import valid_env

# The store's copy of the admin and leads teams is pinned under these names (mirror_powers).
rocket_module = rocket_support.rocket_module_with(
    GITHUB_ADMIN_TEAM_NAME="admins", GITHUB_LEADS_TEAM_NAME="leads"
)
rocket = rocket_support.rocket
memory_context = rocket_support.memory_context
ME, OTHER, ADMIN = rocket_support.ME, rocket_support.OTHER, rocket_support.ADMIN
refused = rocket_support.assert_refused
CALLBACK = rocket_support.PUBLIC_URL + "/github/link"
NOTICE_CHANNEL = "#rocket2"  # SLACK_NOTIFICATION_CHANNEL's default


# ---- helpers ---------------------------------------------------------------------------


def link_of(reply: dict) -> str:
    """The authorize URL in a `user link` reply."""
    match = re.search(r"<(https?://[^|>]+)\|", reply["text"])
    assert match, reply["text"]
    return html.unescape(match.group(1))


def state_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["state"][0]


def with_state(url: str, state: str) -> str:
    """``url`` (a redirect or authorize URL) with another state."""
    return re.sub(r"state=[^&]*", f"state={state}", url)


def follow(rocket, slack_id: str, login: str, token_for: str | None = None):  # type: ignore[no-untyped-def]
    """`/rocket user link` as ``slack_id``, approve on GitHub as ``login``, come back."""
    url = link_of(rocket.command("user link", slack_id))
    return rocket.callback(rocket.github.approve(url, login, token_for))


def posted(rocket, channel: str) -> list[dict]:
    return [b for b in rocket.slack.bodies("/api/chat.postMessage") if b.get("channel") == channel]


def exchanges(rocket) -> int:
    return rocket.github.count("POST", r"/login/oauth/access_token")


def invites(rocket, login: str) -> int:
    return rocket.github.count("PUT", rf"/orgs/[^/]+/memberships/{login}")


def mirror_powers(rocket, ids: dict[str, int]) -> None:
    """The store's copy of seed_small_org's teams that matter: alice maintains backend and is in
    the admins team (pinned as the admin team), dave is in the leads team (pinned)."""
    gh = rocket.github
    with rocket.store.unit_of_work() as uow:
        for name in ("backend", "admins", "leads"):
            team = gh.team(name)
            uow.teams.create(team.id, team.name, slug=team.slug)
            for login, role in team.members.items():
                uow.teams.add_member(team.id, ids[login])
                if role == "maintainer":
                    uow.teams.add_lead(team.id, ids[login])
        uow.special_teams.pin("admin", "admins", gh.team("admins").id)
        uow.special_teams.pin("team_lead", "leads", gh.team("leads").id)


def same_email(rocket, slack_id: str, login: str) -> None:
    """Give ``login`` on GitHub a verified e-mail that is ``slack_id``'s on Slack."""
    address = f"{login}@club.example"
    rocket.slack.emails[slack_id] = address
    rocket.github.set_emails(login, (f"{login}@github.example", True), (address.upper(), True))


def nothing_linked(rocket, slack_id: str) -> None:
    user = rocket.user(slack_id)
    assert user is None or (user.github_id, user.github_username, user.github_verified) == (
        None,
        "",
        False,
    )


# ---- the escalation by typed login (finding 1) --------------------------------------------


def test_a_member_typing_an_admins_login_is_refused_and_nothing_happens(rocket):
    ids = rocket.github.seed_small_org()
    mirror_powers(rocket, ids)
    rocket.add_user(ME, name="Mallory")
    before = rocket.github.count()

    reply = rocket.command("user edit --github alice", ME)
    refused(reply, "`/rocket user link`")
    reply = rocket.command("user edit --github alice --name Alice", ME)
    refused(reply, "Nothing was changed")
    reply = rocket.command("user edit --github alice", OTHER)  # no record yet
    refused(reply, "`/rocket user link`")

    user = rocket.user(ME)
    assert (user.github_id, user.github_username, user.name) == (None, "", "Mallory")
    assert user.permission is Permission.member
    assert rocket.user(OTHER) is None
    assert rocket.github.count() == before  # GitHub was not asked: no invitation sent
    assert invites(rocket, "alice") == 0


# ---- the web flow end to end --------------------------------------------------------------


def test_link_end_to_end_stores_githubs_identity_and_revokes_the_token(rocket):
    gh_id = rocket.github.add_user("Octo-Cat")
    reply = rocket.command("user link", ME)
    assert reply["response_type"] == "ephemeral"
    assert "expires in 10 minutes" in reply["text"] and "works once" in reply["text"]
    url = link_of(reply)
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(rocket.github.url + "/login/oauth/authorize?")
    assert query["client_id"] == [rocket.env["GITHUB_CLIENT_ID"]]
    assert query["redirect_uri"] == [CALLBACK]
    assert rocket.env["GITHUB_CLIENT_SECRET"] not in json.dumps(reply)

    redirect = rocket.github.approve(url, "Octo-Cat")
    response = rocket.callback(redirect)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/html")
    assert "Linked" in response.text and "Octo-Cat" in response.text

    user = rocket.user(ME)
    assert (user.github_username, user.github_id, user.github_verified) == (
        "Octo-Cat",
        gh_id,
        True,
    )
    assert "octo-cat" in rocket.github.invitations  # invited through the App
    tokens = list(rocket.github.user_tokens)
    assert len(tokens) == 1 and rocket.github.user_token_revoked(tokens[0])
    dm = posted(rocket, ME)
    assert len(dm) == 1 and "`Octo-Cat` is linked" in dm[0]["text"]
    assert "invitation" in dm[0]["text"]
    assert posted(rocket, NOTICE_CHANNEL) == []  # Octo-Cat holds nothing on GitHub
    output = rocket.server.output()
    assert not [s for s in rocket.github.issued_secrets if s.startswith("gh") and s in output]
    callback = parse_qs(urlsplit(redirect).query)
    assert "GET /github/link HTTP/1.1" in output  # the access line, without its query string
    assert callback["code"][0] not in output and callback["state"][0] not in output

    # The same link again: used (the code is spent, and a fresh code with that state too).
    assert exchanges(rocket) == 1
    again = rocket.callback(redirect)
    assert again.status_code == 409 and "already used" in again.text
    fresh = rocket.callback(rocket.github.approve(url, "Octo-Cat"))
    assert fresh.status_code == 409 and "already used" in fresh.text
    assert exchanges(rocket) == 1  # a used state never reaches GitHub's token endpoint
    assert len(posted(rocket, ME)) == 1


def test_a_tampered_or_foreign_state_is_refused_before_github(rocket):
    rocket.github.add_user("octo-cat")
    url = link_of(rocket.command("user link", ME))
    body, mac = state_of(url).split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["u"] = OTHER  # claim the link for someone else, keeping the MAC
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    foreign = StateSigner("not-our-client-secret").sign(OTHER, "")
    for state in (f"{forged}.{mac}", foreign, f"{body}.{mac[:-2]}", "garbage", ""):
        response = rocket.callback(rocket.github.approve(with_state(url, state), "octo-cat"))
        assert response.status_code == 400, (state, response.text)
        assert "not valid" in response.text
    missing = rocket.callback(CALLBACK + "?state=" + state_of(url))  # no code
    assert missing.status_code == 400
    assert exchanges(rocket) == 0
    nothing_linked(rocket, ME)
    nothing_linked(rocket, OTHER)
    assert invites(rocket, "octo-cat") == 0


def test_an_expired_link_is_refused(rocket):
    rocket.github.add_user("octo-cat")
    signer = StateSigner(rocket.env["GITHUB_CLIENT_SECRET"])  # the real signer, our key
    state = signer.sign(ME, "", expires_at=int(time.time()) - 1)
    url = authorize_url(rocket.github.url, rocket.env["GITHUB_CLIENT_ID"], CALLBACK, state)
    response = rocket.callback(rocket.github.approve(url, "octo-cat"))
    assert response.status_code == 410
    assert "expired" in response.text and "/rocket user link" in response.text
    assert exchanges(rocket) == 0
    nothing_linked(rocket, ME)


def test_the_stored_identity_is_githubs_and_someone_elses_account_is_refused(rocket):
    carol = rocket.github.add_user("carol")
    bob = rocket.github.add_user("bob")
    # The browser said "octo-cat", but the code's token belongs to carol: carol is stored.
    response = follow(rocket, ME, "octo-cat", token_for="carol")
    assert response.status_code == 200 and "carol" in response.text
    user = rocket.user(ME)
    assert (user.github_username, user.github_id, user.github_verified) == ("carol", carol, True)

    # bob is OTHER's: GitHub vouching that LEAD holds bob changes nothing.
    rocket.add_user(OTHER, github_username="bob", github_id=bob, github_verified=True)
    response = follow(rocket, rocket_support.LEAD, "bob")
    assert response.status_code == 409
    assert "already linked to another Slack member" in response.text
    nothing_linked(rocket, rocket_support.LEAD)
    assert rocket.user(OTHER).github_id == bob
    assert invites(rocket, "bob") == 0
    tokens = list(rocket.github.user_tokens)
    assert len(tokens) == 2 and all(rocket.github.user_token_revoked(t) for t in tokens)


def test_github_refusing_stores_nothing(rocket):
    rocket.github.add_user("octo-cat")
    url = link_of(rocket.command("user link", ME))
    denied = rocket.github.deny(url)
    assert "error=access_denied" in denied
    response = rocket.callback(denied)
    assert response.status_code == 403 and "Cancel" in response.text

    redirect = rocket.github.approve(url, "octo-cat")
    rocket.github.expire_codes()  # GitHub answers bad_verification_code, with HTTP 200
    response = rocket.callback(redirect)
    assert response.status_code == 400 and "GitHub refused" in response.text
    assert exchanges(rocket) == 1
    nothing_linked(rocket, ME)
    assert invites(rocket, "octo-cat") == 0
    assert rocket.github.user_tokens == {}

    # The link was not used up by GitHub's refusals: approving again works.
    response = rocket.callback(rocket.github.approve(url, "octo-cat"))
    assert response.status_code == 200
    assert rocket.user(ME).github_verified is True


def test_github_failing_mid_flow_stores_nothing_and_still_revokes_the_token(rocket):
    rocket.github.add_user("octo-cat")
    url = link_of(rocket.command("user link", ME))
    rocket.github.fail("POST", r"/login/oauth/access_token", 503)
    response = rocket.callback(rocket.github.approve(url, "octo-cat"))
    assert response.status_code == 502 and "could not reach GitHub" in response.text

    rocket.github.fail("GET", r"/user", 500)
    response = rocket.callback(rocket.github.approve(url, "octo-cat"))
    assert response.status_code == 502
    tokens = list(rocket.github.user_tokens)
    assert len(tokens) == 1 and rocket.github.user_token_revoked(tokens[0])

    rocket.github.fail("PUT", r"/orgs/[^/]+/memberships/octo-cat", 502, times=5)
    response = rocket.callback(rocket.github.approve(url, "octo-cat"))
    assert response.status_code == 502
    nothing_linked(rocket, ME)
    assert posted(rocket, ME) == []
    rocket.server.wait_for_output("GitHub link callback: unavailable", count=2)
    rocket.server.wait_for_output("GitHub link confirmation: unavailable", count=1)


# ---- at most one pending invitation (finding 3) --------------------------------------------


def test_linking_another_account_cancels_the_pending_invitation(rocket):
    for login in ("first-acct", "second-acct", "third-acct"):
        rocket.github.add_user(login)
    assert follow(rocket, ME, "first-acct").status_code == 200
    assert "first-acct" in rocket.github.invitations
    assert follow(rocket, ME, "second-acct").status_code == 200
    assert "first-acct" not in rocket.github.invitations  # cancelled
    assert set(rocket.github.invitations) == {"second-acct"}
    assert rocket.github.count("DELETE", r"/orgs/[^/]+/memberships/first-acct") == 1

    rocket.github.add_org_member("second-acct")  # accepted: an active member now
    assert follow(rocket, ME, "third-acct").status_code == 200
    # Rocket 2 invited it and it holds nothing else: it leaves the organisation too (L5).
    assert "second-acct" not in rocket.github.org_members
    assert set(rocket.github.invitations) == {"third-acct"}
    assert rocket.user(ME).github_username == "third-acct"


def test_the_previous_invitation_is_cancelled_by_account_never_a_login_that_changed_hands(
    rocket,
):
    old_id = rocket.github.add_user("x-old")
    rocket.github.add_user("x-two")
    assert follow(rocket, ME, "x-old").status_code == 200
    assert "x-old" in rocket.github.invitations
    gh = rocket.github
    with gh.lock:  # x-old renames itself; a stranger registers x-old and is invited too
        gh.users["x-renamed"] = {"id": old_id, "login": "x-renamed"}
        gh.invitations["x-renamed"] = gh.invitations.pop("x-old")
        gh.users["x-old"] = {"id": 424242, "login": "x-old"}
        gh.invitations["x-old"] = "member"
    assert follow(rocket, ME, "x-two").status_code == 200
    assert "x-renamed" not in gh.invitations  # ME's own previous invitation: cancelled
    assert "x-old" in gh.invitations  # the stranger's: untouched


def test_an_admin_link_is_unverified_logged_and_keeps_one_invitation(rocket):
    for login in ("x-one", "x-two"):
        rocket.github.add_user(login)
    rocket.add_user(ADMIN, Permission.admin)
    rocket.add_user(OTHER)
    reply = rocket.command(f"user edit --username <@{OTHER}> --github x-one", ADMIN)
    assert "is updated: GitHub, GitHub id" in reply["text"]
    assert "not verified by GitHub" in reply["text"]
    reply = rocket.command(f"user edit --username <@{OTHER}> --github x-two", ADMIN)
    assert "is updated" in reply["text"]
    user = rocket.user(OTHER)
    assert (user.github_username, user.github_verified) == ("x-two", False)
    assert set(rocket.github.invitations) == {"x-two"}  # x-one's invitation was cancelled
    rocket.server.wait_for_output(f"admin {ADMIN} linked {OTHER} to GitHub account x-two", count=1)
    dm = posted(rocket, OTHER)
    assert dm and "`/rocket user link`" in dm[-1]["text"]

    # The member then proves it themself: verified now.
    assert follow(rocket, OTHER, "x-two").status_code == 200
    assert rocket.user(OTHER).github_verified is True


# ---- the admin notice (item 2) --------------------------------------------------------------


def test_admins_are_told_when_a_maintainer_or_special_team_account_is_linked(rocket):
    ids = rocket.github.seed_small_org()
    mirror_powers(rocket, ids)
    with rocket.store.unit_of_work() as uow:  # a team name with markup, to see it escaped
        backend = uow.teams.by_name("backend")
        uow.teams.update(backend.github_team_id, github_team_name="<!here> backend")

    assert follow(rocket, ME, "erin").status_code == 200  # a plain member: no notice
    assert posted(rocket, NOTICE_CHANNEL) == []

    same_email(rocket, OTHER, "alice")  # the second factor, met automatically
    same_email(rocket, rocket_support.LEAD, "dave")
    assert follow(rocket, OTHER, "alice").status_code == 200
    notices = posted(rocket, NOTICE_CHANNEL)
    assert len(notices) == 1
    text = notices[0]["text"]
    assert f"<@{OTHER}>" in text and "`alice`" in text and "verified by GitHub" in text
    assert "e-mails match" in text and "They become admin" in text
    assert "maintains &lt;!here&gt; backend" in text and "<!here>" not in text
    assert "is in the admin team" in text and "is in the leads team" in text

    assert follow(rocket, rocket_support.LEAD, "dave").status_code == 200
    notices = posted(rocket, NOTICE_CHANNEL)
    assert len(notices) == 2 and "`dave`" in notices[1]["text"]
    assert "is in the leads team" in notices[1]["text"]
    assert "admin team" not in notices[1]["text"]


def test_a_proven_link_gets_its_special_team_role_at_once_and_a_typed_one_does_not(rocket):
    ids = rocket.github.seed_small_org()
    mirror_powers(rocket, ids)
    rocket.add_user(ADMIN, Permission.admin)
    rocket.add_user(OTHER)

    # An admin types alice's login for OTHER: stored, but GitHub's admin team gives no role.
    rocket.command(f"user edit --username <@{OTHER}> --github alice", ADMIN)
    assert rocket.user(OTHER).github_username == "alice"
    assert rocket.user(OTHER).permission is Permission.member

    # alice herself (ME on Slack) links it with GitHub's proof and her own e-mail: proof wins
    # over the typed link, she is admin at once, and both the DM and the admins' notice say so.
    same_email(rocket, ME, "alice")
    assert follow(rocket, ME, "alice").status_code == 200
    user = rocket.user(ME)
    assert (user.github_username, user.github_verified, user.permission) == (
        "alice",
        True,
        Permission.admin,
    )
    other = rocket.user(OTHER)
    assert (other.github_id, other.github_username, other.permission) == (
        None,
        "",
        Permission.member,
    )
    rocket.server.wait_for_output(f"moved from {OTHER} (typed, unverified) to {ME}")
    assert "make you admin" in posted(rocket, ME)[-1]["text"]
    assert "They become admin" in posted(rocket, NOTICE_CHANNEL)[-1]["text"]


def test_a_link_sent_to_someone_else_links_nothing_until_they_confirm_whose_it_is(rocket):
    ids = rocket.github.seed_small_org()
    mirror_powers(rocket, ids)
    rocket.add_user(OTHER)
    rocket.slack.display_names[OTHER] = "Alice Liddell"  # chosen by the member: never shown
    rocket.slack.handles[OTHER] = "mallory<b>"
    # OTHER sends their own link to alice, who approves on GitHub: a page, not a link.
    url = link_of(rocket.command("user link", OTHER))
    page = rocket.callback(rocket.github.approve(url, "alice"), confirm=False)
    assert page.status_code == 200 and "Confirm the link" in page.text
    assert "<strong>alice</strong>" in page.text and f"member id {OTHER}" in page.text
    assert "Alice Liddell" not in page.text
    assert "<strong>@mallory&lt;b&gt;</strong>" in page.text  # Slack's username, escaped
    assert f'<img src="https://avatars.slack-edge.example/{OTHER}_72.png"' in page.text
    assert "maintains backend and is in the admin team and is in the leads team" in page.text
    assert "@mallory&lt;b&gt; becomes <strong>admin</strong> in Rocket 2" in page.text
    assert "an admin must also approve" in page.text
    assert "Only continue if you are @mallory&lt;b&gt;" in page.text
    csp = page.headers["content-security-policy"]
    assert "form-action 'self'" in csp and "frame-ancestors 'none'" in csp
    nothing_linked(rocket, OTHER)
    assert rocket.user(OTHER).permission is Permission.member
    assert posted(rocket, NOTICE_CHANNEL) == [] and invites(rocket, "alice") == 0

    # A forged or altered confirmation links nothing; nor does the button pressed without the
    # username typed (a double click), or with another one.
    token = rocket_support.confirmation_of(page)
    assert token is not None and rocket_support.typed_of(page) == "mallory<b>"
    body, mac = token.split(".")
    forged = base64.urlsafe_b64encode(
        base64.urlsafe_b64decode(body + "==").replace(b'"alice"', b'"bob00"')
    )
    forged_token = forged.decode().rstrip("=") + "." + mac
    assert rocket.confirm(forged_token, "mallory<b>").status_code == 400
    assert rocket.confirm(state_of(url), "mallory<b>").status_code == 400  # a state is no token
    for typed in ("", "alice", "mallory"):
        answer = rocket.confirm(token, typed)
        assert answer.status_code == 400 and "username typed" in answer.text, typed
    nothing_linked(rocket, OTHER)

    # Typed right: the account gives power and the e-mails differ, so it waits for an admin.
    answer = rocket.confirm(token, " @Mallory<b> ")
    assert answer.status_code == 202 and "Waiting for an admin" in answer.text
    nothing_linked(rocket, OTHER)
    assert rocket.confirm(token, "mallory<b>").status_code == 409  # once


# ---- commands and settings ------------------------------------------------------------------


def test_user_add_points_to_user_link(rocket):
    reply = rocket.command("user add", ME)
    assert "`/rocket user link`" in reply["text"] and "--github" not in reply["text"]


def test_link_says_when_linking_is_off(memory_context):
    assert not memory_context.config.linking_enabled
    reply = rocket_support.run(memory_context, "user link", ME)
    assert "linking is off" in reply["text"] and "admin can link" in reply["text"]
    assert "http" not in reply["text"]


def test_partial_linking_settings_name_the_missing_ones(key_pem):
    with pytest.raises(ConfigError) as caught:
        load_config(environ=valid_env(key_pem, GITHUB_CLIENT_ID="Iv23liTestClient01"))
    message = str(caught.value)
    assert "GITHUB_CLIENT_SECRET" in message and "PUBLIC_URL" in message
    assert "Iv23liTestClient01" not in message
    with pytest.raises(ConfigError) as caught:
        load_config(environ=valid_env(key_pem, GITHUB_CLIENT_SECRET="s" * 40))
    message = str(caught.value)
    assert "GITHUB_CLIENT_ID" in message and "PUBLIC_URL" in message
    assert "s" * 40 not in message


@pytest.mark.parametrize("path", ["/github/link", "/github/link/", "/github/link/x"])
def test_the_webhook_path_cannot_take_the_link_callback(key_pem, path):
    with pytest.raises(ConfigError) as caught:
        load_config(environ=valid_env(key_pem, GITHUB_WEBHOOK_ENDPT=path))
    assert "GITHUB_WEBHOOK_ENDPT" in str(caught.value)


# ---- the state signer ------------------------------------------------------------------------


def test_the_state_is_signed_bound_and_expiring():
    now = [1_000_000.0]
    signer = StateSigner("client-secret-value", clock=lambda: now[0])
    token = signer.sign("U0CALLER01", "T0001")
    state = signer.verify(token)
    assert (state.slack_user, state.slack_team, state.expires_at) == (
        "U0CALLER01",
        "T0001",
        1_000_600,
    )
    assert signer.sign("U0CALLER01", "T0001") != token  # a fresh nonce each time
    assert "client-secret-value" not in token
    assert derive_key("client-secret-value") != b"client-secret-value"
    with pytest.raises(StateError):
        StateSigner("another-secret", clock=lambda: now[0]).verify(token)
    with pytest.raises(StateError):
        signer.verify(token[:-1] + ("A" if token[-1] != "A" else "B"))
    now[0] += 600
    with pytest.raises(StateExpired):
        signer.verify(token)
