"""A whole Rocket 2 for command and onboarding tests: a real Gunicorn, a database (SQLite file or
a fresh PostgreSQL database), the fake Slack (records response_url replies and DMs) and the fake
GitHub — started once per test module and per database, reset between tests.

    from tests.support import rocket as rocket_support

    rocket_module = rocket_support.rocket_module   # one server per module and database
    rocket = rocket_support.rocket                 # the same, reset for each test

    def test_x(rocket):
        reply = rocket.command("user add", user="U0AAAAAAAA1")

For in-process tests of the parser, ``context`` builds a Services on the ``store``
fixture (both databases) and the ``fake_github`` fixture, and ``run`` dispatches one command.
"""

from __future__ import annotations

import html
import itertools
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer
from slack_sdk import WebClient
from sqlalchemy import text

from app.features import build_services
from app.github import GitHubClient
from app.services import Services
from app.slack.commands.dispatch import dispatch
from app.store import Permission, Store, make_engine
from app.store.models import Base
from config import load_config
from tests.support.db import (
    BACKENDS,
    create_postgres_database,
    drop_postgres_database,
    postgres_server_url,
)
from tests.support.fake_github import FakeGitHub, fake_for_env
from tests.support.gunicorn import GunicornServer, free_port, secrets_of, server_env, wait_until
from tests.support.keys import valid_env
from tests.support.slack import FakeSlack, command_body, event_body, signed_headers

FORM = "application/x-www-form-urlencoded"
# GitHub account linking (the App's web flow) is on in every test server; the fake GitHub
# checks these, and the member's browser is played by FakeGitHub.approve/deny.
PUBLIC_URL = "https://rocket2.test"
LINKING_ENV = {
    "GITHUB_CLIENT_ID": "Iv23liTestClient01",
    "GITHUB_CLIENT_SECRET": "test-client-secret-" + "5f4e3d2c1b0a9f8e7d6c5b4a",
    "PUBLIC_URL": PUBLIC_URL,
}
# Every table, children first (the order a reset deletes in), as the models declare them.
TABLES = tuple(table.name for table in reversed(Base.metadata.sorted_tables))
_names = itertools.count(1)


def typed_of(page: httpx.Response) -> str:
    """What a link confirmation page asks to type (the Slack member's username)."""
    found = re.search(r'<code id="to-type">([^<]*)</code>', page.text)
    return html.unescape(found.group(1)) if found else ""


def confirmation_of(page: httpx.Response) -> str | None:
    """The signed confirmation in a link confirmation page's form, or None."""
    found = re.search(r'name="confirmation" value="([^"]+)"', page.text)
    return html.unescape(found.group(1)) if page.status_code == 200 and found else None


def sqlite_url(directory: Path) -> str:
    """A SQLite database file in ``directory``."""
    return f"sqlite:///{directory / 'data' / 'rocket2.db'}"


