"""The GitHub stand-in (one for the playground and the tests): see app.dev.github.standin."""

from app.dev.github.base import Answer, Team, slugify
from app.dev.github.standin import GitHubStandIn

__all__ = ["Answer", "GitHubStandIn", "Team", "slugify"]
