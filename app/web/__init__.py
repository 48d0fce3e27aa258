"""app/web."""
