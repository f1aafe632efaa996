"""indexes for "my work" (deadlines, change requests) at 100,000+ documents

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("office_documents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_office_documents_agency_deadline", ["agency_code", "deadline"], unique=False
        )
        batch_op.create_index(
            "ix_office_documents_agency_change", ["agency_code", "change_request"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("office_documents", schema=None) as batch_op:
        batch_op.drop_index("ix_office_documents_agency_change")
        batch_op.drop_index("ix_office_documents_agency_deadline")
