"""the operation a seen signature was used for

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("seen_signature", schema=None) as batch_op:
        batch_op.add_column(sa.Column("operation", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("seen_signature", schema=None) as batch_op:
        batch_op.drop_column("operation")
