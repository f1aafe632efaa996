"""saved filters of the documents list

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "office_saved_filters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("query", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["office_users.id"],
            name=op.f("fk_office_saved_filters_user_id_office_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_office_saved_filters")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_office_saved_filters_user_id")),
    )
    with op.batch_alter_table("office_saved_filters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_office_saved_filters_user_id"), ["user_id"])


def downgrade() -> None:
    op.drop_table("office_saved_filters")
