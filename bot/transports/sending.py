"""Sending within a platform's limits, with retries — the one place where outbound pacing happens.

``Pacer`` spaces messages: at most N per second overall, one per interval to the same private chat,
M per minute to the same group (Telegram's published limits). ``deliver_with_retries`` retries what can
succeed later (rate limiting, network trouble, server errors) with backoff and gives up on what cannot
(bad request, blocked by the user), raising ``DeliveryFailed`` with the reason after the last try.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from aiolimiter import AsyncLimiter

log = logging.getLogger("pocnet.sending")
T = TypeVar("T")


class DeliveryFailed(Exception):
    """The platform did not take the message after every retry; ``reason`` says why."""

    def __init__(self, reason: str, attempts: int) -> None:
        super().__init__(f"{reason} (after {attempts} attempts)")
        self.reason = reason
        self.attempts = attempts


@dataclass(frozen=True)
class Retry:
    """What a failed attempt means: wait ``after`` seconds and try again (0: back off exponentially),
    or give up (None)."""

    reason: str
    after: float | None


class Pacer:
    def __init__(self, per_second: float, per_chat_interval: float, group_per_minute: int, *, max_chats: int = 10_000):
        self._overall = AsyncLimiter(per_second, 1) if per_second > 0 else None
        self._per_chat_interval = per_chat_interval
        self._group_per_minute = group_per_minute
        self._chats: OrderedDict[str, AsyncLimiter] = OrderedDict()
        self._max_chats = max_chats

    def _chat(self, chat_id: str, is_group: bool) -> AsyncLimiter | None:
        limiter = self._chats.get(chat_id)
        if limiter is None:
            if is_group:
                if self._group_per_minute <= 0:
                    return None
                limiter = AsyncLimiter(self._group_per_minute, 60)
            else:
                if self._per_chat_interval <= 0:
                    return None
                limiter = AsyncLimiter(1, self._per_chat_interval)
            self._chats[chat_id] = limiter
            while len(self._chats) > self._max_chats:
                self._chats.popitem(last=False)
        self._chats.move_to_end(chat_id)
        return limiter

    async def wait(self, chat_id: str, *, is_group: bool) -> None:
        chat = self._chat(chat_id, is_group)
        if chat is not None:
            await chat.acquire()
        if self._overall is not None:
            await self._overall.acquire()


async def deliver_with_retries(
    attempt: Callable[[], Awaitable[T]],
    classify: Callable[[Exception], Retry],
    *,
    retries: int,
    backoff: float = 0.5,
    what: str = "message",
) -> T:
    """Run ``attempt`` until it succeeds, retrying per ``classify`` at most ``retries`` times."""
    for number in range(1, retries + 2):
        try:
            return await attempt()
        except Exception as exc:  # classified below: nothing is swallowed silently
            verdict = classify(exc)
            if verdict.after is None or number > retries:
                log.warning("delivery failed", extra={"what": what, "reason": verdict.reason, "attempts": number})
                raise DeliveryFailed(verdict.reason, number) from exc
            wait = verdict.after or backoff * 2 ** (number - 1)  # 0 means "back off", else as asked
            log.info("retrying", extra={"what": what, "reason": verdict.reason, "attempt": number, "wait": wait})
            await asyncio.sleep(wait)
    raise AssertionError("unreachable")
