"""The `/rocket` parser core, in-process on both databases: text rules, help, unknown commands,
per-command help on bad arguments, and the generic reply (with a reference) for a crash."""

from __future__ import annotations

import dataclasses
import json
import logging

import pytest
from sqlalchemy import text

from app.features import FEATURES, build_registry
from app.services import Services
from app.slack.commands import parsing
from app.slack.commands.dispatch import Commands
from app.slack.commands.errors import UsageError
from tests.support import db, demo_commands
from tests.support import fake_github as fake_support
from tests.support import rocket as rocket_support

database_url = db.database_url
store = db.store
fake_github = fake_support.fake_github
context = rocket_support.context
memory_context = rocket_support.memory_context
run = rocket_support.run


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("user edit --name “Ada Lovelace”", ["user", "edit", "--name", "Ada Lovelace"]),
        ("user edit --bio ‘rockets’", ["user", "edit", "--bio", "rockets"]),
        ("user view —username <@U0ABCDEF12|ada>", ["user", "view", "--username", "U0ABCDEF12"]),
        ("<@W0123456789AB> ++", ["W0123456789AB", "++"]),
        ("user edit --email <mailto:a@b.org|a@b.org>", ["user", "edit", "--email", "a@b.org"]),
        ("team create x --channel <#C0123|general>", ["team", "create", "x", "--channel", "C0123"]),
        ("user edit --bio 'a &lt;b&gt; &amp; c'", ["user", "edit", "--bio", "a <b> & c"]),
    ],
)
def test_text_rules(raw, words):
    assert parsing.split(raw) == words


def test_unbalanced_quote_is_a_usage_error():
    with pytest.raises(UsageError, match="quote"):
        parsing.split('user edit --bio "unclosed')


def test_parser_never_prints_or_exits(capsys):
    parser = parsing.CommandParser("/rocket x y", "test")
    parser.add_argument("n", type=int)
    for words in ([], ["a"], ["1", "2"], ["--help"]):
        with pytest.raises(UsageError):
            parser.parse(words)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("text", ["", "help", "HELP", "--help", "frobnicate now"])
def test_help_and_unknown_list_every_command(memory_context, text):
    context = memory_context
    reply = run(context, text)
    assert reply["response_type"] == "ephemeral"
    body = json.dumps(reply["blocks"])
    for usage in ("/rocket user add [-f]", "/rocket karma set @USER N", "/rocket @user ++"):
        assert usage in body
    assert reply["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Rocket 2 commands"},
    }
    if text.startswith("frob"):
        assert "I don't know the command `frobnicate`" in reply["text"]


@pytest.mark.parametrize("text", ["user", "help user", "user help", "user --help", "user nope"])
def test_a_group_alone_or_an_unknown_subcommand_lists_the_group(memory_context, text):
    context = memory_context
    reply = run(context, text)
    assert "`/rocket user`: member records" in reply["text"]
    assert "/rocket user delete @USER" in reply["text"]
    assert "/rocket karma" not in reply["text"]
    if text.endswith("nope"):
        assert "`user` has no command `nope`" in reply["text"]


def test_command_help_shows_every_option(memory_context):
    context = memory_context
    reply = run(context, "user edit --help")
    help_text = json.dumps(reply["blocks"])
    for option in ("--name", "--email", "--pos", "--github", "--major", "--bio", "--username"):
        assert option in help_text
    assert "member|team_lead|admin" in help_text
    assert ":warning:" not in help_text


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("user add --bogus", "unrecognized arguments: --bogus"),
        ("user delete", "the following arguments are required: @USER"),
        ("user delete someone", "argument @USER: expected a Slack user mention"),
        ("user edit --email not-an-address", "argument --email: is not an e-mail address"),
        ("user edit --github bad--name", "argument --github: is not a GitHub username"),
        ("user edit --permission king", "argument --permission: permission must be one of"),
        ("user edit --name " + "x" * 201, "argument --name: is too long (at most 200"),
        ("karma set <@U0ABCDEF12|a> lots", "argument N: must be a whole number"),
        ("karma reset", "the following arguments are required: --all"),
        ("user view --github a --email b@c.de", "not allowed with argument"),
    ],
)
def test_bad_arguments_show_that_commands_help(memory_context, text, problem):
    context = memory_context
    reply = run(context, text)
    body = json.dumps(reply["blocks"])
    assert reply["blocks"][0]["text"]["text"].startswith(":warning:")
    assert problem in reply["text"]
    assert "usage: /rocket " + " ".join(text.split()[:2]) in body  # that command's help
    assert "Traceback" not in body


