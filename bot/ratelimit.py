"""In-process limits: commands per member per minute, and lock-out after repeated wrong invite codes."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable


class SlidingWindow:
    """At most ``limit`` events per ``window`` seconds per key."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._events: dict[Hashable, deque[float]] = {}

    def _prune(self, key: Hashable) -> deque[float]:
        now = self._clock()
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self.window:
            events.popleft()
        if not events:
            del self._events[key]
            events = self._events.setdefault(key, deque())
        return events

    def allow(self, key: Hashable) -> bool:
        """Record an event and say whether it is within the limit."""
        events = self._prune(key)
        if len(events) >= self.limit:
            return False
        events.append(self._clock())
        return True

    def count(self, key: Hashable) -> int:
        return len(self._prune(key))

    def add(self, key: Hashable) -> None:
        self._prune(key).append(self._clock())

    def retry_after(self, key: Hashable) -> float:
        events = self._prune(key)
        if len(events) < self.limit:
            return 0.0
        return max(0.0, events[0] + self.window - self._clock())

    def reset(self, key: Hashable) -> None:
        self._events.pop(key, None)
