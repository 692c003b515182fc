"""Planning round reminders (reminders/plan.py) on SQLite and PostgreSQL: the round's offsets and overdue
steps, at 09:00 on each member's own clock from UTC−10 to UTC−3 across daylight-saving changes, off
weekends and national holidays, idempotent, following a moved deadline, and cancelled once a state has
reported everything.

The round: deadline Tuesday 16 March 2027. Monday 15 March is Benito Juárez Day in Mexico (not in Colombia);
14 March is when the United States move their clocks forward; Chile moves its back on 4 April."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from reminders import plan
from storage import figures, sample
from storage.access import Actor
from storage.db import Database
from storage.models import Member, Reminder, Round

DEADLINE = date(2027, 3, 16)
OPENED = datetime(2027, 1, 4, 15, 0, tzinfo=UTC)
ZONES = {"US": "Pacific/Honolulu", "CL": "America/Santiago", "BR": "America/Sao_Paulo"}


def z(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def contact(session: AsyncSession, state: str) -> Member:
    found = await session.scalar(select(Member).where(Member.state_code == state, Member.role == "contact"))
    assert found is not None
    return found


async def setup(session: AsyncSession, **plan_options: object) -> Round:
    await sample.seed(session)
    for state, tz in ZONES.items():
        (await contact(session, state)).timezone = tz
    dana = await session.scalar(select(Member).where(Member.display_name == "Dana Whitfield"))
    assert dana is not None and dana.role == "official"
    dana.timezone = "America/New_York"
    row = Round(period="2026", deadline=DEADLINE, indicators=["mla", "extradition"],
                states=["MX", "CO", "US", "CL", "BR"], opened_by="test", opened_at=OPENED, **plan_options)  # fmt: skip
    session.add(row)
    await session.flush()
    return row


async def plan_of(
    session: AsyncSession, member: Member | int, status: str | None = plan.PLANNED
) -> dict[str, datetime]:
    member_id = member if isinstance(member, int) else member.id
    query = select(Reminder.step, Reminder.due_at).where(Reminder.member_id == member_id, Reminder.kind == plan.ROUND)
    if status is not None:
        query = query.where(Reminder.status == status)
    return dict((await session.execute(query)).all())  # type: ignore[arg-type]


async def test_offsets_then_overdue_at_nine_local_off_weekends_and_holidays(db: Database) -> None:
    async with db.transaction() as session:
        row = await setup(session)
        await plan.plan_round(session, row, OPENED)
    async with db.transaction() as session:
        mexico = await plan_of(session, await contact(session, "MX"))  # America/Mexico_City, UTC−6 all year
        assert mexico == {
            "d-30": z("2027-02-12 15:00"),  # Sunday 14 February → Friday 12
            "d-14": z("2027-03-02 15:00"),
            "d-7": z("2027-03-09 15:00"),
            "d-1": z("2027-03-12 15:00"),  # Monday 15 March is Benito Juárez Day → Friday 12
            "overdue-1": z("2027-03-23 15:00"),
            "overdue-2": z("2027-03-30 15:00"),
            "overdue-3": z("2027-04-06 15:00"),
            "overdue-4": z("2027-04-13 15:00"),
        }
        colombia = await plan_of(session, await contact(session, "CO"))  # UTC−5, no holiday on 15 March
        assert colombia["d-1"] == z("2027-03-15 14:00")
        # Mexico's officials are reminded too (Marisol Tapia, Héctor Ugalde, Rodrigo Salas), on the same plan
        officials = await session.scalars(select(Member).where(Member.state_code == "MX", Member.role == "official"))
        for official in officials:
            assert await plan_of(session, official) == mexico
        # a state outside the round's audience is not reminded
        assert await plan_of(session, await contact(session, "AR")) == {}


async def test_each_member_at_nine_on_their_own_clock_from_utc_minus_10_to_minus_3_across_dst(db: Database) -> None:
    async with db.transaction() as session:
        row = await setup(session)
        await plan.plan_round(session, row, OPENED)
    async with db.transaction() as session:
        honolulu = await plan_of(session, await contact(session, "US"))  # UTC−10, no daylight saving
        assert {due.hour for due in honolulu.values()} == {19}
        assert honolulu["d-30"] == z("2027-02-12 19:00")  # Presidents' Day (15 Feb) is not on the plan anyway
        sao_paulo = await plan_of(session, await contact(session, "BR"))  # UTC−3, no daylight saving
        assert {due.hour for due in sao_paulo.values()} == {12}
        dana = await session.scalar(select(Member.id).where(Member.display_name == "Dana Whitfield"))
        assert dana is not None
        new_york = await plan_of(session, dana)  # clocks go forward on Sunday 14 March
        assert new_york["d-30"] == z("2027-02-12 14:00")  # 09:00 EST
        assert new_york["d-7"] == z("2027-03-09 14:00")  # still EST
        assert new_york["d-1"] == z("2027-03-15 13:00")  # 09:00 EDT
        santiago = await plan_of(session, await contact(session, "CL"))  # clocks go back on Sunday 4 April
        assert santiago["overdue-2"] == z("2027-03-30 12:00")  # 09:00 at UTC−3
        assert santiago["overdue-3"] == z("2027-04-06 13:00")  # 09:00 at UTC−4


async def test_overdue_reminders_move_to_the_next_working_day(db: Database) -> None:
    async with db.transaction() as session:
        row = await setup(session, overdue_every=5, overdue_limit=2, offsets=[7])
        await plan.plan_round(session, row, OPENED)
    async with db.transaction() as session:
        mexico = await plan_of(session, await contact(session, "MX"))
        colombia = await plan_of(session, await contact(session, "CO"))
    assert mexico == {"d-7": z("2027-03-09 15:00"), "overdue-1": z("2027-03-22 15:00"),  # Sunday 21 → Monday
                      "overdue-2": z("2027-03-26 15:00")}  # fmt: skip
    # Colombia: Monday 22 March is Saint Joseph's Day, Friday 26 March Good Friday
    assert colombia["overdue-1"] == z("2027-03-23 14:00")
    assert colombia["overdue-2"] == z("2027-03-29 14:00")


async def test_planning_is_idempotent_and_a_moved_deadline_moves_only_what_is_planned(db: Database) -> None:
    async with db.transaction() as session:
        row = await setup(session)
        first = await plan.plan_round(session, row, OPENED)
        again = await plan.plan_round(session, row, OPENED)
        total = await session.scalar(select(func.count(Reminder.id)).where(Reminder.kind == plan.ROUND))
    assert first.added == total and total > 0
    assert (again.added, again.moved, again.cancelled) == (0, 0, 0)
    async with db.transaction() as session:
        row = await figures.get_round(session, "2026")
        mx = await contact(session, "MX")
        sent = await session.scalar(select(Reminder).where(Reminder.key == plan.key_of(row.id, mx.id, "d-30")))
        assert sent is not None
        sent.status = plan.SENT
        await figures.move_deadline(session, Actor.system("test"), row, date(2027, 3, 23))
        moved = await plan.plan_round(session, row, OPENED)
    assert moved.added == 0 and moved.moved > 0
    async with db.transaction() as session:
        assert (await plan_of(session, mx, plan.SENT)) == {"d-30": z("2027-02-12 15:00")}  # sent: stays
        planned = await plan_of(session, mx)
        assert planned["d-14"] == z("2027-03-09 15:00")
        assert planned["d-1"] == z("2027-03-22 15:00")  # Monday 22 March is a working day in Mexico
        assert planned["overdue-1"] == z("2027-03-30 15:00")
        assert await session.scalar(select(func.count(Reminder.id)).where(Reminder.kind == plan.ROUND)) == total


async def test_a_state_that_reported_everything_is_no_longer_reminded(db: Database) -> None:
    async with db.transaction() as session:
        row = await setup(session)
        await plan.plan_round(session, row, OPENED)
        mx = await contact(session, "MX")
        await figures.record(session, Actor.of(mx), row, "MX", [figures.Entry("mla", 12)])
        partly = await plan.plan_all(session, OPENED)
        assert partly["2026"].cancelled == 0  # extradition is still missing
        await figures.record(session, Actor.of(mx), row, "MX", [figures.Entry("extradition", None)])  # n/a
        done = await plan.plan_all(session, OPENED)
    assert done["2026"].cancelled == 8 * 4  # the contact and three officials, eight steps each
    async with db.transaction() as session:
        assert await plan_of(session, mx) == {}
        assert set(await plan_of(session, mx, plan.CANCELLED)) == {"d-30", "d-14", "d-7", "d-1", "overdue-1",
                                                                  "overdue-2", "overdue-3", "overdue-4"}  # fmt: skip
        assert len(await plan_of(session, await contact(session, "CO"))) == 8


async def test_a_round_opened_late_skips_the_offsets_already_past_and_closing_cancels(db: Database) -> None:
    async with db.transaction() as session:
        row = await setup(session)
        row.opened_at = datetime(2027, 3, 5, tzinfo=UTC)
        await plan.plan_round(session, row, row.opened_at)
        assert set(await plan_of(session, await contact(session, "MX"))) == {
            "d-7", "d-1", "overdue-1", "overdue-2", "overdue-3", "overdue-4"
        }  # fmt: skip
        await figures.close_round(session, Actor.system("test"), row)
        await plan.plan_all(session, row.opened_at)
        assert await plan_of(session, await contact(session, "MX")) == {}
