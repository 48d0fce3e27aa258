"""app/members."""
