"""Decode GITHUB_KEY from every form operators deliver it in, and encode it for each target.

Accepted, all as the same key: raw PEM (LF or CRLF), ``\\n``-escaped, also ``\\-``-escaped, in
one pair of quotes, with or without a trailing newline, or base64 of the PEM; PKCS#1 or PKCS#8.
A ``\\n`` form whose backslashes a shell-rules reader ate is named, with the fix. Error messages
never contain any part of the input.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import shlex
from dataclasses import dataclass, field
from typing import Literal

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

MIN_BITS = 2048
ENCODE_TARGETS = ("dotenv", "compose", "inertia", "heroku")
EncodeTarget = Literal["dotenv", "compose", "inertia", "heroku"]

_BEGIN = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----")
_END = re.compile(r"-----END ([A-Z0-9 ]+)-----")
_PRIVATE_LABELS = {"RSA PRIVATE KEY", "PRIVATE KEY"}
# A BEGIN line run straight into "n" and the key body: every "\\n" lost its backslash (shell
# rules also drop the label's spaces: "-----BEGINRSAPRIVATEKEY-----n").
_EATEN_ESCAPES = re.compile(r"-----BEGIN ?[A-Z ]*?KEY-----n[A-Za-z0-9+/]")
EATEN_ESCAPES_MESSAGE = (
    "lost the backslashes of its \\n escapes (an unquoted value read with shell rules, as"
    " honcho does, turns \\n into n); put the value in double quotes, as"
    " `rocket2 config encode-key --for dotenv` prints it, or set GITHUB_KEY_FILE to the .pem file"
)


class KeyDecodeError(ValueError):
    """The key could not be loaded. The message says why and never quotes the input."""


@dataclass(frozen=True, slots=True)
class GitHubKey:
    """A loaded GitHub App private key. Its repr shows only the fingerprint."""

    private_key: rsa.RSAPrivateKey = field(repr=False, compare=False)
    pem: str = field(repr=False)
    fingerprint: str
    bits: int

    def __repr__(self) -> str:
        return f"GitHubKey(fingerprint={self.fingerprint!r}, bits={self.bits})"

    def reveal(self) -> str:
        """Return the PEM text, as Secret.reveal() returns a secret's (for the log filter)."""
        return self.pem


def fingerprint_of(public_key: rsa.RSAPublicKey) -> str:
    """Return the key's fingerprint as GitHub shows it: SHA256: + base64(sha256(DER SPKI))."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "SHA256:" + base64.b64encode(hashlib.sha256(der).digest()).decode("ascii")


def _strip_quotes(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _unescape(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\\r\\n", "\n")
    return text.replace("\\-", "-").replace("\\n", "\n")


def _from_base64(text: str) -> str | None:
    compact = "".join(text.split())
    if not compact or len(compact) % 4:
        return None
    try:
        raw = base64.b64decode(compact, validate=True)
        decoded = raw.decode("ascii")
    except (binascii.Error, ValueError):
        return None
    return decoded if "-----BEGIN" in decoded else None


def normalise_pem(text: str) -> str:
    """Turn any accepted form of the key into plain PEM text with LF line ends."""
    text = _unescape(_strip_quotes(text.strip()).strip()).strip()
    if "-----BEGIN" not in text:
        decoded = _from_base64(text)
        if decoded is None:
            raise KeyDecodeError(
                "is not a PEM private key, nor base64 of one (no BEGIN line found)"
            )
        text = _unescape(_strip_quotes(decoded.strip())).strip()
    lines = [line.strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line) + "\n"


def _check_labels(pem: str) -> None:
    begins = _BEGIN.findall(pem)
    label = begins[0] if begins else ""
    if "ENCRYPTED" in label or "Proc-Type: 4,ENCRYPTED" in pem:
        raise KeyDecodeError(
            "is an encrypted (passphrase-protected) key; Rocket 2 needs it unencrypted"
        )
    if "PUBLIC KEY" in label:
        raise KeyDecodeError("is a public key, but the App's private key is needed")
    if label == "EC PRIVATE KEY":
        raise KeyDecodeError("is an EC key, but GitHub App keys are RSA")
    if label == "CERTIFICATE":
        raise KeyDecodeError("is a certificate, not a private key")
    if label not in _PRIVATE_LABELS and label != "OPENSSH PRIVATE KEY":
        raise KeyDecodeError("is not a private key in PEM form")
    if label == "OPENSSH PRIVATE KEY":
        raise KeyDecodeError("is in OpenSSH format; use the .pem file GitHub downloads")
    if label not in _END.findall(pem):
        raise KeyDecodeError("is truncated: its END line is missing")


def decode_github_key(text: str) -> GitHubKey:
    """Load GITHUB_KEY from any accepted form; raise KeyDecodeError with a value-free message."""
    if not text or not text.strip():
        raise KeyDecodeError("is empty")
    pem = normalise_pem(text)
    if pem.count("\n") <= 1 and _EATEN_ESCAPES.search(pem):
        raise KeyDecodeError(EATEN_ESCAPES_MESSAGE)
    _check_labels(pem)
    try:
        key = serialization.load_pem_private_key(pem.encode("ascii", "replace"), password=None)
    except TypeError:
        raise KeyDecodeError(
            "is an encrypted (passphrase-protected) key; Rocket 2 needs it unencrypted"
        ) from None
    except UnsupportedAlgorithm:
        raise KeyDecodeError("uses an algorithm this system cannot load") from None
    except ValueError:
        raise KeyDecodeError(
            "could not be parsed: the key body is truncated or corrupted"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        kind = type(key).__name__.replace("PrivateKey", "").lstrip("_") or "non-RSA"
        raise KeyDecodeError(f"is a {kind} key, but GitHub App keys are RSA")
    if key.key_size < MIN_BITS:
        raise KeyDecodeError(f"is only {key.key_size} bits; at least {MIN_BITS} are required")
    return GitHubKey(
        private_key=key, pem=pem, fingerprint=fingerprint_of(key.public_key()), bits=key.key_size
    )


def encode_key(pem: str, target: EncodeTarget) -> str:
    """Return the text that delivers this PEM key to ``target`` (see ENCODE_TARGETS)."""
    pem = normalise_pem(pem)
    escaped = pem.rstrip("\n").replace("\n", "\\n")
    if target in ("dotenv", "compose"):
        return f'GITHUB_KEY="{escaped}"'

    if target == "inertia":
        return "GITHUB_KEY='" + escaped.replace("-", "\\-") + "'"
    if target == "heroku":
        return "heroku config:set " + shlex.quote("GITHUB_KEY=" + pem.rstrip("\n"))
    raise ValueError(f"unknown target; choose one of {', '.join(ENCODE_TARGETS)}")
