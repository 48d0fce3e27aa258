"""Contract checks: every exchange with a stand-in, held to the service's published description.

``GITHUB`` (GitHub's OpenAPI 3.0 description) and ``SLACK`` (Slack's Web API OpenAPI 2.0
specification) are the cuts in tests/data/openapi/. ``check(request, response)`` finds the
operation by method and path template and validates, with jsonschema (``$ref`` resolved through
a referencing registry over the whole cut):

- the request: a documented operation; each declared parameter present when required and of
  its type; no undeclared query (or Slack argument); the JSON body against the body schema;
- the answer: a documented status (Slack: HTTP 200, ``ok`` true against the success schema,
  false against the error schema); its JSON body against that status's schema.

Answers a test injected on purpose (fault injection) are checked on the request side only.
Each violation names the exchange and the rule; ``LEDGER`` keeps them for the conftest hook
that fails the test in which they happened, and counts exchanges and operations.
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4
from werkzeug import Request, Response

OPENAPI_DIR = Path(__file__).resolve().parent.parent / "data" / "openapi"

# Documented by GitHub outside the REST description: on github.com, not api.github.com.
GITHUB_OUTSIDE_DESCRIPTION = frozenset(
    {
        # the web flow for user tokens: https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-user-access-token-for-a-github-app
        "/login/oauth/authorize",
        "/login/oauth/access_token",
        # registering an App from a manifest (the setup stand-in, app/dev/github_apps.py):
        # https://docs.github.com/en/apps/sharing-github-apps/registering-a-github-app-from-a-manifest
        "/organizations/{org}/settings/apps/new",
        "/organizations/{org}/settings/apps/new/create",
        # installing an App on an organisation (the page the setup flow opens):
        # https://docs.github.com/en/apps/using-github-apps/installing-a-github-app-from-a-third-party
        "/apps/{app_slug}/installations/new",
    }
)

# Documented by Slack on its method reference pages, but absent from the vendored
# slackapi/slack-api-specs (last changed before the App Manifest API; its web-api/CHANGELOG
# lists no apps.manifest.*): https://docs.slack.dev/reference/methods/apps.manifest.create
# (and .validate, .update). The setup stand-in (app/dev/slack_manifest.py) serves them.
SLACK_OUTSIDE_DESCRIPTION = frozenset(
    {"/apps.manifest.validate", "/apps.manifest.create", "/apps.manifest.update"}
)

# GitHub answers 401 to any call whose credentials it refuses ("Bad credentials"), on every
# operation, as its REST API troubleshooting page documents; the description lists it on few.
GITHUB_ANY_OPERATION_STATUSES = frozenset({401})


# Slack documents that every Web API method takes its arguments as a GET query string or a
# POST body alike (https://docs.slack.dev/apis/web-api/#basics); its specification lists one
# verb per method, so for Slack the method name alone finds the operation.
VERB_FREE_SERVICES = frozenset({"slack"})


@dataclass(frozen=True)
class Operation:
    """One operation of a description: where it lives in the document, and its parts."""

    service: str
    method: str
    template: str
    pointer: str  # JSON pointer of the operation object in the cut
    node: dict[str, Any]
    shared_parameters: tuple[Any, ...]

    @property
    def key(self) -> str:
        return f"{self.service} {self.method.upper()} {self.template}"


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0's ``nullable`` as JSON Schema (a ``null`` type, or anyOf with null)."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _json_schema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") is True:
        if "type" in out and "enum" not in out:
            out["type"] = [out["type"], "null"]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


class Description:
    """A cut description, its operations and its schema registry."""

    def __init__(self, service: str, path: Path) -> None:
        self.service = service
        self.document: dict[str, Any] = _json_schema(json.loads(path.read_text("utf-8")))
        self.swagger = "swagger" in self.document
        self.uri = f"urn:rocket2:{service}"
        resource = Resource.from_contents(self.document, default_specification=DRAFT4)
        self.registry: Registry[Any] = Registry().with_resource(self.uri, resource)
        self._validators: dict[str, Draft4Validator] = {}
        self.operations: list[tuple[re.Pattern[str], Operation]] = []
        for template, item in self.document["paths"].items():
            shared = tuple(item.get("parameters", ()))
            for method, node in item.items():
                if method == "parameters":
                    continue
                pointer = f"/paths/{_escape(template)}/{method}"
                op = Operation(service, method, template, pointer, node, shared)
                pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "([^/]+)", template) + "$")
                self.operations.append((pattern, op))
        # A literal segment wins over a template: /user/emails before /user/{account_id}.
        self.operations.sort(key=lambda pair: pair[1].template.count("{"))

    def find(self, method: str, path: str) -> Operation | None:
        """The operation at this method and path, or None (Slack: the path alone)."""
        for pattern, op in self.operations:
            verb_ok = op.method == method.lower() or self.service in VERB_FREE_SERVICES
            if verb_ok and pattern.match(path):
                return op
        return None

    def resolve(self, node: Any, pointer: str) -> tuple[Any, str]:
        """A (non-schema) object with its ``$ref`` followed: (object, its pointer)."""
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            pointer = node["$ref"][1:]
            node = self.document
            for part in pointer.lstrip("/").split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
        return node, pointer

    def validator(self, pointer: str) -> Draft4Validator:
        """The validator of the schema at ``pointer`` (built once)."""
        if pointer not in self._validators:
            schema = {"$ref": f"{self.uri}#{quote(pointer, safe='/~')}"}
            self._validators[pointer] = Draft4Validator(
                schema, registry=self.registry, format_checker=Draft4Validator.FORMAT_CHECKER
            )
        return self._validators[pointer]

    def errors(self, pointer: str, instance: Any) -> Iterator[str]:
        """Why ``instance`` fails the schema at ``pointer`` (nothing when it passes)."""
        validator = self.validator(pointer)
        for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.path)):
            where = "/".join(str(p) for p in error.absolute_path) or "(the whole body)"
            yield f"{where}: {error.message[:300]}"


def _coerce(value: str, schema: dict[str, Any]) -> Any:
    """A query, path or form value as the type its schema declares (unchanged if it is not)."""
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "integer" in kinds and re.fullmatch(r"-?\d+", value):
        return int(value)
    if "boolean" in kinds and value in ("true", "false"):
        return value == "true"
    return value


@dataclass
class Ledger:
    """Every exchange checked in this process: counts, operations seen, violations."""

    exchanges: int = 0
    outside: int = 0  # answers a test or the stand-in gave outside the description on purpose
    operations: set[str] = field(default_factory=set)
    violations: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, key: str, found: list[str], outside: bool = False) -> None:
        with self.lock:
            self.exchanges += 1
            self.outside += outside
            self.operations.add(key)
            self.violations.extend(found)


LEDGER = Ledger()  # the tests' own stand-ins (tests/support/fake_github.py, slack.py)
PLAYGROUND = Ledger()  # what the playground's stand-ins recorded (check_recorded)


def _parameters(desc: Description, op: Operation) -> list[tuple[dict[str, Any], str]]:
    """The operation's parameters (its own override the path's), each with its pointer."""
    found: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
    item_pointer = op.pointer.rsplit("/", 1)[0]
    listed = [(p, f"{item_pointer}/parameters/{i}") for i, p in enumerate(op.shared_parameters)]
    listed += [
        (p, f"{op.pointer}/parameters/{i}") for i, p in enumerate(op.node.get("parameters", ()))
    ]
    for raw, pointer in listed:
        param, where = desc.resolve(raw, pointer)
        found[(param["name"], param["in"])] = (param, where)
    return list(found.values())


def _param_errors(desc: Description, param: dict[str, Any], pointer: str, value: Any) -> list[str]:
    if desc.swagger:
        schema = {k: v for k, v in param.items() if k in ("type", "enum", "format", "items")}
        if isinstance(value, (list, dict)) and schema.get("type") == "string":
            value = json.dumps(value)  # Slack reads a JSON array argument as its string form
        if isinstance(value, str) and schema.get("type") == "boolean" and value in ("0", "1"):
            # Slack's own SDK sends booleans as "0"/"1" ("Slack APIs safely accept '0'/'1' as
            # boolean values": slack_sdk.web.internal_utils.convert_bool_to_0_or_1)
            value = value == "1"
        if isinstance(value, str):
            value = _coerce(value, schema)
        validator = Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
        return [e.message[:300] for e in validator.iter_errors(value)]
    schema, _ = desc.resolve(param.get("schema", {}), pointer + "/schema")
    if isinstance(value, str):
        value = _coerce(value, schema)
    return list(desc.errors(pointer + "/schema", value))


def _arguments(desc: Description, op: Operation, request: Request) -> dict[tuple[str, str], Any]:
    """What the request carries, keyed by (name, where) as the description places them."""
    args: dict[tuple[str, str], Any] = {}
    pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "([^/]+)", op.template) + "$")
    names = re.findall(r"\{([^}]+)\}", op.template)
    match = pattern.match(request.path)
    assert match is not None
    segments = (unquote(v) for v in match.groups())
    args.update({(name, "path"): v for name, v in zip(names, segments, strict=True)})
    if desc.swagger:  # Slack reads query, form and JSON body alike
        values: dict[str, Any] = dict(request.values.items())
        body = request.get_json(silent=True)
        values.update(body if isinstance(body, dict) else {})
        for place in ("query", "formData"):
            args.update({(k, place): v for k, v in values.items()})
        if request.headers.get("Authorization", "").startswith("Bearer "):
            # Slack takes the token in the Authorization header wherever a method lists it
            # (https://docs.slack.dev/authentication/tokens: "Authorization: Bearer").
            token = request.headers["Authorization"][len("Bearer ") :]
            args.update({("token", place): token for place in ("header", "query", "formData")})
        return args
    args.update({(k, "query"): v for k, v in request.args.items()})
    args.update({(k.lower(), "header"): v for k, v in request.headers.items()})
    return args


def request_violations(desc: Description, op: Operation, request: Request) -> list[str]:
    """Why the request breaks the operation's parameters or body (nothing when it holds)."""
    found: list[str] = []
    args = _arguments(desc, op, request)
    declared: set[str] = set()
    for param, pointer in _parameters(desc, op):
        where = "header" if param["in"] == "header" else param["in"]
        key = (param["name"].lower() if where == "header" else param["name"], where)
        declared.add(param["name"])
        if key not in args:
            if param.get("required"):
                found.append(f"request: required {where} parameter {param['name']!r} missing")
            continue
        for why in _param_errors(desc, param, pointer, args[key]):
            found.append(f"request: {where} parameter {param['name']!r}: {why}")
    query_place = "formData" if desc.swagger else "query"
    for name, place in args:
        if place == query_place and name not in declared and name != "token":
            found.append(f"request: undeclared {place} parameter {name!r}")
    if not desc.swagger:
        found += _body_violations(desc, op, request)
    return found


