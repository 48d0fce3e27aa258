"""Alembic migrations of the Rocket 2 schema (a package so they ship in the wheel)."""
