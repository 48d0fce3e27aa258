"""roles follow GitHub: users.granted_permission, link_requests, invitations

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07

Expand only: a defaulted column and two new tables. An existing role is kept as an admin's
grant unless the member's proven account is in the pinned special team that gives exactly it:
then it came from GitHub and follows GitHub from now on
(docs/decisions/0017-roles-follow-github.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PERMISSIONS = ("member", "team_lead", "admin")

# The rows whose role came from their special team: proven link, account in the pinned team.
FROM_GITHUB = """
UPDATE users SET granted_permission = 'member'
WHERE github_verified AND permission = :permission AND github_id IN (
    SELECT m.github_id FROM team_members m
    JOIN special_teams s ON s.github_team_id = m.team_id
    WHERE s.role = :permission
)
"""


def upgrade() -> None:
    """Add users.granted_permission (filled from the data), link_requests and invitations."""
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column(
                "granted_permission",
                sa.Enum(
                    *PERMISSIONS,
                    name="granted_permission",
                    native_enum=False,
                    create_constraint=True,
                    length=16,
                ),
                server_default="member",
                nullable=False,
            )
        )
    op.execute("UPDATE users SET granted_permission = permission")
    for permission in ("admin", "team_lead"):
        op.get_bind().execute(sa.text(FROM_GITHUB), {"permission": permission})
    op.create_table(
        "link_requests",
        sa.Column("slack_id", sa.String(32), nullable=False),
        sa.Column("github_id", sa.BigInteger(), nullable=False),
        sa.Column("github_login", sa.String(100), nullable=False),
        sa.Column(
            "requested_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("slack_id", name=op.f("pk_link_requests")),
    )
    op.create_table(
        "invitations",
        sa.Column("github_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("login", sa.String(100), nullable=False),
        sa.Column(
            "invited_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("github_id", name=op.f("pk_invitations")),
    )


def downgrade() -> None:
    """Undo upgrade(): every role is then an admin's grant again."""
    op.drop_table("invitations")
    op.drop_table("link_requests")
    with op.batch_alter_table("users", recreate="always") as batch:
        batch.drop_constraint(op.f("ck_users_granted_permission"), type_="check")
        batch.drop_column("granted_permission")
