"""The GitHub App manifest built from app.platforms.GITHUB (GitHub's manifest parameters:
name, url, hook_attributes, redirect_url, callback_urls, public, default_permissions,
default_events, request_oauth_on_install)."""

from __future__ import annotations

from typing import Any

from app.platforms import GITHUB


def build_manifest(
    *, name: str, public_url: str, webhook_path: str, redirect_url: str
) -> dict[str, Any]:
    """The manifest of Rocket 2's GitHub App, served at ``public_url`` (https://HOST)."""
    base = public_url.rstrip("/")
    return {
        "name": name,
        "url": base,
        "hook_attributes": {"url": base + webhook_path, "active": True},
        "redirect_url": redirect_url,
        "callback_urls": [base + GITHUB.callback_path],
        "public": False,
        "default_permissions": dict(GITHUB.permissions),
        "default_events": list(GITHUB.events),
        "request_oauth_on_install": False,
    }
