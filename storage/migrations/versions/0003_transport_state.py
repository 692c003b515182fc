"""transport state: sync tokens and device ids

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 18:50:40.707820
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transport_state",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "key", name=op.f("pk_transport_state")),
    )


def downgrade() -> None:
    op.drop_table("transport_state")
