"""Every runnable example of the docs runs as written: the playground ones against a real
`make run` (scripts/dev_run.sh, Gunicorn and the stand-ins), the others in an empty directory;
the rest say why they cannot run here."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs.examples import KINDS, Block, all_blocks, blocks
from tests.support.keys import pem_pkcs1, rsa_key
from tests.support.playground import Playground, start_playground, stop_playground

BIN = str(Path(sys.executable).parent)


def run_block(block: Block, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``block`` as a bash script (-e, pipefail) in ``cwd``, with .venv/bin first on PATH."""
    env = {**env, "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"}
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block.text],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_every_shell_block_says_where_it_runs():
    found = all_blocks()
    assert len(found) >= 15
    unmarked = [str(b) for b in found if b.kind not in KINDS]
    assert not unmarked, "add <!-- example: playground|empty-dir|not-run (reason) --> above each"
    assert all(b.reason for b in found if b.kind == "not-run")


def test_the_commands_that_run_here_are_run_not_skipped():
    kinds = {b.kind for b in all_blocks()}
    assert {"playground", "empty-dir"} <= kinds
    (walk_through,) = [b for b in blocks("docs/quick-start.md") if b.kind == "playground"]
    assert walk_through.text.count("rocket2 dev send") >= 6


LINK = re.compile(r'"/rocket user link".*#.*\bpick ([\w-]+)')


def run_in_playground(block: Block, playground: Playground) -> str:
    """``block`` run as written; a `/rocket user link` line is run alone, then its browser part
    is done as the line's comment says (open the link, pick the account, Authorize, Confirm)."""
    output, pending = [], []

    def flush() -> None:
        if pending:
            part = Block(block.page, block.line, block.kind, None, "\n".join(pending) + "\n")
            done = run_block(part, playground.directory, playground.env)
            assert done.returncode == 0, (str(block), done.stdout, done.stderr)
            output.append(done.stdout)
            pending.clear()
            return done.stdout
        return ""

    for line in block.text.splitlines():
        pending.append(line)
        link = LINK.search(line)
        if link:
            page = playground.follow_link(flush(), link.group(1))
            assert f"now linked to the GitHub account {link.group(1)}" in page, page
    flush()
    return "".join(output)


def test_the_playground_examples_run_as_written(tmp_path):
    examples = [b for b in all_blocks() if b.kind == "playground"]
    (tmp_path / "app.pem").write_text(pem_pkcs1(rsa_key()))  # the App's key, as GitHub gives it
    playground = start_playground(tmp_path)
    try:
        outputs = {str(block): run_in_playground(block, playground) for block in examples}
    finally:
        stop_playground(playground)
    walk_through = outputs[str(examples[0])]
    assert "Created team Launch Pad on GitHub" in walk_through
    assert "Launch Pad · 2 member(s), 1 lead(s)" in walk_through  # `team list`, the last step


@pytest.mark.parametrize("block", [b for b in all_blocks() if b.kind == "empty-dir"], ids=str)
def test_the_empty_directory_examples_run_as_written(block: Block, tmp_path):
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    done = run_block(block, tmp_path, env)
    assert done.returncode == 0, (done.stdout, done.stderr)
