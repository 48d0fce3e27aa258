"""The interpreter the measured servers run on: the production image's packages.

The development venv also holds the dev tools' packages, and two libraries Rocket 2 uses load
optional ones when they are installed: httpx its command line (rich, pygments, click) and
httpcore trio (through selenium). The production image (``uv sync --no-dev``) has none of
them, so measuring Rocket 2's memory in the development venv would count about 7 MiB that no
deployment loads. ``server_python`` builds a venv from uv.lock without the dev extras, plus the
one package the peer needs (slack-bolt, at the version the development venv has), its bytecode
compiled as the image compiles it, and all three kinds run there.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

from tests.support.gunicorn import REPO

UV = Path(sys.executable).parent / "uv"
_built: dict[Path, Path] = {}


def _uv(*args: str) -> None:
    subprocess.run(
        [str(UV), *args, "--quiet"], cwd=REPO, check=True, capture_output=True, timeout=600
    )


def server_python(workdir: Path) -> Path:
    """The python of a production-like venv under ``workdir`` (built once per workdir)."""
    if workdir in _built:
        return _built[workdir]
    venv = workdir / "server-venv"
    requirements = workdir / "server-requirements.txt"
    _uv(
        "export",
        "--frozen",
        "--no-dev",
        "--no-emit-project",
        "--no-hashes",
        "-o",
        str(requirements),
    )
    _uv("venv", "--python", sys.executable, str(venv))
    python = venv / "bin" / "python"
    bolt = f"slack-bolt=={importlib.metadata.version('slack-bolt')}"
    _uv(
        "pip",
        "install",
        "--compile-bytecode",
        "--python",
        str(python),
        "-r",
        str(requirements),
        bolt,
    )
    _built[workdir] = python
    return python