@dataclass
class Rocket:
    """A running Rocket 2 and its fakes."""

    env: dict[str, str]
    server: GunicornServer
    slack: FakeSlack
    github: FakeGitHub
    store: Store
    backend: str

    # ---- talking to it -----------------------------------------------------------------

    def post(self, path: str, body: bytes, content_type: str, **headers: str) -> httpx.Response:
        """POST a body signed with the app's signing secret."""
        signed = signed_headers(self.env["SLACK_SIGNING_SECRET"], body, content_type=content_type)
        return httpx.post(self.server.url + path, content=body, headers={**signed, **headers})

    def command(self, text: str, user: str = "U0CALLER01", timeout: float = 15) -> dict[str, Any]:
        """Send `/rocket TEXT` as ``user``; check the empty ack came before the work finished;
        return the reply posted to the command's own response_url."""
        name = f"r{next(_names)}"
        path = f"/respond/{name}"
        body = command_body(text, self.slack.response_url_for(name), user_id=user)
        # Proven by ordering, not by timing: the fake Slack holds the answer to this command's
        # response_url, and the command's work ends only when that reply is answered. So an ack
        # that arrives while the reply is still unanswered did not wait for the work. (If the
        # ack did wait, this request would hang until the hold's bound and fail on its timeout,
        # which is only a guard against hanging, not a measured speed.)
        self.slack.hold_response(path)
        try:
            response = self.post("/slack/commands", body, FORM)
            assert response.status_code == 200, response.text
            assert response.text == ""
            assert not self.slack.answered(path), "the ack waited for the command's work"
        finally:
            self.slack.release_response(path)
        return self.slack.wait_for(path, 1, timeout)[0]

    def event(self, event_id: str, event: dict[str, Any], **headers: str) -> httpx.Response:
        """Deliver one Events API event."""
        return self.post(
            "/slack/events", event_body(event_id, event), "application/json", **headers
        )

    # ---- arranging and inspecting --------------------------------------------------------

    def add_user(self, slack_id: str, permission: Permission = Permission.member, **fields: Any):  # type: ignore[no-untyped-def]
        """Create a member record directly in the database; ``permission`` is an admin's grant
        (as `rocket2 user promote` makes it) unless ``granted_permission`` says otherwise."""
        fields.setdefault("granted_permission", permission)
        with self.store.unit_of_work() as uow:
            return uow.users.create(slack_id, permission=permission, **fields)

    def callback(self, redirect: str, *, confirm: bool = True) -> httpx.Response:
        """Follow GitHub's redirect to PUBLIC_URL/github/link… to this server (the browser),
        and with ``confirm``, press the confirmation page's button when it shows one."""
        assert redirect.startswith(PUBLIC_URL + "/"), redirect
        page = httpx.get(self.server.url + redirect[len(PUBLIC_URL) :], follow_redirects=False)
        token = confirmation_of(page)
        if not confirm or token is None:
            return page
        return self.confirm(token, typed_of(page))

    def confirm(self, token: str, typed: str) -> httpx.Response:
        """Submit the confirmation page's form (POST /github/link): ``token`` and what the
        account holder ``typed``."""
        return httpx.post(
            self.server.url + "/github/link",
            data={"confirmation": token, "typed": typed},
            follow_redirects=False,
        )

    def user(self, slack_id: str):  # type: ignore[no-untyped-def]
        """The member record, read now (or None)."""
        with self.store.unit_of_work() as uow:
            return uow.users.get(slack_id)

    def reset(self) -> None:
        """Empty the database and the fakes' state and logs (the server keeps running)."""
        with self.store.session() as session:
            for table in TABLES:
                session.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - fixed names
        gh = self.github
        with gh.lock:
            for collection in (
                gh.users,
                gh.org_members,
                gh.invitations,
                gh.teams,
                gh.codes,
                gh.user_tokens,
                gh.revoked_user_tokens,
                gh.user_emails,
                gh.grants,
                gh.blocked,
            ):
                collection.clear()
            gh.emails_permission = True
            gh.invitation_cap, gh.invitation_clock = 50, time.time
            gh.invitations_sent.clear()
            gh.requests.clear()
            gh.bodies.clear()
            gh._failures.clear()
        self.slack.release_all()
        self.slack.server.clear_log()
        self.slack.display_names.clear()
        self.slack.handles.clear()
        self.slack.emails.clear()
        self.slack.fail_methods.clear()
        self.slack.reject_user_channels = False


def start_rocket(
    directory: Path, key_pem: str, database_url: str, backend: str, **settings: str
) -> Rocket:
    """Start the fakes and a Gunicorn on ``database_url`` (migrated by the master); ``settings``
    are added to the server's environment."""
    slack = FakeSlack().start()
    github_server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    github_server.start()
    env = valid_env(key_pem, **{**LINKING_ENV, **settings})
    github = fake_for_env(github_server, env)
    env.update(SLACK_API_URL=slack.api_url, DATABASE_URL=database_url, WEB_CONCURRENCY="2")
    port = free_port()
    server = GunicornServer(
        env=server_env(env, port),
        port=port,
        log_path=directory / f"gunicorn-{port}.log",
        cwd=directory,
    ).start()
    return Rocket(env, server, slack, github, Store(make_engine(database_url)), backend)


def stop_rocket(rocket: Rocket) -> None:
    """Stop everything start_rocket started; check no secret reached the log."""
    try:
        rocket.server.stop()
        rocket.server.assert_no_secrets(secrets_of(rocket.env))
    finally:
        rocket.store.dispose()
        rocket.slack.stop()
        if rocket.github.server.is_running():
            rocket.github.server.stop()


