"""A chat platform in a test: people push messages, the test reads what the bot answered.

Modelled on Errbot's test backend and maubot's testing kit: tests read like a conversation::

    await chat.say("/whoami", user="MX")
    assert "Mexico" in chat.last("MX")
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.transports.base import Address, Attachment, Deliver, Incoming, LocalTransport, Outgoing


@dataclass
class Sent:
    to: Address
    message: Outgoing
    idempotency_key: str
    message_id: str = ""


class ChatPlatform(LocalTransport):
    """Implements the Transport interface for one fake platform. ``idle`` (set by the app fixture) waits
    until the delivery service has sent everything queued."""

    def __init__(self, platform: str = "console") -> None:
        self.platform = platform
        self.idle: Callable[[], Awaitable[None]] | None = None
        self.sent: list[Sent] = []
        self.refusing: set[str] = set()  # users whose chats refuse messages (e.g. they blocked the bot)
        self._deliver: Deliver | None = None
        self._ids = itertools.count(1)

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver

    async def send(self, to: Address, message: Outgoing, *, idempotency_key: str) -> str:
        if to.user_id in self.refusing:
            raise PermissionError("Forbidden: bot was blocked by the user")
        message_id = f"{self.platform}-out-{len(self.sent) + 1}"
        self.sent.append(Sent(to, message, idempotency_key, message_id))
        return message_id

    async def stop(self) -> None:
        self._deliver = None

    def address(self, user: str) -> Address:
        return Address(self.platform, chat_id=f"{self.platform}:{user}", user_id=user)  # as storage.sample links them

    async def say(
        self,
        text: str,
        *,
        user: str,
        language: str | None = None,
        name: str | None = None,
        private: bool = True,
        reply_to: str | None = None,
        attachment: Attachment | None = None,
    ) -> str:
        """Send ``text`` as ``user``; return everything the bot answered to that user, joined."""
        assert self._deliver is not None, "platform not started"
        before = len(self.sent)
        await self._deliver(
            Incoming(
                self.address(user),
                text,
                str(next(self._ids)),
                reply_to=reply_to,
                language_hint=language,
                sender_name=name,
                private=private,
                attachment=attachment,
            )
        )
        if self.idle is not None:
            await self.idle()
        return "\n".join(s.message.text for s in self.sent[before:] if s.to.user_id == user)

    def received(self, user: str) -> list[Sent]:
        return [s for s in self.sent if s.to.user_id == user]

    def last(self, user: str) -> str:
        return next(s.message.text for s in reversed(self.sent) if s.to.user_id == user)
