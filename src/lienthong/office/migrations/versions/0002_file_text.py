"""file text for full-text search (PDF text layer, OCR of scans)

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("office_files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("text", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("text_state", sa.String(length=10), nullable=False, server_default="")
        )
        batch_op.create_index(batch_op.f("ix_office_files_text_state"), ["text_state"])


def downgrade() -> None:
    with op.batch_alter_table("office_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_office_files_text_state"))
        batch_op.drop_column("text_state")
        batch_op.drop_column("text")