def rocket_module_with(**settings: str) -> Any:
    """A module-scoped fixture: one running Rocket 2 per test module and database, started
    with these extra ``settings``. Bind it as ``rocket_module`` in the test module."""

    @pytest.fixture(scope="module", params=BACKENDS, ids=BACKENDS)
    def rocket_module(
        request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, key_pem: str
    ) -> Iterator[Rocket]:
        directory = tmp_path_factory.mktemp(f"rocket-{request.param}")
        if request.param == "sqlite":
            url, server_url = sqlite_url(directory), None
        else:
            server_url = postgres_server_url()
            url = create_postgres_database(server_url)
        rocket = start_rocket(directory, key_pem, url, request.param, **settings)
        try:
            yield rocket
        finally:
            stop_rocket(rocket)
            if server_url is not None:
                drop_postgres_database(server_url, url)

    return rocket_module


rocket_module = rocket_module_with()


@pytest.fixture
def rocket(rocket_module: Rocket) -> Rocket:
    """The module's Rocket 2 with an empty database and fresh fakes."""
    rocket_module.reset()
    return rocket_module


# ---- in-process ------------------------------------------------------------------------


@pytest.fixture
def context(store: Store, fake_github: FakeGitHub, env: dict[str, str]) -> Services:
    """A Services on the test's database and fake GitHub (Slack unreachable: commands do
    not call it). GitHub retries are quick so failure tests stay fast."""
    config = load_config(environ=env)
    github = GitHubClient.from_config(config, backoff=0.01, max_backoff=0.02)
    slack = WebClient(base_url="http://127.0.0.1:9/", timeout=1)
    return build_services(config, slack, store=store, github=github)


@pytest.fixture
def memory_context(env: dict[str, str]) -> Iterator[Services]:
    """A Services on an in-memory SQLite database, GitHub and Slack unreachable: for
    parser tests that need no particular database."""
    from app.store.migrate import upgrade

    env.update(GITHUB_API_URL="http://127.0.0.1:9", DATABASE_URL="sqlite:///:memory:")
    config = load_config(environ=env)
    memory = Store(make_engine("sqlite:///:memory:"))
    upgrade(memory.engine)
    slack = WebClient(base_url="http://127.0.0.1:9/", timeout=1)
    github = GitHubClient.from_config(config, max_attempts=1)
    yield build_services(config, slack, store=memory, github=github)
    memory.dispose()


def run(ctx: Services, text: str, user: str = "U0CALLER01") -> dict[str, Any]:
    """Dispatch one command in-process and return the reply."""
    return dispatch(text, user, ctx)


# Slack ids the command tests use for the caller and the people around them.
ME = "U0CALLER01"
OTHER = "U0OTHER001"
ADMIN = "U0ADMIN001"
LEAD = "U0LEAD0001"


def add_user(ctx: Services, slack_id: str, permission: Any = None, **fields: Any) -> Any:
    """Store a user directly (test set-up), as a member unless ``permission`` (an admin's
    grant, unless ``granted_permission`` says otherwise) says otherwise."""
    from app.store import Permission

    fields.setdefault("granted_permission", permission or Permission.member)
    with ctx.store.unit_of_work() as uow:
        return uow.users.create(slack_id, permission=permission or Permission.member, **fields)


def assert_refused(reply: dict[str, Any], words: str) -> None:
    """The reply is a warning (a refusal or a usage error) that says ``words``."""
    assert reply["blocks"][0]["text"]["text"].startswith(":warning:"), reply["text"]
    assert words in reply["text"], reply["text"]


def wait_for_log(rocket: Rocket, needle: str, count: int = 1) -> list[str]:
    """Lines of the server log containing ``needle`` (waiting for ``count``)."""
    return rocket.server.wait_for_output(needle, count)


__all__ = ["Rocket", "context", "memory_context", "rocket", "rocket_module", "run", "wait_until"]


def second_instance_of(rocket: Rocket, directory: Path) -> GunicornServer:
    """Start another Rocket 2 instance on ``rocket``'s database and fakes (stop it after)."""
    port = free_port()
    return GunicornServer(
        env=server_env(rocket.env, port),
        port=port,
        log_path=directory / "gunicorn.log",
        cwd=directory,
    ).start()
