"""GITHUB_KEY: every delivery form loads to the same key; every bad key gets its own message."""

from __future__ import annotations

import base64
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import example, given, settings
from hypothesis import strategies as st

import config
from config import ConfigError, KeyDecodeError, Problem, decode_github_key, encode_key, load_config
from tests.support.keys import pem_pkcs1, pem_pkcs8, rsa_key, valid_env

KEY = rsa_key()
PKCS1 = pem_pkcs1(KEY)
PKCS8 = pem_pkcs8(KEY)


def _escaped(pem: str) -> str:
    return pem.replace("\n", "\\n")


FORMS = {
    "raw pkcs1": PKCS1,
    "raw pkcs8": PKCS8,
    "crlf": PKCS1.replace("\n", "\r\n"),
    "no trailing newline": PKCS1.rstrip("\n"),
    "escaped newlines": _escaped(PKCS1),
    "escaped newlines, no trailing": _escaped(PKCS1.rstrip("\n")),
    "escaped newlines and dashes": _escaped(PKCS1).replace("-", "\\-"),
    "escaped, dashes, single-quoted": "'" + _escaped(PKCS1).replace("-", "\\-") + "'",
    "double-quoted escaped": '"' + _escaped(PKCS8) + '"',
    "single-quoted raw": "'" + PKCS1 + "'",
    "base64 one line": base64.b64encode(PKCS1.encode()).decode(),
    "base64 wrapped": base64.encodebytes(PKCS8.encode()).decode(),
    "surrounding whitespace": "\n  " + PKCS1 + "  \n",
}


def _openssl_fingerprint(pem: str, tmp_path) -> str:
    path = tmp_path / "key.pem"
    path.write_text(pem)
    der = subprocess.run(
        ["openssl", "rsa", "-in", str(path), "-pubout", "-outform", "DER"],
        capture_output=True,
        check=True,
    ).stdout
    digest = subprocess.run(
        ["openssl", "sha256", "-binary"], input=der, capture_output=True, check=True
    ).stdout
    b64 = subprocess.run(
        ["openssl", "base64"], input=digest, capture_output=True, check=True
    ).stdout
    return "SHA256:" + b64.decode().strip()


@pytest.mark.parametrize("form", list(FORMS), ids=list(FORMS))
def test_every_form_loads_to_the_same_key(form):
    expected = decode_github_key(PKCS1).fingerprint
    key = decode_github_key(FORMS[form])
    assert key.fingerprint == expected
    assert key.bits == 2048


@pytest.mark.parametrize("form", list(FORMS), ids=list(FORMS))
def test_every_form_loads_through_load_config(form):
    config = load_config(valid_env(FORMS[form]))
    assert config.github_key.fingerprint == decode_github_key(PKCS1).fingerprint


def test_fingerprint_matches_openssl_pipeline(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    assert decode_github_key(PKCS1).fingerprint == _openssl_fingerprint(PKCS1, tmp_path)


def test_4096_bit_key_loads():
    key = decode_github_key(pem_pkcs8(rsa_key(4096)))
    assert key.bits == 4096


def _pem(key, fmt=serialization.PrivateFormat.PKCS8, enc=None) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, fmt, enc or serialization.NoEncryption()
    ).decode()


