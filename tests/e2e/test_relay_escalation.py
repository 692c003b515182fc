"""Urgent relays escalate to the state's alternate when not acknowledged within the recipient's working
time; away members are covered by their delegate. Driven by a controllable clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.app import App
from storage import members, sample
from storage.access import Actor
from storage.db import Database
from storage.models import AuditEvent, Member
from tests.conftest import make_settings
from tests.fakes.chat import ChatPlatform

MONDAY_4PM_BUENOS_AIRES = datetime(2026, 11, 30, 19, 0, tzinfo=UTC)


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
async def network(db: Database) -> AsyncIterator[tuple[App, ChatPlatform, Clock]]:
    async with db.transaction() as session:
        await sample.seed(session, platform="console")
        alternate = await session.scalar(
            select(Member).where(Member.state_code == "AR", Member.function == "alternate")
        )
        assert alternate is not None
        await members.link_identity(session, Actor.system("test"), alternate, platform="console", user_id="AR-alt",
                                    chat_id="console:AR-alt")  # fmt: skip
    clock = Clock(MONDAY_4PM_BUENOS_AIRES)
    chat = ChatPlatform("console")
    app = App(make_settings(db.engine.url.render_as_string(hide_password=False)), db, [chat], now=clock)
    await app.start()
    chat.idle = app.idle
    chat.app = app  # type: ignore[attr-defined]
    yield app, chat, clock
    await app.stop()


async def npc(app: App, state: str = "AR") -> int:
    async with app.db.transaction() as session:
        found = await session.scalar(select(Member.id).where(Member.state_code == state, Member.function == "npc"))
        assert found is not None
        return found


async def test_an_unacknowledged_urgent_relay_escalates_after_two_office_hours(
    network: tuple[App, ChatPlatform, Clock],
) -> None:
    app, chat, clock = network
    await chat.say(f"/relay @{await npc(app)} urgent Container MSKU123 arrives tomorrow", user="MX")
    clock.moment += timedelta(hours=2, minutes=30)  # 18:30 there: only one office hour has passed
    assert await app.escalator.check() == 0
    clock.moment = datetime(2026, 12, 1, 12, 59, tzinfo=UTC)  # Tuesday 09:59 there: 1 h 59 min of office time
    assert await app.escalator.check() == 0
    clock.moment = datetime(2026, 12, 1, 13, 1, tzinfo=UTC)  # Tuesday 10:01 there
    assert await app.escalator.check() == 1
    await app.idle()
    escalated = chat.last("AR-alt")
    assert "Escalated to you:" in escalated and "Container MSKU123" in escalated and "URGENT" in escalated
    told = chat.last("MX")
    assert "Relay #1 was not acknowledged in time by" in told and "it went to Paula Benítez" in told
    status = await chat.say("/relay 1", user="MX")
    assert "not acknowledged in time, escalated" in status and "Paula Benítez (AR): delivered" in status
    assert await app.escalator.check() == 0  # once only
    async with app.db.transaction() as session:
        assert await session.scalar(select(AuditEvent.id).where(AuditEvent.action == "relay.escalate"))


async def test_a_recipient_around_the_clock_counts_every_hour(network: tuple[App, ChatPlatform, Clock]) -> None:
    app, chat, clock = network
    assert "Saved" in await chat.say("/myentry set hours mon-sun 00:00-24:00", user="AR")
    await chat.say(f"/relay @{await npc(app)} urgent Call me", user="MX")
    clock.moment += timedelta(hours=1, minutes=59)
    assert await app.escalator.check() == 0
    clock.moment += timedelta(minutes=2)
    assert await app.escalator.check() == 1


async def test_an_acknowledged_urgent_relay_does_not_escalate(network: tuple[App, ChatPlatform, Clock]) -> None:
    app, chat, clock = network
    await chat.say(f"/relay @{await npc(app)} urgent Call me", user="MX")
    await chat.say("/ack 1", user="AR")
    clock.moment += timedelta(days=3)
    assert await app.escalator.check() == 0
    assert not any("Escalated" in s.message.text for s in chat.received("AR-alt"))


async def test_a_state_wide_urgent_relay_nobody_acknowledged_is_reported_to_the_sender(
    network: tuple[App, ChatPlatform, Clock],
) -> None:
    app, chat, clock = network
    await chat.say("/relay AR urgent Call me", user="MX")  # the NPC and the alternate both have it
    clock.moment += timedelta(days=2)
    assert await app.escalator.check() == 2
    await app.idle()
    told = [s.message.text for s in chat.received("MX") if "not acknowledged in time" in s.message.text]
    assert len(told) == 2 and all("no other contact to escalate it to" in t for t in told)


async def test_the_alternate_who_does_not_answer_escalates_to_the_national_contact(
    network: tuple[App, ChatPlatform, Clock],
) -> None:
    app, chat, clock = network
    async with app.db.transaction() as session:
        paula = await session.scalar(select(Member.id).where(Member.display_name == "Paula Benítez"))
    await chat.say(f"/relay @{paula} tlp:red urgent Only for you", user="MX")
    clock.moment += timedelta(days=2)
    assert await app.escalator.check() == 1
    await app.idle()
    assert "Escalated to you" in chat.last("AR")


async def test_away_members_are_covered_by_their_delegate_and_whois_says_so(
    network: tuple[App, ChatPlatform, Clock],
) -> None:
    app, chat, _clock = network
    async with app.db.transaction() as session:
        paula = await session.scalar(select(Member.id).where(Member.display_name == "Paula Benítez"))
    answer = await chat.say(f"/away until 2026-12-20 to @{paula}", user="AR")
    assert "You are away until Dec 20, 2026 23:59" in answer and "Paula Benítez receives your relays" in answer
    whois = await chat.say("/whois AR", user="MX")
    assert "Away until Dec 20, 2026" in whois and "Paula Benítez covers" in whois
    receipt = await chat.say("/relay AR Please call", user="MX")
    assert "is away; Paula Benítez receives it instead" in receipt
    assert "because Ana" in chat.last("AR-alt") or "is away and you cover for them" in chat.last("AR-alt")
    assert not any("Please call" in s.message.text for s in chat.received("AR"))
    assert "Welcome back" in await chat.say("/away off", user="AR")
    await chat.say("/relay AR Second message", user="MX")
    assert "Second message" in chat.last("AR")


async def test_away_without_a_delegate_goes_to_the_states_other_contact(
    network: tuple[App, ChatPlatform, Clock],
) -> None:
    _app, chat, _clock = network
    await chat.say("/away until 2026-12-05", user="AR")
    await chat.say("/relay AR Hello", user="MX")
    assert "Hello" in chat.last("AR-alt") and "away" in chat.last("AR-alt")
    assert "Give a date from today" in await chat.say("/away until 2020-01-01", user="AR")
    assert "Usage: /away" in await chat.say("/away tomorrow", user="AR")
