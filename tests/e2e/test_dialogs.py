"""Conversations that span messages: a question survives a restart, times out, and /cancel ends it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.app import App
from storage import sample
from storage.db import Database
from storage.models import Dialog, Member
from storage.types import utcnow
from tests.conftest import make_settings
from tests.fakes.chat import ChatPlatform


class Clock:
    def __init__(self) -> None:
        self.moment = utcnow()

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.moment


async def running(db: Database, clock: Clock | None = None, **settings: object) -> tuple[App, ChatPlatform]:
    platform = ChatPlatform("console")
    app = App(make_settings(str(db.engine.url), **settings), db, [platform], now=clock or utcnow)
    await app.start()
    platform.idle = app.idle
    return app, platform


async def member_id(db: Database, state: str) -> int:
    async with db.transaction() as session:
        found = await session.scalar(select(Member.id).where(Member.state_code == state))
        assert found is not None
        return found


async def test_a_question_survives_a_restart(sqlite_db: Database) -> None:
    async with sqlite_db.transaction() as session:
        await sample.seed(session, platform="console")
    cl = await member_id(sqlite_db, "CL")
    app, chat = await running(sqlite_db)
    assert "lose access" in await chat.say(f"/deactivate {cl}", user="secretariat")
    await app.stop()
    db = Database.from_url(str(sqlite_db.engine.url))
    app, chat = await running(db)  # a new process: the question is still open
    assert "is deactivated" in await chat.say("sí", user="secretariat")
    assert "deactivated" in await chat.say("/help", user="CL")
    await app.stop()


async def test_buttons_work_by_number_and_by_press_and_stale_ones_are_refused(chat: ChatPlatform) -> None:
    await chat.say("/whois saint tip", user="MX")
    offered = chat.sent[-1].message.buttons
    assert [label for label, _ in offered] == ["St. Kitts & Nevis", "St. Lucia", "St. Vincent & Grenadines"]
    assert (await chat.say(offered[2][1], user="MX")).startswith("St. Vincent")  # pressed
    assert "no longer open" in await chat.say(offered[0][1], user="MX")  # an old keyboard, pressed again
    await chat.say("/language", user="MX")
    assert "only understand commands" not in await chat.say("2", user="MX")  # typed: the open choice


async def test_a_question_times_out(sqlite_db: Database) -> None:
    async with sqlite_db.transaction() as session:
        await sample.seed(session, platform="console")
    cl = await member_id(sqlite_db, "CL")
    clock = Clock()
    app, chat = await running(sqlite_db, clock, dialogs={"timeout_minutes": 5})
    await chat.say(f"/deactivate {cl}", user="secretariat")
    clock.moment += timedelta(minutes=6)
    assert "expired" in await chat.say("yes", user="secretariat")
    assert "Commands you can use" in await chat.say("/help", user="CL")  # nothing was done
    async with sqlite_db.transaction() as session:
        assert list(await session.scalars(select(Dialog))) == []
    await app.stop()


async def test_cancel_ends_any_question_and_other_answers_are_asked_again(chat: ChatPlatform) -> None:
    assert "nothing to cancel" in await chat.say("/cancel", user="secretariat")
    async with chat.app.db.transaction() as session:  # type: ignore[attr-defined]
        cl = await session.scalar(select(Member.id).where(Member.state_code == "CL"))
    await chat.say(f"/deactivate {cl}", user="secretariat")
    assert "yes or no" in await chat.say("perhaps", user="secretariat")  # still open, asked again
    assert "Cancelled" in await chat.say("/cancel", user="secretariat")
    assert "only understand commands" in await chat.say("yes", user="secretariat")  # nothing open any more
    assert "Commands you can use" in await chat.say("/help", user="CL")
    await chat.say(f"/deactivate {cl}", user="secretariat")
    assert "Nothing was done" in await chat.say("no", user="secretariat")
    assert "Commands you can use" in await chat.say("/help", user="CL")


async def test_a_new_command_abandons_the_open_question(chat: ChatPlatform) -> None:
    async with chat.app.db.transaction() as session:  # type: ignore[attr-defined]
        cl = await session.scalar(select(Member.id).where(Member.state_code == "CL"))
    await chat.say(f"/deactivate {cl}", user="secretariat")
    assert "Secretariat" in await chat.say("/whoami", user="secretariat")
    assert "only understand commands" in await chat.say("yes", user="secretariat")
    assert "Commands you can use" in await chat.say("/help", user="CL")


async def test_odd_answers_to_a_choice_get_a_clear_message(chat: ChatPlatform) -> None:
    await chat.say("/whois saint tip", user="MX")
    assert "numbers offered" in await chat.say("9" * 4000, user="MX")  # no 4000-digit number is parsed
    assert "at most 4096 characters" in await chat.say("9" * 5000, user="MX")  # refused; the question stays
    assert "numbers offered" in await chat.say("7", user="MX")  # out of range: asked again, nothing run
    assert (await chat.say("2", user="MX")).startswith("St. Lucia (LC)")  # the question was still open


async def test_questions_are_per_person_and_chat(chat: ChatPlatform) -> None:
    await chat.say("/language", user="AR")
    assert "only understand commands" in await chat.say("2", user="PE")  # PE has no open question
    assert "español" in await chat.say("2", user="AR")
