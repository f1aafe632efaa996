"""notifications (in-app and e-mail)

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
        "office_notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("email_state", sa.String(length=8), nullable=False),
        sa.Column("email_attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["office_documents.id"],
            name=op.f("fk_office_notifications_document_id_office_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["office_users.id"],
            name=op.f("fk_office_notifications_user_id_office_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_office_notifications")),
        sa.UniqueConstraint(
            "user_id", "document_id", "kind", name=op.f("uq_office_notifications_user_id")
        ),
    )
    with op.batch_alter_table("office_notifications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_office_notifications_email_state"), ["email_state"], unique=False
        )
        batch_op.create_index(
            "ix_office_notifications_user_read", ["user_id", "read_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("office_notifications")
