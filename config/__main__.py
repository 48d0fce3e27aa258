"""`python -m config`: print the config reference table (docs/operators/configuration.md)."""

from config.docs import markdown_reference

print(markdown_reference(), end="")
