"""The vendored descriptions hold every operation Rocket 2 can call (the cut lacks none)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.support import contract

ROOT = Path(__file__).resolve().parents[2]
GITHUB_CALLERS = ("app/github/client.py", "app/members/linking/oauth.py")
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
            if verb == "_pages" and args and (path := _template(args[0])):
                calls.add(("get", path))
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
