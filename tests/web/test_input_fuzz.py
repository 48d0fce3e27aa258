"""Property tests: signed random input through a real Gunicorn (SQLite and PostgreSQL).

Whatever is sent — random command text, random JSON, Slack's and GitHub's real shapes with one
field swapped for a value of another type — the answer is a 2xx or a 4xx with a reason, never
a 5xx; no reply is the crash reply, and the log holds no traceback. Each property is bounded
in examples (``EXAMPLES``) and every request in time.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.store import Permission
from tests.support import rocket as rocket_support
from tests.support.rocket import FORM, Rocket
from tests.support.slack import TEAM_ID, command_body, event_body
from tests.support.webhooks import ORG, json_body, membership_event, org_event, post_signed

HOOK = "/github/hook"
EXAMPLES = 80
CRASH = "something went wrong"
MEMBER, ADMIN = "U0FUZZMEM1", "U0FUZZADM1"
rocket_module = rocket_support.rocket_module_with(GITHUB_WEBHOOK_ENDPT=HOOK)

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# ---- strategies ------------------------------------------------------------------------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
WORDS = st.sampled_from(
    [
        "help",
        "user",
        "user view",
        "user add",
        "user edit",
        "user delete",
        "user link",
        "team",
        "team list",
        "team view",
        "team create",
        "team edit",
        "team add",
        "team remove",
        "team lead",
        "team delete",
        "team refresh",
        "karma",
        "karma view",
        "karma set",
        "karma reset",
        "--name",
        "--username",
        "--email",
        "--bio",
        "--pos",
        "--github",
        "--permission",
        "admin",
        "-h",
        "--help",
        "++",
        "<@U0FUZZMEM1>",
        "<@U0FUZZADM1|adm>",
        "<#C0001|general>",
        "<mailto:a@b.co|a@b.co>",
        '"',
        "'",
        "“",
        "—",
        "&amp;",
        "&lt;",
        "\x00",
        "\x1b[31m",
        "\u2028",
        "漢字",
        "🚀",
        " ",
        "\t",
        "\n",
    ]
)
COMMAND_TEXT = st.one_of(
    st.lists(WORDS | st.text(max_size=12), max_size=12).map(" ".join),
    st.text(max_size=300),
    st.text(min_size=3990, max_size=4100, alphabet="ab \"'"),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a value inside ``value`` (dict keys and list indexes)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield (*prefix, key)
            yield from _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield (*prefix, index)
            yield from _paths(inner, (*prefix, index))


def _replace(template: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    copied = copy.deepcopy(template)
    target: Any = copied
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copied


def mutated(template: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """``template`` with one field (at any depth) replaced by a random JSON value."""
    paths = list(_paths(template))
    return st.tuples(st.sampled_from(paths), JSON).map(lambda pv: _replace(template, *pv))


def _slack_events() -> list[dict[str, Any]]:
    user = {
        "id": "U0NEWBIE01",
        "team_id": TEAM_ID,
        "name": "ada",
        "real_name": "Ada Lovelace",
        "profile": {"real_name": "Ada Lovelace", "email": "ada@club.example", "image_72": "x"},
        "is_bot": False,
    }
    join = json.loads(event_body("Ev0FUZZ0001", {"type": "team_join", "user": user}))
    mention = json.loads(
        event_body(
            "Ev0FUZZ0002",
            {
                "type": "app_mention",
                "user": MEMBER,
                "text": "<@U0BOT0001> karma",
                "ts": "1515449522.000016",
                "channel": "C0001",
                "event_ts": "1515449522000016",
            },
        )
    )
    mention["authorizations"] = [
        {"enterprise_id": None, "team_id": TEAM_ID, "user_id": "U0BOT0001", "is_bot": True}
    ]
    return [join, mention, {"type": "url_verification", "challenge": "c0ffee", "token": "t"}]


def _webhooks() -> list[tuple[str, dict[str, Any]]]:
    team = {"id": 4242, "name": "web", "slug": "web", "privacy": "closed"}
    return [
        ("organization", org_event("member_added", "ada", 901)),
        ("organization", org_event("member_removed", "ada", 901)),
        ("organization", {**org_event("member_invited", "ada", 901), "user": {"login": "ada"}}),
        ("team", {"action": "created", "team": team, "organization": {"login": ORG}}),
        ("team", {"action": "edited", "team": team, "organization": {"login": ORG}}),
        ("team", {"action": "deleted", "team": team, "organization": {"login": ORG}}),
        ("membership", membership_event("added", team, "ada", 901)),
        ("membership", membership_event("removed", team, "ada", 901)),
    ]


WEBHOOKS = _webhooks()

# ---- checks ----------------------------------------------------------------------------------


@pytest.fixture
def rocket(rocket_module: Rocket) -> Rocket:
    """The module's server, with a member and an admin; state is kept between examples."""
    rocket_module.reset()
    rocket_module.add_user(MEMBER)
    rocket_module.add_user(ADMIN, Permission.admin)
    return rocket_module


def assert_answered(response: httpx.Response) -> None:
    assert response.status_code < 500, (response.status_code, response.text)
    if response.status_code >= 400:
        assert response.text.strip(), "a 4xx carries its reason"
    assert CRASH not in response.text


def assert_clean(rocket: Rocket) -> None:
    output = rocket.server.output()
    assert "Traceback" not in output, output[-4000:]
    assert not [line for line in rocket.server.lines("gunicorn.access") if '" 5' in line]
    for request, _response in list(rocket.slack.server.log):
        assert CRASH not in request.get_data(as_text=True)


# ---- properties ------------------------------------------------------------------------------


@FUZZ
@given(text=COMMAND_TEXT, admin=st.booleans(), n=st.integers(0, 10**9))
def test_any_command_text_gets_a_reply_that_is_not_the_crash_reply(rocket, text, admin, n):
    name = f"fz{n}"
    body = command_body(text, rocket.slack.response_url_for(name), ADMIN if admin else MEMBER)
    response = rocket.post("/slack/commands", body, FORM)
    assert_answered(response)
    assert response.status_code == 200
    if not response.text:  # acknowledged: the work replies on the response_url
        reply = rocket.slack.wait_for(f"/respond/{name}", 1, timeout=15)[-1]
        assert reply.get("text"), reply
        assert CRASH not in json.dumps(reply)
    assert_clean(rocket)


@FUZZ
@given(body=JSON)
def test_any_signed_json_to_the_events_endpoint_is_answered(rocket, body):
    assert_answered(rocket.post("/slack/events", json.dumps(body).encode(), "application/json"))
    assert_clean(rocket)


@FUZZ
@given(data=st.data(), retry=st.booleans())
def test_real_event_shapes_with_a_field_of_another_type_are_answered(rocket, data, retry):
    template = data.draw(st.sampled_from(_slack_events()))
    body = data.draw(mutated(template))
    headers = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"} if retry else {}
    raw = json.dumps(body).encode()
    assert_answered(rocket.post("/slack/events", raw, "application/json", **headers))
    assert_clean(rocket)


@FUZZ
@given(data=st.data())
def test_github_shapes_with_a_field_of_another_type_are_answered(rocket, data):
    event, template = data.draw(st.sampled_from(WEBHOOKS))
    payload = data.draw(mutated(template))
    secret = rocket.env["GITHUB_WEBHOOK_SECRET"]
    response = post_signed(rocket.server.url + HOOK, secret, event, json_body(payload))
    assert_answered(response)
    assert response.status_code in (200, 202, 400), (response.status_code, response.text)
    assert_clean(rocket)
