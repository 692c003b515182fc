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


async def test_directory_migration_backfills_existing_members(empty_db: Database) -> None:
    """Members created before 0002 become searchable, and national contacts get the npc function."""
    from sqlalchemy import text

    async with empty_db.engine.begin() as conn:
        await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "0001"))
        await conn.execute(
            text(
                "INSERT INTO state (code, name_en, name_es, name_pt, name_fr, aliases, timezones, default_timezone,"
                " is_member) VALUES ('MX', 'Mexico', 'México', 'México', 'Mexique', '[]', '[]', 'America/Mexico_City',"
                " true)"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO member (display_name, role, state_code, institution, active, created_at, updated_at)"
                " VALUES ('José Núñez', 'contact', 'MX', 'Fiscalía', true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),"
                " ('Eva Ortiz', 'official', 'MX', NULL, true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
    await empty_db.upgrade()
    async with empty_db.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT display_name, search_key, function FROM member ORDER BY id"))).all()
    assert [tuple(r) for r in rows] == [
        ("José Núñez", "jose nunez fiscalia", "npc"),
        ("Eva Ortiz", "eva ortiz", "other"),
    ]
