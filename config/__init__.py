"""Rocket 2's 12-factor config core: the only package that reads the environment."""

from config.environment import read_env_file
from config.errors import ConfigError, Problem
from config.github_key import GitHubKey, KeyDecodeError, decode_github_key, encode_key
from config.loader import load_config, load_settings, operator_variable
from config.logfilter import SecretFilter, install_secret_filter
from config.secret import Secret, redact_url
from config.settings import Config

__all__ = [
    "Config",
    "ConfigError",
    "GitHubKey",
    "KeyDecodeError",
    "Problem",
    "Secret",
    "SecretFilter",
    "decode_github_key",
    "encode_key",
    "install_secret_filter",
    "load_config",
    "load_settings",
    "operator_variable",
    "read_env_file",
    "redact_url",
]
