"""``GET /github/link?code=…&state=…``: where GitHub sends the member back after they approve
(or refuse) the App; ``POST /github/link``: the account holder's confirmation.

The state is verified before GitHub is asked anything; the code is exchanged once. Nothing is
linked on the GET: it answers a page naming the GitHub account and the Slack member it would be
linked to, with a form carrying GitHub's answer, signed (``ConfirmationSigner``). Only that
form's POST links, so a member cannot get someone else's account by sending them their own
link: the account holder sees whose link it is and must confirm. Every answer is a small plain
HTML page. Refusals are 4xx (410 expired, 409 used or taken, 403 cancelled, 400 forged or a
refused code) and store nothing; 502 only when GitHub itself could not be used. No request
value reaches the log.
"""

from __future__ import annotations

import html
import logging
import re
from typing import TYPE_CHECKING

from flask import Blueprint, Response, request

from app.github import GitHubUser
from app.members.linking import CALLBACK_PATH
from app.members.linking.oauth import OAuthRefused, OAuthUnavailable, WebFlow
from app.members.linking.service import (
    AccountTaken,
    InviteFailed,
    LinkUsed,
    check_link,
    link_with_proof,
)
from app.members.linking.state import (
    ConfirmationSigner,
    LinkState,
    StateError,
    StateExpired,
    StateSigner,
)
from app.outside import report_failure

if TYPE_CHECKING:
    from app.services import Services

log = logging.getLogger("rocket2.linking")

_CODE = re.compile(r"[A-Za-z0-9_-]{1,100}")
ASK_AGAIN = "Ask for a new link with /rocket user link in Slack."

# The confirmation page may post its own form to this origin, and nothing else.
CONFIRM_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

PAGES: dict[str, tuple[int, str, str]] = {
    "linked": (200, "Linked", "Your Slack account is now linked to the GitHub account {login}."),
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


def confirmation_page(ctx: Services, state: LinkState, login: str, token: str) -> Response:
    """The page asking the GitHub account holder to confirm whose Slack member gets it."""
    member = html.escape(slack_name(ctx, state.slack_user))
    slack_id = html.escape(state.slack_user)
    account = html.escape(login)
    markup = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>Rocket 2: Confirm the link</title></head><body><h1>Confirm the link</h1>"
        f"<p>Link the GitHub account <strong>{account}</strong> to the Slack member "
        f"<strong>{member}</strong> ({slack_id})? That member then gets what this GitHub account "
        "holds in the club: its teams, and any role its teams give.</p>"
        "<p><strong>Only continue if you are that Slack member.</strong> If someone sent you this "
        "link, close this page: nothing has been linked.</p>"
        f'<form method="post" action="{CALLBACK_PATH}">'
        f'<input type="hidden" name="confirmation" value="{html.escape(token)}">'
        '<button type="submit">Link my account</button></form></body></html>'
    )
    response = Response(markup, status=200, content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = CONFIRM_CSP
    return response


def slack_name(ctx: Services, slack_id: str) -> str:
    """The member's name as Slack shows it (users.info), or their id if Slack cannot say."""
    try:
        answer = ctx.slack.users_info(user=slack_id)
        user = answer.get("user") or {}
        profile = user.get("profile") or {}
        name = profile.get("display_name") or user.get("real_name") or profile.get("real_name")
    except Exception as exc:
        report_failure("users.info for the link confirmation", exc)
        return slack_id
    return str(name)[:80] if name else slack_id


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
    if confirmation.state.slack_team != ctx.config.slack_team_id:
        return "forged", ""
    account = GitHubUser(confirmation.github_id, confirmation.login)
    try:
        link_with_proof(ctx, confirmation.state, account)
    except LinkUsed:
        return "used", ""
    except AccountTaken:
        return "taken", account.login
    except InviteFailed as exc:
        log.warning("GitHub link: %s", exc.error)
        return "unavailable", ""
    return "linked", account.login


def _callback(
    ctx: Services,
    signer: StateSigner | None,
    confirmer: ConfirmationSigner | None,
    flow: WebFlow | None,
) -> tuple[str, str, Response | None]:
    outcome, login, found = _identify(ctx, signer, flow)
    if found is None or confirmer is None:
        return outcome, login, None
    state, account = found
    token = confirmer.sign(state, account.id, account.login)
    return "confirm", account.login, confirmation_page(ctx, state, account.login, token)


def _identify(
    ctx: Services, signer: StateSigner | None, flow: WebFlow | None
) -> tuple[str, str, tuple[LinkState, GitHubUser] | None]:
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
        account = flow.identify(code)
    except OAuthRefused:
        return "refused", "", None
    except OAuthUnavailable as exc:
        log.warning("GitHub link: %s", exc.reason)
        return "unavailable", "", None
    try:
        check_link(ctx, state, account)
    except LinkUsed:
        return "used", "", None
    except AccountTaken:
        return "taken", account.login, None
    return "confirm", account.login, (state, account)
