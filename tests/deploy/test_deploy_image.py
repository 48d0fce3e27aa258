"""What the image runs, without Docker: the Dockerfile's own uv commands, CMD and HEALTHCHECK.

The build stage's ``uv sync`` RUN lines, with its ENV, make the virtualenv from uv.lock (only
``/opt/rocket2`` is moved into a temporary directory, the base image's Python is this one, and
uv is the dev extras' copy of the same locked version, with its cache), from a build context
holding only what the Dockerfile COPYs minus .dockerignore. The final stage copies that one
directory. Then the Dockerfile's CMD starts in a copy of its WORKDIR with an environment written
the way ``docker run --env-file`` delivers it (quotes kept literally), and the HEALTHCHECK's own
command must turn healthy. The real ``docker build`` and ``docker run`` are issue 6's container
suite.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support import dockerfile as df
from tests.support.gunicorn import REPO, free_port, wait_until

VENV = "/opt/rocket2"
BASE_PYTHON = "/usr/local/bin/python3"


@dataclass
class Image:
    """The image's filesystem, emulated: the locked virtualenv and its WORKDIR."""

    venv: Path
    workdir: Path
    env: dict[str, str]  # the image's ENV plus PATH and HOME
    cmd: list[str]
    healthcheck: list[str]
    health_options: dict[str, str]


