"""Directory re-confirmation and the Secretariat's weekly digest, on both backends, with a controllable
clock: who is asked and when, asked again only a period later, skipped once they confirm; the digest's
rounds, failed deliveries, lapsed entries and meetings, at 09:00 on Monday in the reader's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.config import RemindersSection
from bot.delivery.render import render
from reminders.reconfirm import lapsed
from reminders.settings import configure
from storage import catalogue, directory, figures, meetings, outbox, sample
from storage.access import Actor
from storage.db import Database
from storage.figures import Entry
from storage.models import Member, OutboxItem, Reminder
from tests.fakes.schedule import fire_due, plan

SYSTEM = Actor.system("test")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # a Tuesday


@pytest.fixture(autouse=True)
def default_settings() -> None:
    configure(RemindersSection())


async def _contact(db: Database, state: str) -> Member:
    async with db.transaction() as session:
        member = await session.scalar(select(Member).where(Member.state_code == state, Member.function == "npc"))
        assert member is not None
        return member


async def _seed(db: Database) -> None:
    """Every entry confirmed on 1 November 2026, except Mexico's contact: last confirmed in January."""
    async with db.transaction() as session:
        await sample.seed(session, platform="console")
        for member in await session.scalars(select(Member)):
            member.last_confirmed_at = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
            member.created_at = datetime(2026, 1, 1, tzinfo=UTC)
        mexico = await session.scalar(select(Member).where(Member.state_code == "MX", Member.function == "npc"))
        assert mexico is not None
        mexico.last_confirmed_at = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


async def _reconfirm_rows(db: Database, member_id: int) -> list[tuple[str, datetime, str | None]]:
    async with db.transaction() as session:
        rows = await session.scalars(
            select(Reminder).where(Reminder.kind == "reconfirm", Reminder.member_id == member_id).order_by(Reminder.id)
        )
        return [(r.status, r.due_at, r.note) for r in rows]


async def test_a_lapsed_entry_is_asked_at_nine_then_again_only_a_period_later(db: Database) -> None:
    await _seed(db)
    await plan(db, NOW, only=("reconfirm",))
    await plan(db, NOW + timedelta(hours=1), only=("reconfirm",))  # twice: still one question each
    mexico, colombia = await _contact(db, "MX"), await _contact(db, "CO")
    assert await _reconfirm_rows(db, mexico.id) == [("planned", datetime(2026, 12, 1, 15, 0, tzinfo=UTC), None)]
    # 180 days after 1 November is Friday 30 April 2027; 09:00 in Bogotá
    assert await _reconfirm_rows(db, colombia.id) == [("planned", datetime(2027, 4, 30, 14, 0, tzinfo=UTC), None)]

    assert await fire_due(db, datetime(2026, 12, 1, 14, 59, tzinfo=UTC), kinds=("reconfirm",)) == []
    queued = await fire_due(db, datetime(2026, 12, 1, 15, 0, tzinfo=UTC), kinds=("reconfirm",))
    assert [q.member_id for q in queued] == [mexico.id]
    message = render(queued[0], "en")
    assert message.text.startswith("Is your directory entry still correct? It was last confirmed on Jan 5, 2026")
    assert f"{mexico.display_name} (#{mexico.id}) · MX" in message.text and "npc.mx@example.org" in message.text
    assert message.buttons == (("Confirm", "/confirm"), ("Edit", "/myentry"))
    assert "¿Sigue siendo correcta" in render(queued[0], "es").text
    # unanswered: asked again 180 days later (Sunday 30 May 2027 → Monday 31 May, 09:00 in Mexico City)
    rows = await _reconfirm_rows(db, mexico.id)
    assert rows[0][0] == "sent" and rows[1] == ("planned", datetime(2027, 5, 31, 15, 0, tzinfo=UTC), None)
    later = await fire_due(db, datetime(2027, 5, 31, 14, 59, tzinfo=UTC), kinds=("reconfirm",))
    assert mexico.id not in {q.member_id for q in later} and colombia.id in {q.member_id for q in later}
    await plan(db, datetime(2026, 12, 2, tzinfo=UTC), only=("reconfirm",))
    assert len(await _reconfirm_rows(db, mexico.id)) == 2  # the planner agrees with the firing
    # (the firing above ran "in the future"; back to December for Mexico's answer)

    # Mexico confirms on 2 December: the pending question is withdrawn, the next one is 180 days on
    async with db.transaction() as session:
        member = await session.get(Member, mexico.id)
        assert member is not None
        await directory.confirm(session, SYSTEM, member, now=datetime(2026, 12, 2, 16, 0, tzinfo=UTC))
    await plan(db, datetime(2026, 12, 3, tzinfo=UTC), only=("reconfirm",))
    rows = await _reconfirm_rows(db, mexico.id)
    assert rows[1] == ("skipped", datetime(2027, 5, 31, 15, 0, tzinfo=UTC), "confirmed since")
    # 180 days after 2 December 16:00 UTC is Monday 31 May, 10:00 in Mexico City: the next 09:00 is 1 June
    assert rows[2] == ("planned", datetime(2027, 6, 1, 15, 0, tzinfo=UTC), None)
    queued = await fire_due(db, datetime(2027, 6, 1, 15, 0, tzinfo=UTC), kinds=("reconfirm",))
    assert [q.member_id for q in queued].count(mexico.id) == 1  # asked once, not twice


