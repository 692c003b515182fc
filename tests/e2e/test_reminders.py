"""Round reminders end to end, with a controllable clock: the bot, the fake chat, and a round of 2026 figures
due on Tuesday 16 March 2027 for Mexico, Colombia and the United States (whose contact works from Honolulu).

The scheduler's own timer is off (``timer = False``) except in the last test; the tests move the clock
and call ``fire()`` as the timer would, and read what members received."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.app import App
from reminders import plan, rounds
from reminders.scheduler import ReminderScheduler, claim
from storage import figures, sample
from storage.access import Actor
from storage.db import Database
from storage.models import AuditEvent, Member, OutboxItem, Reminder, Round
from storage.types import utcnow
from tests.conftest import make_settings
from tests.fakes.chat import ChatPlatform

OPENED = datetime(2027, 1, 4, 15, 0, tzinfo=UTC)
D30 = datetime(2027, 2, 12, 15, 0, tzinfo=UTC)  # Friday 09:00 in Mexico City (Sunday 14 Feb → Friday)
D7 = datetime(2027, 3, 9, 15, 0, tzinfo=UTC)


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


async def contact(db: Database, state: str) -> Member:
    async with db.transaction() as session:
        found = await session.scalar(select(Member).where(Member.state_code == state, Member.role == "contact"))
        assert found is not None
        return found


async def start_app(db: Database, chat: ChatPlatform, clock: Clock) -> App:
    app = App(make_settings(db.engine.url.render_as_string(hide_password=False)), db, [chat], now=clock)
    app.reminders.timer = False
    await app.start()
    chat.idle = app.idle
    return app


@pytest.fixture
async def network(db: Database) -> AsyncIterator[tuple[App, ChatPlatform, Clock]]:
    async with db.transaction() as session:
        await sample.seed(session, platform="console")
        mexico = await session.scalar(select(Member).where(Member.state_code == "MX", Member.role == "contact"))
        us = await session.scalar(select(Member).where(Member.state_code == "US", Member.role == "contact"))
        assert mexico is not None and us is not None
        mexico.language = "es"
        us.timezone = "Pacific/Honolulu"
        session.add(Round(period="2026", deadline=date(2027, 3, 16), indicators=["mla", "extradition"],
                          states=["MX", "CO", "US"], opened_by="test", opened_at=OPENED))  # fmt: skip
    clock = Clock(OPENED)
    chat = ChatPlatform("console")
    app = await start_app(db, chat, clock)
    holder = [app]
    chat.app = holder  # type: ignore[attr-defined]
    yield app, chat, clock
    await holder[0].stop()


async def outbox_rows(db: Database, member: Member) -> int:
    async with db.transaction() as session:
        return int(
            await session.scalar(
                select(func.count(OutboxItem.id)).where(
                    OutboxItem.member_id == member.id, OutboxItem.kind == "reminder"
                )
            )
            or 0
        )


async def next_round_due(db: Database) -> datetime | None:
    """The earliest planned round reminder (the scheduler also plans the Secretariat's digest and others)."""
    async with db.transaction() as session:
        return await session.scalar(
            select(func.min(Reminder.due_at)).where(Reminder.status == plan.PLANNED, Reminder.kind == plan.ROUND)
        )


async def rounds_decided(db: Database) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(
            select(func.count(Reminder.id)).where(Reminder.status != plan.PLANNED, Reminder.kind == plan.ROUND)
        ) or 0)  # fmt: skip


async def statuses(db: Database, member: Member) -> dict[str, str]:
    async with db.transaction() as session:
        rows = await session.execute(
            select(Reminder.step, Reminder.status).where(Reminder.member_id == member.id, Reminder.kind == plan.ROUND)
        )
        return dict(rows.all())  # type: ignore[arg-type]