def _run(command: str, cwd: Path, stage_env: dict[str, str], venv: Path) -> None:
    """Run one of the Dockerfile's RUN lines with the stage's ENV, uv from the dev extras."""
    script = command.replace(BASE_PYTHON, sys.executable)
    env = {
        **os.environ,
        **stage_env,
        "UV_PROJECT_ENVIRONMENT": str(venv),
        "UV_SYSTEM_CERTS": "1",  # as make does: this machine's CA store
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    env.pop("UV_NO_CACHE")  # the image keeps no cache; here the warm one saves the downloads
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    result = subprocess.run(
        ["/bin/sh", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"{script}\n{result.stdout}\n{result.stderr}"


def _copy_context(stage: df.Stage, dest: Path, ignore: str) -> None:
    """Copy what the stage COPYs from the build context, minus what .dockerignore leaves out."""
    for sources, target in df.copy_sources(stage):
        for source in sources:
            src = REPO / source
            files = [src] if src.is_file() else sorted(p for p in src.rglob("*") if p.is_file())
            for path in files:
                rel = path.relative_to(REPO).as_posix()
                if df.dockerignored(ignore, rel):
                    continue
                if src.is_dir():
                    out = dest / target / path.relative_to(src)
                elif target.endswith("/"):
                    out = dest / target / path.name
                else:
                    out = dest / target
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, out)


def _uv_runs(stage: df.Stage) -> list[str]:
    runs = [i.args for i in stage.all("RUN") if i.args.startswith("uv ")]
    assert runs, f"stage {stage.name} has no uv RUN line"
    return runs


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Image:
    """Sync the virtualenv and lay out the final stage exactly as the Dockerfile does."""
    root = tmp_path_factory.mktemp("image")
    _, (build, final) = df.stages((REPO / "Dockerfile").read_text())
    ignore = (REPO / ".dockerignore").read_text()
    build_env = df.env_of(build)
    assert build_env["UV_PROJECT_ENVIRONMENT"] == VENV

    context = root / "build" / build.last("WORKDIR").args.lstrip("/")
    context.mkdir(parents=True)
    _copy_context(build, context, ignore)
    venv = root / VENV.lstrip("/")
    for command in _uv_runs(build):
        _run(command, context, build_env, venv)
    # The final stage takes that directory whole, and installs nothing itself.
    copies = [i.args for i in final.all("COPY") if "--from=build" in i.args]
    assert copies == [f"--from=build {VENV} {VENV}"]
    assert not any(i.args.startswith(("pip ", "uv ")) for i in final.all("RUN"))

    home = root / "home" / "rocket2"
    home.mkdir(parents=True)
    workdir = root / final.last("WORKDIR").args.lstrip("/")
    workdir.mkdir(parents=True)
    _copy_context(final, workdir, ignore)
    assert any("mkdir -m 0700 data" in i.args for i in final.all("RUN"))
    (workdir / "data").mkdir(mode=0o700)

    options, check = df.healthcheck(final)
    env = {
        **df.env_of(final),
        "PATH": f"{venv}/bin:/usr/local/bin:/usr/bin:/bin",
        "VIRTUAL_ENV": str(venv),
        "HOME": str(home),
    }
    assert df.env_of(final)["PATH"].startswith(f"{VENV}/bin:")
    return Image(
        venv=venv,
        workdir=workdir,
        env=env,
        cmd=df.exec_form(final.last("CMD").args),
        healthcheck=check,
        health_options=options,
    )


def _seconds(value: str) -> float:
    return float(value.removesuffix("s"))


def env_file_text(key_pem_path: Path, venv: Path, port: int) -> str:
    """A .env as operators write it: comments, quoted values, GITHUB_KEY from encode-key."""
    encoded = subprocess.run(
        [
            str(venv / "bin" / "rocket2"),
            "config",
            "encode-key",
            str(key_pem_path),
            "--for",
            "dotenv",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert encoded.startswith('GITHUB_KEY="-----BEGIN') and "\n" not in encoded
    return "\n".join(
        [
            "# Rocket 2 production settings",
            "",
            'SLACK_SIGNING_SECRET="test-signing-secret-0a1b2c3d4e5f"',
            "SLACK_API_TOKEN='xoxb-1111-2222-testtokenvalue'",
            "GITHUB_APP_ID=4242",
            'GITHUB_ORG_NAME="rocket-club"',
            "  GITHUB_WEBHOOK_SECRET=test-webhook-secret-9z8y7x6w",
            encoded,
            f'PORT="{port}"',
            "SLACK_API_URL=http://127.0.0.1:9/",
            "GITHUB_API_URL=http://127.0.0.1:9",
            "",
        ]
    )


@pytest.fixture
def container_env(image: Image, key_pem: str, tmp_path: Path) -> dict[str, str]:
    """The environment a container of the image gets from ``docker run --env-file .env``."""
    key = tmp_path / "github-app.pem"
    key.write_text(key_pem)
    port = free_port()
    env_file = tmp_path / ".env"
    env_file.write_text(env_file_text(key, image.venv, port))
    delivered = df.read_env_file(env_file.read_text())
    assert delivered["SLACK_SIGNING_SECRET"].startswith('"')  # docker keeps quotes literally
    assert delivered["PORT"] == f'"{port}"'
    return {**image.env, **delivered, "HOSTNAME": "rocket2-test"}


def _healthcheck(image: Image, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    argv = [shutil.which(image.healthcheck[0], path=env["PATH"]) or "", *image.healthcheck[1:]]
    return subprocess.run(
        argv,
        cwd=image.workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=_seconds(image.health_options["timeout"]) + 5,
        check=False,
    )


@pytest.fixture
def running(image: Image, container_env: dict[str, str], tmp_path: Path) -> Iterator[object]:
    """The image's CMD, started as Docker would start it."""
    argv = [shutil.which(image.cmd[0], path=container_env["PATH"]) or "", *image.cmd[1:]]
    assert argv[0].startswith(str(image.venv)), argv
    log = tmp_path / "container.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            argv, cwd=image.workdir, env=container_env, stdout=out, stderr=subprocess.STDOUT
        )
        proc.log = log  # type: ignore[attr-defined]
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(40)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def test_healthcheck_fails_while_nothing_serves(image: Image, container_env) -> None:
    result = _healthcheck(image, container_env)
    assert result.returncode == 1, result  # Docker counts 1 as unhealthy (2 is reserved)


def test_cmd_serves_and_turns_healthy_by_its_own_healthcheck(
    image: Image, container_env, running
) -> None:
    # Docker gives the container start-period seconds before failures count; so do we.
    deadline = _seconds(image.health_options["start-period"])

    def healthy() -> bool:
        if running.poll() is not None:
            raise AssertionError(f"CMD exited {running.returncode}:\n{running.log.read_text()}")
        # A proxy in the container's environment must not catch the loopback check.
        proxied = {
            **container_env,
            "http_proxy": "http://127.0.0.1:9",
            "HTTP_PROXY": "http://127.0.0.1:9",
        }
        return _healthcheck(image, proxied).returncode == 0

    wait_until(healthy, timeout=deadline, interval=0.5, what="the HEALTHCHECK to pass")
    port = container_env["PORT"].strip('"')
    response = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
    assert response.status_code == 200
    assert response.text == "🚀"

    running.send_signal(signal.SIGTERM)  # what `docker stop` sends
    assert running.wait(40) == 0
    output = running.log.read_text()
    for secret in ("test-signing-secret-0a1b2c3d4e5f", "xoxb-1111-2222-testtokenvalue"):
        assert secret not in output


def test_config_check_in_the_image_accepts_the_env_file(image: Image, container_env) -> None:
    """`docker run --env-file .env IMAGE rocket2 config check`, as docs/operators suggest."""
    result = subprocess.run(
        [str(image.venv / "bin" / "rocket2"), "config", "check"],
        cwd=image.workdir,
        env=container_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "GITHUB_KEY fingerprint SHA256:" in result.stdout
    assert "test-signing-secret" not in result.stdout + result.stderr


def test_the_installed_image_holds_no_tests_or_secrets(image: Image) -> None:
    # data/ is the volume: the server migrates its database there when it starts.
    files = [p.relative_to(image.workdir).as_posix() for p in image.workdir.rglob("*")]
    assert sorted(f for f in files if not f.startswith("data/")) == ["data", "gunicorn.conf.py"]
    site = next((image.venv / "lib").glob("python*/site-packages"))
    assert (site / "app" / "wsgi.py").exists()
    assert (site / "config" / "loader.py").exists()
    assert not (site / "tests").exists()
    assert not (site / "app" / "dev").exists()  # the playground stays in the checkout (0036)
    ours = [p for package in ("app", "config") for p in (site / package).rglob("*")]
    assert not [p for p in ours if p.suffix in (".pem", ".key") or p.name.startswith(".env")]


def test_rocket2_dev_in_the_image_says_where_the_playground_is(
    image: Image, container_env
) -> None:
    """Without app/dev, `rocket2 dev` and `dev-env` are one line and exit 2, and --help marks
    them."""
    rocket2 = str(image.venv / "bin" / "rocket2")
    run = {"cwd": image.workdir, "env": container_env, "capture_output": True, "text": True}
    dev = subprocess.run([rocket2, "dev", "send", "/rocket help"], **run, timeout=60, check=False)
    assert dev.returncode == 2, dev.stdout + dev.stderr
    assert len(dev.stderr.splitlines()) == 1 and "checkout of the repository" in dev.stderr
    env_file = subprocess.run([rocket2, "dev-env"], **run, timeout=60, check=False)
    assert env_file.returncode == 2 and "checkout of the repository" in env_file.stderr
    assert not (image.workdir / ".env").exists()
    listed = " ".join(subprocess.run([rocket2, "--help"], **run, timeout=60, check=True).stdout.split())
    assert "(not installed) try Rocket 2 locally" in listed
    assert "(not installed) write a throwaway local-development .env" in listed


def test_db_upgrade_in_the_image_creates_the_sqlite_file_in_data(
    image: Image, container_env
) -> None:
    """The migrations ship in the wheel, and the default DATABASE_URL lands in the data volume."""
    rocket2 = str(image.venv / "bin" / "rocket2")
    for command in (["db", "upgrade"], ["db", "check"]):
        result = subprocess.run(
            [rocket2, *command],
            cwd=image.workdir,
            env=container_env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    assert (image.workdir / "data" / "rocket2.db").is_file()
