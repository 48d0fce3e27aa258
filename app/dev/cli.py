"""`rocket2 dev …`: the stand-ins, and Slack's side of a command or an event, from a shell.

    rocket2 dev standins [--record FILE]       serve the local Slack and GitHub (make run does)
    rocket2 dev send "/rocket help" [--as ada] a signed slash command; prints the reply
    rocket2 dev event team_join --name "Ada"   someone joins; prints the welcome DM
    rocket2 dev event app_mention --text "karma view" [--as ada]

`send` and `event` wait for the answer up to ``--timeout`` seconds; exit 0 if it came, 1 if not,
2 if the stand-ins or Rocket 2 refused or could not be reached.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from app.dev.blocks import render
from config import Config, load_config

NO_REPLY, REFUSED = 1, 2
POLL_SECONDS = 0.2


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `dev standins|send|event`."""
    dev = subparsers.add_parser("dev", help="try Rocket 2 locally: stand-in Slack and GitHub")
    dev.add_argument("--env-file", default=".env", help="the dev config (default: ./.env)")
    sub = dev.add_subparsers(dest="dev_command", required=True)

    standins = sub.add_parser("standins", help="serve the local Slack and GitHub stand-ins")
    standins.add_argument(
        "--record",
        type=Path,
        default=None,
        help="append every Slack and GitHub exchange to this JSON-lines file",
    )
    standins.set_defaults(func=cmd_standins)

    send = sub.add_parser("send", help="send a slash command as Slack would; print the reply")
    send.add_argument("text", help='the command line, e.g. "/rocket help"')
    send.add_argument("--as", dest="who", default="you", help="who types it (@name or U…)")
    send.add_argument("--timeout", type=float, default=15.0, help="seconds to wait (15)")
    send.set_defaults(func=cmd_send)

    event = sub.add_parser("event", help="deliver an event as Slack would; print the answer")
    event.add_argument("type", choices=("team_join", "app_mention"))
    event.add_argument("--name", default="Newcomer", help="team_join: the newcomer's name")
    event.add_argument("--text", default="help", help="app_mention: what follows the mention")
    event.add_argument("--as", dest="who", default="you", help="app_mention: who mentions")
    event.add_argument("--timeout", type=float, default=15.0, help="seconds to wait (15)")
    event.set_defaults(func=cmd_event)


def _config(args: argparse.Namespace) -> Config:
    return load_config(env_file=args.env_file)


def cmd_standins(args: argparse.Namespace) -> int:
    """Serve the stand-ins (foreground)."""
    from app.dev.server import serve

    serve(_config(args), record=args.record)
    return 0


class _Client:
    """The stand-ins' /dev/api, as the CLI calls it."""

    def __init__(self, config: Config) -> None:
        from app.dev.server import standins_url

        self.base = standins_url(config) + "/dev/api/"
        self._http = httpx.Client(timeout=15.0)

    def get(self, path: str, **params: Any) -> Any:
        return self._http.get(self.base + path, params=params).raise_for_status().json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        answer = self._http.post(self.base + path, json=body)
        if answer.status_code == 404 and "error" in answer.json():
            raise LookupError(answer.json()["error"])
        return answer.raise_for_status().json()

    def name_of(self) -> Callable[[str], str | None]:
        names = {p["id"]: p["name"] for p in self.get("people")}
        return names.get


def _wait(find: Callable[[], Any], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = find()
        if found or time.monotonic() >= deadline:
            return found
        time.sleep(POLL_SECONDS)


def _run(args: argparse.Namespace, work: Callable[[_Client], int]) -> int:
    try:
        return work(_Client(_config(args)))
    except LookupError as exc:
        print(f"dev: {exc}", file=sys.stderr)
    except httpx.HTTPError as exc:
        print(
            f"dev: the stand-ins are not reachable ({exc}); is `make run` running?", file=sys.stderr
        )
    return REFUSED


def _accepted(status: Any, what: str) -> bool:
    if status == 200:
        return True
    print(f"dev: Rocket 2 did not take the {what}: {status}", file=sys.stderr)
    return False


def cmd_send(args: argparse.Namespace) -> int:
    """Send a slash command; print its reply."""

    def work(client: _Client) -> int:
        sent = client.post("command", {"text": args.text, "as": args.who})
        if not _accepted(sent["status"], "command"):
            return REFUSED
        if sent.get("ack"):
            replies = [sent["ack"], *client.get(f"commands/{sent['id']}")["replies"]]
        else:
            replies = _wait(lambda: client.get(f"commands/{sent['id']}")["replies"], args.timeout)
        if not replies:
            print(f"dev: no reply within {args.timeout:g} s", file=sys.stderr)
            return NO_REPLY
        name_of = client.name_of()
        print("\n\n".join(render(reply, name_of) for reply in replies))
        return 0

    return _run(args, work)


def cmd_event(args: argparse.Namespace) -> int:
    """Deliver an event; print what the bot sent the person it was about."""

    def work(client: _Client) -> int:
        if args.type == "team_join":
            sent, kind = client.post("join", {"name": args.name}), "dm"
        else:
            sent = client.post("mention", {"text": args.text, "as": args.who})
            kind = "ephemeral"
        if not _accepted(sent["status"], "event"):
            return REFUSED
        person = sent["user"]

        def answer() -> list[dict[str, Any]]:
            messages = client.get("messages", since=sent["since"])["messages"]
            return [m for m in messages if m["kind"] == kind and m["to"] == person["id"]]

        found = _wait(answer, args.timeout)
        if not found:
            print(
                f"dev: nothing sent to @{person['name']} within {args.timeout:g} s", file=sys.stderr
            )
            return NO_REPLY
        name_of = client.name_of()
        print(f"to @{person['name']} ({person['id']}):")
        print("\n\n".join(render(message, name_of) for message in found))
        return 0

    return _run(args, work)
