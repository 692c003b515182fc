"""The directory snapshot that lookups read: same answers as the data, refreshed after every change."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import text

from storage import members, readmodel
from storage.access import Actor, Role
from storage.db import Database

CLI = Actor.system("cli:test")


async def _people(db: Database) -> dict[str, int]:
    ids = {}
    async with db.transaction() as session:
        for name, function, competences in [
            ("Zoe Npc", "npc", ["general"]),
            ("Ana Police", "police", ["firearms"]),
            ("Beto Fiu", "fiu", ["aml", "firearms"]),
            ("Carla Other", "other", []),
        ]:
            m = await members.create(session, CLI, display_name=name, role=Role.OFFICIAL, state_code="PA",
                                     function=function, competences=competences)  # fmt: skip
            ids[name] = m.id
    return ids


async def test_whois_ranks_topic_first_then_function_then_name(db: Database) -> None:
    await _people(db)
    view = await readmodel.ReadModel(db.sessions).current()
    everyone = view.whois("PA", None)
    assert [e.display_name for e in everyone.members] == ["Zoe Npc", "Beto Fiu", "Ana Police", "Carla Other"]
    firearms = view.whois("PA", "firearms", limit=3)
    assert [e.display_name for e in firearms.members] == ["Beto Fiu", "Ana Police", "Zoe Npc"]
    assert (firearms.total, firearms.matching) == (4, 2)
    assert view.whois("QQ", None).total == 0
    assert [e.display_name for e in view.find(["police", "firearms"])] == ["Ana Police"]
    assert [e.display_name for e in view.find(["UIF"])] == ["Beto Fiu"]  # a function's abbreviation
    pa = next(row for row in view.summary() if row.state.code == "PA")
    assert pa.contacts == 4 and pa.last_confirmed is None


async def test_changes_of_this_process_show_at_once(db: Database) -> None:
    ids = await _people(db)
    model = readmodel.ReadModel(db.sessions)
    assert (await model.current()).get_active(ids["Ana Police"]) is not None
    async with db.transaction() as session:
        await members.set_active(session, CLI, await members.get(session, ids["Ana Police"]), False)
    view = await model.current()
    assert view.get_active(ids["Ana Police"]) is None
    assert view.whois("PA", "firearms").members[0].display_name == "Beto Fiu"


async def test_a_rolled_back_change_leaves_the_snapshot_alone(db: Database) -> None:
    ids = await _people(db)
    model = readmodel.ReadModel(db.sessions)
    before = await model.current()
    try:
        async with db.transaction() as session:
            await members.update(session, CLI, await members.get(session, ids["Zoe Npc"]), display_name="Changed")
            raise RuntimeError("abort")
    except RuntimeError:
        pass
    assert await model.current() is before


async def test_changes_by_another_process_show_within_the_poll_interval(db: Database) -> None:
    ids = await _people(db)
    model = readmodel.ReadModel(db.sessions)
    assert (await model.current()).by_id[ids["Carla Other"]].display_name == "Carla Other"
    async with db.engine.begin() as conn:  # what another process would do: a change plus its audit row
        await conn.execute(
            text("UPDATE member SET display_name = 'Carla Renamed' WHERE id = :id"), {"id": ids["Carla Other"]}
        )
        await conn.execute(
            text("INSERT INTO audit_event (at, actor, action, subject_type, subject_id) "
                 "VALUES (CURRENT_TIMESTAMP, 'cli:other', 'member.update', 'member', :id)"),
            {"id": str(ids["Carla Other"])},
        )  # fmt: skip
    started = time.monotonic()  # the change shows within the poll interval (and a little for the machine)
    while (await model.current()).by_id[ids["Carla Other"]].display_name != "Carla Renamed":
        assert time.monotonic() - started < readmodel.POLL_SECONDS + 0.5, "the change did not show in time"
        await asyncio.sleep(0.02)
