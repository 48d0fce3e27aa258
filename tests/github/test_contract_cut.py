"""The vendored descriptions hold every operation Rocket 2 can call (the cut lacks none)."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from tests.support import contract

ROOT = Path(__file__).resolve().parents[2]
GITHUB_CALLERS = ("app/github/client.py", "app/members/linking/oauth.py", "app/github/apps.py")
HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
SLACK_SDK_CALL = re.compile(r"\.(auth_test|chat_[a-zA-Z]+|conversations_[a-z]+|users_[a-z]+)\(")


def _template(node: ast.expr) -> str | None:
    """A call's URL argument as a path with ``{}`` for each interpolated part."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(p.value if isinstance(p, ast.Constant) else "{}" for p in node.values)
    return None


def github_calls() -> set[tuple[str, str]]:
    """(method, path template) of every REST request the GitHub callers can make."""
    calls: set[tuple[str, str]] = set()
    for name in GITHUB_CALLERS:
        tree = ast.parse((ROOT / name).read_text("utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            verb = node.func.attr
            args = node.args
            if verb in ("_pages", "_get") and args and (path := _template(args[0])):
                calls.add(("get", path.split("?", 1)[0]))
            elif verb == "_delete_with_token" and args and (path := _template(args[0])):
                calls.add(("delete", path))
            elif verb in ("_api", "_send", "request", "_call"):
                verbs = [i for i, a in enumerate(args[:-1]) if _template(a) in HTTP_METHODS]
                if verbs and (path := _template(args[verbs[0] + 1])):
                    calls.add((str(_template(args[verbs[0]])).lower(), path))
    return calls


def _normalise(path: str) -> str:
    path = re.sub(r"^\{\}", "", path)  # the base URL (self._api, self._oauth)
    return "/" + re.sub(r"\{[^}]*\}", "{}", path).lstrip("/")


def test_every_github_call_the_client_can_make_is_in_the_cut() -> None:
    description = contract.description("github")
    documented = {(op.method, _normalise(op.template)) for _, op in description.operations}
    calls = {(m, _normalise(p)) for m, p in github_calls()}
    calls = {c for c in calls if c[1] not in contract.GITHUB_OUTSIDE_DESCRIPTION}
    assert len(calls) >= 17, calls  # the extraction still finds the client's calls
    assert calls <= documented, f"not in tests/data/openapi/github.json: {calls - documented}"


def test_every_slack_method_rocket2_calls_is_in_the_cut() -> None:
    called = set()
    for path in (ROOT / "app").rglob("*.py"):
        if "dev" in path.relative_to(ROOT / "app").parts:
            continue
        for found in SLACK_SDK_CALL.findall(path.read_text("utf-8")):
            called.add(found.replace("_", ".", 1))
    description = contract.description("slack")
    documented = {op.template.lstrip("/") for _, op in description.operations}
    assert {"auth.test", "chat.postMessage", "conversations.members"} <= called
    assert called <= documented, f"not in tests/data/openapi/slack.json: {called - documented}"


def test_the_cut_is_small_and_says_where_it_came_from() -> None:
    provenance = (contract.OPENAPI_DIR / "PROVENANCE").read_text("utf-8")
    assert "@octokit/openapi@" in provenance and "slackapi/slack-api-specs@" in provenance
    assert provenance.count("licence: MIT") == 2
    for name in ("github.json", "slack.json"):
        assert (contract.OPENAPI_DIR / name).stat().st_size < 400_000


def test_the_checks_exceptions_are_these_and_no_more() -> None:
    """Each exception to the contract check is listed with its reason in contract.py; this
    holds the lists from growing silently."""
    assert {
        "/login/oauth/authorize",
        "/login/oauth/access_token",
        "/organizations/{org}/settings/apps/new",
        "/organizations/{org}/settings/apps/new/create",
        "/apps/{app_slug}/installations/new",
    } == contract.GITHUB_OUTSIDE_DESCRIPTION
    assert {
        "/apps.manifest.validate",
        "/apps.manifest.create",
        "/apps.manifest.update",
    } == contract.SLACK_OUTSIDE_DESCRIPTION
    assert {401} == contract.GITHUB_ANY_OPERATION_STATUSES
    assert {"slack"} == contract.VERB_FREE_SERVICES


def _exchange(method: str, path: str, status: int, body: object, **request: object):  # type: ignore[no-untyped-def]
    from werkzeug import Request, Response
    from werkzeug.test import EnvironBuilder

    built = Request(EnvironBuilder(method=method, path=path, **request).get_environ())  # type: ignore[arg-type]
    answer = Response(json.dumps(body), status=status, content_type="application/json")
    return built, answer


def test_the_check_catches_each_kind_of_violation() -> None:
    github = contract.description("github")
    path = "/orgs/club/teams/web/memberships/ada"
    request, answer = _exchange(
        "GET", path, 200, {"role": "member", "state": "active", "url": "/t/1"}
    )
    op = github.find("GET", path)
    assert op is not None
    assert any("url" in v and "uri" in v for v in contract.response_violations(github, op, answer))
    _, undocumented = _exchange("GET", path, 410, {"message": "Gone"})
    assert (
        "status 410 is not documented" in contract.response_violations(github, op, undocumented)[0]
    )

    request, _ = _exchange(
        "GET", "/orgs/club/teams/web/members", 200, [], query_string="role=boss&x=1"
    )
    op = github.find("GET", "/orgs/club/teams/web/members")
    assert op is not None
    found = contract.request_violations(github, op, request)
    assert any("'role'" in v and "is not one of" in v for v in found)
    assert "request: undeclared query parameter 'x'" in found

    request, _ = _exchange("PUT", path, 200, {}, json={"role": "owner"})
    op = github.find("PUT", path)
    assert op is not None
    assert any("request body: role" in v for v in contract.request_violations(github, op, request))

    slack = contract.description("slack")
    op = slack.find("POST", "/chat.postEphemeral")
    assert op is not None
    _, ephemeral = _exchange("POST", "/chat.postEphemeral", 200, {"ok": True, "ts": "1.1"})
    assert any("message_ts" in v for v in contract.response_violations(slack, op, ephemeral))


def test_a_recorded_exchange_is_checked(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The playground's record (app.dev.recording's lines) goes through the same check."""
    line = {
        "service": "slack",
        "method": "POST",
        "path": "/chat.postEphemeral",
        "query": "",
        "headers": {"Authorization": "Bearer [redacted]", "Content-Type": "application/json"},
        "body": json.dumps({"channel": "C0DEVGEN01", "user": "U0DEVYOU01", "text": "hi"}),
        "status": 200,
        "answer_headers": {"Content-Type": "application/json"},
        "answer": json.dumps({"ok": True, "ts": "1700000000.000001"}),
        "outside": False,
    }
    unknown = {
        **line,
        "service": "github",
        "method": "GET",
        "path": "/orgs/elsewhere/installation",
        "body": "",
        "status": 404,
        "answer": json.dumps({"message": "Not Found"}),
        "outside": True,
    }
    recorded = tmp_path / "exchanges.jsonl"
    recorded.write_text(json.dumps(line) + "\n" + json.dumps(unknown) + "\n")
    ledger = contract.Ledger()
    found = contract.check_recorded(recorded, ledger)
    assert found and all("chat.postEphemeral" in v for v in found), found
    assert any("message_ts" in v for v in found)
    assert (ledger.exchanges, ledger.outside) == (2, 1)
