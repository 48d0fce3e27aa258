"""The secret filter masks configured secrets and private key blocks in formatted records."""

from __future__ import annotations

import io
import logging

from config import SecretFilter, load_config
from config.secret import MASK


def _capture(secret_filter: SecretFilter) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(secret_filter)
    logger = logging.getLogger(f"test.filter.{id(stream)}")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    return logger, stream


def test_masks_configured_secrets_in_args_and_messages(env):
    config = load_config(env)
    logger, stream = _capture(SecretFilter(config.secret_values()))
    token = env["SLACK_API_TOKEN"]
    logger.info("calling with token %s", token)
    logger.warning(
        "signing=%r webhook=%s", env["SLACK_SIGNING_SECRET"], env["GITHUB_WEBHOOK_SECRET"]
    )
    logger.error(f"inline {token}")
    out = stream.getvalue()
    for name in ("SLACK_API_TOKEN", "SLACK_SIGNING_SECRET", "GITHUB_WEBHOOK_SECRET"):
        assert env[name] not in out
    assert out.count(MASK) == 4


def test_masks_any_private_key_block_even_unconfigured(key_pem):
    logger, stream = _capture(SecretFilter())
    logger.info("key is %s", key_pem)
    logger.info("escaped %s", key_pem.replace("\n", "\\n").replace("-", "\\-"))
    out = stream.getvalue()
    body_line = key_pem.splitlines()[3]
    assert body_line not in out and body_line[:20] not in out
    assert "PRIVATE KEY" not in out


def test_masks_exception_text(env):
    config = load_config(env)
    logger, stream = _capture(SecretFilter(config.secret_values()))
    try:
        raise RuntimeError(f"boom {env['GITHUB_WEBHOOK_SECRET']}")
    except RuntimeError:
        logger.exception("failed")
    out = stream.getvalue()
    assert "RuntimeError" in out and env["GITHUB_WEBHOOK_SECRET"] not in out