async def test_states_whose_contacts_all_lapsed_are_named(db: Database) -> None:
    await _seed(db)
    async with db.transaction() as session:
        count, states = await lapsed(session, NOW)
        assert (count, states) == (1, ["MX"])  # Mexico's only contact; the rest confirmed in November
        count, states = await lapsed(session, datetime(2027, 6, 1, tzinfo=UTC))
        assert "AR" in states and "MX" in states and count > 35
        argentina = await session.scalar(select(Member).where(Member.state_code == "AR", Member.function == "npc"))
        assert argentina is not None
        await directory.confirm(session, SYSTEM, argentina, now=datetime(2027, 5, 1, tzinfo=UTC))
    async with db.transaction() as session:
        _, states = await lapsed(session, datetime(2027, 6, 1, tzinfo=UTC))
        assert "AR" not in states  # one contact of Argentina is current: the state is not flagged


async def test_the_weekly_digest_reaches_the_secretariat_on_monday_at_nine(db: Database) -> None:
    await _seed(db)
    async with db.transaction() as session:
        row = await figures.open_round(session, SYSTEM, catalogue.cached(), "2026", date(2027, 3, 31),
                                       states=["CO", "MX", "PE"])  # fmt: skip
        await figures.record(session, SYSTEM, row, "CO", [Entry(code, 0) for code in row.indicators])
        await meetings.add(session, SYSTEM, name="RANDOT V", starts_at=datetime(2026, 12, 15, 15, tzinfo=UTC),
                           timezone="America/Bogota", now=NOW)  # fmt: skip
        await meetings.add(session, SYSTEM, name="Far away", starts_at=datetime(2027, 6, 15, 15, tzinfo=UTC),
                           timezone="America/Bogota", now=NOW)  # fmt: skip
        desk = await session.scalar(select(Member).where(Member.display_name == "Secretariat Desk"))
        assert desk is not None
        failed = outbox.enqueue(session, outbox.recipients_of(desk)[0], "x", kind="relay")
        failed.status, failed.created_at = outbox.FAILED, datetime(2026, 12, 5, tzinfo=UTC)
        old = outbox.enqueue(session, outbox.recipients_of(desk)[0], "x", kind="relay")
        old.status, old.created_at = outbox.FAILED, NOW - timedelta(days=30)
    await plan(db, NOW, only=("digest",))
    await plan(db, NOW, only=("digest",))
    async with db.transaction() as session:
        rows = list(await session.scalars(select(Reminder).where(Reminder.kind == "digest")))
    monday = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)  # 09:00 in New York (EST)
    assert [(r.member_id, r.due_at) for r in rows] == [(desk.id, monday)]

    assert await fire_due(db, monday - timedelta(minutes=1), kinds=("digest",)) == []
    queued = await fire_due(db, monday, kinds=("digest",))
    assert [q.member_id for q in queued] == [desk.id]
    text = render(queued[0], "en").text
    assert text.startswith("Weekly digest for the Secretariat, December 7, 2026")
    assert "2026 (deadline Mar 31, 2027): 2 of 3 states still owe figures — MX, PE" in text
    assert "Failed deliveries in the past 7 days: 1 (relay: 1)" in text
    assert "Entries not confirmed for 180 days: 1" in text and "States whose contacts have all lapsed: MX" in text
    assert "#1 RANDOT V: Tuesday, December 15, 2026, 10:00 (America/New_York)" in text and "Far away" not in text
    assert "Resumen semanal para la Secretaría" in render(queued[0], "es").text
    # the next one is planned for the Monday after; after downtime only the latest is sent
    queued = await fire_due(db, datetime(2026, 12, 29, tzinfo=UTC), kinds=("digest",))
    assert len(queued) == 1
    async with db.transaction() as session:
        planned = list(await session.scalars(select(Reminder).where(Reminder.kind == "digest",
                                                                     Reminder.status == "planned")))  # fmt: skip
        assert [r.due_at for r in planned] == [datetime(2027, 1, 4, 14, 0, tzinfo=UTC)]
        assert await session.scalar(select(func.count(OutboxItem.id)).where(OutboxItem.kind == "digest")) == 2


async def test_confirming_before_the_question_moves_it_a_period_on_without_replanning(db: Database) -> None:
    await _seed(db)
    await plan(db, NOW, only=("reconfirm",))
    colombia = await _contact(db, "CO")
    async with db.transaction() as session:
        member = await session.get(Member, colombia.id)
        assert member is not None
        await directory.confirm(session, SYSTEM, member, now=datetime(2027, 4, 1, 12, 0, tzinfo=UTC))
    queued = await fire_due(db, datetime(2027, 4, 30, 14, 0, tzinfo=UTC), kinds=("reconfirm",))
    assert colombia.id not in {q.member_id for q in queued}
    assert await _reconfirm_rows(db, colombia.id) == [
        ("skipped", datetime(2027, 4, 30, 14, 0, tzinfo=UTC), "confirmed since"),
        ("planned", datetime(2027, 9, 28, 14, 0, tzinfo=UTC), None),  # 180 days after 1 April, 09:00 in Bogotá
    ]
    await plan(db, datetime(2027, 5, 1, tzinfo=UTC), only=("reconfirm",))
    assert len(await _reconfirm_rows(db, colombia.id)) == 2  # the planner agrees
