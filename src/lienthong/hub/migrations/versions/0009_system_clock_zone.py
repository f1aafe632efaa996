"""each system's clock zone (the SDK's timestamps carry none)

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("system", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "clock_zone",
                sa.String(length=64),
                nullable=False,
                server_default="Asia/Ho_Chi_Minh",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("system", schema=None) as batch_op:
        batch_op.drop_column("clock_zone")
