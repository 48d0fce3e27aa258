"""app/slack/commands."""