async def test_start_up_plans_and_a_due_reminder_says_what_is_missing_in_the_members_language(
    network: tuple[App, ChatPlatform, Clock], db: Database
) -> None:
    app, chat, clock = network
    first = await next_round_due(db)
    assert first == D30 - timedelta(hours=1)  # Colombia (UTC−5) is first: 09:00 there
    assert app.reminders.next_due is not None and app.reminders.next_due <= first  # armed for it (or earlier)
    clock.moment = D30
    # Mexico's and Colombia's contacts are sent one; the officials of MX, CO and US (New York: 14:00 UTC) are
    # decided too, but have no chat account; Honolulu (19:00 UTC) is not due yet
    assert await app.reminders.fire() >= 2 + 5  # and the Secretariat's Monday digest
    assert await rounds_decided(db) == 2 + 5
    await app.idle()
    spanish = chat.last("MX")
    assert "Recordatorio: las cifras de México para 2026 vencen el 16 de marzo de 2027, dentro de 32 días." in spanish
    assert "Asistencia judicial recíproca (mla), Extradición (extradition)" in spanish
    assert "/report 2026 mla= extradition=" in spanish
    english = chat.last("CO")
    assert "the figures of Colombia for 2026 are due on March 16, 2027, in 32 days." in english
    assert "Still missing: Mutual legal assistance (mla), Extradition (extradition)." in english
    assert "/report 2026 mla= extradition=" in english and "/snooze 2026 7" in english
    assert chat.received("US") == []
    assert await app.reminders.fire() == 0  # once
    mexico = await contact(app.db, "MX")
    assert (await statuses(app.db, mexico))["d-30"] == plan.SENT
    # Mexico's officials have no chat account: decided (skipped), not sent nowhere
    async with app.db.transaction() as session:
        notes = set(await session.scalars(select(Reminder.note).where(Reminder.status == plan.SKIPPED)))
    assert notes == {"no chat account"}


async def test_after_downtime_only_the_latest_due_reminder_is_sent(
    network: tuple[App, ChatPlatform, Clock], db: Database
) -> None:
    app, chat, clock = network
    await app.stop()
    clock.moment = D7 + timedelta(days=1)  # down from 4 January to 10 March: d-30, d-14 and d-7 came due
    app = await start_app(db, chat, clock)
    chat.app[0] = app  # type: ignore[attr-defined]
    await app.reminders.fire()
    await app.idle()
    mexico = await contact(db, "MX")
    assert await outbox_rows(db, mexico) == 1
    assert len(chat.received("MX")) == 1 and "dentro de 6 días" in chat.last("MX")  # the d-7 one, a day late
    found = await statuses(db, mexico)
    assert (found["d-30"], found["d-14"], found["d-7"], found["d-1"]) == (plan.SKIPPED, plan.SKIPPED, plan.SENT,
                                                                          plan.PLANNED)  # fmt: skip
    async with db.transaction() as session:
        superseded = await session.scalar(
            select(func.count(Reminder.id)).where(Reminder.member_id == mexico.id, Reminder.note == "superseded")
        )
    assert superseded == 2


async def test_a_crash_while_firing_sends_nothing_and_nothing_is_sent_twice(
    network: tuple[App, ChatPlatform, Clock], db: Database
) -> None:
    app, chat, clock = network
    clock.moment = D30
    mexico = await contact(db, "MX")

    class Crash(Exception):
        pass

    with pytest.raises(Crash):  # the process dies after queuing, before the commit
        async with db.transaction() as session:
            due = await claim(session, clock.moment, 100)
            await rounds.fire_due(session, [r for r in due if r.kind == plan.ROUND], clock.moment)
            await session.flush()
            assert await session.scalar(select(func.count(OutboxItem.id))) > 0
            raise Crash
    assert await outbox_rows(db, mexico) == 0
    assert (await statuses(db, mexico))["d-30"] == plan.PLANNED
    assert await app.reminders.fire() >= 7
    assert await rounds_decided(db) == 7
    other = ReminderScheduler(db, now=clock)  # a second instance, or this one restarted
    other.timer = False
    await other.start()
    try:
        assert other.running is (db.engine.dialect.name == "sqlite")  # PostgreSQL: the first one holds the lock
        assert await other.fire() == 0
    finally:
        await other.stop()
    await app.idle()
    assert await outbox_rows(db, mexico) == 1 and len(chat.received("MX")) == 1


