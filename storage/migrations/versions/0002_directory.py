"""directory entries: function, languages, hours, channels, competences

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 18:23:28.617963
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "member_competence",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("competence", sa.String(length=24), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_member_competence_member_id_member"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("member_id", "competence", name=op.f("pk_member_competence")),
    )
    with op.batch_alter_table("member_competence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_competence_competence"), ["competence"], unique=False)

    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("function", sa.String(length=24), server_default="other", nullable=False))
        batch_op.add_column(sa.Column("languages", sa.JSON(), server_default="[]", nullable=False))
        batch_op.add_column(sa.Column("office_hours", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("phone", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("search_key", sa.Text(), server_default="", nullable=False))
        batch_op.create_index("ix_member_state_active", ["state_code", "active"], unique=False)

    # Existing members: searchable by name/institution; national contacts are their state's point of contact.
    from storage.text import fold

    member = sa.table(
        "member",
        sa.column("id", sa.Integer),
        sa.column("display_name", sa.String),
        sa.column("institution", sa.String),
        sa.column("role", sa.String),
        sa.column("search_key", sa.Text),
        sa.column("function", sa.String),
    )
    conn = op.get_bind()
    for row in conn.execute(sa.select(member.c.id, member.c.display_name, member.c.institution, member.c.role)):
        conn.execute(
            member.update()
            .where(member.c.id == row.id)
            .values(
                search_key=fold(f"{row.display_name} {row.institution or ''}"),
                function="npc" if row.role == "contact" else "other",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_index("ix_member_state_active")
        batch_op.drop_column("search_key")
        batch_op.drop_column("verified_at")
        batch_op.drop_column("phone")
        batch_op.drop_column("email")
        batch_op.drop_column("office_hours")
        batch_op.drop_column("languages")
        batch_op.drop_column("function")

    with op.batch_alter_table("member_competence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_competence_competence"))

    op.drop_table("member_competence")
