"""``GET /github/link?code=…&state=…``: where GitHub sends the member back after they approve
(or refuse) the App; ``POST /github/link``: the account holder's confirmation.

The state is verified before GitHub is asked anything; the code is exchanged once. Nothing is
linked on the GET: it answers a page naming the Slack member by what Slack says and the member
cannot choose (workspace username, id, avatar), saying what the account gives whom, with a form
carrying GitHub's answer, signed (``ConfirmationSigner``). Only that form's POST links, and only
with the member's username typed into it (no double click completes it). A link that gives
power also needs the second factor (app.members.linking.factor): else it waits for an admin
(202). Every answer is a small plain HTML page. Refusals are 4xx (410 expired, 409 used or
taken, 403 cancelled, 400 forged, a refused code or a wrong username) and store nothing; 502
only when GitHub or Slack could not be used. No request value reaches the log.
"""

from __future__ import annotations

import html
import logging
import re
from typing import TYPE_CHECKING

from flask import Blueprint, Response, request

from app.github import GitHubUser
from app.members.linking import CALLBACK_PATH
from app.members.linking.factor import Waiting, confirm_link
from app.members.linking.links import (
    AccountTaken,
    InviteFailed,
    LinkUsed,
    NoticeFailed,
    account_role,
    check_link,
    holders,
    powers,
)
from app.members.linking.member import SlackMember, matches, slack_member
from app.members.linking.oauth import Identity, OAuthRefused, OAuthUnavailable, WebFlow
from app.members.linking.state import (
    ConfirmationSigner,
    LinkState,
    StateError,
    StateExpired,
    StateSigner,
)
from app.store import Permission

if TYPE_CHECKING:
    from app.services import Services

log = logging.getLogger("rocket2.linking")

_CODE = re.compile(r"[A-Za-z0-9_-]{1,100}")
ASK_AGAIN = "Ask for a new link with /rocket user link in Slack."

