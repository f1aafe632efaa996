"""signature verdicts on messages

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
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("package_signature", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("pdf_signature", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("signature_report", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_column("signature_report")
        batch_op.drop_column("pdf_signature")
        batch_op.drop_column("package_signature")
