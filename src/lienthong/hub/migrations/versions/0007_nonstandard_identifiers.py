"""agencies with identifiers outside the standard form (vxp.saas.03): a flag, the peer they
are reached through, and an unknown (NULL) level

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agency", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("nonstandard", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("via_peer", sa.String(length=100), nullable=True))
        batch_op.alter_column("level", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    # the rows stay (systems may serve them); an unknown level becomes 0, never a real level
    op.execute("UPDATE agency SET level = 0 WHERE level IS NULL")
    with op.batch_alter_table("agency", schema=None) as batch_op:
        batch_op.alter_column("level", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("via_peer")
        batch_op.drop_column("nonstandard")
