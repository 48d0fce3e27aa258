"""A stand-in's state: one JSON document under ``data/dev/``, written after every change."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

DEFAULT_DIR = Path("data") / "dev"


class JsonState:
    """A dict kept in ``path`` (atomically replaced on save). ``lock`` guards every change."""

    def __init__(self, path: Path, seed: Callable[[], dict[str, Any]]) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.data: dict[str, Any] = self._load() or seed()
        self.save()

    def _load(self) -> dict[str, Any] | None:
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return loaded if isinstance(loaded, dict) else None

    def save(self) -> None:
        """Write the document (to a temporary file first, then renamed over the old one)."""
        with self.lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(json.dumps(self.data, indent=1, sort_keys=True), "utf-8")
            os.replace(temporary, self.path)


class MemoryState:
    """A dict kept in memory only (a test's stand-in): the same ``data``, ``lock``, ``save``."""

    def __init__(self, seed: Callable[[], dict[str, Any]]) -> None:
        self.lock = threading.RLock()
        self.data: dict[str, Any] = seed()

    def save(self) -> None:
        """Nothing to write."""
