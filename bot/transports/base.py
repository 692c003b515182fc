"""The one interface between chat platforms and the rest of pocnet (design note §2).

Handlers never import telegram or nio: they see ``Incoming`` and produce ``Outgoing``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Address:
    """Where a message goes or comes from."""

    platform: str  # "telegram" | "matrix" | "console"
    chat_id: str  # Telegram chat id / Matrix room id / console session
    user_id: str  # Telegram user id / Matrix user id / console name


@dataclass(frozen=True)
class Incoming:
    address: Address
    text: str
    message_id: str
    reply_to: str | None = None  # platform message id this answers
    language_hint: str | None = None  # e.g. Telegram's language_code
    sender_name: str | None = None  # the platform's display name, used as a default at onboarding
    private: bool = True  # a one-to-one chat with the bot (False: a group or room with others)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Outgoing:
    text: str  # already translated; plain text (a caption when there is an attachment)
    buttons: tuple[tuple[str, str], ...] = ()  # (label, text sent back when chosen)
    reply_to: str | None = None
    attachment: Attachment | None = None  # a file, where the platform can send one


Deliver = Callable[[Incoming], Awaitable[None]]


class Transport(Protocol):
    platform: str

    async def start(self, deliver: Deliver) -> None:
        """Begin receiving; call ``deliver`` for every message. Returns once receiving has started."""

    async def send(self, to: Address, message: Outgoing, *, idempotency_key: str) -> str:
        """Send; return the platform's message id. A repeated idempotency key must not send twice."""

    async def stop(self) -> None: ...
