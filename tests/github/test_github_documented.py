"""GitHub as it documents itself: rate limits, child teams and slugs, against the stand-in.

Rate limits: "Rate limits for the REST API" (API version 2022-11-28); child teams and slugs:
GitHub's REST description (tests/data/openapi/github.json). Waits are recorded, never slept.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from app.dev.github import slugify
from app.github import GitHubAuthError, GitHubClient, GitHubRateLimited
from app.teams.mirror import github_slug
from config import load_config
from tests.support import fake_github as fake_support
from tests.support.fake_github import FakeGitHub

fake_github = fake_support.fake_github
SECONDARY = "You have exceeded a secondary rate limit"


class Clock:
    """A clock that a recorded sleep moves on (no test waits for time to pass)."""

    def __init__(self) -> None:
        self.now = time.time()
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(fake_github: FakeGitHub) -> Clock:
    clock = Clock()
    fake_github.clock = clock
    return clock


@pytest.fixture
def client(fake_github: FakeGitHub, env: dict[str, str], clock: Clock) -> Iterator[GitHubClient]:
    fake_github.seed_small_org()
    config = load_config(environ=env)
    with GitHubClient.from_config(config, sleep=clock.sleep, clock=clock) as client:
        yield client


PUT_GRACE = "/orgs/rocket-club/teams/design/memberships/grace"


@pytest.mark.parametrize("status", [403, 429])
def test_a_secondary_limit_waits_retry_after_in_full(client, fake_github, clock, status):
    fake_github.fail("PUT", PUT_GRACE, status, message=SECONDARY, headers={"retry-after": "30"})
    notices: list[float] = []
    with client.on_slow_down(notices.append):
        membership = client.add_team_member("design", "grace")
    assert membership.role == "member" and "grace" in fake_github.team_logins("design")
    assert clock.sleeps == [30.0] and notices == [30.0]  # not capped at 8 s
    assert fake_github.count("PUT", PUT_GRACE) == 2


def test_a_secondary_limit_without_retry_after_waits_a_minute_then_longer(
    client, fake_github, clock
):
    fake_github.fail("PUT", PUT_GRACE, 403, times=2, message=SECONDARY)
    client.add_team_member("design", "grace")
    assert clock.sleeps == [60.0, 120.0]


def test_a_primary_limit_waits_until_the_reset(client, fake_github, clock):
    reset = str(int(clock.now) + 5)
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}
    fake_github.fail(
        "GET", "/orgs/rocket-club/teams", 403, message="API rate limit exceeded", headers=headers
    )
    assert len(client.list_teams()) == 5
    assert len(clock.sleeps) == 1 and 4.0 <= clock.sleeps[0] <= 5.0


def test_a_wait_longer_than_the_deadline_is_a_rate_limit_not_refused_credentials(
    client, fake_github, clock
):
    fake_github.fail("PUT", PUT_GRACE, 403, message=SECONDARY, headers={"retry-after": "3"})
    with pytest.raises(GitHubRateLimited) as caught, client.deadline(clock.now + 2, clock):
        client.add_team_member("design", "grace")
    assert caught.value.retry_in == 3.0 and clock.sleeps == []
    assert "slow down" in str(caught.value)


def test_a_403_that_is_no_rate_limit_is_not_retried(client, fake_github, clock):
    fake_github.fail(
        "GET", "/orgs/rocket-club/teams", 403, message="Resource not accessible by integration"
    )
    with pytest.raises(GitHubAuthError):
        client.list_teams()
    assert clock.sleeps == []


def test_bulk_mutations_go_one_second_apart(client, fake_github, clock):
    with client.paced():
        for login in ("alice", "bob", "carol"):
            client.add_team_member("design", login)
            clock.now += 0.25  # the work between two calls
    assert clock.sleeps == [0.75, 0.75]
    client.add_team_member("design", "frank")  # outside a bulk loop: not paced
    assert clock.sleeps == [0.75, 0.75]


# ---- child teams, as documented ---------------------------------------------------------------


def test_child_team_members_are_listed_with_the_parent_and_marked_inherited(client, fake_github):
    fake_github.add_team("design-web", members=["grace"], parent="design")
    everyone = {u.login for u in client.list_team_members("design")}
    direct = {u.login for u in client.list_direct_team_members("design")}
    assert "grace" in everyone and "grace" not in direct
    assert direct == {"dave", "erin"}
    assert client.get_team_membership("design", "grace") is not None  # as GitHub documents
    assert not client.is_direct_team_member("design", "grace")
    assert [t.slug for t in client.list_child_teams("design")] == ["design-web"]


def test_an_owner_reads_back_as_maintainer(client, fake_github):
    fake_github.org_members["erin"] = "admin"
    membership = client.get_team_membership("design", "erin")
    assert membership is not None and membership.role == "maintainer"


# ---- slugs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("My TEam Näme", "my-team-name"),  # GitHub's own example
        ("Équipe Café", "equipe-cafe"),
        ("C++ / Rust!!", "c-rust"),
        ("rocket 🚀 team", "rocket-team"),
        ("web_dev 2", "web_dev-2"),
    ],
)
def test_the_stand_in_makes_slugs_by_githubs_rule(client, name, slug):
    assert slugify(name) == slug
    assert client.create_team(name).slug == slug


@pytest.mark.parametrize(
    "name", ["My TEam Näme", "Équipe Café", "C++ / Rust!!", "rocket 🚀 team", "チーム web", "a_b c"]
)
def test_rocket2s_rule_is_the_stand_ins(name):
    """Where Rocket 2 needs a slug before GitHub answers, it follows the same rule."""
    assert github_slug(name) == slugify(name)
