"""A chat platform for delivery tests: records when each message was sent (by the test's clock) and fails
on demand, the way a real one does (a wait for one chat, a refusal, a server error)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.delivery.clock import Clock
from bot.delivery.retry import Retry
from bot.delivery.windows import PlatformLimits
from bot.transports.base import Address, Deliver, Outgoing


class PlatformError(Exception):
    def __init__(self, reason: str, retry_after: float | None = 0, platform_wide: bool = False) -> None:
        super().__init__(reason)
        self.verdict = Retry(reason, retry_after, platform_wide)


@dataclass
class Record:
    at: float
    chat_id: str
    text: str
    key: str


@dataclass
class RecordingPlatform:
    clock: Clock
    limits: PlatformLimits = field(default_factory=PlatformLimits)
    platform: str = "telegram"
    sent: list[Record] = field(default_factory=list)
    attempts: list[Record] = field(default_factory=list)
    fail: Callable[[Address, Outgoing, int], PlatformError | None] | None = None  # (to, message, attempt n)
    delay: Callable[[Address], float] | None = None  # seconds the platform takes to answer
    concurrent: int = 0
    most_concurrent: list[int] = field(default_factory=list)  # per send: how many were under way at once
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def start(self, deliver: Deliver) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, to: Address, message: Outgoing, *, idempotency_key: str) -> str:
        record = Record(self.clock.now(), to.chat_id, message.text, idempotency_key)
        self.attempts.append(record)
        if self.delay is not None:
            self.concurrent += 1
            self.most_concurrent.append(self.concurrent)
            try:
                await self.clock.sleep(self.delay(to))
            finally:
                self.concurrent -= 1
        if self.fail is not None:
            tries = sum(1 for a in self.attempts if a.key == idempotency_key)
            error = self.fail(to, message, tries)
            if error is not None:
                raise error
        self.sent.append(record)
        return f"m{next(self._ids)}"

    def classify(self, exc: Exception) -> Retry:
        return exc.verdict if isinstance(exc, PlatformError) else Retry(repr(exc), None)

    def parts(self, message: Outgoing) -> list[Outgoing]:
        return [message]

    def is_group(self, to: Address) -> bool:
        return to.chat_id.startswith("-")

    def to(self, chat_id: str) -> Address:
        return Address(self.platform, chat_id, chat_id)

    def times(self, chat_id: str | None = None) -> list[float]:
        return [r.at for r in self.sent if chat_id is None or r.chat_id == chat_id]


def most_in_any_window(times: list[float], period: float) -> int:
    """The largest number of events within any window of ``period`` seconds (half-open, as Telegram counts)."""
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - period:
            start += 1
        best = max(best, end - start + 1)
    return best


async def eventually(predicate: Callable[[], bool], within: float = 10.0) -> None:
    """Wait until ``predicate`` holds (the durable lane and the senders work in their own tasks)."""
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 - several tasks change what the predicate reads
            await asyncio.sleep(0.02)
