"""Cut GitHub's and Slack's published API descriptions to the operations Rocket 2 uses.

    python scripts/cut-openapi.py --github octokit-openapi-VERSION.tgz --slack slack_web.json

Writes ``tests/data/openapi/github.json`` and ``slack.json``: each operation Rocket 2 calls
(listed below) with every definition it references, transitively, and nothing else; the
descriptions' examples are left out. ``github-webhooks.json``: the same GitHub description's
schemas of the webhook deliveries Rocket 2 handles, with what they reference. PROVENANCE
(written beside them) names each source.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tarfile
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "openapi"

# Every GitHub REST operation Rocket 2 (app/github/client.py, app/members/linking/oauth.py,
# app/setup, app/doctor) calls or its stand-ins serve. tests/github/test_contract_cut.py
# holds the client to this list.
GITHUB_OPERATIONS = (
    ("get", "/orgs/{org}/installation"),
    ("post", "/app/installations/{installation_id}/access_tokens"),
    ("get", "/users/{username}"),
    ("get", "/user/{account_id}"),
    ("get", "/user"),
    ("get", "/user/emails"),
    ("delete", "/applications/{client_id}/token"),
    ("delete", "/applications/{client_id}/grant"),
    ("get", "/orgs/{org}/members"),
    ("get", "/orgs/{org}/memberships/{username}"),
    ("put", "/orgs/{org}/memberships/{username}"),
    ("delete", "/orgs/{org}/memberships/{username}"),
    ("get", "/orgs/{org}/teams"),
    ("post", "/orgs/{org}/teams"),
    ("get", "/orgs/{org}/teams/{team_slug}"),
    ("patch", "/orgs/{org}/teams/{team_slug}"),
    ("delete", "/orgs/{org}/teams/{team_slug}"),
    ("get", "/orgs/{org}/teams/{team_slug}/members"),
    ("get", "/orgs/{org}/teams/{team_slug}/teams"),
    ("get", "/orgs/{org}/teams/{team_slug}/memberships/{username}"),
    ("put", "/orgs/{org}/teams/{team_slug}/memberships/{username}"),
    ("delete", "/orgs/{org}/teams/{team_slug}/memberships/{username}"),
    # The set-up stand-in (app/dev/github_apps.py): `rocket2 setup github` and doctor's calls.
    ("post", "/app-manifests/{code}/conversions"),
    ("get", "/app"),
    ("get", "/app/hook/config"),
    ("get", "/app/hook/deliveries"),
    ("get", "/orgs/{org}"),
)

# Every Slack Web API method Rocket 2 calls (through slack_sdk) or its stand-in serves.
SLACK_METHODS = (
    "auth.test",
    "chat.postMessage",
    "chat.postEphemeral",
    "conversations.list",
    "conversations.members",
    "conversations.open",
    "users.info",
)

# The schemas (components/schemas) of every webhook delivery Rocket 2 handles (app.features
# WEBHOOKS) or its stand-in sends. tests/github/test_webhook_payloads_documented.py holds them.
GITHUB_WEBHOOK_SCHEMAS = (
    "webhook-organization-member-added",
    "webhook-organization-member-invited",
    "webhook-organization-member-removed",
    "webhook-team-created",
    "webhook-team-edited",
    "webhook-team-deleted",
    "webhook-membership-added",
    "webhook-membership-removed",
)

DROPPED_KEYS = ("example", "examples")


def _refs(node: Any) -> set[str]:
    """Every ``$ref`` (a local JSON pointer) inside ``node``."""
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(_refs(item) for item in node)) if node else set()
    return set()


def _pointer(document: dict[str, Any], ref: str) -> tuple[list[str], Any]:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in ref.lstrip("#/").split("/")]
    node: Any = document
    for part in parts:
        node = node[part]
    return parts, node


def _without_examples(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_examples(v) for k, v in node.items() if k not in DROPPED_KEYS}
    if isinstance(node, list):
        return [_without_examples(item) for item in node]
    return node


def cut(document: dict[str, Any], operations: dict[str, list[str]], keep: tuple[str, ...]) -> Any:
    """``document`` with only ``operations`` (path → methods) and what they reference."""
    out: dict[str, Any] = {k: document[k] for k in keep if k in document}
    out["paths"] = {}
    for path, methods in operations.items():
        item = document["paths"][path]
        shared = {k: v for k, v in item.items() if k == "parameters"}
        out["paths"][path] = {**shared, **{m: item[m] for m in methods}}
    return _with_references(document, _without_examples(out))


def cut_schemas(document: dict[str, Any], names: tuple[str, ...], keep: tuple[str, ...]) -> Any:
    """``document`` with only the schemas ``names`` and what they reference."""
    out: dict[str, Any] = {k: document[k] for k in keep if k in document}
    out["paths"] = {}
    schemas = document["components"]["schemas"]
    out["components"] = {"schemas": {name: schemas[name] for name in names}}
    return _with_references(document, _without_examples(out))


def _with_references(document: dict[str, Any], out: dict[str, Any]) -> Any:
    """``out`` with every definition of ``document`` it references, transitively."""
    pending, seen = _refs(out), set()
    while pending:
        ref = pending.pop()
        if ref in seen or not ref.startswith("#/"):
            continue
        seen.add(ref)
        parts, node = _pointer(document, ref)
        node = _without_examples(node)
        target = out
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = node
        pending |= _refs(node) - seen
    return out


def _grouped(pairs: tuple[tuple[str, str], ...]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for method, path in pairs:
        grouped.setdefault(path, []).append(method)
    return grouped


def _github_source(path: Path) -> tuple[dict[str, Any], dict[str, str]]:
    with tarfile.open(path) as archive:
        package = json.load(archive.extractfile("package/package.json"))  # type: ignore[arg-type]
        raw = archive.extractfile("package/generated/api.github.com.json").read()  # type: ignore[union-attr]
    meta = {
        "package": f"npm {package['name']}@{package['version']}",
        "file": "generated/api.github.com.json",
        "licence": package["license"],
        "sha256": hashlib.sha256(raw).hexdigest(),
    }
    return json.loads(raw), meta


def _slack_methods(document: dict[str, Any]) -> dict[str, list[str]]:
    operations: dict[str, list[str]] = {}
    for method in SLACK_METHODS:
        item = document["paths"]["/" + method]
        operations["/" + method] = [m for m in item if m in ("get", "post")]
    return operations


def main() -> None:
    """Read both sources, write both cuts and PROVENANCE."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--github", type=Path, required=True, help="@octokit/openapi npm tarball")
    parser.add_argument("--slack", type=Path, required=True, help="slack_web_openapi_v2.json")
    parser.add_argument("--slack-source", default="", help="where the Slack file came from")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)

    github, meta = _github_source(args.github)
    kept = ("openapi", "info", "servers")
    github_cut = cut(github, _grouped(GITHUB_OPERATIONS), kept)
    webhooks_cut = cut_schemas(github, GITHUB_WEBHOOK_SCHEMAS, kept)
    raw_slack = args.slack.read_bytes()
    slack = json.loads(raw_slack)
    kept = ("swagger", "info", "basePath", "host", "schemes")
    slack_cut = cut(slack, _slack_methods(slack), kept)
    cuts = (("github.json", github_cut), ("github-webhooks.json", webhooks_cut))
    for name, data in (*cuts, ("slack.json", slack_cut)):
        (OUT / name).write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", "utf-8")

    source = args.slack_source or args.slack.name
    (OUT / "PROVENANCE").write_text(_provenance(meta, source, raw_slack), "utf-8")
    print(f"wrote {', '.join(sorted(p.name for p in OUT.iterdir()))} in {OUT}")