async def test_a_submission_completing_a_states_figures_cancels_its_reminders(
    network: tuple[App, ChatPlatform, Clock], db: Database
) -> None:
    app, chat, clock = network
    assert "Recordatorios" in await chat.say("/reminders", user="MX")
    mexico = await contact(db, "MX")
    async with db.transaction() as session:
        row = await figures.get_round(session, "2026")
        await figures.record(session, Actor.of(mexico), row, "MX", [figures.Entry("mla", 4), figures.Entry("extradition", 0)])  # fmt: skip
    assert "No hay recordatorios previstos para usted." in await chat.say("/reminders", user="MX")
    answered = len(chat.received("MX"))
    clock.moment = D30
    await app.reminders.fire()
    await app.idle()
    assert len(chat.received("MX")) == answered and len(chat.received("CO")) == 1
    assert (await statuses(db, mexico))["d-30"] == plan.SKIPPED
    await app.reminders.replan()  # the planner also cancels the rest at once
    assert set((await statuses(db, mexico)).values()) == {plan.SKIPPED, plan.CANCELLED}


async def test_a_report_in_chat_that_completes_the_state_cancels_its_reminders_at_once(
    network: tuple[App, ChatPlatform, Clock], db: Database
) -> None:
    _app, chat, _clock = network
    mexico = await contact(db, "MX")
    assert set((await statuses(db, mexico)).values()) == {plan.PLANNED}
    await chat.say("/report 2026 mla=4", user="MX")
    assert "Se guardó 1 cifra de" in await chat.say("sí", user="MX")
    assert set((await statuses(db, mexico)).values()) == {plan.PLANNED}  # extradition still owed
    await chat.say("/report 2026 extradition=0", user="MX")
    assert "Se guardó 1 cifra de" in await chat.say("sí", user="MX")
    assert set((await statuses(db, mexico)).values()) == {plan.CANCELLED}  # in the transaction that stored it


async def test_reminders_lists_what_is_coming_in_your_own_zone(network: tuple[App, ChatPlatform, Clock]) -> None:
    _, chat, _ = network
    answer = await chat.say("/reminders", user="US")
    assert answer.startswith("Reminders coming for you:")
    assert "2026: figures due March 16, 2027; missing mla, extradition" in answer
    assert "Feb 12, 2027 09:00 (Pacific/Honolulu)" in answer and "Mar 15, 2027 09:00 (Pacific/Honolulu)" in answer
    assert "… and" not in answer  # eight steps: all shown
    assert "No reminders are planned for you." in await chat.say("/reminders", user="AR")  # not in the round
    assert "Usage: /reminders" in await chat.say("/reminders tomorrow", user="US")


async def test_snooze_postpones_a_members_reminders_and_is_audited(
    network: tuple[App, ChatPlatform, Clock], db: Database
) -> None:
    app, chat, _ = network
    answer = await chat.say("/snooze 2026 40", user="CO")  # until Saturday 13 February, 10:00 in Bogotá
    assert "No reminder of round 2026 until Feb 13, 2027 10:00 (America/Bogota)" in answer
    colombia = await contact(db, "CO")
    async with db.transaction() as session:
        first = await session.scalar(
            select(func.min(Reminder.due_at)).where(Reminder.member_id == colombia.id, Reminder.status == plan.PLANNED,
                                                    Reminder.kind == plan.ROUND)
        )  # fmt: skip
        assert first == datetime(2027, 2, 15, 14, 0, tzinfo=UTC)  # Monday 15 February, 09:00 in Bogotá
        event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "reminder.snooze"))
        assert event is not None and event.after is not None and event.after["days"] == 40
    assert "Feb 15, 2027 09:00 (America/Bogota)" in await chat.say("/reminders", user="CO")
    await app.reminders.replan(force=True)  # re-planning keeps the snooze
    async with db.transaction() as session:
        again = await session.scalar(
            select(func.min(Reminder.due_at)).where(Reminder.member_id == colombia.id, Reminder.status == plan.PLANNED,
                                                    Reminder.kind == plan.ROUND)
        )  # fmt: skip
    assert again == first
    assert "Usage: /snooze <round> <days>" in await chat.say("/snooze 2026", user="CO")
    assert "Usage: /snooze <round> <days>" in await chat.say("/snooze 2026 soon", user="CO")
    assert "Snooze for 1 to 90 days." in await chat.say("/snooze 2026 200", user="CO")
    assert "There is no reporting round for 1999." in await chat.say("/snooze 1999 3", user="CO")


