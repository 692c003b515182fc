"""Two processes (two engines on one database) editing the same entry: the second edit of a stale read
fails with Conflict instead of undoing the first; an older CSV cannot revert a newer edit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from storage import exchange, members
from storage.access import Actor, Role
from storage.db import Database
from storage.models import Member
from storage.text import fold

CLI = Actor.system("cli:test")


@pytest.fixture
async def other(db: Database) -> AsyncIterator[Database]:
    """A second process's view of the same database: its own engine and connections."""
    second = Database.from_url(db.engine.url.render_as_string(hide_password=False), schema=db.schema)
    yield second
    await second.dispose()


async def _entry(db: Database) -> int:
    async with db.transaction() as session:
        member = await members.create(session, CLI, display_name="Ana Ruiz", role=Role.CONTACT, state_code="PE")
        return member.id


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"institution": "Fiscalía"}, {"display_name": "Ana María Ruiz"}),
        ({"competences": ["aml"]}, {"competences": ["tip"]}),
    ],
)
async def test_an_edit_based_on_a_stale_read_is_refused(
    db: Database, other: Database, first: dict[str, object], second: dict[str, object]
) -> None:
    member_id = await _entry(db)
    with pytest.raises(members.Conflict):
        async with other.transaction() as late:
            stale = await members.get(late, member_id)  # read before the other process's edit
            async with db.transaction() as early:
                await members.update(early, CLI, await members.get(early, member_id), **first)
            await members.update(late, CLI, stale, **second)
    async with db.transaction() as session:
        kept = await members.get(session, member_id)
        assert kept.version == 2 and kept.display_name == "Ana Ruiz"
        assert kept.competences == first.get("competences", []) and kept.institution == first.get("institution")


async def _edit(database: Database, member_id: int, **changes: object) -> str:
    try:
        async with database.transaction() as session:
            await members.update(session, CLI, await members.get(session, member_id), **changes)
        return "ok"
    except members.Conflict:
        return "conflict"


async def test_simultaneous_edits_never_leave_a_stale_search_key(db: Database, other: Database) -> None:
    for trial in range(10):
        member_id = await _entry(db)
        outcomes = await asyncio.gather(
            _edit(db, member_id, display_name=f"Name {trial}"),
            _edit(other, member_id, institution=f"Institution {trial}"),
        )
        assert "ok" in outcomes
        async with db.transaction() as session:
            member = await session.get(Member, member_id)
            assert member is not None
            assert member.search_key == fold(f"{member.display_name} {member.institution or ''}")
            assert member.version == 1 + outcomes.count("ok")


async def test_importing_an_older_export_cannot_revert_a_newer_edit(db: Database) -> None:
    member_id = await _entry(db)
    async with db.transaction() as session:
        old_export = await exchange.export_csv(session)
        await members.update(session, CLI, await members.get(session, member_id), institution="Fiscalía")
    edited = old_export.replace(b"Ana Ruiz", b"Ana R. Ruiz")
    with pytest.raises(exchange.ImportRejected) as rejected:
        async with db.transaction() as session:
            await exchange.import_csv(session, CLI, edited)
    assert "changed in the directory after this file was exported (version 1 in the file, 2 now)" in (
        rejected.value.report()
    )
    async with db.transaction() as session:
        fresh = await exchange.export_csv(session)
        assert (await members.get(session, member_id)).institution == "Fiscalía"
    report = await _import(db, fresh.replace(b"Ana Ruiz", b"Ana R. Ruiz"))  # a fresh export goes in
    assert report.updated == 1
    async with db.transaction() as session:
        member = await members.get(session, member_id)
        assert (member.display_name, member.institution, member.version) == ("Ana R. Ruiz", "Fiscalía", 3)


async def _import(db: Database, data: bytes) -> exchange.ImportReport:
    async with db.transaction() as session:
        return await exchange.import_csv(session, CLI, data)