def _body_violations(desc: Description, op: Operation, request: Request) -> list[str]:
    body_spec, pointer = desc.resolve(op.node.get("requestBody"), op.pointer + "/requestBody")
    data = request.get_data()
    if body_spec is None:
        return ["request: a body where the operation takes none"] if data.strip() else []
    if not data.strip():
        return ["request: the required body is missing"] if body_spec.get("required") else []
    if "application/json" not in body_spec.get("content", {}):
        return []
    try:
        body = json.loads(data)
    except ValueError:
        return ["request: the body is not JSON"]
    schema_pointer = pointer + "/content/application~1json/schema"
    return [f"request body: {why}" for why in desc.errors(schema_pointer, body)]


def response_violations(desc: Description, op: Operation, response: Response) -> list[str]:
    """Why the answer breaks the operation's statuses or schemas (nothing when it holds)."""
    data = response.get_data()
    if desc.swagger:
        return _slack_response(desc, op, response, data)
    status = str(response.status_code)
    responses = op.node.get("responses", {})
    key = status if status in responses else "default" if "default" in responses else None
    if key is None:
        if response.status_code in GITHUB_ANY_OPERATION_STATUSES:
            return []
        return [f"response: status {status} is not documented (documented: {', '.join(responses)})"]
    spec, pointer = desc.resolve(responses[key], f"{op.pointer}/responses/{key}")
    if "application/json" not in spec.get("content", {}):
        return []
    try:
        body = json.loads(data)
    except ValueError:
        return [f"response {status}: the body is not JSON"]
    schema_pointer = pointer + "/content/application~1json/schema"
    return [f"response {status}: {why}" for why in desc.errors(schema_pointer, body)]