async def test_reminders_all_summarises_every_planned_reminder_for_the_secretariat(
    network: tuple[App, ChatPlatform, Clock],
) -> None:
    _, chat, _ = network
    answer = await chat.say("/reminders all", user="secretariat")
    # Mexico: its contact and three officials; Colombia: contact and one official; United States: the same;
    # eight steps each
    assert "2026 (due March 16, 2027): 64 reminders planned for 8 members; 0 sent, 0 skipped" in answer
    assert "\nCO 16 · MX 32 · US 16" in answer
    assert "Next: Feb 12, 2027 09:00 (America/New_York)" in answer  # Dana Whitfield, in the reader's zone
    assert "You are not allowed to do that." in await chat.say("/reminders all", user="CO")


async def test_the_timer_sends_what_is_due_without_being_asked(db: Database) -> None:
    """On the real clock: a round whose first steps are already past; the armed job sends the latest."""
    today = utcnow().date()
    async with db.transaction() as session:
        await sample.seed(session, platform="console")
        session.add(Round(period="now", deadline=today + timedelta(days=10), indicators=["mla"], states=["MX"],
                          offsets=[20, 15], opened_by="test", opened_at=utcnow() - timedelta(days=30)))  # fmt: skip
    chat = ChatPlatform("console")
    app = App(make_settings(db.engine.url.render_as_string(hide_password=False)), db, [chat])
    await app.start()
    chat.idle = app.idle
    try:
        async with asyncio.timeout(20):
            while not chat.received("MX"):  # noqa: ASYNC110 - the delivery task appends to the list
                await asyncio.sleep(0.05)
        assert app.reminders.running
        assert "/report now mla=" in chat.last("MX")
        assert len(chat.received("MX")) == 1
        health = await app.status.report() if app.status is not None else None
        assert health is None or health["parts"]["reminders"]["scheduler running"] is True
    finally:
        await app.stop()


async def test_decisions_prepared_ahead_give_way_to_a_report_made_in_between(
    network: tuple[App, ChatPlatform, Clock], db: Database
) -> None:
    """The scheduler computes a firing's decisions shortly before it; a state that reports in between is not
    reminded with what was prepared, and the prepared decisions are what is sent to the others."""
    app, chat, _ = network
    async with db.transaction() as session:
        prepared = await rounds.prepare(session, await claim(session, D30, 100), D30)
    colombia, mexico = await contact(db, "CO"), await contact(db, "MX")
    assert sum(1 for _, item in prepared.decisions.values() if item is not None) == 2
    async with db.transaction() as session:
        row = await figures.get_round(session, "2026")
        await figures.record(session, Actor.of(mexico), row, "MX", [figures.Entry("mla", 1), figures.Entry("extradition", 2)])  # fmt: skip
    async with db.transaction() as session:
        sent = await rounds.fire_due(session, await claim(session, D30, 100), D30 + timedelta(seconds=1), prepared)
    assert [r.member_id for r in sent] == [colombia.id]
    assert (await statuses(db, mexico))["d-30"] == plan.SKIPPED
    await app.idle()
    assert "in 32 days" in chat.last("CO")


async def test_a_deadline_moved_from_elsewhere_moves_what_is_planned_at_the_next_check(
    network: tuple[App, ChatPlatform, Clock], db: Database
) -> None:
    """The deadline moved by another process (``pocnet round deadline``): the scheduler's check re-plans."""
    app, chat, clock = network
    clock.moment = D30
    await app.reminders.fire()  # d-30 sent to Mexico
    async with db.transaction() as session:
        row = await figures.get_round(session, "2026")
        await figures.move_deadline(session, Actor.system("test"), row, date(2027, 3, 30))
    await app.reminders.replan()  # what the check job does every minute
    mexico = await contact(db, "MX")
    async with db.transaction() as session:
        due = dict((await session.execute(
            select(Reminder.step, Reminder.due_at).where(Reminder.member_id == mexico.id, Reminder.kind == plan.ROUND)
        )).all())  # fmt: skip
    assert due["d-30"] == D30  # sent: stays
    assert due["d-1"] == datetime(2027, 3, 29, 15, 0, tzinfo=UTC)  # Monday 29 March, 09:00 in Mexico City
    assert "Mar 29, 2027 09:00 (America/Bogota)" in await chat.say("/reminders", user="CO")
    # the Honolulu contact's d-30 was not yet sent: it moved from 12 to Friday 26 February (Sunday 28 → Friday)
    assert await next_round_due(db) == datetime(2027, 2, 26, 19, 0, tzinfo=UTC)
