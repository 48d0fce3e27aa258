"""One Python version and one lock for every deploy: what the files say, and that uv.lock is
current with pyproject.toml (checked by uv itself, against PyPI)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from tests.support import dockerfile as df
from tests.support.gunicorn import REPO

UV = str(Path(sys.executable).parent / "uv")


def pyproject() -> dict[str, Any]:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def lock() -> dict[str, Any]:
    return tomllib.loads((REPO / "uv.lock").read_text())


def uv(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """uv from the dev extras, as `make` runs it (no interpreter downloads, the system's CAs),
    on this test's Python."""
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_SYSTEM_CERTS": "1", "NO_COLOR": "1"}
    return subprocess.run(
        [UV, *args, "--python", sys.executable],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_every_deploy_names_the_same_python() -> None:
    version = (REPO / ".python-version").read_text().strip()
    assert re.fullmatch(r"3\.\d+", version), "a major.minor, so Heroku takes its patch releases"
    args, stages = df.stages((REPO / "Dockerfile").read_text())
    assert args["PYTHON_VERSION"] == version
    assert {s.base for s in stages} == {f"python:{version}-slim"}
    workflow = YAML(typ="safe").load((REPO / ".github/workflows/pythonpackage.yml").read_text())
    (job,) = workflow["jobs"].values()
    assert job["strategy"]["matrix"]["python-version"] == [version]
    project = pyproject()
    assert project["project"]["requires-python"] == f">={version}"
    assert project["tool"]["mypy"]["python_version"] == version
    assert lock()["requires-python"] == f">={version}"


def test_the_lock_is_current_with_pyproject() -> None:
    result = uv("lock", "--check")
    assert result.returncode == 0, f"uv.lock is out of date: run `make lock`\n{result.stderr}"


def test_a_changed_pyproject_makes_the_lock_check_fail(tmp_path: Path) -> None:
    for name in ("pyproject.toml", "uv.lock", ".python-version"):
        shutil.copy(REPO / name, tmp_path / name)
    text = (tmp_path / "pyproject.toml").read_text()
    (tmp_path / "pyproject.toml").write_text(text.replace('"flask>=3.0"', '"flask>=3.0,<3.1"'))
    result = uv("lock", "--check", cwd=tmp_path)
    assert result.returncode != 0
    assert "needs to be updated" in result.stderr


def test_the_lock_pins_every_package_with_hashes_for_both_architectures() -> None:
    packages = [p for p in lock()["package"] if p["name"] != "rocket2"]
    assert len(packages) > 20
    for package in packages:
        files = package.get("wheels", []) + ([package["sdist"]] if "sdist" in package else [])
        assert files, package["name"]
        assert all(f["hash"].startswith("sha256:") for f in files), package["name"]
    psycopg_binary = next(p for p in packages if p["name"] == "psycopg-binary")
    wheels = " ".join(w["url"] for w in psycopg_binary["wheels"])
    version = (REPO / ".python-version").read_text().strip().replace(".", "")
    for arch in ("x86_64", "aarch64"):
        assert re.search(rf"cp{version}-cp{version}-manylinux\S*{arch}", wheels), arch


def test_every_install_uses_the_lock() -> None:
    locked_uv = next(p["version"] for p in lock()["package"] if p["name"] == "uv")
    # The image: uv at the locked version, `uv sync --locked`, then the ready venv copied.
    _, stages = df.stages((REPO / "Dockerfile").read_text())
    build, final = stages
    assert f"UV_VERSION={locked_uv}" in [i.args for i in build.all("ARG")]
    syncs = [i.args for i in build.all("RUN") if i.args.startswith("uv sync")]
    assert syncs and all("--locked" in s and "--no-dev" in s for s in syncs)
    assert not final.all("RUN") or not any("pip" in i.args for i in final.all("RUN"))
    assert any(i.args.startswith("--from=build /opt/rocket2 ") for i in final.all("COPY"))
    assert "uv.lock" in " ".join(i.args for i in build.all("COPY"))
    # Heroku: the buildpack installs from uv.lock when it is the only package-manager file.
    for other in ("requirements.txt", "Pipfile.lock", "poetry.lock", "Pipfile"):
        assert not (REPO / other).exists(), f"{other} would compete with uv.lock on Heroku"
    # make install (CI and developers): uv at the locked version, `uv sync --locked`.
    makefile = (REPO / "Makefile").read_text()
    assert 'pip install --quiet "uv==$(UV_VERSION)"' in makefile
    assert re.search(r"uv sync .*--locked .*--extra dev", makefile)
    testing = (REPO / "docs" / "developers" / "testing.md").read_text()
    assert "make lock" in testing and "uv.lock" in testing
