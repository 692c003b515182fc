"""Joining pocnet, as a person would: strangers see nothing, an invitation code lets them in once."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.app import App
from storage import invites, sample
from storage.access import Actor, Role
from storage.db import Database
from storage.models import AuditEvent, Identity, Member
from storage.types import utcnow
from tests.conftest import make_settings
from tests.fakes.chat import ChatPlatform


async def _code(chat: ChatPlatform, role: Role = Role.CONTACT, state: str | None = "MX", **kw: object) -> str:
    async with chat.app.db.transaction() as session:  # type: ignore[attr-defined]
        new = await invites.create(session, Actor.system("cli:test"), role=role, state_code=state, **kw)  # type: ignore[arg-type]
    return new.code


async def test_strangers_get_only_the_onboarding_message(chat: ChatPlatform) -> None:
    for text in ["/help", "/whoami", "/invite contact MX", "/deactivate 1", "hello", "/", "/start"]:
        answer = await chat.say(text, user="stranger")
        assert "invitation" in answer, text
        assert "Mexico" not in answer and "#" not in answer


async def test_invite_flow_create_redeem_reuse_and_expiry(chat: ChatPlatform) -> None:
    code = await _code(chat, display_name="Elena Ruiz")

    welcome = await chat.say(f"/start {code}", user="newcomer")
    assert "Welcome to pocnet, Elena Ruiz" in welcome and "national point of contact" in welcome
    card = await chat.say("/whoami", user="newcomer")
    assert "Elena Ruiz" in card and "Mexico (MX)" in card

    reuse = await chat.say(f"/start {code}", user="someone-else")
    assert "already been used" in reuse
    assert "invitation" in await chat.say("/whoami", user="someone-else")  # still a stranger

    expired = await _code(chat, ttl=timedelta(hours=1), now=utcnow() - timedelta(hours=3))
    assert "expired" in await chat.say(f"/start {expired}", user="late")
    assert "invitation" in await chat.say("/whoami", user="late")


async def test_repeated_wrong_codes_are_throttled(chat: ChatPlatform) -> None:
    for _ in range(5):
        assert "not valid" in await chat.say("/start AAAA-AAAA", user="guesser")
    good = await _code(chat)
    locked = await chat.say(f"/start {good}", user="guesser")
    assert "Too many wrong codes" in locked
    # the good code was not consumed by the locked-out attempt; another person can still use it
    assert "Welcome to pocnet" in await chat.say(f"/start {good}", user="honest")


async def test_onboarding_uses_the_platform_language_and_sender_name(chat: ChatPlatform) -> None:
    code = await _code(chat, state="BR")
    welcome = await chat.say(f"/start {code}", user="tg-77", language="pt-BR", name="Beatriz Souza")
    assert "Bem-vindo" in welcome and "Beatriz Souza" in welcome
    assert "Idioma: Português" in await chat.say("/whoami", user="tg-77")


async def test_link_adds_a_second_platform_to_the_same_member(sqlite_db: Database) -> None:
    async with sqlite_db.transaction() as session:
        await sample.seed(session, platform="console")
    chat, other = ChatPlatform("console"), ChatPlatform("matrix")
    app = App(make_settings(str(sqlite_db.engine.url)), sqlite_db, [chat, other])
    await app.start()
    chat.idle = other.idle = app.delivery.idle
    answer = await chat.say("/link", user="MX")
    code = next(word for word in answer.split() if "-" in word and len(word) == 9)
    await other.say(f"/start {code}", user="@mx:localhost")
    card = await other.say("/whoami", user="@mx:localhost")
    assert "Mexico (MX)" in card and "console, matrix" in card
    await app.stop()


async def test_existing_member_start_says_welcome_back(chat: ChatPlatform) -> None:
    code = await _code(chat)
    answer = await chat.say(f"/start {code}", user="MX")
    assert "Welcome back" in answer
    assert "Welcome to pocnet" in await chat.say(f"/start {code}", user="fresh")  # code left unused


async def test_a_code_shown_in_a_group_is_burnt(chat: ChatPlatform) -> None:
    code = await _code(chat)
    answer = await chat.say(f"/start {code}", user="careless", private=False)
    assert "only work in a private chat" in answer and "no longer works" in answer
    assert "already been used" in await chat.say(f"/start {code}", user="eavesdropper")  # not for anyone
    assert "invitation" in await chat.say("/whoami", user="careless")  # and not bound to the group


async def test_a_code_shown_in_a_group_by_a_member_is_burnt_too(chat: ChatPlatform) -> None:
    code = await _code(chat)
    answer = await chat.say(f"/start {code}", user="MX", private=False)  # MX has joined long ago
    assert "no longer works" in answer and "Welcome back" not in answer
    assert "already been used" in await chat.say(f"/start {code}", user="eavesdropper")
    assert "Welcome back" in await chat.say("/start", user="MX", private=False)  # no code: nothing to burn


def _code_in(answer: str) -> str:
    return next(word.strip(".,:") for word in answer.split() if "-" in word and len(word.strip(".,:")) == 9)


async def test_a_deactivated_member_cannot_join_again_and_their_codes_stop_working(chat: ChatPlatform) -> None:
    code_by_mx = _code_in(await chat.say("/invite official", user="MX"))
    async with chat.app.db.transaction() as session:  # type: ignore[attr-defined]
        mx = await session.scalar(select(Member).join(Identity).where(Identity.user_id == "MX"))
        assert mx is not None
    await chat.say(f"/deactivate {mx.id}", user="secretariat")
    assert "is deactivated" in await chat.say("yes", user="secretariat")
    fresh = await _code(chat, state="MX")
    answer = await chat.say(f"/start {fresh}", user="MX")  # the deactivated account, with a valid code
    assert "deactivated" in answer and "reference" not in answer
    assert "Welcome to pocnet" in await chat.say(f"/start {fresh}", user="someone")  # the code was not used up
    assert "already been used" in await chat.say(f"/start {code_by_mx}", user="stranger")  # revoked


async def test_one_account_redeeming_two_codes_at_once_gets_one_membership(chat: ChatPlatform) -> None:
    first, second = await _code(chat), await _code(chat, state="AR")
    before = len(chat.sent)
    await asyncio.gather(chat.say(f"/start {first}", user="twice"), chat.say(f"/start {second}", user="twice"))
    answers = [s.message.text for s in chat.sent[before:] if s.to.user_id == "twice"]
    assert len(answers) == 2 and not any("reference" in a for a in answers), answers
    assert sum("Welcome to pocnet" in a for a in answers) == 1  # the other: already registered, or welcome back
    async with chat.app.db.transaction() as session:  # type: ignore[attr-defined]
        identities = list(await session.scalars(select(Identity).where(Identity.user_id == "twice")))
    assert len(identities) == 1


async def test_wrong_codes_are_audited_logged_and_count_in_groups_too(
    chat: ChatPlatform, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="pocnet")
    for _ in range(5):
        await chat.say("/start ZZZZ-ZZZZ", user="group-guesser", private=False)
    good = await _code(chat)
    assert "Too many wrong codes" in await chat.say(f"/start {good}", user="group-guesser")
    async with chat.app.db.transaction() as session:  # type: ignore[attr-defined]
        events = list(await session.scalars(select(AuditEvent).where(AuditEvent.action == "invite.refused")))
    assert [e.note for e in events] == ["locked out"] and events[0].actor == "console:group-guesser"
    assert "Welcome to pocnet" in await chat.say(f"/start {good}", user="honest")  # not consumed
    assert "not valid" in await chat.say("/start YYYY-YYYY", user="another")
    lines = [r for r in caplog.records if r.getMessage() == "invitation refused"]
    assert len(lines) == 2 and all("YYYY" not in str(r.__dict__) for r in lines)


async def test_a_global_budget_stops_many_accounts_guessing(sqlite_db: Database) -> None:
    async with sqlite_db.transaction() as session:
        await sample.seed(session, platform="console")
    chat = ChatPlatform("console")
    settings = make_settings(str(sqlite_db.engine.url), limits={"invite_failures": 5, "invite_failures_total": 6})
    app = App(settings, sqlite_db, [chat])
    await app.start()
    chat.idle = app.delivery.idle
    chat.app = app  # type: ignore[attr-defined]
    for n in range(6):  # six accounts, one wrong guess each: no account is near its own limit
        assert "not valid" in await chat.say("/start QQQQ-QQQQ", user=f"bot-{n}")
    good = await _code(chat)
    assert "Too many wrong codes" in await chat.say(f"/start {good}", user="bot-7")
    await app.stop()


async def test_a_code_pasted_as_text_in_a_group_is_burnt(chat: ChatPlatform) -> None:
    code = await _code(chat)
    answer = await chat.say(f"here is your code: {code.lower().replace('-', '')} see you", user="MX", private=False)
    assert "no longer works" in answer
    assert "already been used" in await chat.say(f"/start {code}", user="reader")
    assert "no longer works" not in await chat.say("meeting at 10, room ABCDEFGHJ", user="MX", private=False)
    other = await _code(chat)
    assert "no longer works" not in await chat.say(f"{other} in private is fine", user="MX")  # private chat
    assert "Welcome to pocnet" in await chat.say(f"/start {other}", user="newcomer")
