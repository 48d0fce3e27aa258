"""``GET /github/link?code=…&state=…``: where GitHub sends the member back after they approve
(or refuse) the App.

The state is verified before GitHub is asked anything; the code is exchanged once; the answer
is a small plain HTML page saying what happened. Refusals are 4xx (410 expired, 409 used or
taken, 403 cancelled, 400 forged or a refused code) and store nothing; 502 only when GitHub
itself could not be used. No request value reaches the log.
"""

from __future__ import annotations

import html
import logging
import re
from typing import TYPE_CHECKING

from flask import Blueprint, Response, request

from app.linking import CALLBACK_PATH
from app.linking.oauth import OAuthRefused, OAuthUnavailable, WebFlow
from app.linking.service import AccountTaken, InviteFailed, LinkUsed, link_with_proof
from app.linking.state import StateError, StateExpired, StateSigner

if TYPE_CHECKING:
    from app.commands import CommandContext

log = logging.getLogger("rocket2.linking")

_CODE = re.compile(r"[A-Za-z0-9_-]{1,100}")
ASK_AGAIN = "Ask for a new link with /rocket user link in Slack."

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


def create_blueprint(ctx: CommandContext) -> Blueprint:
    """The callback route, using the command context's store, GitHub App and Slack client."""
    bp = Blueprint("linking", __name__)
    config = ctx.config
    signer = StateSigner(config.github_client_secret.reveal()) if config.linking_enabled else None
    flow = WebFlow.from_config(config) if config.linking_enabled else None

    @bp.get(CALLBACK_PATH)
    def callback() -> Response:
        outcome, login = _callback(ctx, signer, flow)
        log.info("GitHub link callback: %s", outcome)
        return page(outcome, login)

    return bp


def _callback(
    ctx: CommandContext, signer: StateSigner | None, flow: WebFlow | None
) -> tuple[str, str]:
    if signer is None or flow is None:
        return "off", ""
    if request.args.get("error"):
        return ("cancelled" if request.args["error"] == "access_denied" else "refused"), ""
    code, token = request.args.get("code", ""), request.args.get("state", "")
    if not _CODE.fullmatch(code):
        return "forged", ""
    try:
        state = signer.verify(token)
    except StateExpired:
        return "expired", ""
    except StateError:
        return "forged", ""
    if state.slack_team != ctx.config.slack_team_id:
        return "forged", ""
    with ctx.store.unit_of_work() as uow:
        if uow.events.seen("link", state.nonce):
            return "used", ""
    try:
        account = flow.identify(code)
    except OAuthRefused:
        return "refused", ""
    except OAuthUnavailable as exc:
        log.warning("GitHub link: %s", exc.reason)
        return "unavailable", ""
    try:
        link_with_proof(ctx, state, account)
    except LinkUsed:
        return "used", ""
    except AccountTaken:
        return "taken", account.login
    except InviteFailed as exc:
        log.warning("GitHub link: %s", exc.error)
        return "unavailable", ""
    return "linked", account.login
