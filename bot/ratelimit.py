"""In-process limits: commands per member per minute, and lock-out after repeated wrong invite codes."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable


class SlidingWindow:
    """At most ``limit`` events per ``window`` seconds per key.

    Memory stays bounded by the senders of the last window: a key whose events have all expired is
    forgotten — at its next use, or by a sweep of every key once per window (a sender seen once and never
    again would otherwise stay forever).
    """

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._events: dict[Hashable, deque[float]] = {}
        self._swept = clock()

    def __len__(self) -> int:
        """Keys held now (for tests and metrics)."""
        return len(self._events)

    def _sweep(self, now: float) -> None:
        if now - self._swept < self.window:
            return
        self._swept = now
        cutoff = now - self.window
        for key in [k for k, events in self._events.items() if not events or events[-1] <= cutoff]:
            del self._events[key]

    def _live(self, key: Hashable, now: float) -> deque[float] | None:
        """The key's events still inside the window; None (and the key forgotten) when there are none."""
        self._sweep(now)
        events = self._events.get(key)
        if events is None:
            return None
        while events and events[0] <= now - self.window:
            events.popleft()
        if not events:
            del self._events[key]
            return None
        return events

    def allow(self, key: Hashable) -> bool:
        """Record an event and say whether it is within the limit."""
        now = self._clock()
        events = self._live(key, now)
        if events is not None and len(events) >= self.limit:
            return False
        self._events.setdefault(key, deque()).append(now)
        return True

    def count(self, key: Hashable) -> int:
        events = self._live(key, self._clock())
        return 0 if events is None else len(events)

    def add(self, key: Hashable) -> None:
        now = self._clock()
        self._live(key, now)
        self._events.setdefault(key, deque()).append(now)

    def retry_after(self, key: Hashable) -> float:
        now = self._clock()
        events = self._live(key, now)
        if events is None or len(events) < self.limit:
            return 0.0
        return max(0.0, events[0] + self.window - now)

    def reset(self, key: Hashable) -> None:
        self._events.pop(key, None)