def test_an_unexpected_failure_gives_a_reference_not_a_traceback(context, caplog):
    run(context, "user add", user="U0CALLER01")
    with context.store.engine.begin() as connection:
        connection.execute(text("ALTER TABLE users RENAME TO users_gone"))
    try:
        with caplog.at_level(logging.ERROR, logger="rocket2.commands"):
            reply = run(context, "user view")
    finally:
        with context.store.engine.begin() as connection:
            connection.execute(text("ALTER TABLE users_gone RENAME TO users"))
    assert "something went wrong" in reply["text"]
    ref = reply["text"].split("reference: `")[1].split("`")[0]
    assert len(ref) >= 8
    assert "Traceback" not in json.dumps(reply) and "users" not in reply["text"]
    logged = [r for r in caplog.records if ref in r.getMessage()]
    assert logged and logged[0].exc_info is not None  # the traceback is in the log


def test_a_group_registers_with_one_entry_in_the_feature_list():
    """A feature plugs in like this: a package with ``FEATURE``, one entry in FEATURES."""
    installed = build_registry((*FEATURES, demo_commands.FEATURE))
    # after the others, in order
    assert list(installed.groups()) == [*build_registry().groups(), "demo"]
    assert installed.groups()["demo"] is demo_commands.group
    assert installed.find("DEMO") is demo_commands.group
    assert build_registry().find("demo") is None  # not in the feature list
    with pytest.raises(ValueError, match="command group demo is registered twice"):
        build_registry((demo_commands.FEATURE, demo_commands.FEATURE))


def test_a_shortcut_is_found_by_its_words_and_named_by_its_label():
    installed = build_registry()
    shortcut = installed.find_shortcut(["U0ADA12345", "++"])
    assert shortcut is not None and shortcut.label == "karma ++"
    assert installed.find_shortcut(["U0ADA12345", "+"]) is None
    assert installed.find_shortcut(["karma", "++"]) is None


@pytest.fixture
def demo_context(memory_context: Services) -> Services:
    """The services of an app built with the demo feature after the others."""
    with_demo = Commands(build_registry((*FEATURES, demo_commands.FEATURE)))
    return dataclasses.replace(memory_context, commands=with_demo)


def test_a_registered_group_is_dispatched_and_listed(demo_context):
    context = demo_context
    assert run(context, "demo echo hi", user="U0CALLER01")["text"] == "U0CALLER01: hi"
    assert "/rocket demo echo word" in run(context, "help")["text"]
    assert "the following arguments are required: word" in run(context, "demo echo")["text"]
    with pytest.raises(ValueError, match="command group demo is registered twice"):
        build_registry((*FEATURES, demo_commands.FEATURE, demo_commands.FEATURE))


def test_an_unregistered_group_is_unknown(memory_context):
    assert "I don't know the command `demo`" in run(memory_context, "demo echo hi")["text"]
    assert "/rocket demo" not in run(memory_context, "help")["text"]


def test_a_registered_group_is_in_the_docs_command_reference():
    from app.slack.commands.help import markdown_reference

    reference = markdown_reference(build_registry((*FEATURES, demo_commands.FEATURE)))
    assert "### `/rocket demo`: a demo group" in reference
    assert "`/rocket demo echo word` — say it back" in reference
    assert "- `word`\n" in reference  # an argument without help: its name alone
