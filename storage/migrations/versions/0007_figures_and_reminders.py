"""figures and reminders

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 06:19:19.934620
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "meeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("place", sa.String(length=500), nullable=True),
        sa.Column("registration_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("states", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting")),
    )
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_starts_at"), ["starts_at"], unique=False)

    op.create_table(
        "round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("indicators", sa.JSON(), nullable=False),
        sa.Column("states", sa.JSON(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("offsets", sa.JSON(), nullable=False),
        sa.Column("overdue_every", sa.Integer(), nullable=False),
        sa.Column("overdue_limit", sa.Integer(), nullable=False),
        sa.Column("remind_at", sa.String(length=5), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_by", sa.String(length=100), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round")),
        sa.UniqueConstraint("period", name=op.f("uq_round_period")),
    )
    op.create_table(
        "figure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("state_code", sa.String(length=2), nullable=False),
        sa.Column("indicator", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=True),
        sa.Column("not_available", sa.Boolean(), nullable=False),
        sa.Column("estimate", sa.Boolean(), nullable=False),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("sentences", sa.String(length=200), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("submitted_by", sa.Integer(), nullable=True),
        sa.Column("submitted_by_label", sa.String(length=100), nullable=False),
        sa.Column("on_behalf", sa.Boolean(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["round.id"], name=op.f("fk_figure_round_id_round"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["state_code"], ["state.code"], name=op.f("fk_figure_state_code_state")),
        sa.ForeignKeyConstraint(["submitted_by"], ["member.id"], name=op.f("fk_figure_submitted_by_member")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_figure")),
        sa.UniqueConstraint("round_id", "state_code", "indicator", "version", name=op.f("uq_figure_round_id")),
    )
    with op.batch_alter_table("figure", schema=None) as batch_op:
        batch_op.create_index("ix_figure_current", ["round_id", "state_code", "current"], unique=False)

    op.create_table(
        "figure_draft",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_figure_draft_member_id_member"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["round.id"], name=op.f("fk_figure_draft_round_id_round"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("member_id", "round_id", name=op.f("pk_figure_draft")),
    )
    op.create_table(
        "reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("relay_id", sa.Integer(), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("step", sa.String(length=24), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"], name=op.f("fk_reminder_meeting_id_meeting"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_reminder_member_id_member"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"], name=op.f("fk_reminder_outbox_id_outbox")),
        sa.ForeignKeyConstraint(
            ["relay_id"], ["relay.id"], name=op.f("fk_reminder_relay_id_relay"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["round.id"], name=op.f("fk_reminder_round_id_round"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder")),
        sa.UniqueConstraint("key", name=op.f("uq_reminder_key")),
    )
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.create_index("ix_reminder_due", ["status", "due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_reminder_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reminder_round_id"), ["round_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reminder_round_id"))
        batch_op.drop_index(batch_op.f("ix_reminder_member_id"))
        batch_op.drop_index("ix_reminder_due")

    op.drop_table("reminder")
    op.drop_table("figure_draft")
    with op.batch_alter_table("figure", schema=None) as batch_op:
        batch_op.drop_index("ix_figure_current")

    op.drop_table("figure")
    op.drop_table("round")
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_starts_at"))

    op.drop_table("meeting")
