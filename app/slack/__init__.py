"""app/slack."""
