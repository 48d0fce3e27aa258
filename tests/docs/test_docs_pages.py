"""The docs match the code: generated blocks are current, the changelog names the version
pyproject.toml declares, and the files outside the site link only to files that exist."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import pytest

from tests.support.gunicorn import REPO

VERSION_HEADING = re.compile(
    r"^## \[(?P<version>[^\]]+)\](?: - (?P<date>\d{4}-\d{2}-\d{2}))?$", re.M
)
LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")


def test_generated_blocks_match_the_code():
    done = subprocess.run(
        [sys.executable, "scripts/regen_docs.py", "--check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def test_the_changelog_keeps_the_form_and_names_pyprojects_version():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    changelog = (REPO / "CHANGELOG.md").read_text()
    headings = list(VERSION_HEADING.finditer(changelog))
    assert headings[0]["version"] == "Unreleased" and headings[0]["date"] is None
    released = headings[1:]
    assert released and all(h["date"] for h in released)
    assert released[0]["version"] == project["version"]
    dates = [h["date"] for h in released]
    assert dates == sorted(dates, reverse=True)
    for heading in headings:  # each version links to its changes
        assert re.search(rf"^\[{re.escape(heading['version'])}\]: https://", changelog, re.M)


def test_the_readme_is_short_and_points_to_the_site():
    readme = (REPO / "README.md").read_text()
    assert len(readme.encode()) <= 10_240
    assert "make run" in readme and "make test" in readme
    assert "docs/assets/playground.png" in readme and (REPO / "docs/assets/playground.png").exists()
    for page in ("vm.md", "docker-run.md", "heroku.md"):
        assert f"docs/operators/{page}" in readme


@pytest.mark.parametrize("name", ["README.md", "CONTRIBUTING.md", "CHANGELOG.md"])
def test_links_outside_the_site_reach_files_that_exist(name: str):
    for match in LINK.finditer((REPO / name).read_text()):
        target = match["target"].split("#", 1)[0]
        if target and not re.match(r"^[a-z]+:", target):
            assert (REPO / target).exists(), f"{name}: {match['target']}"


def test_decision_0014_names_the_layers_pyproject_holds():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    (layers,) = [
        c["layers"] for c in project["tool"]["importlinter"]["contracts"] if c["type"] == "layers"
    ]
    decision = (REPO / "docs/decisions/0014-the-shape-of-the-tree.md").read_text()
    chain = re.search(r"`(cli > [^`]+)`", decision.replace("\n", " "))
    assert chain is not None
    assert chain[1].split(" > ") == layers
