"""Block Kit replies, shown only to the caller (``response_type: ephemeral``).

Blocks are slack_sdk's Block Kit models (``slack_sdk.models.blocks``); ``message`` turns them
into the JSON Slack takes, and slack-sdk checks each block against Slack's documented limits
as it does. The builders here cut or split text so that check always passes: a section's text
at most 3,000 characters, a field's 2,000, a header's 150, at most 50 blocks in a message.

Every reply has a plain ``text`` (notifications and clients without blocks) and ``blocks``.
Text that came from a user is escaped with ``escape`` before it goes into mrkdwn, so nobody
can smuggle ``<!channel>`` or a fake link into a reply.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    ImageElement,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

Message = dict[str, Any]

SECTION_LIMIT = SectionBlock.text_max_length  # 3000
HEADER_LIMIT = HeaderBlock.text_max_length  # 150
MAX_FIELDS = SectionBlock.fields_max_length  # 10
# Slack documents these; slack-sdk does not check them.
FIELD_LIMIT = 2000  # each field of a section
TEXT_LIMIT = 3000  # any text object (a context's elements)
MAX_BLOCKS = 50  # in one message
FENCE = "```"


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code(text: str) -> str:
    """Inline code for a short user-supplied value (escaped, backticks removed)."""
    return "`" + escape(text.replace("`", "'")) + "`"


def section(text: str) -> Block:
    """A mrkdwn section (text cut to Slack's limit)."""
    return SectionBlock(text=MarkdownTextObject(text=_cut(text, SECTION_LIMIT)))


def fields_section(fields: Sequence[tuple[str, str]], image_url: str | None = None) -> Block:
    """A section of ``*label*\\nvalue`` fields (at most 10), with an image beside them."""
    return SectionBlock(
        fields=[MarkdownTextObject(text=_cut(f"*{k}*\n{v}", FIELD_LIMIT)) for k, v in fields],
        accessory=ImageElement(image_url=image_url, alt_text="photo") if image_url else None,
    )


def header(text: str) -> Block:
    """A header block (plain text, cut to 150 characters)."""
    return HeaderBlock(text=PlainTextObject(text=_cut(text, HEADER_LIMIT)))


def context(text: str) -> Block:
    """A small grey line."""
    return ContextBlock(elements=[MarkdownTextObject(text=_cut(text, TEXT_LIMIT))])


def message(text: str, blocks: Iterable[Block] | None = None) -> Message:
    """An ephemeral reply: ``text`` as the fallback, ``blocks`` (default: one section of text).

    Over Slack's 50 blocks, the 50th says how many more there were instead of being dropped.
    """
    body = list(blocks) if blocks is not None else [section(text)]
    if len(body) > MAX_BLOCKS:
        hidden = len(body) - (MAX_BLOCKS - 1)
        body = [*body[: MAX_BLOCKS - 1], context(f"…and {hidden} more blocks not shown.")]
    return {
        "response_type": "ephemeral",
        "text": _cut(text, TEXT_LIMIT),
        "blocks": [block.to_dict() for block in body],
    }


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
    """Preformatted text (escaped) in as many fenced sections as the size limit needs; a line
    longer than a section is split across sections."""
    room = SECTION_LIMIT - 2 * len(FENCE)
    pieces = (p for line in text.rstrip().splitlines() for p in _escaped_pieces(line, room))
    return [section(FENCE + chunk + FENCE) for chunk in _packed(pieces, room)]


def lines_blocks(lines: Iterable[str]) -> list[Block]:
    """mrkdwn lines, packed into as few sections as the size limit allows (a longer line is
    cut)."""
    return [section(chunk) for chunk in _packed(lines, SECTION_LIMIT)]


def _packed(lines: Iterable[str], limit: int) -> Iterator[str]:
    """``lines`` joined by newlines into chunks of at most ``limit`` characters where each
    line fits, in order."""
    current: str | None = None
    for line in lines:
        if current is not None and len(current) + 1 + len(line) > limit:
            yield current
            current = None
        current = line if current is None else f"{current}\n{line}"
    if current is not None:
        yield current


def _escaped_pieces(line: str, room: int) -> Iterator[str]:
    """``line`` escaped, in pieces of at most ``room`` characters (never inside an escape)."""
    if len(escaped := escape(line)) <= room:
        yield escaped
        return
    piece, size = "", 0
    for char in line:
        out = escape(char)
        if size + len(out) > room:
            yield piece
            piece, size = "", 0
        piece, size = piece + out, size + len(out)
    yield piece


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
