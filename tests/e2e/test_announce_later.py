"""/announce at:… on the fake chat with a controllable clock: copies go out at 09:00 in each recipient's
own zone (or at one moment), through the announcement path, and the author's report waits for the last."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.app import App
from storage import sample
from storage.db import Database
from storage.models import AuditEvent, Member, Reminder
from tests.conftest import make_settings
from tests.e2e.test_relay_escalation import Clock
from tests.fakes.chat import ChatPlatform
from tests.fakes.schedule import fire_due

TUESDAY_AFTERNOON = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)  # 10:00 in Mexico City: 09:00 has passed


@pytest.fixture
async def network(sqlite_db: Database) -> AsyncIterator[tuple[App, ChatPlatform, Clock]]:
    async with sqlite_db.transaction() as session:
        await sample.seed(session, platform="console")
    clock = Clock(TUESDAY_AFTERNOON)
    chat = ChatPlatform("console")
    app = App(make_settings(str(sqlite_db.engine.url)), sqlite_db, [chat], now=clock)
    await app.start()
    chat.idle = app.idle
    yield app, chat, clock
    await app.stop()


def announcements_to(chat: ChatPlatform, user: str) -> list[str]:
    return [s.message.text for s in chat.received(user) if "from the OAS Secretariat" in s.message.text]


async def test_an_announcement_goes_out_at_nine_in_each_recipients_zone(
    network: tuple[App, ChatPlatform, Clock],
) -> None:
    app, chat, _clock = network
    question = await chat.say("/announce at:09:00local to:MX,CO,BR Office closed on Friday", user="secretariat")
    assert "Send announcement to 3 members" in question
    assert "It will go out at the next 09:00 in each recipient's own time zone." in question
    answer = await chat.say("yes", user="secretariat")
    assert "Announcement #1 is scheduled for 3 members: the first copies go out on Dec 2, 2026 07:00" in answer
    assert "the last on Dec 2, 2026 10:00 (America/New_York)" in answer
    async with app.db.transaction() as session:
        due = {
            state: at
            for state, at in (
                await session.execute(
                    select(Member.state_code, Reminder.due_at).join(Member, Member.id == Reminder.member_id)
                    .where(Reminder.kind == "announcement")
                )
            ).all()
        }  # fmt: skip
        assert await session.scalar(select(AuditEvent.id).where(AuditEvent.action == "announce.schedule"))
    assert due == {
        "BR": datetime(2026, 12, 2, 12, 0, tzinfo=UTC),  # 09:00 in São Paulo
        "CO": datetime(2026, 12, 2, 14, 0, tzinfo=UTC),  # 09:00 in Bogotá
        "MX": datetime(2026, 12, 2, 15, 0, tzinfo=UTC),  # 09:00 in Mexico City
    }
    await app.idle()
    assert announcements_to(chat, "BR") == []  # nothing before its hour

    await fire_due(app.db, datetime(2026, 12, 2, 12, 30, tzinfo=UTC))
    await app.idle()
    assert announcements_to(chat, "BR") == [
        "Announcement #1 from the OAS Secretariat (Secretariat Desk)\n\nOffice closed on Friday"
    ]
    assert announcements_to(chat, "MX") == []
    assert "Announcement #1 has gone out" not in chat.last("secretariat")  # the report waits for the last copy

    await fire_due(app.db, datetime(2026, 12, 2, 15, 0, tzinfo=UTC))
    await app.idle()
    assert len(announcements_to(chat, "MX")) == 1 and len(announcements_to(chat, "CO")) == 1
    assert "Announcement #1 has gone out: 3 sent, 0 failed." in chat.last("secretariat")
    assert "3 sent, 0 failed, 0 queued" in await chat.say("/deliveries 1", user="secretariat")
    later = await fire_due(app.db, datetime(2026, 12, 9, tzinfo=UTC))  # the Secretariat's Monday digest only
    assert [row.kind for row in later if row.kind != "digest"] == []  # nothing of #1 is left
    async with app.db.transaction() as session:
        left = await session.scalar(select(Reminder.id).where(Reminder.kind == "announcement",
                                                              Reminder.status == "planned"))  # fmt: skip
        assert left is None


async def test_an_announcement_at_one_moment_and_bad_moments(network: tuple[App, ChatPlatform, Clock]) -> None:
    app, chat, _clock = network
    question = await chat.say("/announce at:2026-12-03T14:00Z to:CO Hello", user="secretariat")
    assert "It will go out on Dec 3, 2026 09:00 (America/New_York)." in question
    assert "is scheduled for 1 members" in await chat.say("yes", user="secretariat")
    assert await fire_due(app.db, datetime(2026, 12, 3, 13, 59, tzinfo=UTC), kinds=("announcement",)) == []
    assert len(await fire_due(app.db, datetime(2026, 12, 3, 14, 0, tzinfo=UTC), kinds=("announcement",))) == 1
    assert "Say when like this: at:2026-12-01T14:00Z" in await chat.say("/announce at:tomorrow to:CO x",
                                                                          user="secretariat")  # fmt: skip
    assert "within a year from now" in await chat.say("/announce at:2020-01-01T10:00Z to:CO x", user="secretariat")
    assert "not available to your role" in await chat.say("/announce at:09:00local to:MX x", user="MX")
