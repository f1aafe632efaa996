"""peer hubs and relays

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "peer",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("api_key", sa.String(length=200), nullable=False),
        sa.Column("serves", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_peer")),
    )
    with op.batch_alter_table("system", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("peer", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("peer_id", sa.String(length=100), nullable=True))
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hops", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_column("hops")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("created_at")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_column("peer_id")
    with op.batch_alter_table("system", schema=None) as batch_op:
        batch_op.drop_column("peer")
    op.drop_table("peer")
