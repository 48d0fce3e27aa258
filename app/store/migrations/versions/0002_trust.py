"""verified GitHub links, pinned special teams, karma gifts, link nonces

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

Expand only: new nullable or defaulted columns and new tables, so a release still on 0001 keeps
working beside it during a rolling update.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_SOURCES = "source IN ('slack', 'github', 'job')"
NEW_SOURCES = "source IN ('slack', 'github', 'job', 'link')"


def upgrade() -> None:
    """Add users.github_verified, special_teams, karma_gifts and the 'link' event source."""
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column(
                "github_verified",
                sa.Boolean(create_constraint=False),
                server_default=sa.false(),
                nullable=False,
            )
        )
    op.create_table(
        "special_teams",
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("configured_name", sa.String(200), nullable=False),
        sa.Column("github_team_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "pinned_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("role", name=op.f("pk_special_teams")),
    )
    op.create_table(
        "karma_gifts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("giver", sa.String(32), nullable=False),
        sa.Column("receiver", sa.String(32), nullable=False),
        sa.Column(
            "given_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_karma_gifts")),
    )
    op.create_index(op.f("ix_karma_gifts_giver"), "karma_gifts", ["giver"])
    op.create_index(op.f("ix_karma_gifts_given_at"), "karma_gifts", ["given_at"])
    _sources(NEW_SOURCES)


def downgrade() -> None:
    """Undo upgrade() (rows with the 'link' source are dropped first)."""
    op.execute("DELETE FROM processed_events WHERE source = 'link'")
    _sources(OLD_SOURCES)
    op.drop_index(op.f("ix_karma_gifts_given_at"), table_name="karma_gifts")
    op.drop_index(op.f("ix_karma_gifts_giver"), table_name="karma_gifts")
    op.drop_table("karma_gifts")
    op.drop_table("special_teams")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("github_verified")


def _sources(check: str) -> None:
    with op.batch_alter_table("processed_events", recreate="always") as batch:
        batch.drop_constraint(op.f("ck_processed_events_source"), type_="check")
        batch.create_check_constraint(op.f("ck_processed_events_source"), check)
