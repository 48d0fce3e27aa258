"""The public URL: PUBLIC_URL resolves, answers https with a certificate this machine trusts,
and its /healthz reports this instance's version."""

from __future__ import annotations

import socket
import ssl
from typing import Any
from urllib.parse import urlsplit

import httpx

from app.doctor.context import Context
from app.doctor.report import Result, fail, ok, warn
from app.version import VERSION

TIMEOUT_SECONDS = 10.0


def _host(ctx: Context) -> str:
    return urlsplit(ctx.config.public_url).hostname or ""


def public_url(ctx: Context) -> Result:
    """PUBLIC_URL is set and its name resolves."""
    if not ctx.config.public_url:
        return warn(
            "public url",
            "PUBLIC_URL is not set (linking is off; Slack and GitHub need an https address)",
            "set PUBLIC_URL=https://HOST (rocket2 setup github does)",
        )
    try:
        socket.getaddrinfo(_host(ctx), 443)
    except OSError as exc:
        return fail(
            "public url",
            f"{_host(ctx)} does not resolve ({exc.strerror or exc})",
            "add the DNS record for the host, or fix PUBLIC_URL",
        )
    return ok("public url", f"{_host(ctx)} resolves")


def _healthz(ctx: Context) -> httpx.Response:
    response: httpx.Response = ctx.answer(
        "healthz", lambda: httpx.get(ctx.config.public_url + "/healthz", timeout=TIMEOUT_SECONDS)
    )
    return response


def public_https(ctx: Context) -> Result:
    """PUBLIC_URL answers https with a valid certificate."""
    if not ctx.config.public_url:
        return warn("public https", "not checked: PUBLIC_URL is not set", "set PUBLIC_URL")
    try:
        _healthz(ctx)
    except httpx.ConnectError as exc:
        if isinstance(exc.__context__, ssl.SSLCertVerificationError) or "CERTIFICATE" in str(exc):
            return fail(
                "public https",
                f"{_host(ctx)}'s certificate is not valid here",
                "renew or reissue it (certbot; README, Deploying) for exactly this host",
            )
        return fail(
            "public https",
            f"nothing answers https at {_host(ctx)}",
            "start the deploy and open port 443 (nginx), or fix PUBLIC_URL",
        )
    except httpx.HTTPError as exc:
        return fail(
            "public https",
            f"{_host(ctx)} did not answer ({type(exc).__name__})",
            "check the deploy and its proxy",
        )
    return ok("public https", f"https://{_host(ctx)} answers with a valid certificate")


def public_version(ctx: Context) -> Result:
    """PUBLIC_URL/healthz reports this instance's version."""
    if not ctx.config.public_url:
        return warn("public version", "not checked: PUBLIC_URL is not set", "set PUBLIC_URL")
    response = _healthz(ctx)
    try:
        body: Any = response.json()
    except ValueError:
        body = {}
    version = body.get("version") if isinstance(body, dict) else None
    if version is None:
        return fail(
            "public version",
            f"/healthz there answered {response.status_code} without Rocket 2's version",
            "PUBLIC_URL must reach this Rocket 2 (proxy?)",
        )
    if version != VERSION:
        return warn(
            "public version",
            f"PUBLIC_URL runs version {version}, this is {VERSION}",
            "deploy this version, or run doctor where the deploy runs",
        )
    return ok("public version", f"/healthz there reports version {VERSION}")