def _provenance(meta: dict[str, str], slack_source: str, raw_slack: bytes) -> str:
    slack_sha = hashlib.sha256(raw_slack).hexdigest()
    lines = [
        "# Written by scripts/cut-openapi.py (make openapi); do not edit by hand.",
        "github.json: GitHub's REST API description (api.github.com, API version 2022-11-28)",
        f"  source: {meta['package']}, file {meta['file']}",
        "  copyright: (c) 2020 Octokit contributors (MIT); the description itself: GitHub",
        f"  licence: {meta['licence']}; sha256 of the source file: {meta['sha256']}",
        f"  operations: {sum(len(m) for m in _grouped(GITHUB_OPERATIONS).values())}",
        "github-webhooks.json: the same file's schemas of the webhook deliveries Rocket 2 handles",
        f"  schemas: {len(GITHUB_WEBHOOK_SCHEMAS)} (scripts/cut-openapi.py GITHUB_WEBHOOK_SCHEMAS)",
        "slack.json: Slack's Web API specification (OpenAPI 2.0)",
        f"  source: {slack_source}",
        "  copyright: (c) 2017 SlackAPI",
        f"  licence: MIT (slackapi/slack-api-specs); sha256 of the source file: {slack_sha}",
        f"  operations: {len(SLACK_METHODS)}",
        "Both cut to the operations listed in scripts/cut-openapi.py, with every definition",
        "they reference; the sources' examples are left out.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
