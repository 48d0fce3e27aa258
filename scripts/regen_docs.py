"""Rewrite the generated blocks of the docs from the code; ``--check`` only reports stale ones.

Each block sits between ``<!-- NAME:start … -->`` and ``<!-- NAME:end -->`` in its page:
the config reference (config.docs), the members' commands (the command registry) and the
architecture's layer diagram (import-linter's layers in pyproject.toml).
"""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def config_reference() -> str:
    """The table of every setting."""
    from config.docs import markdown_reference

    return markdown_reference()


def commands_reference() -> str:
    """Every `/rocket` command, as the registry built from the feature list holds it."""
    from app.features import build_registry
    from app.slack.commands.help import markdown_reference

    return markdown_reference(build_registry())


def layers_diagram() -> str:
    """A mermaid flowchart of the layers contract: each layer imports only those below it."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    contract = next(
        c for c in project["tool"]["importlinter"]["contracts"] if c["type"] == "layers"
    )
    lines = ["```mermaid", "flowchart TD"]
    for index, layer in enumerate(contract["layers"]):
        modules = " · ".join(f"app.{name.strip()}" for name in layer.split("|"))
        lines.append(f'    L{index}["{modules}"]')
    lines.append('    config["config (imports nothing of app)"]')
    count = len(contract["layers"])
    lines.extend(f"    L{i} --> L{i + 1}" for i in range(count - 1))
    lines.append(f"    L{count - 1} --> config")
    lines.append("```")
    return "\n".join(lines) + "\n"


BLOCKS: dict[str, tuple[str, Callable[[], str]]] = {
    "config-reference": ("docs/operators/configuration.md", config_reference),
    "commands-reference": ("docs/members/commands.md", commands_reference),
    "layers-diagram": ("docs/developers/architecture.md", layers_diagram),
}


def replace_block(text: str, name: str, body: str) -> str:
    """``text`` with the block called ``name`` holding ``body``; ValueError if it has none."""
    start, end = f"<!-- {name}:start", f"<!-- {name}:end -->"
    if start not in text or end not in text:
        raise ValueError(f"no {name} block")
    head, rest = text.split(start, 1)
    marker, rest = rest.split("-->", 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}{marker}-->\n{body}{end}{tail}"


def main(argv: list[str]) -> int:
    """Rewrite every block (or, with --check, list the stale ones); exit 1 if any is stale."""
    check = "--check" in argv
    stale = []
    for name, (page, make) in BLOCKS.items():
        path = REPO / page
        text = path.read_text(encoding="utf-8")
        updated = replace_block(text, name, make())
        if updated != text:
            stale.append(f"{page}: {name}")
            if not check:
                path.write_text(updated, encoding="utf-8")
    if check and stale:
        print("stale (run scripts/regen-docs.sh):", *stale, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    raise SystemExit(main(sys.argv[1:]))
