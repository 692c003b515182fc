"""What a failed send means, and retrying platform calls that are not messages (e.g. setMyCommands)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

log = logging.getLogger("pocnet.delivery")
T = TypeVar("T")


@dataclass(frozen=True)
class Retry:
    """The verdict on a failed attempt: wait ``after`` seconds and try again (0: back off exponentially),
    or give up (None). ``platform_wide``: the platform throttles the whole bot, not one chat."""

    reason: str
    after: float | None
    platform_wide: bool = False


class DeliveryFailed(Exception):
    """The platform did not take the call after every retry; ``reason`` says why."""

    def __init__(self, reason: str, attempts: int) -> None:
        super().__init__(f"{reason} (after {attempts} attempts)")
        self.reason = reason
        self.attempts = attempts


async def call_with_retries(
    attempt: Callable[[], Awaitable[T]],
    classify: Callable[[Exception], Retry],
    *,
    retries: int,
    backoff: float = 0.5,
    what: str = "call",
) -> T:
    """Run ``attempt`` until it succeeds, retrying per ``classify`` at most ``retries`` times.
    For set-up calls only: messages go through the delivery service, which never waits in line."""
    for number in range(1, retries + 2):
        try:
            return await attempt()
        except Exception as exc:  # classified below: nothing is swallowed silently
            verdict = classify(exc)
            if verdict.after is None or number > retries:
                log.warning("call failed", extra={"what": what, "reason": verdict.reason, "attempts": number})
                raise DeliveryFailed(verdict.reason, number) from None
            await asyncio.sleep(verdict.after or backoff * 2 ** (number - 1))
    raise AssertionError("unreachable")
