"""The GitHub App client against the fake GitHub API (pytest-httpserver): App JWT, installation,
token caching and refresh, retries, pagination, error messages, and every endpoint it wraps."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import httpx
import jwt
import pytest

from app.github import (
    GitHubAuthError,
    GitHubClient,
    GitHubDeadlineExceeded,
    GitHubError,
    GitHubNotFound,
    GitHubUnavailable,
    GitHubUnexpectedStatus,
    GitHubValidationError,
)
from app.github.auth import JWT_BACKDATE, app_jwt
from config import load_config
from tests.support import fake_github as fake_support
from tests.support.fake_github import FakeGitHub
from tests.support.gunicorn import free_port
from tests.support.keys import pem_pkcs1, rsa_key

fake_github = fake_support.fake_github


class Clock:
    """A settable clock shared by the client and the fake (so no test waits for time to pass)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sleeps() -> list[float]:
    """The backoff pauses the client asked for (recorded, not slept)."""
    return []


@pytest.fixture
def clock(fake_github: FakeGitHub) -> Clock:
    clock = Clock()
    fake_github.clock = clock
    return clock


@pytest.fixture
def client(
    fake_github: FakeGitHub, env: dict[str, str], sleeps: list[float], clock: Clock
) -> Iterator[GitHubClient]:
    config = load_config(environ=env)
    with GitHubClient.from_config(config, sleep=sleeps.append, clock=clock) as client:
        yield client


def assert_no_secret(text: str, fake: FakeGitHub) -> None:
    for token in fake.tokens:
        assert token not in text
    assert "ghs_" not in text and "eyJ" not in text  # no installation token, no JWT


# ---- App JWT and installation ------------------------------------------------------------


def test_every_app_jwt_is_verified_and_well_formed(
    client: GitHubClient, fake_github: FakeGitHub, clock: Clock
) -> None:
    fake_github.add_user("octocat")
    client.get_user("octocat")
    assert len(fake_github.jwts) == 2  # the installation lookup and the token request
    for claims in fake_github.jwts:
        assert claims["iss"] == "4242"
        assert claims["iat"] == int(clock.now) - JWT_BACKDATE
        assert 0 < claims["exp"] - clock.now <= 600
    assert fake_github.jwt_rejections == []


