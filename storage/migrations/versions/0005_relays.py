"""relays, announcements and the files they carry

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "stored_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("mime_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stored_file")),
    )
    op.create_table(
        "relay",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("sender_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("tlp", sa.String(length=16), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("audience", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("texts", sa.JSON(), nullable=True),
        sa.Column("ack", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["file_id"], ["stored_file.id"], name=op.f("fk_relay_file_id_stored_file")),
        sa.ForeignKeyConstraint(["parent_id"], ["relay.id"], name=op.f("fk_relay_parent_id_relay")),
        sa.ForeignKeyConstraint(["sender_id"], ["member.id"], name=op.f("fk_relay_sender_id_member")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relay")),
    )
    with op.batch_alter_table("relay", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_relay_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_relay_sender_id"), ["sender_id"], unique=False)

    op.create_table(
        "relay_copy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("relay_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=12), nullable=False),
        sa.Column("covers_for_id", sa.Integer(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["covers_for_id"], ["member.id"], name=op.f("fk_relay_copy_covers_for_id_member")),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name=op.f("fk_relay_copy_member_id_member")),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"], name=op.f("fk_relay_copy_outbox_id_outbox")),
        sa.ForeignKeyConstraint(
            ["relay_id"], ["relay.id"], name=op.f("fk_relay_copy_relay_id_relay"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relay_copy")),
        sa.UniqueConstraint("relay_id", "member_id", name=op.f("uq_relay_copy_relay_id")),
    )
    with op.batch_alter_table("relay_copy", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_relay_copy_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_relay_copy_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_relay_copy_relay_id"), ["relay_id"], unique=False)

    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("away_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("away_delegate_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_member_away_delegate_id_member"), "member", ["away_delegate_id"], ["id"]
        )

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("file_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_outbox_file_id_stored_file"), "stored_file", ["file_id"], ["id"])


def downgrade() -> None:

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_outbox_file_id_stored_file"), type_="foreignkey")
        batch_op.drop_column("file_id")

    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_member_away_delegate_id_member"), type_="foreignkey")
        batch_op.drop_column("away_delegate_id")
        batch_op.drop_column("away_until")

    with op.batch_alter_table("relay_copy", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_relay_copy_relay_id"))
        batch_op.drop_index(batch_op.f("ix_relay_copy_member_id"))
        batch_op.drop_index(batch_op.f("ix_relay_copy_due_at"))

    op.drop_table("relay_copy")
    with op.batch_alter_table("relay", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_relay_sender_id"))
        batch_op.drop_index(batch_op.f("ix_relay_created_at"))

    op.drop_table("relay")
    op.drop_table("stored_file")
