"""Write values into the operator's env file (.env): mode 0600, one line per variable in the
form every runner reads (GITHUB_KEY quoted on one line), an existing value kept unless forced."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from config import encode_key, read_env_file

PRIVATE = 0o600
_PLAIN = re.compile(r"^[A-Za-z0-9_./:@+,=-]*$")
_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")


class EnvFileRefused(Exception):
    """The file already sets some of the values differently, and --force was not given."""

    def __init__(self, path: Path, names: list[str]) -> None:
        super().__init__(
            f"{path} already sets {', '.join(names)}; nothing was written. Rerun with --force "
            "to replace them (keep a copy of the file first)"
        )
        self.names = names


@dataclass(frozen=True)
class Written:
    """What a write did: the names added, the names replaced, the names already equal."""

    added: tuple[str, ...]
    replaced: tuple[str, ...]
    unchanged: tuple[str, ...]


def existing_values(path: Path) -> dict[str, str]:
    """The values the file sets (empty when it does not exist)."""
    if not path.is_file():
        return {}
    return {k: v for k, v in read_env_file(path).items() if v}


def line(name: str, value: str) -> str:
    """``NAME=value`` as a .env line every runner reads the same way."""
    if name == "GITHUB_KEY":
        return encode_key(value, "dotenv")
    if _PLAIN.match(value):
        return f"{name}={value}"
    if "'" not in value and "\n" not in value:
        return f"{name}='{value}'"
    raise ValueError(f"{name}: the value cannot be written on one .env line")


def update_env_file(path: Path, values: Mapping[str, str], force: bool = False) -> Written:
    """Set ``values`` in the env file at ``path`` (created 0600; kept 0600).

    A variable the file already sets to another value is replaced only with ``force``; else
    EnvFileRefused, and the file is untouched.
    """
    current = existing_values(path)
    changed = [n for n, v in values.items() if n in current and current[n].strip() != v.strip()]
    if changed and not force:
        raise EnvFileRefused(path, changed)
    added = [n for n in values if n not in current]
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    rewritten = set(added) | set(changed)
    out = _without(lines, rewritten)
    out += [line(name, values[name]) for name in values if name in rewritten]
    _write_private(path, "\n".join(out) + "\n")
    unchanged = [n for n in values if n not in rewritten]
    return Written(tuple(added), tuple(changed), tuple(unchanged))


def _without(lines: list[str], names: set[str]) -> list[str]:
    """``lines`` without the assignments of ``names``, a quoted value's further lines too."""
    kept: list[str] = []
    closing = ""  # the quote that ends the value being dropped, while inside one
    for raw in lines:
        if closing:
            closing = "" if raw.rstrip().endswith(closing) else closing
            continue
        name = _assigned(raw)
        if name not in names:
            kept.append(raw)
            continue
        value = raw.split("=", 1)[1].strip()
        if value[:1] in ("'", '"') and (len(value) == 1 or not value.endswith(value[0])):
            closing = value[0]
    return kept


def _assigned(raw: str) -> str | None:
    match = _ASSIGNMENT.match(raw)
    return match.group(1) if match else None


def _write_private(path: Path, text: str) -> None:
    """Replace ``path`` atomically with ``text``, mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=".env.", dir=path.parent)
    try:
        os.fchmod(fd, PRIVATE)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