# The confirmation page may post its own form to this origin, show Slack's avatar, nothing else.
CONFIRM_CSP = (
    "default-src 'none'; img-src https:; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)

PAGES: dict[str, tuple[int, str, str]] = {
    "linked": (200, "Linked", "Your Slack account is now linked to the GitHub account {login}."),
    "waiting": (
        202,
        "Waiting for an admin",
        "The GitHub account {login} holds power in the club, and none of its verified e-mails "
        "is the Slack member's, so an admin must approve this link in Slack. Nothing is linked "
        "or granted until then.",
    ),
    "mistyped": (
        400,
        "Not linked",
        f"The username typed is not the Slack member's this link is for. Nothing was linked. "
        f"{ASK_AGAIN}",
    ),
    "expired": (410, "Link expired", f"This link has expired (links last 10 minutes). {ASK_AGAIN}"),
    "used": (409, "Link already used", f"This link was used already; it works once. {ASK_AGAIN}"),
    "forged": (
        400,
        "Link not valid",
        f"This link was not made by Rocket 2, or it was changed. Nothing was linked. {ASK_AGAIN}",
    ),
    "cancelled": (
        403,
        "Not linked",
        f"GitHub did not authorize Rocket 2 (you pressed Cancel). Nothing was linked. {ASK_AGAIN}",
    ),
    "refused": (
        400,
        "GitHub refused",
        f"GitHub refused the sign-in (the code was wrong, expired or used). {ASK_AGAIN}",
    ),
    "taken": (
        409,
        "Account linked to someone else",
        "The GitHub account {login} is already linked to another Slack member, so nothing was "
        "changed. Ask an admin if this is wrong.",
    ),
    "off": (404, "Linking is off", "GitHub account linking is off; an admin can link accounts."),
    "unavailable": (
        502,
        "GitHub unavailable",
        f"Rocket 2 could not reach GitHub. Nothing was linked. Try again in a few minutes: "
        f"{ASK_AGAIN}",
    ),
    "silent": (
        502,
        "Slack unavailable",
        f"Rocket 2 could not tell the club's admins in Slack, so nothing was linked. Try again "
        f"in a few minutes: {ASK_AGAIN}",
    ),
}


def page(outcome: str, login: str = "") -> Response:
    """The plain HTML page for ``outcome``; ``login`` (from GitHub) is escaped."""
    status, title, text = PAGES[outcome]
    body = html.escape(text).replace("{login}", html.escape(login) or "?")
    markup = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Rocket 2: {html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{body}</p></body></html>"
    )
    return Response(markup, status=status, content_type="text/html; charset=utf-8")


def confirmation_page(
    ctx: Services, member: SlackMember, identity: Identity, token: str
) -> Response:
    """The page asking the GitHub account holder to confirm which Slack member gets it."""
    account = identity.account
    held = powers(ctx, account.id)
    with ctx.store.unit_of_work() as uow:
        taken = [u.slack_id for u in holders(uow, account, member.slack_id)]
        role = account_role(uow, ctx.config, account.id)
    who = html.escape(f"@{member.handle}" if member.handle else member.slack_id)
    avatar = (
        f'<img src="{html.escape(member.avatar)}" alt="" width="72" height="72"> '
        if member.avatar
        else ""
    )
    gives = f"It {html.escape(' and '.join(held))}, and they get that in Rocket 2." if held else ""
    if role is not Permission.member:
        gives += f" {who} becomes <strong>{role.value}</strong> in Rocket 2."
    moves = f" It is taken off the Slack member {html.escape(', '.join(taken))}." if taken else ""
    factor = ""
    if (held or taken) and not _email_match(member, identity):
        factor = (
            "<p>Because this account holds power, an admin must also approve the link in Slack "
            "before anything is linked or given.</p>"
        )
    markup = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>Rocket 2: Confirm the link</title></head><body><h1>Confirm the link</h1>"
        f"<p>{avatar}Slack member <strong>{who}</strong> (member id "
        f"{html.escape(member.slack_id)}).</p>"
        f"<p>This gives the GitHub account <strong>{html.escape(account.login)}</strong> to "
        f"the Slack member <strong>{who}</strong>. {gives}{moves}</p>{factor}"
        f"<p><strong>Only continue if you are {who}.</strong> If someone sent you this "
        "link, close this page: nothing has been linked.</p>"
        f'<form method="post" action="{CALLBACK_PATH}">'
        f'<input type="hidden" name="confirmation" value="{html.escape(token)}">'
        "<p><label>To confirm, type the Slack username of the member who gets the account, "
        f'<code id="to-type">{html.escape(member.to_type)}</code>: '
        '<input name="typed" autocomplete="off" required></label></p>'
        f'<button type="submit">Give {html.escape(account.login)} to {who}</button>'
        "</form></body></html>"
    )
    response = Response(markup, status=200, content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = CONFIRM_CSP
    return response


def _email_match(member: SlackMember, identity: Identity) -> bool:
    return bool(member.email) and member.email in identity.verified_emails


def create_blueprint(ctx: Services) -> Blueprint:
    """The callback and confirmation routes, on the command context's store, GitHub App and
    Slack client."""
    bp = Blueprint("linking", __name__)
    config = ctx.config
    secret = config.github_client_secret.reveal()
    signer = StateSigner(secret) if config.linking_enabled else None
    confirmer = ConfirmationSigner(secret) if config.linking_enabled else None
    flow = WebFlow.from_config(config) if config.linking_enabled else None

    @bp.get(CALLBACK_PATH)
    def callback() -> Response:
        outcome, login, answer = _callback(ctx, signer, confirmer, flow)
        log.info("GitHub link callback: %s", outcome)
        return answer if answer is not None else page(outcome, login)

    @bp.post(CALLBACK_PATH)
    def confirm() -> Response:
        outcome, login = _confirm(ctx, confirmer)
        log.info("GitHub link confirmation: %s", outcome)
        return page(outcome, login)

    return bp


def _confirm(ctx: Services, confirmer: ConfirmationSigner | None) -> tuple[str, str]:
    if confirmer is None:
        return "off", ""
    try:
        confirmation = confirmer.verify(request.form.get("confirmation", ""))
    except StateExpired:
        return "expired", ""
    except StateError:
        return "forged", ""
    state = confirmation.state
    if state.slack_team != ctx.config.slack_team_id:
        return "forged", ""
    if not matches(request.form.get("typed", ""), confirmation.handle or state.slack_user):
        return "mistyped", ""
    account = GitHubUser(confirmation.github_id, confirmation.login)
    try:
        done = confirm_link(
            ctx, state.slack_user, state.nonce, account, email_match=confirmation.email_match
        )
    except LinkUsed:
        return "used", ""
    except AccountTaken:
        return "taken", account.login
    except InviteFailed as exc:
        log.warning("GitHub link: %s", exc.error)
        return "unavailable", ""
    except NoticeFailed:
        return "silent", ""
    return ("waiting" if isinstance(done, Waiting) else "linked"), account.login


def _callback(
    ctx: Services,
    signer: StateSigner | None,
    confirmer: ConfirmationSigner | None,
    flow: WebFlow | None,
) -> tuple[str, str, Response | None]:
    outcome, login, found = _identify(ctx, signer, flow)
    if found is None or confirmer is None:
        return outcome, login, None
    state, identity = found
    member = slack_member(ctx.slack, state.slack_user)
    account = identity.account
    token = confirmer.sign(
        state,
        account.id,
        account.login,
        handle=member.to_type,
        email_match=_email_match(member, identity),
    )
    return "confirm", account.login, confirmation_page(ctx, member, identity, token)


def _identify(
    ctx: Services, signer: StateSigner | None, flow: WebFlow | None
) -> tuple[str, str, tuple[LinkState, Identity] | None]:
    """Verify the state, exchange the code: (outcome, login, (state, account) when it may be
    linked)."""
    if signer is None or flow is None:
        return "off", "", None
    if request.args.get("error"):
        return ("cancelled" if request.args["error"] == "access_denied" else "refused"), "", None
    code, token = request.args.get("code", ""), request.args.get("state", "")
    if not _CODE.fullmatch(code):
        return "forged", "", None
    try:
        state = signer.verify(token)
    except StateExpired:
        return "expired", "", None
    except StateError:
        return "forged", "", None
    if state.slack_team != ctx.config.slack_team_id:
        return "forged", "", None
    with ctx.store.unit_of_work() as uow:
        if uow.events.seen("link", state.nonce):
            return "used", "", None
    try:
        identity = flow.identify(code)
    except OAuthRefused:
        return "refused", "", None
    except OAuthUnavailable as exc:
        log.warning("GitHub link: %s", exc.reason)
        return "unavailable", "", None
    account = identity.account
    try:
        check_link(ctx, state.nonce, state.slack_user, account)
    except LinkUsed:
        return "used", "", None
    except AccountTaken:
        return "taken", account.login, None
    return "confirm", account.login, (state, identity)