def _public_pem() -> str:
    return (
        KEY.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _truncated() -> str:
    lines = PKCS1.splitlines()
    return "\n".join(lines[: len(lines) // 2]) + "\n"


def _corrupted_body() -> str:
    lines = PKCS1.splitlines()
    middle = len(lines) // 2
    lines[middle] = lines[middle][::-1]
    return "\n".join(lines[:middle] + lines[middle + 3 :]) + "\n"


BAD_KEYS = {
    "public key": (_public_pem, "public key"),
    "ec key": (lambda: _pem(ec.generate_private_key(ec.SECP256R1())), "EC key"),
    "ec key (SEC1)": (
        lambda: _pem(
            ec.generate_private_key(ec.SECP256R1()), serialization.PrivateFormat.TraditionalOpenSSL
        ),
        "EC key",
    ),
    "encrypted pkcs8": (
        lambda: _pem(KEY, enc=serialization.BestAvailableEncryption(b"hunter22")),
        "encrypted",
    ),
    "encrypted pkcs1": (
        lambda: _pem(
            KEY,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.BestAvailableEncryption(b"hunter22"),
        ),
        "encrypted",
    ),
    "short key": (
        lambda: _pem(rsa.generate_private_key(public_exponent=65537, key_size=1024)),  # noqa: S505 (deliberately short)
        "at least 2048",
    ),
    "truncated": (_truncated, "truncated"),
    "corrupted body": (_corrupted_body, "truncated or corrupted"),
    "garbage": (lambda: "Zq3xk9 lorem 8812 qwertyuiop asdfgh zxcv", "not a PEM private key"),
    "empty quotes": (lambda: "''", "required but not set"),
    # An unquoted \\n line read with shell rules: every backslash eaten (and, by honcho's
    # shlex, the label's spaces too). The message names the cause and both fixes.
    "backslashes eaten": (lambda: _escaped(PKCS1).replace("\\n", "n"), "lost the backslashes"),
    "backslashes and spaces eaten": (
        lambda: _escaped(PKCS1).replace("\\n", "n").replace(" ", ""),
        "lost the backslashes",
    ),
}


@pytest.mark.parametrize("case", ["backslashes eaten", "backslashes and spaces eaten"])
def test_eaten_backslashes_name_the_fix(case):
    make, _ = BAD_KEYS[case]
    with pytest.raises(ConfigError) as caught:
        load_config(valid_env(make()))
    message = str(caught.value)
    assert "double quotes" in message
    assert "GITHUB_KEY_FILE" in message
    assert "encode-key --for dotenv" in message


@pytest.mark.parametrize("case", list(BAD_KEYS), ids=list(BAD_KEYS))
def test_bad_keys_get_their_own_message_without_the_value(case):
    make, expected = BAD_KEYS[case]
    text = make()
    with pytest.raises(ConfigError) as caught:
        load_config(valid_env(text))
    message = str(caught.value)
    assert caught.value.names == ("GITHUB_KEY",)
    assert expected in message
    _assert_no_run_of(text, message)


# Our own wording: a run of the input that also appears here is not a leak (an input such as
# "Rocket 2" shares words with the message header).
OWN_WORDING = "\n".join(
    [
        *(
            (Path(config.__file__).parent / name).read_text()
            for name in ("github_key.py", "errors.py", "settings.py", "loader.py")
        ),
        str(ConfigError([Problem("GITHUB_KEY", "x", "y")])),
        str(ConfigError([Problem("GITHUB_KEY", "x", "y"), Problem("PORT", "x")])),
    ]
)


def _assert_no_run_of(text: str, message: str, run: int = 8) -> None:
    for start in range(max(0, len(text) - run + 1)):
        piece = text[start : start + run]
        if piece in OWN_WORDING:
            continue
        assert piece not in message, f"message leaks input: {piece!r}"


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=400))
@example("Rocket 2 configuration")  # our own words in the input are not a leak
def test_decoder_raises_only_config_error_and_never_leaks(text):
    try:
        load_config(valid_env(text))
    except ConfigError as exc:
        _assert_no_run_of(text, str(exc))


@settings(max_examples=200, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef0123456789+/=-\\n '\"\r\n"),
        max_size=300,
    )
)
def test_decoder_on_pem_like_text_raises_only_key_decode_error(text):
    try:
        decode_github_key("-----BEGIN RSA PRIVATE KEY-----\n" + text)
    except KeyDecodeError as exc:
        _assert_no_run_of(text, str(exc))


@pytest.mark.parametrize("target", ["dotenv", "compose", "inertia", "heroku"])
@pytest.mark.parametrize("source", ["pkcs1", "pkcs8"])
def test_encode_key_round_trips(target, source):
    pem = PKCS1 if source == "pkcs1" else PKCS8
    encoded = encode_key(pem, target)
    if target == "heroku":
        words = shlex.split(encoded)
        assert words[:2] == ["heroku", "config:set"]
        value = words[2].split("=", 1)[1]
    else:
        assert "\n" not in encoded
        value = encoded.split("=", 1)[1]
    assert decode_github_key(value).fingerprint == decode_github_key(pem).fingerprint
    if target in ("dotenv", "compose"):
        # Double-quoted: honcho's shell rules keep the backslashes inside double quotes.
        assert value[0] == value[-1] == '"' and "\\n" in value
    if target == "inertia":
        assert "\\-" in value and "-" not in value.replace("\\-", "")
