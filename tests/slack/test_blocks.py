"""Block Kit replies (app.slack.blocks) stay within Slack's documented limits, and the long cases
(a long help text, a long list) are split or cut on purpose, losing nothing silently.

The limits are Slack's own numbers (docs.slack.dev, Block Kit reference), written here rather
than read from slack-sdk, so a change on either side shows.
"""

from __future__ import annotations

import html
from typing import Any

import pytest
from slack_sdk.errors import SlackObjectFormationError

from app.dev.blocks import render
from app.slack import blocks

MAX_BLOCKS = 50  # "You can include up to 50 blocks in each message"
SECTION_TEXT = 3000  # section block: text
MAX_FIELDS, FIELD_TEXT = 10, 2000  # section block: fields
HEADER_TEXT = 150  # header block: plain_text
CONTEXT_ELEMENTS, TEXT_OBJECT = 10, 3000  # context block; a text object is 1..3000


def within_slack_limits(message: dict[str, Any]) -> None:
    """Fail unless every block of ``message`` keeps Slack's documented limits."""
    assert 1 <= len(message["blocks"]) <= MAX_BLOCKS
    for block in message["blocks"]:
        kind = block["type"]
        if kind == "section":
            fields = block.get("fields", [])
            assert "text" in block or fields
            assert len(fields) <= MAX_FIELDS
            assert all(1 <= len(f["text"]) <= FIELD_TEXT for f in fields)
            assert "text" not in block or 1 <= len(block["text"]["text"]) <= SECTION_TEXT
        elif kind == "header":
            assert block["text"]["type"] == "plain_text"
            assert 1 <= len(block["text"]["text"]) <= HEADER_TEXT
        elif kind == "context":
            assert 1 <= len(block["elements"]) <= CONTEXT_ELEMENTS
            assert all(1 <= len(e["text"]) <= TEXT_OBJECT for e in block["elements"])
        else:
            raise AssertionError(f"a block Rocket 2 does not build: {kind}")


def test_the_json_is_what_slack_was_sent_before():
    photo = "https://avatars.example/ada.png"
    card = blocks.fields_section([("Name", "Ada"), ("Karma", "3")], image_url=photo)
    reply = blocks.message("t", [blocks.header("Title"), blocks.section("*hi*"), card])
    assert reply == {
        "response_type": "ephemeral",
        "text": "t",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "Title"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}},
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": "*Name*\nAda"},
                    {"type": "mrkdwn", "text": "*Karma*\n3"},
                ],
                "accessory": {"type": "image", "image_url": photo, "alt_text": "photo"},
            },
        ],
    }
    assert blocks.ok("done")["blocks"] == [
        {"type": "section", "text": {"type": "mrkdwn", "text": ":white_check_mark: done"}}
    ]


def test_a_long_help_text_is_split_into_fenced_sections_and_nothing_is_lost():
    # Escaping makes `<a&b>` three times longer, and one line alone is longer than a section.
    lines = [f"  --option-{n} <a&b>   {'what it does ' * 4}" for n in range(150)]
    lines.insert(40, "x&" * (SECTION_TEXT + 17))
    help_text = "usage: /rocket user edit\n\n" + "\n".join(lines)
    reply = blocks.error("`/rocket user edit`: bad", help_text)
    within_slack_limits(reply)
    code = [b["text"]["text"] for b in reply["blocks"][1:]]
    assert len(code) >= 5
    assert all(c.startswith("```") and c.endswith("```") and "…" not in c for c in code)
    inner = [html.unescape(c[3:-3]) for c in code]
    assert "".join(inner).replace("\n", "") == help_text.rstrip().replace("\n", "")
    assert inner[0].startswith("usage: /rocket user edit\n\n  --option-0 <a&b>")


def test_a_list_past_fifty_blocks_says_how_many_were_not_shown():
    lines = [f"*team-{n:04}* — {'member, ' * 20}" for n in range(1200)]
    sections = blocks.lines_blocks(lines)
    assert len(sections) > MAX_BLOCKS
    reply = blocks.message("Teams", [blocks.section("1200 teams"), *sections])
    within_slack_limits(reply)
    shown = reply["blocks"][: MAX_BLOCKS - 1]
    last = reply["blocks"][-1]
    assert last["type"] == "context"
    hidden = len(sections) + 1 - (MAX_BLOCKS - 1)
    assert last["elements"][0]["text"] == f"…and {hidden} more blocks not shown."
    listed = "\n".join(b["text"]["text"] for b in shown[1:]).splitlines()
    assert listed == lines[: len(listed)]  # in order, whole lines, none cut
    assert render(reply).endswith(f"…and {hidden} more blocks not shown.")  # the playground


def test_over_long_texts_are_cut_at_slacks_limits_with_an_ellipsis():
    reply = blocks.message(
        "x" * 5000,
        [
            blocks.header("h" * 400),
            blocks.section("s" * 4000),
            blocks.context("c" * 4000),
            blocks.fields_section([("Biography", "b" * 2500)]),
            *blocks.lines_blocks(["one line " * 500]),
        ],
    )
    within_slack_limits(reply)
    header, section, context, card, line = reply["blocks"]
    assert header["text"]["text"] == "h" * (HEADER_TEXT - 1) + "…"
    assert section["text"]["text"] == "s" * (SECTION_TEXT - 1) + "…"
    assert len(context["elements"][0]["text"]) == TEXT_OBJECT
    assert card["fields"][0]["text"].endswith("…") and len(card["fields"][0]["text"]) == 2000
    assert line["text"]["text"].endswith("…")
    assert len(reply["text"]) == 3000 and reply["text"].endswith("…")


def test_more_than_ten_fields_is_refused_by_slack_sdk_not_sent():
    with pytest.raises(SlackObjectFormationError, match="fields"):
        blocks.message("card", [blocks.fields_section([(str(n), "v") for n in range(11)])])
