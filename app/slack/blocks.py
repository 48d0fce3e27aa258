"""Block Kit replies, shown only to the caller (``response_type: ephemeral``).

Every reply has a plain ``text`` (notifications and clients without blocks) and ``blocks``.
Text that came from a user is escaped with ``escape`` before it goes into mrkdwn, so nobody
can smuggle ``<!channel>`` or a fake link into a reply.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

Message = dict[str, Any]
Block = dict[str, Any]

SECTION_LIMIT = 3000  # Slack: a section's text is at most 3000 characters
FIELD_LIMIT = 2000  # … and each of its (at most 10) fields at most 2000
MAX_BLOCKS = 50


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code(text: str) -> str:
    """Inline code for a short user-supplied value (escaped, backticks removed)."""
    return "`" + escape(text.replace("`", "'")) + "`"


def section(text: str) -> Block:
    """A mrkdwn section (text cut to Slack's limit)."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, SECTION_LIMIT)}}


def fields_section(fields: Sequence[tuple[str, str]]) -> Block:
    """A section of up to 10 ``*label*\\nvalue`` fields."""
    return {
        "type": "section",
        "fields": [
            {"type": "mrkdwn", "text": _cut(f"*{label}*\n{value}", FIELD_LIMIT)}
            for label, value in fields[:10]
        ],
    }


def header(text: str) -> Block:
    """A header block (plain text, at most 150 characters)."""
    return {"type": "header", "text": {"type": "plain_text", "text": _cut(text, 150)}}


def context(text: str) -> Block:
    """A small grey line."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _cut(text, 3000)}]}


def message(text: str, blocks: Iterable[Block] | None = None) -> Message:
    """An ephemeral reply: ``text`` as the fallback, ``blocks`` (default: one section of text)."""
    body = list(blocks) if blocks is not None else [section(text)]
    return {"response_type": "ephemeral", "text": _cut(text, 3000), "blocks": body[:MAX_BLOCKS]}


def ok(text: str) -> Message:
    """A short success reply."""
    return message(text, [section(f":white_check_mark: {text}")])


def error(text: str, help_text: str | None = None) -> Message:
    """A refusal or failure the user can act on; ``help_text`` (a command's help) below it."""
    blocks = [section(f":warning: {text}")]
    if help_text:
        blocks.extend(code_blocks(help_text))
    return message(text, blocks)


def code_blocks(text: str) -> list[Block]:
    """Preformatted text in as many sections as the size limit needs."""
    chunks: list[Block] = []
    lines: list[str] = []
    size = 0
    for line in text.rstrip().splitlines():
        if lines and size + len(line) + 1 > SECTION_LIMIT - 10:
            chunks.append(section("```" + "\n".join(lines) + "```"))
            lines, size = [], 0
        lines.append(escape(line))
        size += len(line) + 1
    if lines:
        chunks.append(section("```" + "\n".join(lines) + "```"))
    return chunks


def lines_blocks(lines: Iterable[str]) -> list[Block]:
    """mrkdwn lines, packed into as few sections as the size limit allows."""
    blocks: list[Block] = []
    current = ""
    for line in lines:
        if current and len(current) + len(line) + 1 > SECTION_LIMIT:
            blocks.append(section(current))
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        blocks.append(section(current))
    return blocks


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
