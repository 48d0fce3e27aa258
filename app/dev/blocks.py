"""Block Kit as readable plain text (for `rocket2 dev send`): headers, sections and their
fields, context, dividers, button labels; mrkdwn markup and Slack's escapes undone."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from typing import Any

_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")
_EMOJI = {
    "white_check_mark": "✅",
    "warning": "⚠️",
    "x": "❌",
    "rocket": "🚀",
    "tada": "🎉",
    "wave": "👋",
    "information_source": "ℹ️",
    "lock": "🔒",
}


def mrkdwn_to_text(text: str, name_of: Callable[[str], str | None] = lambda _: None) -> str:
    """``<@U…>`` as ``@name``, ``<url|label>`` as ``label (url)``, common ``:emoji:`` as
    themselves, ``*bold*`` and ``~strike~`` marks dropped, Slack's ``&lt;``/``&gt;``/``&amp;``
    unescaped."""

    def link(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("@"):
            return "@" + (label or name_of(target[1:]) or target[1:])
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):
            return "@" + (label or target[1:].split("^")[0])
        return f"{label} ({target})" if label and label != target else target

    text = _LINK.sub(link, text)
    text = re.sub(r":([a-z_]+):", lambda m: _EMOJI.get(m.group(1), m.group(0)), text)
    text = re.sub(r"(?<!\w)\*(\S(?:[^*\n]*\S)?)\*(?!\w)", r"\1", text)
    text = re.sub(r"(?<!\w)~(\S(?:[^~\n]*\S)?)~(?!\w)", r"\1", text)
    return html.unescape(text)


def _text_of(obj: Any, name_of: Callable[[str], str | None]) -> str:
    if not isinstance(obj, Mapping):
        return ""
    raw = str(obj.get("text", ""))
    return mrkdwn_to_text(raw, name_of) if obj.get("type") == "mrkdwn" else html.unescape(raw)


def render(
    message: Mapping[str, Any], name_of: Callable[[str], str | None] = lambda _: None
) -> str:
    """A message (``text`` and optional ``blocks``) as plain text, one block a paragraph."""
    blocks = message.get("blocks") or []
    if not blocks:
        return mrkdwn_to_text(str(message.get("text", "")), name_of)
    out: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = _text_of(block.get("text"), name_of)
            out.append(f"{title}\n{'=' * len(title)}")
        elif kind == "section":
            parts = [_text_of(block.get("text"), name_of)]
            parts += [_text_of(f, name_of) for f in block.get("fields") or []]
            out.append("\n".join(p for p in parts if p))
        elif kind == "context":
            out.append("  ".join(_text_of(e, name_of) for e in block.get("elements") or []))
        elif kind == "divider":
            out.append("-" * 40)
        elif kind == "actions":
            labels = [_text_of(e.get("text"), name_of) for e in block.get("elements") or []]
            out.append("  ".join(f"[{label}]" for label in labels))
        elif kind == "rich_text":
            out.append(mrkdwn_to_text(str(message.get("text", "")), name_of))
    return "\n\n".join(p for p in out if p)
