"""Response URLs (``/respond/<id>``): where Rocket 2 posts a command's replies. Slack answers
``ok``; a body that is not a JSON message is ``invalid_payload`` (400); a URL Slack never gave
is ``no_active_hooks`` (404), as Slack documents for its webhooks."""

from __future__ import annotations

from typing import Any

from werkzeug import Request, Response

from app.dev.slack.workspace import Workspace


class ResponseUrls(Workspace):
    """The replies to each command, kept with the command's record."""

    def take_reply(self, reply_id: str, body: dict[str, Any]) -> bool:
        """Keep a reply to the command ``reply_id``; False if no command has that URL."""
        for command in self.data["commands"]:
            if command["id"] == reply_id:
                command["replies"].append(body)
                self.changed()
                return True
        return False

    def handle_response(self, request: Request, reply_id: str) -> Response:
        """A command's reply, posted by Rocket 2 to the command's response_url."""
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return Response("invalid_payload", status=400)
        with self.lock:
            if self.take_reply(reply_id, body):
                return Response("ok")
        return Response("no_active_hooks", status=404)
