"""The one interface between chat platforms and the rest of pocnet (design note §2).

Handlers never import telegram or nio: they see ``Incoming`` and produce ``Outgoing``.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from bot.delivery.retry import Retry
from bot.delivery.windows import PlatformLimits


@dataclass(frozen=True)
class Address:
    """Where a message goes or comes from."""

    platform: str  # "telegram" | "matrix" | "console"
    chat_id: str  # Telegram chat id / Matrix room id / console session
    user_id: str  # Telegram user id / Matrix user id / console name


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"
    oversize: bool = False  # received, but larger than a platform lets a bot fetch: ``content`` is empty
    digest: str | None = None  # SHA-256 of a stored file: a platform may upload it once and reuse it
    picture: bool = False  # a picture pocnet drew (a chart): shown inline where the platform can (Telegram may
    # recompress a photo, so files people send — evidence — always travel as documents, byte for byte)


MAX_FILE_BYTES = 20 * 1024 * 1024  # the most a Telegram bot may download; pocnet takes no more anywhere
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, from its header; None when ``data`` is not a PNG."""
    if not data.startswith(PNG_SIGNATURE) or len(data) < 24 or data[12:16] != b"IHDR":
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


@dataclass(frozen=True)
class Incoming:
    address: Address
    text: str
    message_id: str
    reply_to: str | None = None  # platform message id this answers
    language_hint: str | None = None  # e.g. Telegram's language_code
    sender_name: str | None = None  # the platform's display name, used as a default at onboarding
    private: bool = True  # a one-to-one chat with the bot (False: a group or room with others)
    attachment: Attachment | None = None  # a file sent with the message (its caption is ``text``)
    edit: str | None = None  # set when this is an edit of message ``message_id``: names this version of it


@dataclass(frozen=True)
class Outgoing:
    text: str  # already translated; plain text (a caption when there is an attachment)
    buttons: tuple[tuple[str, str], ...] = ()  # (label, text sent back when chosen)
    reply_to: str | None = None
    attachment: Attachment | None = None  # a file, where the platform can send one


Deliver = Callable[[Incoming], Awaitable[None]]


_CHOICE = re.compile(r"[0-9a-f]{6}\.\d{1,3}")  # a numbered choice kept by the router (bot/dialogs.py)


def buttons_as_text(buttons: tuple[tuple[str, str], ...]) -> list[str]:
    """Buttons where a platform has none: numbered choices (the open dialog reads the number), or what a
    button stands for, to be typed: a command (``Acknowledge: /ack 12`` on a relay that arrived later) or a
    word an open dialog reads (``Skip: skip``)."""
    return [
        f"{n}) {label}" if _CHOICE.fullmatch(data) else f"{label}: {data}" for n, (label, data) in enumerate(buttons, 1)
    ]


class Transport(Protocol):
    """A chat platform. Only the delivery service calls ``send``: it paces, retries and records."""

    platform: str
    limits: PlatformLimits  # the platform's published sending limits, as configured

    async def start(self, deliver: Deliver) -> None:
        """Begin receiving; call ``deliver`` for every message. Returns once receiving has started."""

    async def send(self, to: Address, message: Outgoing, *, idempotency_key: str) -> str:
        """One attempt; return the platform's message id or raise. A repeated idempotency key must not
        show twice where the platform allows it."""

    def classify(self, exc: Exception) -> Retry:
        """What a failed ``send`` means: retry after a wait, back off, or give up (with the reason)."""

    def parts(self, message: Outgoing) -> list[Outgoing]:
        """The message as the platform can take it (e.g. split at its length limit)."""

    def is_group(self, to: Address) -> bool:
        """Whether ``to`` is a group (groups have their own, slower limit)."""

    async def stop(self) -> None: ...


@dataclass(frozen=True)
class Health:
    """Whether a transport is connected to its platform now, and in a few words why (for /healthz)."""

    connected: bool
    detail: str


def health_of(transport: object) -> Health:
    """A transport reports ``health()``; one that does not is connected while it runs (it has no remote)."""
    report = getattr(transport, "health", None)
    return report() if callable(report) else Health(True, "local")


class LocalTransport:
    """Defaults for a platform with no limits and no failure worth retrying: the console, and the fake
    platforms of tests and benchmarks. Subclasses set ``platform`` and write ``start``, ``send``, ``stop``."""

    platform: str
    limits = PlatformLimits(retries=0)

    def classify(self, exc: Exception) -> Retry:
        return Retry(f"{self.platform}: {exc!r}", None)

    def parts(self, message: Outgoing) -> list[Outgoing]:
        return [message]

    def is_group(self, to: Address) -> bool:
        return False

    def health(self) -> Health:
        return Health(True, "local")
