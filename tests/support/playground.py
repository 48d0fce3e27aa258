"""`make run`'s playground for the dev-mode tests: scripts/dev_run.sh in a fresh directory
(its throwaway .env, the stand-ins and the real Gunicorn), on free ports, and the `rocket2`
command run there as a developer would. The stand-ins record every exchange; when the
playground stops, each is held to the services' descriptions (contract.check_recorded).

    playground = tests.support.playground.playground   # one per test module

    def test_x(playground):
        assert "Rocket 2 commands" in playground.dev("send", "/rocket help").stdout
"""

from __future__ import annotations

import html
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from tests.support import contract
from tests.support.gunicorn import REPO, free_port, server_env, wait_until

SCRIPT = REPO / "scripts" / "dev_run.sh"


@dataclass
class Playground:
    """A running `make run`: Rocket 2 on ``port``, the stand-ins on ``standins_port``."""

    directory: Path
    port: int
    standins_port: int
    proc: subprocess.Popen[bytes]
    log: Path
    exchanges: Path  # what the stand-ins recorded, checked against the descriptions at the stop

    @property
    def env(self) -> dict[str, str]:
        """The environment of the developer's shell."""
        return server_env({}, self.port, PYTHON=sys.executable)

    @property
    def standins_url(self) -> str:
        """The page and the stand-ins."""
        return f"http://127.0.0.1:{self.standins_port}"

    def rocket2(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run `rocket2 ARGS` in the playground's directory."""
        return subprocess.run(
            [sys.executable, "-m", "app.cli", *args],
            cwd=self.directory,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def dev(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run `rocket2 dev ARGS`."""
        return self.rocket2("dev", *args)

    def send(self, text: str, who: str = "you") -> str:
        """`rocket2 dev send TEXT --as WHO`, which must succeed; its output."""
        done = self.dev("send", text, "--as", who)
        assert done.returncode == 0, (done.stdout, done.stderr)
        return done.stdout

    def link(self, login: str, who: str = "you") -> str:
        """`/rocket user link` as ``who``, then what a browser does: open the link, pick
        ``login`` on the GitHub stand-in's authorize page, come back to PUBLIC_URL and press
        the confirmation page's button. Returns the final page's text."""
        return self.follow_link(self.send("/rocket user link", who), login)

    def follow_link(self, reply: str, login: str) -> str:
        """What a browser does with a `user link` reply: open the link, pick ``login`` on the
        authorize page, come back to PUBLIC_URL, confirm. Returns the final page's text."""
        found = re.search(r"https?://\S+/login/oauth/authorize\?[^\s)>|]+", reply)
        assert found, reply
        authorize = html.unescape(found.group(0))
        assert httpx.get(authorize, timeout=5).status_code == 200  # the page to pick on
        form = {**dict(parse_qsl(urlsplit(authorize).query)), "login": login, "choice": "approve"}
        back = httpx.post(authorize.split("?")[0], data=form, timeout=5)
        assert back.status_code == 302, back.text
        page = httpx.get(back.headers["Location"], timeout=10)
        confirmation = re.search(r'name="confirmation" value="([^"]+)"', page.text)
        if confirmation is None:
            return page.text
        typed = re.search(r'<code id="to-type">([^<]*)</code>', page.text)  # the username
        done = httpx.post(
            f"http://127.0.0.1:{self.port}/github/link",
            data={
                "confirmation": html.unescape(confirmation.group(1)),
                "typed": html.unescape(typed.group(1)) if typed else "",
            },
            timeout=10,
        )
        return done.text

    def state(self) -> dict[str, Any]:
        """The stand-ins' state, as the page reads it."""
        answer = httpx.get(self.standins_url + "/dev/api/state", timeout=5)
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result

    def output(self) -> str:
        """What `make run` printed so far."""
        return self.log.read_text(errors="replace")


def start_playground(directory: Path, ports: tuple[int, int] | None = None) -> Playground:
    """Run scripts/dev_run.sh in ``directory`` and wait until Rocket 2 and the stand-ins answer
    (``ports``: Rocket 2's and the stand-ins', free ones by default; an existing .env keeps
    the stand-ins' port it names)."""
    port, standins_port = ports or (free_port(), free_port())
    log = directory / "run.log"
    exchanges = directory / f"exchanges-{len(list(directory.glob('exchanges-*.jsonl')))}.jsonl"
    env = server_env(
        {},
        port,
        PYTHON=sys.executable,
        DEV_STANDINS_PORT=str(standins_port),
        DEV_STANDINS_RECORD=str(exchanges),
    )
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["bash", str(SCRIPT)],
            cwd=directory,
            env=env,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    playground = Playground(directory, port, standins_port, proc, log, exchanges)

    def up() -> bool:
        assert proc.poll() is None, playground.output()
        try:
            rocket = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            page = httpx.get(playground.standins_url + "/", timeout=1)
        except httpx.HTTPError:
            return False
        return rocket.status_code == 200 and page.status_code == 200

    try:
        wait_until(up, timeout=60, what="make run's server and stand-ins")
        wait_until(lambda: "bot user is" in playground.output(), what="the worker's auth.test")
    except BaseException:
        stop_playground(playground, check=False)  # never leave a half-started one behind
        raise
    return playground


def stop_playground(playground: Playground, check: bool = True) -> int:
    """TERM the script (it stops both children); its exit status. Then (``check``) every
    exchange the stand-ins recorded is held to Slack's and GitHub's descriptions: a violation
    fails."""
    if playground.proc.poll() is None:
        os.kill(playground.proc.pid, signal.SIGTERM)
        try:
            playground.proc.wait(40)
        except subprocess.TimeoutExpired:
            os.killpg(playground.proc.pid, signal.SIGKILL)
            playground.proc.wait()
    if check:
        check_exchanges(playground.exchanges)
    return int(playground.proc.returncode)


def check_exchanges(recorded: Path) -> None:
    """Hold every exchange the stand-ins recorded in ``recorded`` (if any) to Slack's and
    GitHub's descriptions; fail on any violation, naming the exchange and the rule."""
    assert recorded.exists(), f"the stand-ins recorded nothing in {recorded}"
    broken = contract.check_recorded(recorded)
    assert not broken, (
        f"{len(broken)} contract violation(s) in the stand-ins' exchanges ({recorded}):\n"
        + "\n".join(dict.fromkeys(broken))
    )


@pytest.fixture(scope="module")
def playground(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Playground]:
    """One `make run` for the test module."""
    running = start_playground(tmp_path_factory.mktemp("playground"))
    try:
        yield running
    finally:
        stop_playground(running)