def test_the_fake_rejects_expired_and_foreign_jwts(fake_github: FakeGitHub) -> None:
    url = f"{fake_github.url}/orgs/{fake_github.org}/installation"
    expired = app_jwt(4242, rsa_key(), time.time() - 700)
    other_key = app_jwt(4242, _other_key(), time.time())
    wrong_app = app_jwt(999, rsa_key(), time.time())
    for token, why in ((expired, "expired"), (other_key, "Signature"), (wrong_app, "issuer")):
        response = httpx.get(url, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
        assert why in fake_github.jwt_rejections[-1]
    good = httpx.get(
        url, headers={"Authorization": f"Bearer {app_jwt(4242, rsa_key(), time.time())}"}
    )
    assert good.status_code == 200 and good.json()["id"] == fake_github.installation_id


def _other_key():  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_a_client_with_the_wrong_key_gets_a_clear_auth_error(
    fake_github: FakeGitHub, env: dict[str, str]
) -> None:
    config = load_config(environ={**env, "GITHUB_KEY": pem_pkcs1(_other_key())})
    with (
        GitHubClient.from_config(config, sleep=lambda _: None) as client,
        pytest.raises(GitHubAuthError) as caught,
    ):
        client.get_user("octocat")
    message = str(caught.value)
    assert "find the GitHub App's installation on organisation rocket-club" in message
    assert "HTTP 401" in message
    assert "InvalidSignatureError" in fake_github.jwt_rejections[0]
    assert_no_secret(message, fake_github)


def test_a_skewed_clock_makes_expired_jwts_that_are_refused(
    fake_github: FakeGitHub, env: dict[str, str]
) -> None:
    behind = time.time() - 3600
    with (
        GitHubClient.from_config(load_config(environ=env), clock=lambda: behind) as client,
        pytest.raises(GitHubAuthError, match="installation"),
    ):
        client.installation_id()
    assert fake_github.jwt_rejections == ["expired"]


def test_the_installation_is_the_organisations_own(
    fake_github: FakeGitHub, env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    env["GITHUB_ORG_NAME"] = "some-other-org"
    with (
        GitHubClient.from_config(load_config(environ=env)) as client,
        pytest.raises(GitHubUnexpectedStatus) as caught,
        caplog.at_level(logging.WARNING, "rocket2.github"),
    ):
        client.list_teams()
    # GitHub documents only 200 here: a 404 is GitHub's failure, not "not installed".
    assert "some-other-org failed (HTTP 404)" in str(caught.value)
    assert "not a status GitHub documents for this call" in caplog.text
    assert fake_github.count("GET", "/orgs/some-other-org/installation") == 1


def test_no_network_until_the_first_call(env: dict[str, str]) -> None:
    env["GITHUB_API_URL"] = f"http://127.0.0.1:{free_port()}"
    client = GitHubClient.from_config(load_config(environ=env))  # must not raise
    client.close()


# ---- installation token: caching, expiry margin, refresh on 401 ----------------------------


def test_the_token_is_cached_across_calls(client: GitHubClient, fake_github: FakeGitHub) -> None:
    fake_github.seed_small_org()
    client.get_user("alice")
    client.list_teams()
    client.get_team("backend")
    assert fake_github.token_requests == 1
    assert fake_github.installation_lookups == 1


def test_the_token_is_renewed_five_minutes_before_it_expires(
    client: GitHubClient, fake_github: FakeGitHub, clock: Clock
) -> None:
    fake_github.add_user("octocat")
    client.get_user("octocat")
    clock.now += 54 * 60  # 6 minutes left: still used
    client.get_user("octocat")
    assert fake_github.token_requests == 1
    clock.now += 2 * 60  # 4 minutes left: renewed before use
    client.get_user("octocat")
    assert fake_github.token_requests == 2
    client.get_user("octocat")
    assert fake_github.token_requests == 2
    assert fake_github.installation_lookups == 1


def test_a_token_with_under_five_minutes_left_is_never_reused(
    client: GitHubClient, fake_github: FakeGitHub
) -> None:
    fake_github.token_ttl = 240
    fake_github.add_user("octocat")
    for _ in range(3):
        client.get_user("octocat")
    assert fake_github.token_requests == 3


def test_a_revoked_token_is_refreshed_once(client: GitHubClient, fake_github: FakeGitHub) -> None:
    fake_github.add_user("octocat")
    client.get_user("octocat")
    fake_github.revoke_tokens()
    assert client.get_user("octocat").login == "octocat"
    assert fake_github.token_requests == 2
    assert fake_github.count("GET", "/users/octocat") == 3  # ok, 401, ok


def test_a_second_401_is_an_error_not_a_loop(client: GitHubClient, fake_github: FakeGitHub) -> None:
    fake_github.add_user("octocat")
    fake_github.fail("GET", "/users/octocat", 401, times=10, message="Bad credentials")
    with pytest.raises(GitHubAuthError) as caught:
        client.get_user("octocat")
    assert fake_github.token_requests == 2  # the first token, and exactly one refresh
    assert fake_github.count("GET", "/users/octocat") == 2
    assert "look up GitHub user octocat failed (HTTP 401): Bad credentials" in str(caught.value)


def test_concurrent_callers_share_one_token(client: GitHubClient, fake_github: FakeGitHub) -> None:
    fake_github.add_user("octocat")
    errors: list[BaseException] = []

    def call() -> None:
        try:
            client.get_user("octocat")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert fake_github.token_requests == 1


# ---- retries -----------------------------------------------------------------------------


def test_5xx_is_retried_with_backoff(
    client: GitHubClient, fake_github: FakeGitHub, sleeps: list[float]
) -> None:
    fake_github.seed_small_org()
    fake_github.fail("GET", "/orgs/rocket-club/teams/backend", 502, times=2)
    assert client.get_team("backend").name == "backend"
    assert fake_github.count("GET", "/orgs/rocket-club/teams/backend") == 3
    assert sleeps == [0.5, 1.0]


def test_a_deadline_stops_retries_and_new_calls(
    client: GitHubClient, fake_github: FakeGitHub, sleeps: list[float], clock: Clock
) -> None:
    fake_github.seed_small_org()
    client.get_team("backend")  # token cached
    fake_github.fail("GET", "/orgs/rocket-club/teams/backend", 502, times=4)
    with client.deadline(clock.now + 0.7, clock), pytest.raises(GitHubDeadlineExceeded):
        client.get_team("backend")  # first pause (0.5 s) fits, the second (1 s) does not
    assert sleeps == [0.5]
    assert fake_github.count("GET", "/orgs/rocket-club/teams/backend") == 1 + 2
    before = fake_github.count()
    with client.deadline(clock.now, clock), pytest.raises(GitHubDeadlineExceeded) as caught:
        client.get_team("backend")
    assert fake_github.count() == before  # no request started once the time is up
    assert isinstance(caught.value, GitHubUnavailable) and "read team backend" in str(caught.value)
    # Outside the block there is no deadline: the two failures left are retried as usual.
    assert client.get_team("backend").name == "backend"
    assert sleeps == [0.5, 0.5, 1.0]


def test_a_deadline_shortens_the_timeout_of_a_slow_request(
    fake_github: FakeGitHub, env: dict[str, str]
) -> None:
    fake_github.seed_small_org()
    config = load_config(environ=env)

    def slow(request):  # type: ignore[no-untyped-def]
        time.sleep(1.5)  # a GitHub slower than the time left, not synchronisation
        return fake_github._handle(request)

    fake_github.server.expect_oneshot_request(
        "/orgs/rocket-club/installation"
    ).respond_with_handler(slow)
    with GitHubClient.from_config(config, timeout=2.0, max_attempts=1) as client:
        started = time.monotonic()
        with client.deadline(time.monotonic() + 0.5), pytest.raises(GitHubDeadlineExceeded):
            client.get_team("backend")
        assert time.monotonic() - started < 1.0


def test_retries_are_bounded(
    client: GitHubClient, fake_github: FakeGitHub, sleeps: list[float]
) -> None:
    fake_github.seed_small_org()
    fake_github.fail(
        "GET", "/orgs/rocket-club/teams/backend", 503, times=100, message="Unavailable"
    )
    with pytest.raises(GitHubUnavailable) as caught:
        client.get_team("backend")
    assert fake_github.count("GET", "/orgs/rocket-club/teams/backend") == 3
    assert len(sleeps) == 2
    assert str(caught.value) == "GitHub: read team backend failed (HTTP 503): Unavailable"


def test_retry_after_is_honoured_for_a_rate_limit_and_capped_for_an_outage(
    fake_github: FakeGitHub, env: dict[str, str], sleeps: list[float]
) -> None:
    fake_github.add_user("octocat")
    fake_github.fail("GET", "/users/octocat", 429, headers={"Retry-After": "2"})
    fake_github.fail("GET", "/users/octocat", 503, headers={"Retry-After": "60"})
    config = load_config(environ=env)
    with GitHubClient.from_config(config, sleep=sleeps.append, max_backoff=4.0) as client:
        assert client.get_user("octocat").login == "octocat"
    assert sleeps == [2.0, 4.0]
    assert fake_github.count("GET", "/users/octocat") == 3


def test_creating_a_team_is_not_retried(
    client: GitHubClient, fake_github: FakeGitHub, sleeps: list[float]
) -> None:
    fake_github.fail("POST", "/orgs/rocket-club/teams", 502)
    with pytest.raises(GitHubUnavailable, match="create team web"):
        client.create_team("web")
    assert fake_github.count("POST", "/orgs/rocket-club/teams") == 1
    assert sleeps == []


def test_token_requests_are_retried(
    client: GitHubClient, fake_github: FakeGitHub, sleeps: list[float]
) -> None:
    fake_github.add_user("octocat")
    fake_github.fail("POST", r"/app/installations/\d+/access_tokens", 500, times=1)
    client.get_user("octocat")
    assert fake_github.token_requests == 2 and sleeps == [0.5]


def test_an_unreachable_api_fails_after_bounded_retries(
    env: dict[str, str], sleeps: list[float]
) -> None:
    env["GITHUB_API_URL"] = f"http://127.0.0.1:{free_port()}"
    config = load_config(environ=env)
    with (
        GitHubClient.from_config(config, sleep=sleeps.append, timeout=2) as client,
        pytest.raises(GitHubUnavailable) as caught,
    ):
        client.get_user("octocat")
    assert len(sleeps) == 2
    assert caught.value.status is None
    assert "no answer" in str(caught.value) and "ConnectError" in str(caught.value)


# ---- pagination --------------------------------------------------------------------------


def test_lists_follow_link_headers_across_pages(
    client: GitHubClient, fake_github: FakeGitHub
) -> None:
    ids = fake_github.seed_small_org()
    members = client.list_org_members()
    assert [m.login for m in members] == ["alice", "bob", "carol", "dave", "erin", "frank", "grace"]
    assert [m.id for m in members] == [ids[m.login] for m in members]
    assert fake_github.count("GET", "/orgs/rocket-club/members") == 4  # 7 members, 2 a page

    teams = client.list_teams()
    assert [t.slug for t in teams] == ["all", "backend", "design", "admins", "leads"]
    assert fake_github.count("GET", "/orgs/rocket-club/teams") == 3

    everyone = client.list_team_members("all")
    assert len(everyone) == 7
    assert fake_github.count("GET", "/orgs/rocket-club/teams/all/members") == 4
    assert [u.login for u in client.list_team_maintainers("backend")] == ["alice"]
    assert {u.login for u in client.list_team_members("backend", role="member")} == {"bob", "carol"}


def test_a_failure_on_a_later_page_is_retried(
    client: GitHubClient, fake_github: FakeGitHub, sleeps: list[float]
) -> None:
    fake_github.seed_small_org()
    fake_github.fail("GET", "/orgs/rocket-club/teams", 502, query="page=3")
    assert len(client.list_teams()) == 5
    assert fake_github.count("GET", "/orgs/rocket-club/teams") == 4  # pages 1, 2, 3 (twice)
    assert sleeps == [0.5]


def test_a_link_to_another_host_is_not_followed(
    client: GitHubClient, fake_github: FakeGitHub
) -> None:
    fake_github.seed_small_org()
    evil = '<http://203.0.113.9/orgs/rocket-club/teams?page=2>; rel="next"'
    fake_github.fail("GET", "/orgs/rocket-club/teams", 200, headers={"Link": evil}, message="x")
    fake_github._failures[-1].body = []
    with pytest.raises(GitHubError, match="another host"):
        client.list_teams()


# ---- errors never contain a token ----------------------------------------------------------


def test_error_messages_never_contain_a_token(
    client: GitHubClient, fake_github: FakeGitHub
) -> None:
    fake_github.add_user("octocat")
    client.get_user("octocat")
    (token,) = fake_github.tokens
    jwt_text = app_jwt(4242, rsa_key(), time.time())
    fake_github.fail("GET", "/users/octocat", 500, times=3, message=f"echo {token} {jwt_text}")
    with pytest.raises(GitHubUnavailable) as caught:
        client.get_user("octocat")
    text = f"{caught.value} {caught.value!r} {caught.value.detail}"
    assert token not in text
    assert "look up GitHub user octocat failed (HTTP 500): echo ***" in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__context__ is None


# ---- endpoints ---------------------------------------------------------------------------


def test_users(client: GitHubClient, fake_github: FakeGitHub) -> None:
    uid = fake_github.add_user("OctoCat")
    user = client.get_user("octocat")
    assert (user.id, user.login) == (uid, "OctoCat")
    assert client.get_user_by_id(uid).login == "OctoCat"
    with pytest.raises(GitHubNotFound, match="look up GitHub user nobody failed"):
        client.get_user("nobody")
    with pytest.raises(GitHubNotFound):
        client.get_user("../orgs/rocket-club/members")  # escaped: one path segment


def test_inviting_to_the_organisation(client: GitHubClient, fake_github: FakeGitHub) -> None:
    ids = fake_github.seed_small_org()
    invited = client.add_org_member("outsider")
    assert (invited.state, invited.role, invited.pending) == ("pending", "member", True)
    assert invited.user is not None and invited.user.id == ids["outsider"]
    assert fake_github.invitations == {"outsider": "member"}
    assert (
        "PUT",
        "/orgs/rocket-club/memberships/outsider",
        {"role": "member"},
    ) in fake_github.bodies

    again = client.add_org_member("outsider")  # already invited: no second PUT
    assert again.pending
    assert fake_github.count("PUT", "/orgs/rocket-club/memberships/outsider") == 1

    fake_github.org_members["alice"] = "admin"
    owner = client.add_org_member("alice")  # an owner is never demoted
    assert (owner.state, owner.role) == ("active", "admin")
    assert fake_github.org_members["alice"] == "admin"
    assert fake_github.count("PUT", "/orgs/rocket-club/memberships/alice") == 0

    with pytest.raises(GitHubUnexpectedStatus, match="invite ghost to rocket-club"):
        client.add_org_member("ghost")  # GitHub documents 200, 403, 422: a 404 is its failure
    assert client.get_org_membership("ghost") is None

    client.remove_org_member("bob")
    assert "bob" not in fake_github.org_members
    assert "bob" not in fake_github.team_logins("backend")


def test_team_lifecycle(client: GitHubClient, fake_github: FakeGitHub) -> None:
    fake_github.seed_small_org()
    team = client.create_team("Web Team", description="the website")
    assert (team.name, team.slug, team.privacy) == ("Web Team", "web-team", "closed")
    assert fake_github.team("web-team").privacy == "closed"  # type: ignore[union-attr]
    with pytest.raises(GitHubValidationError, match="Name must be unique"):
        client.create_team("web team")

    renamed = client.rename_team("web-team", "Website")
    assert (renamed.id, renamed.slug) == (team.id, "website")
    with pytest.raises(GitHubValidationError):
        client.rename_team("website", "backend")
    described = client.edit_team("website", description="new")
    assert described.description == "new"
    assert client.get_team("website").name == "Website"
    assert client.find_team("web-team") is None

    added = client.add_team_member("website", "carol")
    assert (added.state, added.role) == ("active", "member")
    lead = client.add_team_member("website", "dave", role="maintainer")
    assert lead.role == "maintainer"
    assert client.get_team_membership("website", "dave").role == "maintainer"  # type: ignore[union-attr]
    assert client.get_team_membership("website", "erin") is None
    assert {u.login for u in client.list_team_members("website")} == {"carol", "dave"}
    pending = client.add_team_member("website", "outsider")
    assert pending.pending  # GitHub invites non-members to the organisation too

    client.remove_team_member("website", "carol")
    assert fake_github.team_logins("website") == {"dave", "outsider"}
    with pytest.raises(GitHubUnexpectedStatus, match="remove carol from team website"):
        client.remove_team_member("website", "carol")

    client.delete_team("website")
    assert fake_github.team("website") is None
    with pytest.raises(GitHubUnexpectedStatus, match="delete team website"):
        client.delete_team("website")
    with pytest.raises(ValueError, match="role"):
        client.add_team_member("backend", "bob", role="owner")


def test_every_error_is_a_github_error_without_secrets(
    client: GitHubClient, fake_github: FakeGitHub
) -> None:
    fake_github.seed_small_org()
    failures = []
    for call in (
        lambda: client.get_team("missing"),
        lambda: client.create_team("backend"),
        lambda: client.list_team_members("missing"),
    ):
        with pytest.raises(GitHubError) as caught:
            call()
        failures.append(str(caught.value))
    for message in failures:
        assert message.startswith("GitHub: ")
        assert_no_secret(message, fake_github)


def test_jwt_lifetime_is_within_githubs_limit() -> None:
    now = time.time()
    claims = jwt.decode(app_jwt(1, rsa_key(), now), rsa_key().public_key(), algorithms=["RS256"])
    assert claims["exp"] - now <= 600
    assert claims["iat"] <= now - 59
