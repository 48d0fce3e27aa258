"""Slack identifier formats, shared by the command parser and the ``rocket2`` CLI."""

from __future__ import annotations

import re

SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")  # a member (U…) or an Enterprise user (W…)
