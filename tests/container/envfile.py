"""A ``.env`` written the ways operators write it, for ``docker run --env-file`` and compose."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def operator_env_file(path: Path, env: Mapping[str, str]) -> Path:
    """Write ``env`` as an operator would: values in double or single quotes or bare, and
    GITHUB_KEY on one line with its newlines written as ``\\n`` inside double quotes.

    ``docker run --env-file`` keeps the quotes literally; the config loader must cope.
    """
    lines = ["# Rocket 2 settings (written by the container tests)"]
    for index, (name, value) in enumerate(sorted(env.items())):
        if name == "GITHUB_KEY":
            escaped = value.strip().replace("\n", "\\n")
            lines.append(f'{name}="{escaped}"')
        elif value.isdigit():
            lines.append(f"{name}={value}")
        elif index % 2:
            lines.append(f"{name}='{value}'")
        else:
            lines.append(f'{name}="{value}"')
    path.write_text("\n".join(lines) + "\n")
    return path
