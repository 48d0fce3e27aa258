"""RSA keys made at test time (no key is ever committed)."""

from __future__ import annotations

import functools

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


@functools.cache
def rsa_key(bits: int = 2048, seed: int = 0) -> rsa.RSAPrivateKey:
    """A fresh RSA key, cached per (bits, seed) for the test session."""
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def pem_pkcs1(key: rsa.RSAPrivateKey) -> str:
    """PEM text as GitHub downloads it: BEGIN RSA PRIVATE KEY."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def pem_pkcs8(key: rsa.RSAPrivateKey) -> str:
    """PEM text in PKCS#8: BEGIN PRIVATE KEY."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def valid_env(key_pem: str | None = None, **overrides: str) -> dict[str, str]:
    """A complete, valid environment for load_config (values are throwaway test secrets)."""
    env = {
        "SLACK_SIGNING_SECRET": "test-signing-secret-0a1b2c3d4e5f",
        "SLACK_API_TOKEN": "xoxb-1111-2222-testtokenvalue",
        "SLACK_TEAM_ID": "T0001",  # the workspace of tests.support.slack's payloads
        "GITHUB_APP_ID": "4242",
        "GITHUB_ORG_NAME": "rocket-club",
        "GITHUB_WEBHOOK_SECRET": "test-webhook-secret-9z8y7x6w5v4u",
        "GITHUB_KEY": key_pem if key_pem is not None else pem_pkcs1(rsa_key()),
    }
    env.update(overrides)
    return env
