"""A running pocnet on the real python-telegram-bot stack, against the test Bot API server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from bot.app import App
from bot.config import TelegramSection
from bot.transports.telegram import TelegramTransport
from storage import invites, sample
from storage.access import Actor, Role
from storage.db import Database
from tests.conftest import make_settings
from tests.fakes.telegram_api import FakeBotAPI, Faults, SentMessage


@dataclass
class TelegramBot:
    server: FakeBotAPI
    app: App
    transport: TelegramTransport

    async def say(self, user_id: int, text: str, *, language: str | None = "en", expect: int = 1) -> str:
        """Send as ``user_id`` and wait for ``expect`` new messages in their chat; return their text."""
        before = len(self.server.sent_to(user_id))
        self.server.user_sends(user_id, text, language_code=language, first_name=f"User{user_id}")
        sent = await self.server.wait_for_sent(before + expect, chat_id=user_id)
        return "\n".join(s.text for s in sent[before:])

    def last(self, user_id: int) -> SentMessage:
        return self.server.sent_to(user_id)[-1]

    async def press(self, user_id: int, label: str, *, language: str | None = "en") -> str:
        message = next(s for s in reversed(self.server.sent_to(user_id)) if s.buttons)
        data = dict(message.buttons)[label]
        before = len(self.server.sent_to(user_id))
        self.server.user_presses(user_id, message, data, language_code=language)
        sent = await self.server.wait_for_sent(before + 1, chat_id=user_id)
        return sent[-1].text

    async def invite(self, role: Role = Role.CONTACT, state: str | None = "MX") -> str:
        async with self.app.db.transaction() as session:
            return (await invites.create(session, Actor.system("cli:test"), role=role, state_code=state)).code

    async def link_secretariat(self, user_id: int) -> None:
        """Make ``user_id`` the sample Secretariat desk on Telegram."""
        code = await self.invite(Role.SECRETARIAT, None)
        await self.say(user_id, f"/start {code}")


@asynccontextmanager
async def telegram_bot(
    db: Database,
    *,
    faults: Faults | None = None,
    enforce_limits: bool = False,
    server: FakeBotAPI | None = None,
    **telegram: object,
) -> AsyncIterator[TelegramBot]:
    """A bot on the sample directory and a Bot API server; ``server``: one already running, which outlives
    the bot (a restart), else a new one stopped with it."""
    own = server is None
    if own:
        async with db.transaction() as session:
            await sample.seed(session)
        server = FakeBotAPI(enforce_limits=enforce_limits, faults=faults)
        await server.start()
    assert server is not None
    options = {"token": server.token, "base_url": server.base_url, "poll_timeout": 1, "per_chat_interval": 0.0,
               "messages_per_second": 0, "send_retries": 8, **telegram}  # fmt: skip
    section = TelegramSection(**options)  # type: ignore[arg-type]
    transport = TelegramTransport(section, db=db)
    app = App(make_settings(str(db.engine.url), telegram=section.model_dump()), db, [transport])
    await app.start()
    try:
        yield TelegramBot(server, app, transport)
    finally:
        await app.stop()  # every service (the transport among them); nothing of this bot outlives the test
        if own:
            await server.stop()
