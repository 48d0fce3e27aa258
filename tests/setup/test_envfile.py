"""The env file writer: 0600, one line a value, existing values kept unless forced, and a
multi-line quoted key replaced whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.setup.envfile import EnvFileRefused, update_env_file
from config import load_settings
from tests.support.keys import pem_pkcs1, rsa_key


def test_values_are_added_kept_or_replaced_only_with_force(tmp_path: Path):
    path = tmp_path / ".env"
    path.write_text("# mine\nGITHUB_ORG_NAME=club\nSLACK_TEAM_ID=\n")
    path.chmod(0o644)
    written = update_env_file(path, {"GITHUB_ORG_NAME": "club", "SLACK_TEAM_ID": "T1"})
    assert (written.added, written.unchanged) == (("SLACK_TEAM_ID",), ("GITHUB_ORG_NAME",))
    assert path.read_text() == "# mine\nGITHUB_ORG_NAME=club\nSLACK_TEAM_ID=T1\n"
    assert path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(EnvFileRefused, match="already sets GITHUB_ORG_NAME"):
        update_env_file(path, {"GITHUB_ORG_NAME": "other"})
    assert "club" in path.read_text()
    update_env_file(path, {"GITHUB_ORG_NAME": "other"}, force=True)
    assert "GITHUB_ORG_NAME=other" in path.read_text() and "=club" not in path.read_text()


def test_a_multi_line_key_is_replaced_whole(tmp_path: Path):
    path = tmp_path / ".env"
    old, new = pem_pkcs1(rsa_key(seed=1)), pem_pkcs1(rsa_key(2048, seed=2))
    path.write_text(f'A=1\nGITHUB_KEY="{old.strip()}"\nB=2\n')
    update_env_file(path, {"GITHUB_KEY": new}, force=True)
    lines = path.read_text().splitlines()
    assert lines[:2] == ["A=1", "B=2"] and len(lines) == 3
    assert lines[2].startswith('GITHUB_KEY="-----BEGIN RSA PRIVATE KEY-----\\n')
    loaded = load_settings(("GITHUB_KEY",), environ={}, env_file=path)["GITHUB_KEY"]
    assert loaded.pem.strip() == new.strip()
