"""invitation queue: queued_invitations

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07

Expand only: one new table, the invitations GitHub's cap refused, sent later by the invitation
job (docs/decisions/0024-invitation-queue.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create queued_invitations."""
    op.create_table(
        "queued_invitations",
        sa.Column("github_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("team_slug", sa.String(200), nullable=False),
        sa.Column("login", sa.String(100), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column(
            "queued_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("github_id", "team_slug", name=op.f("pk_queued_invitations")),
    )
    op.create_index(
        op.f("ix_queued_invitations_queued_at"), "queued_invitations", ["queued_at"], unique=False
    )


def downgrade() -> None:
    """Drop queued_invitations."""
    op.drop_index(op.f("ix_queued_invitations_queued_at"), table_name="queued_invitations")
    op.drop_table("queued_invitations")
