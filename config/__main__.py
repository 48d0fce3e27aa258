"""`python -m config`: print the README's config reference table."""

from config.docs import markdown_reference

print(markdown_reference(), end="")
