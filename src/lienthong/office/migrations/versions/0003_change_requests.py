"""senders' revoke / update / replace / withdraw requests waiting for the clerk

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
    with op.batch_alter_table("office_documents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("change_request", sa.String(length=10), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("change_reason", sa.Text(), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("change_message_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("change_document_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("office_documents", schema=None) as batch_op:
        batch_op.drop_column("change_document_id")
        batch_op.drop_column("change_message_id")
        batch_op.drop_column("change_reason")
        batch_op.drop_column("change_request")
