"""SlidingWindow keeps only the senders of the last window in memory."""

from __future__ import annotations

from bot.ratelimit import SlidingWindow


def test_keys_seen_once_are_freed_after_a_window() -> None:
    now = [0.0]
    window = SlidingWindow(3, 60.0, clock=lambda: now[0])
    for sender in range(10_000):
        assert window.allow(sender)
    assert len(window) == 10_000
    now[0] = 30.0
    assert window.allow("late") and len(window) == 10_001  # within the window: all still count
    assert window.allow(1) and window.count(1) == 2
    now[0] = 61.0
    assert window.allow("new")  # a window has passed since the last sweep: the expired keys go
    assert len(window) == 3  # "late", 1 (used again at 30 s) and "new"
    now[0] = 200.0
    assert window.count("nobody") == 0 and len(window) == 0  # reading never adds a key


def test_expired_key_is_forgotten_on_use_and_limits_still_hold() -> None:
    now = [0.0]
    window = SlidingWindow(2, 10.0, clock=lambda: now[0])
    assert [window.allow("a") for _ in range(3)] == [True, True, False]
    assert window.retry_after("a") == 10.0
    now[0] = 10.5
    assert window.retry_after("a") == 0.0 and len(window) == 0
    window.add("b")
    window.add("b")
    assert window.retry_after("b") == 10.0 and not window.allow("b")
    window.reset("b")
    assert window.allow("b")
