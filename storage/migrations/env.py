"""Alembic environment. pocnet runs migrations in-process (``pocnet db upgrade``), handing Alembic an
open connection; there is no alembic.ini. For a new revision: see README, "Adding a migration"."""

from __future__ import annotations

from alembic import context

from storage.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only via the Alembic CLI, which pocnet does not use
    raise RuntimeError("run migrations through `pocnet db upgrade`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
