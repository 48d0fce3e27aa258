"""Rocket 2 benchmarks: `python -m bench` writes BENCHMARKS.md (see bench/__main__.py)."""
