"""Checking an inbound payload against a declared shape (msgspec Structs), naming no value.

``check(data, Shape)`` returns the typed view of ``data`` or raises ``Malformed`` whose text
names the field and what was expected (``Expected `str` of length <= 32 at `$.event.user```),
never the value. Extra fields are fine: Slack and GitHub add fields over time.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import msgspec
from msgspec import Meta, Struct

INT64 = Meta(ge=1, le=2**63 - 1)  # a positive id that fits the store's BIGINT
NO_NUL = r"^[^\x00]*$"
NO_CONTROL = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"  # tab, newline and CR are text

Id = Annotated[int, INT64]
Str = Annotated[str, Meta(max_length=255, pattern=NO_CONTROL)]  # any short id-like field
Text = Annotated[str, Meta(max_length=40_000, pattern=NO_NUL)]  # a message's or a bio's text


class Malformed(ValueError):
    """A signed payload that can never be handled; ``str()`` names the field, not the value."""


def check[Shape: Struct](data: Any, shape: type[Shape], prefix: str = "$") -> Shape:
    """``data`` (parsed JSON) as ``shape``, or Malformed naming the first field that is not."""
    try:
        return msgspec.convert(data, shape)
    except msgspec.ValidationError as exc:
        raise Malformed(describe(exc, prefix)) from None


_AT = re.compile(r" - at `\$(?P<path>[^`]*)`$")


def describe(exc: msgspec.ValidationError, prefix: str = "$") -> str:
    """A reason naming the field and what was expected, with no part of the value."""
    message = str(exc)
    found = _AT.search(message)
    path = prefix + (found["path"] if found else "")
    what = message[: found.start()] if found else message
    if not what.startswith(("Expected", "Object missing required field")):
        what = "Invalid value"  # e.g. "Invalid enum value 'x'": that would echo the value
    return f"{what} at `{path}`"
