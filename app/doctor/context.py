"""What the checks share: the config, and each outside answer asked for once (a check that
needs an answer another check could not get says so instead of asking again)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any

from config import Config


class NotChecked(Exception):
    """A check needs an answer that an earlier check could not get."""


class Answer[T]:
    """One outside call, made on first use; its value, or the failure it raised, kept."""

    def __init__(self, call: Callable[[], T]) -> None:
        self._call = call
        self._done = False
        self._value: T | None = None
        self._error: BaseException | None = None

    def get(self) -> T:
        """The value; the call's exception the first time it fails."""
        if not self._done:
            self._done = True
            try:
                self._value = self._call()
            except Exception as exc:
                self._error = exc
                raise
        if self._error is not None:
            raise NotChecked(type(self._error).__name__) from self._error
        return self._value  # type: ignore[return-value]


class Context:
    """The config and the lazily asked answers of Slack and GitHub."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.answers: dict[str, Answer[Any]] = {}

    def answer(self, name: str, call: Callable[[], Any]) -> Any:
        """The answer called ``name``, asking with ``call`` the first time."""
        if name not in self.answers:
            self.answers[name] = Answer(call)
        return self.answers[name].get()

    @cached_property
    def app_view(self) -> Any:
        """The GitHub App's own endpoints (app.github.apps.AppView)."""
        from app.github.apps import AppView

        config = self.config
        return AppView(config.github_api_url, config.github_app_id, config.github_key.private_key)