def _slack_response(desc: Description, op: Operation, response: Response, data: bytes) -> list[str]:
    if response.status_code != 200:
        return [f"response: HTTP {response.status_code} (Slack answers a method with HTTP 200)"]
    if response.mimetype != "application/json":
        return [f"response: content type {response.mimetype!r}, not application/json"]
    try:
        body = json.loads(data)
    except ValueError:
        return ["response: the body is not JSON"]
    key = "200" if isinstance(body, dict) and body.get("ok") is True else "default"
    pointer = f"{op.pointer}/responses/{key}/schema"
    return [
        f"response ({'ok' if key == '200' else 'error'}): {why}"
        for why in desc.errors(pointer, body)
    ]


def check(
    desc: Description,
    request: Request,
    response: Response,
    *,
    injected: bool = False,
    path: str | None = None,
    ledger: Ledger | None = None,
) -> list[str]:
    """Check one exchange, record it in ``ledger`` (default LEDGER), and return its violations
    (each names it)."""
    ledger = LEDGER if ledger is None else ledger
    if path is None:  # the path as sent (an escaped '/' stays inside its segment)
        raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
        path = str(raw).split("?", 1)[0] if raw else request.path
    op = desc.find(request.method, path)
    name = f"{desc.service} {request.method} {path} -> {response.status_code}"
    if op is None:
        if outside_description(desc.service, path):
            return []
        found = [f"{name}: no operation {request.method} {path} in the description"]
        ledger.record(f"{desc.service} (undocumented)", found)
        return found
    data = request.get_data()  # cached: the stand-ins read it first (see ``read_body``)
    environ = {**request.environ, "PATH_INFO": path, "wsgi.input": io.BytesIO(data)}
    bound = Request({**environ, "CONTENT_LENGTH": str(len(data))})
    problems = request_violations(desc, op, bound)
    if not injected:
        problems += response_violations(desc, op, response)
    found = [f"{name} ({op.key}): {why}" for why in problems]
    ledger.record(op.key, found, outside=injected)
    return found


