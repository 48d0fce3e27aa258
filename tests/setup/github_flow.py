"""Drive `rocket2 setup github` as an operator's browser would, by plain HTTP: open the
loopback page, post its form to the GitHub stand-in, confirm, follow the redirect back."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urljoin

import httpx

from tests.support.gunicorn import wait_until


def start_setup(
    directory: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], str]:
    """Start `rocket2 setup github ARGS --no-browser`; the process and its page's URL."""
    import os

    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "setup", "github", *args, "--no-browser"],
        cwd=directory,
        env={**base, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    found = re.search(r"Open (http://127\.0\.0\.1:\d+/) ", first)
    assert found, (first, proc.stderr.read() if proc.poll() is not None else "")
    return proc, found.group(1)


def _form(page: str) -> tuple[str, dict[str, str]]:
    action = html.unescape(re.search(r"<form[^>]*action='([^']*)'", page).group(1))  # type: ignore[union-attr]
    fields = {
        name: html.unescape(value)
        for name, value in re.findall(r"<input type='hidden' name='(\w+)' value='([^']*)'", page)
    }
    return action, fields


def post_the_manifest(page_url: str) -> httpx.Response:
    """The loopback page's form, posted to GitHub's form URL; GitHub's confirmation page."""
    page = httpx.get(page_url, timeout=10)
    assert page.status_code == 200
    action, fields = _form(page.text)
    return httpx.post(action, data=fields, timeout=10)


def confirm(confirmation: httpx.Response) -> str:
    """Click "Create GitHub App"; the redirect back to the loopback page (not yet followed)."""
    assert confirmation.status_code == 200, confirmation.text
    action, fields = _form(confirmation.text)
    created = httpx.post(urljoin(str(confirmation.url), action), data=fields, timeout=10)
    assert created.status_code == 302, created.text
    return created.headers["Location"]


def finish(proc: subprocess.Popen[str], timeout: float = 30) -> tuple[int, str, str]:
    """Wait for the command; its exit status and its whole output."""
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def install(html_url: str) -> None:
    """Install the App on the organisation, as its owner clicks "Install"."""
    installed = httpx.post(html_url + "/installations/new", timeout=10)
    assert installed.status_code == 200, installed.text
    wait_until(lambda: True)
