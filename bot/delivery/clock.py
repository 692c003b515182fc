"""Time for the delivery service: the real monotonic clock, or a manual one that tests move forward."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Monotonic seconds."""

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ManualClock:
    """A clock that only moves when ``advance`` is awaited; sleepers wake in deadline order."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._seq), future))
        await future

    @staticmethod
    async def settle(rounds: int = 30) -> None:
        """Let every task that can run, run (sends to a fake platform complete within a few turns)."""
        for _ in range(rounds):
            await asyncio.sleep(0)

    async def advance(self, seconds: float, *, step: float = 0.01) -> None:
        """Move time forward by ``seconds`` in small steps, waking sleepers on the way."""
        target = self._now + seconds
        while True:
            await self.settle()
            while self._sleepers and self._sleepers[0][0] <= self._now:
                _, _, future = heapq.heappop(self._sleepers)
                if not future.done():
                    future.set_result(None)
            await self.settle()
            if self._now >= target:
                break
            self._now = min(target, self._now + step)
