"""Each deployment artifact passes its field's own linter (installed as Python packages)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.gunicorn import REPO


def tool(name: str) -> str:
    """A linter installed by the dev extras: next to this Python first, then on PATH."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is missing; install the dev extras: pip install -e '.[dev]'")
    return found


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    """Run a linter in the repository; capture its output."""
    return subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)


def test_hadolint_reports_nothing_on_the_dockerfile() -> None:
    result = run(tool("hadolint"), "--no-color", "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_shellcheck_reports_nothing_on_the_scripts() -> None:
    scripts = sorted(str(p.relative_to(REPO)) for p in (REPO / "scripts").glob("*.sh"))
    assert "scripts/setup_deploy.sh" in scripts
    result = run(tool("shellcheck"), "--shell=bash", *scripts, ".ci/run")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("schema", "files"),
    [
        ("vendor.compose-spec", ["docker-compose.yml"]),
        (
            "vendor.github-workflows",
            [
                ".github/workflows/pythonpackage.yml",
                ".github/workflows/publish.yml",
                ".github/workflows/deploy.yml",
            ],
        ),
    ],
)
def test_files_are_valid_against_their_schema(schema: str, files: list[str]) -> None:
    result = run(tool("check-jsonschema"), "--builtin-schema", schema, *files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "validation done" in result.stdout


def test_actionlint_reports_nothing_on_the_workflows() -> None:
    # actionlint runs shellcheck over each `run:` script too (the dev extras' shellcheck), and
    # reports an action whose pinned major runs on a runtime GitHub removed (node20).
    workflows = sorted(str(p.relative_to(REPO)) for p in (REPO / ".github/workflows").glob("*.yml"))
    assert len(workflows) == 4  # deploy, docs (Pages), publish, pythonpackage
    result = run(tool("actionlint"), "-shellcheck", tool("shellcheck"), *workflows)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_actionlint_reports_a_node20_action(tmp_path: Path) -> None:
    """The check that keeps the workflows current: an old major is a finding."""
    workflow = tmp_path / "old.yml"
    workflow.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n"
        "    steps:\n      - uses: actions/checkout@v4\n"
    )
    result = run(tool("actionlint"), str(workflow))
    assert result.returncode == 1
    assert "node20" in result.stdout


def test_make_lint_runs_actionlint_on_every_workflow() -> None:
    makefile = (REPO / "Makefile").read_text()
    lint = makefile[makefile.index("\nlint:") :].split("\n\n")[0]
    assert 'actionlint -shellcheck "$$(command -v shellcheck)" .github/workflows/*.yml' in lint


def test_gixy_reports_nothing_on_nginx_conf() -> None:
    result = run(tool("gixy"), "nginx.conf")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No issues found" in result.stdout
