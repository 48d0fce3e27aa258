"""invitation attempts: queued_invitations.attempts, last_error, first_refused_at, parked_at

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07

Expand only: the invitation job's bookkeeping on each queued invitation, so one GitHub refuses
for good (or for days) is parked instead of blocking the queue
(docs/decisions/0035-a-refused-invitation-does-not-block-the-queue.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the attempt columns (existing rows: no attempt yet, not parked)."""
    with op.batch_alter_table("queued_invitations") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("last_error", sa.String(300), server_default="", nullable=False))
        batch.add_column(sa.Column("first_refused_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("parked_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop the attempt columns."""
    with op.batch_alter_table("queued_invitations") as batch:
        batch.drop_column("parked_at")
        batch.drop_column("first_refused_at")
        batch.drop_column("last_error")
        batch.drop_column("attempts")
