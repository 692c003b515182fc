"""Meeting reminders on both backends, with a controllable clock: who is reminded and when (their own
09:00, never on a weekend), planning twice plans once, what arrives (their zone and the meeting's, an
.ics parsed back), catch-up after downtime sends the latest only, and cancelling withdraws the rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from sqlalchemy import func, select

from bot.delivery.render import render
from reminders import meetings as meeting_reminders
from reminders.settings import configure, current
from storage import meetings, sample
from storage.access import Actor, Role
from storage.db import Database
from storage.errors import AccessDenied, InvalidInput
from storage.models import Meeting, Member, OutboxItem, Reminder, StoredFile
from tests.fakes.schedule import fire_due, plan

BOGOTA = "America/Bogota"
MEETINGS = ("meetings",)
NOW = datetime(2027, 4, 1, 12, 0, tzinfo=UTC)
STARTS = datetime(2027, 5, 10, 15, 0, tzinfo=UTC)  # Monday 10:00 in Bogotá, 09:00 in Mexico City, 12:00 in Brasília
DEADLINE = datetime(2027, 5, 1, 4, 59, tzinfo=UTC)  # Friday 30 April, 23:59 in Bogotá


@pytest.fixture(autouse=True)
def default_settings() -> None:
    from bot.config import RemindersSection

    configure(RemindersSection())


async def _setup(db: Database) -> int:
    async with db.transaction() as session:
        await sample.seed(session, platform="console")
        row = await meetings.add(
            session, Actor.system("test"), name="RANDOT V", starts_at=STARTS, timezone=BOGOTA, now=NOW,
            place="OAS HQ / https://meet.example.org/randot", registration_deadline=DEADLINE, states=["CO", "MX", "BR"],
        )  # fmt: skip
        return row.id


async def _member(db: Database, state: str, function: str = "npc") -> Member:
    async with db.transaction() as session:
        member = await session.scalar(select(Member).where(Member.state_code == state, Member.function == function))
        assert member is not None
        return member


async def _due(db: Database, member_id: int) -> dict[str, datetime]:
    async with db.transaction() as session:
        rows = await session.scalars(
            select(Reminder).where(Reminder.member_id == member_id, Reminder.meeting_id.is_not(None))
        )
        return {f"{r.kind}:{r.step}": r.due_at for r in rows if r.status == "planned"}


async def test_each_member_is_reminded_at_nine_their_time_never_on_a_weekend(db: Database) -> None:
    await _setup(db)
    await plan(db, NOW, only=MEETINGS)
    colombia, brazil, mexico = await _member(db, "CO"), await _member(db, "BR"), await _member(db, "MX")
    assert await _due(db, colombia.id) == {
        "meeting:d-7": datetime(2027, 5, 3, 14, 0, tzinfo=UTC),  # Monday 3 May, 09:00 in Bogotá (UTC−5)
        "meeting:d-1": datetime(2027, 5, 7, 14, 0, tzinfo=UTC),  # the Sunday before → Friday 7 May
        "registration:d-7": datetime(2027, 4, 23, 14, 0, tzinfo=UTC),
        "registration:d-1": datetime(2027, 4, 29, 14, 0, tzinfo=UTC),
    }
    assert (await _due(db, brazil.id))["meeting:d-1"] == datetime(2027, 5, 7, 12, 0, tzinfo=UTC)  # 09:00 UTC−3
    assert (await _due(db, mexico.id))["meeting:d-1"] == datetime(2027, 5, 7, 15, 0, tzinfo=UTC)  # 09:00 UTC−6
    argentina = await _member(db, "AR")
    assert await _due(db, argentina.id) == {}  # not in the audience
    async with db.transaction() as session:
        desk = await session.scalar(select(Member).where(Member.role == Role.SECRETARIAT))
        assert desk is not None
        officials = await session.scalar(
            select(func.count(Reminder.id))
            .join(Member, Member.id == Reminder.member_id)
            .where(Member.role == "official")
        )
    assert len(await _due(db, desk.id)) == 4 and officials  # the Secretariat and officials are reminded too


async def test_planning_twice_plans_once_and_a_changed_zone_moves_the_plan(db: Database) -> None:
    await _setup(db)
    await plan(db, NOW, only=MEETINGS)
    async with db.transaction() as session:
        first = await session.scalar(select(func.count(Reminder.id)))
    await plan(db, NOW + timedelta(days=1), only=MEETINGS)
    colombia = await _member(db, "CO")
    async with db.transaction() as session:
        assert await session.scalar(select(func.count(Reminder.id))) == first
        row = await session.get(Member, colombia.id)
        assert row is not None
        row.timezone = "America/Sao_Paulo"
    await plan(db, NOW + timedelta(days=2), only=MEETINGS)
    assert (await _due(db, colombia.id))["meeting:d-7"] == datetime(2027, 5, 3, 12, 0, tzinfo=UTC)
    async with db.transaction() as session:
        assert await session.scalar(select(func.count(Reminder.id))) == first


async def test_a_reminder_arrives_with_both_zones_and_a_calendar_file(db: Database) -> None:
    number = await _setup(db)
    await plan(db, NOW, only=MEETINGS)
    mexico = await _member(db, "MX")
    queued = await fire_due(db, datetime(2027, 4, 23, 15, 0, tzinfo=UTC))  # registration d-7 for MX and CO
    mine = [q for q in queued if q.member_id == mexico.id]
    assert len(mine) == 1 and mine[0].kind == "registration" and mine[0].file_id is not None
    async with db.transaction() as session:
        file = await session.get(StoredFile, mine[0].file_id)
        meeting = await session.get(Meeting, number)
        assert file is not None and meeting is not None
        sent = await session.scalar(select(Reminder).where(Reminder.outbox_id == mine[0].id))
        assert sent is not None and sent.status == "sent" and sent.decided_at is not None
    english = render(mine[0], "en", file).text
    assert "registration for meeting #1, “RANDOT V”, closes Friday, April 30, 2027, 22:59 your time" in english
    assert "Monday, May 10, 2027, 09:00 your time (America/Mexico_City)" in english
    assert "Monday, May 10, 2027, 10:00 in America/Bogota" in english
    spanish = render(mine[0], "es", file)
    assert "lunes, 10 de mayo de 2027" in spanish.text and spanish.attachment is not None
    assert spanish.attachment.mime_type == "text/calendar"

    calendar = icalendar.Calendar.from_ical(file.content)
    assert str(calendar["METHOD"]) == "PUBLISH"
    event = next(iter(calendar.walk("VEVENT")))
    assert event.decoded("DTSTART") == STARTS
    assert event.decoded("DTEND") == STARTS + timedelta(hours=2)
    assert str(event["SUMMARY"]) == "RANDOT V"
    assert str(event["UID"]) == meeting_reminders.uid(meeting)
    assert str(event["URL"]) == "https://meet.example.org/randot"
    assert "OAS HQ" in str(event["LOCATION"])


async def test_after_downtime_only_the_latest_reminder_is_sent_and_none_too_late(db: Database) -> None:
    await _setup(db)
    await plan(db, NOW, only=MEETINGS)
    colombia = await _member(db, "CO")
    # down from 20 April to 1 May 06:00 UTC: both registration reminders came due; the deadline has passed
    queued = await fire_due(db, datetime(2027, 5, 1, 6, 0, tzinfo=UTC))
    assert not [q for q in queued if q.member_id == colombia.id]
    async with db.transaction() as session:
        notes = {
            r.step: (r.status, r.note)
            for r in await session.scalars(
                select(Reminder).where(Reminder.member_id == colombia.id, Reminder.kind == "registration")
            )
        }
    assert notes == {"d-7": ("skipped", "superseded"), "d-1": ("skipped", "too late")}
    # down again until the eve of the meeting: "in 7 days" is superseded by "tomorrow"
    queued = await fire_due(db, datetime(2027, 5, 7, 20, 0, tzinfo=UTC))
    mine = [q for q in queued if q.member_id == colombia.id]
    assert [q.params["step"] for q in mine] == ["d-1"]
    assert await fire_due(db, datetime(2027, 5, 7, 21, 0, tzinfo=UTC)) == []  # never twice


async def test_cancelling_withdraws_the_plan_and_tells_those_already_reminded(db: Database) -> None:
    number = await _setup(db)
    await plan(db, NOW, only=MEETINGS)
    first = await fire_due(db, datetime(2027, 4, 23, 23, 0, tzinfo=UTC))  # registration d-7, everyone
    async with db.transaction() as session:
        meeting = await session.get(Meeting, number)
        assert meeting is not None
        with pytest.raises(AccessDenied):
            await meetings.cancel(session, Actor(Role.CONTACT, "CO", 1), meeting, NOW)
    async with db.transaction() as session:
        meeting = await session.get(Meeting, number)
        assert meeting is not None
        withdrawn = await meetings.cancel(session, Actor.system("test"), meeting, datetime(2027, 4, 24, tzinfo=UTC))
        told = await meeting_reminders.tell_cancelled(session, meeting)
        assert told == len({q.member_id for q in first}) > 0
        planned = await session.scalar(select(func.count(Reminder.id)).where(Reminder.status == "planned"))
        notices = list(await session.scalars(select(OutboxItem).where(OutboxItem.kind == "meeting_cancelled")))
        file = await session.get(StoredFile, notices[0].file_id)
    assert withdrawn > 0 and planned == 0
    assert await fire_due(db, datetime(2027, 5, 9, tzinfo=UTC)) == []
    assert "is cancelled" in render(notices[0], "en", file).text
    assert file is not None
    calendar = icalendar.Calendar.from_ical(file.content)
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(next(iter(calendar.walk("VEVENT")))["STATUS"]) == "CANCELLED"
    await plan(db, datetime(2027, 4, 25, tzinfo=UTC), only=MEETINGS)
    async with db.transaction() as session:
        assert await session.scalar(select(func.count(Reminder.id)).where(Reminder.status == "planned")) == 0


async def test_meetings_are_checked_and_only_the_secretariat_records_them(db: Database) -> None:
    async with db.transaction() as session:
        with pytest.raises(AccessDenied):
            await meetings.add(session, Actor(Role.CONTACT, "CO", 1), name="X", starts_at=STARTS, timezone=BOGOTA,
                               now=NOW)  # fmt: skip
        with pytest.raises(InvalidInput):
            await meetings.add(session, Actor.system("t"), name="X", starts_at=NOW - timedelta(days=1),
                               timezone=BOGOTA, now=NOW)  # fmt: skip
        with pytest.raises(InvalidInput):
            await meetings.add(session, Actor.system("t"), name="X", starts_at=STARTS, timezone=BOGOTA, now=NOW,
                               registration_deadline=STARTS + timedelta(days=1))  # fmt: skip
        with pytest.raises(InvalidInput):
            await meetings.add(session, Actor.system("t"), name="X", starts_at=STARTS, timezone=BOGOTA, now=NOW,
                               states=["ZZ"])  # fmt: skip


async def test_offsets_come_from_the_settings(db: Database) -> None:
    from bot.config import RemindersSection

    configure(RemindersSection(meeting_days=[3], registration_days=[], local_hour=8))
    assert current().meeting_days == [3]
    await _setup(db)
    await plan(db, NOW, only=MEETINGS)
    colombia = await _member(db, "CO")
    assert await _due(db, colombia.id) == {"meeting:d-3": datetime(2027, 5, 7, 13, 0, tzinfo=UTC)}
