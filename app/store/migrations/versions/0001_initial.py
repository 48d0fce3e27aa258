"""users, teams, team members and leads, processed events

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PERMISSION = sa.Enum(
    "member",
    "team_lead",
    "admin",
    name="permission",
    native_enum=False,
    create_constraint=True,
    length=16,
)


def upgrade() -> None:
    """Create every table of the first schema."""
    _create_users()
    _create_teams()
    _create_processed_events()


def _create_users() -> None:
    op.create_table(
        "users",
        sa.Column("slack_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), server_default="", nullable=False),
        sa.Column("email", sa.String(320), server_default="", nullable=False),
        sa.Column("github_username", sa.String(100), server_default="", nullable=False),
        sa.Column("github_id", sa.BigInteger(), nullable=True),
        sa.Column("major", sa.String(200), server_default="", nullable=False),
        sa.Column("position", sa.String(200), server_default="", nullable=False),
        sa.Column("biography", sa.Text(), server_default="", nullable=False),
        sa.Column("image_url", sa.String(1000), server_default="", nullable=False),
        sa.Column("permission", PERMISSION, server_default="member", nullable=False),
        sa.Column("karma", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("slack_id", name=op.f("pk_users")),
        sa.UniqueConstraint("github_id", name=op.f("uq_users_github_id")),
    )
    op.create_index(op.f("ix_users_email"), "users", ["email"])
    op.create_index(op.f("ix_users_github_username"), "users", ["github_username"])


def _create_teams() -> None:
    op.create_table(
        "teams",
        sa.Column("github_team_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("github_team_name", sa.String(200), nullable=False),
        sa.Column("slug", sa.String(200), server_default="", nullable=False),
        sa.Column("displayname", sa.String(200), server_default="", nullable=False),
        sa.Column("platform", sa.String(200), server_default="", nullable=False),
        sa.Column("folder", sa.String(200), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("github_team_id", name=op.f("pk_teams")),
        sa.UniqueConstraint("github_team_name", name=op.f("uq_teams_github_team_name")),
    )

    for table in ("team_members", "team_leads"):
        op.create_table(
            table,
            sa.Column("team_id", sa.BigInteger(), nullable=False),
            sa.Column("github_id", sa.BigInteger(), nullable=False),
            sa.ForeignKeyConstraint(
                ["team_id"],
                ["teams.github_team_id"],
                name=op.f(f"fk_{table}_team_id_teams"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("team_id", "github_id", name=op.f(f"pk_{table}")),
        )
        op.create_index(op.f(f"ix_{table}_github_id"), table, ["github_id"])


def _create_processed_events() -> None:
    op.create_table(
        "processed_events",
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column(
            "processed_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.CheckConstraint(
            "source IN ('slack', 'github', 'job')", name=op.f("ck_processed_events_source")
        ),
        sa.PrimaryKeyConstraint("source", "event_id", name=op.f("pk_processed_events")),
    )
    op.create_index(op.f("ix_processed_events_processed_at"), "processed_events", ["processed_at"])


def downgrade() -> None:
    """Drop every table of the first schema."""
    op.drop_table("processed_events")
    op.drop_table("team_leads")
    op.drop_table("team_members")
    op.drop_table("teams")
    op.drop_index(op.f("ix_users_github_username"), table_name="users")
    op.drop_index(op.f("ix_users_email"), table_name="users")
    op.drop_table("users")