def checked(
    service: str, handler: Callable[[Request], Response], root: str = ""
) -> Callable[[Request], Response]:
    """``handler`` (a test's own small stand-in of one operation, served under ``root``, e.g.
    Slack's ``/api``) with each of its exchanges checked against ``service``'s description,
    like the shared stand-ins' (into LEDGER)."""

    def answer(request: Request) -> Response:
        read_body(request)
        response = handler(request)
        path = request.path.removeprefix(root)
        check(description(service), request, response, path=path)
        return response

    return answer


def outside_description(service: str, path: str) -> bool:
    """Whether ``path`` is a documented call the vendored description lacks (listed above)."""
    listed = GITHUB_OUTSIDE_DESCRIPTION if service == "github" else SLACK_OUTSIDE_DESCRIPTION
    for template in listed:
        literal = re.escape(template)  # "{org}" becomes "\\{org\\}"
        if re.fullmatch(re.sub(r"\\\{[^}]+\\\}", "[^/]+", literal), path):
            return True
    return False


def read_body(request: Request) -> None:
    """Read and cache the body before a handler parses it, so the check can read it too."""
    request.get_data(cache=True)


_loaded: dict[str, Description] = {}


def description(service: str) -> Description:
    """The cut description of ``service`` ('github' or 'slack'), loaded once."""
    if service not in _loaded:
        _loaded[service] = Description(service, OPENAPI_DIR / f"{service}.json")
    return _loaded[service]


def check_recorded(path: Path, ledger: Ledger | None = None) -> list[str]:
    """Check every exchange the playground's stand-ins recorded in ``path`` (JSON lines, see
    app.dev.recording) into ``ledger`` (default PLAYGROUND); their violations."""
    ledger = PLAYGROUND if ledger is None else ledger
    from werkzeug.test import EnvironBuilder

    found: list[str] = []
    for line in path.read_text("utf-8").splitlines():
        if not line.strip():
            continue
        seen = json.loads(line)
        builder = EnvironBuilder(
            method=seen["method"],
            path=unquote(seen["path"]),
            query_string=seen["query"],
            headers=seen["headers"],
            data=seen["body"].encode("utf-8"),
        )
        request = Request(builder.get_environ())
        request.get_data(cache=True)
        answer = Response(seen["answer"], status=seen["status"], headers=seen["answer_headers"])
        desc = description(seen["service"])
        outside = seen["outside"]
        found += check(desc, request, answer, injected=outside, path=seen["path"], ledger=ledger)
    return found
