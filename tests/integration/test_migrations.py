"""Alembic owns the schema: migrations run on SQLite and PostgreSQL, and leave the reference data."""

from __future__ import annotations

from alembic import command
from sqlalchemy import func, inspect, select

from storage.db import Database, alembic_config, head_revision
from storage.models import State


async def test_upgrade_from_nothing_creates_schema_and_states(empty_db: Database) -> None:
    assert await empty_db.pending()
    assert await empty_db.current_revision() is None

    await empty_db.upgrade()

    assert await empty_db.current_revision() == head_revision()
    assert not await empty_db.pending()
    async with empty_db.engine.connect() as conn:
        tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    assert {"state", "member", "identity", "invite", "audit_event", "alembic_version"} <= tables
    async with empty_db.transaction() as session:
        assert await session.scalar(select(func.count(State.code))) == 35


async def test_upgrade_is_idempotent_and_downgrade_round_trips(empty_db: Database) -> None:
    await empty_db.upgrade()
    await empty_db.upgrade()  # a second run changes nothing and does not fail
    async with empty_db.transaction() as session:
        assert await session.scalar(select(func.count(State.code))) == 35

    async with empty_db.engine.begin() as conn:
        await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "base"))
    assert await empty_db.current_revision() is None
    async with empty_db.engine.connect() as conn:
        tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    assert "member" not in tables

    await empty_db.upgrade()
    assert not await empty_db.pending()


async def test_models_match_the_migrations(db: Database) -> None:
    """Alembic's autogenerate finds nothing to do: models and migrations describe the same schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from storage.models import Base

    def diff(conn):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with db.engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []
