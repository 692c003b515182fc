"""The delivery service on a controllable clock: hard limits, no head-of-line blocking, priorities,
retries and failures. (Measured speed lives in benchmarks/delivery.py.)"""

from __future__ import annotations

import itertools
import logging

import pytest

from bot.delivery.clock import ManualClock
from bot.delivery.service import DeliveryService, Outcome
from bot.delivery.windows import HardWindow, PlatformLimits
from bot.transports.base import Outgoing
from tests.fakes.platform import PlatformError, RecordingPlatform, most_in_any_window

TELEGRAM = PlatformLimits(per_second=30, per_chat_interval=1.0, group_per_minute=20, retries=3, backoff=0.5)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


async def started(platform: RecordingPlatform, clock: ManualClock) -> DeliveryService:
    service = DeliveryService([platform], clock=clock)
    service.start()
    await clock.settle()
    return service


def test_hard_window_allows_no_burst_above_the_limit() -> None:
    window = HardWindow(3, 1.0)
    for t in (0.0, 0.1, 0.2):
        assert window.available_at(t) == t
        window.record(t)
    assert window.available_at(0.3) == pytest.approx(1.0)  # the 4th waits until the 1st leaves the window
    assert window.available_at(1.05) == pytest.approx(1.05)


async def test_overall_limit_is_a_hard_sliding_window(clock: ManualClock) -> None:
    platform = RecordingPlatform(clock, TELEGRAM)
    service = await started(platform, clock)
    for n in range(100):  # 100 private chats, one message each: no burst above 30 in any second
        service.submit(platform.to(str(n + 1)), Outgoing("hi"), key=f"k{n}")
    await clock.advance(4.0, step=0.001)
    times = platform.times()
    assert len(times) == 100
    assert most_in_any_window(times, 1.0) == 30  # never more than 30 in any second …
    assert min(b - a for a, b in itertools.pairwise(times)) >= 1 / 30 - 0.002  # … spread evenly (± a clock step) …
    assert times[-1] - times[0] <= 99 / 30 * 1.04  # … and the whole rate is used (less the margin)
    await service.stop()


async def test_one_message_per_second_to_a_private_chat(clock: ManualClock) -> None:
    platform = RecordingPlatform(clock, TELEGRAM)
    service = await started(platform, clock)
    for n in range(5):
        service.submit(platform.to("42"), Outgoing(f"m{n}"), key=f"k{n}")
    await clock.advance(6)
    times = platform.times("42")
    assert [r.text for r in platform.sent] == ["m0", "m1", "m2", "m3", "m4"]  # in order
    assert min(b - a for a, b in itertools.pairwise(times)) >= 1.0
    await service.stop()


async def test_twenty_per_minute_to_a_group(clock: ManualClock) -> None:
    platform = RecordingPlatform(clock, TELEGRAM)
    service = await started(platform, clock)
    for n in range(40):
        service.submit(platform.to("-100"), Outgoing(f"m{n}"), key=f"k{n}")
    await clock.advance(59, step=0.5)
    assert len(platform.sent) == 20
    await clock.advance(62, step=0.5)
    assert len(platform.sent) == 40
    assert most_in_any_window(platform.times("-100"), 60.0) == 20
    await service.stop()


async def test_a_chat_in_retry_after_does_not_hold_the_others(clock: ManualClock) -> None:
    def fail(to, message, attempt):  # type: ignore[no-untyped-def]
        return PlatformError("429", retry_after=5) if to.chat_id == "1" and attempt == 1 else None

    platform = RecordingPlatform(clock, TELEGRAM, fail=fail)
    service = await started(platform, clock)
    service.submit(platform.to("1"), Outgoing("to the busy chat"), key="busy")
    for n in range(2, 12):
        service.submit(platform.to(str(n)), Outgoing("hi"), key=f"k{n}")
    await clock.advance(1.0)
    assert sorted(r.chat_id for r in platform.sent) == sorted(str(n) for n in range(2, 12))  # all the others
    await clock.advance(3.5)
    assert "1" not in [r.chat_id for r in platform.sent]  # still waiting its 5 s
    await clock.advance(1.0)
    assert platform.sent[-1].chat_id == "1" and platform.sent[-1].at - platform.attempts[0].at >= 5
    await service.stop()


async def test_a_chat_that_always_fails_is_reported_once_and_holds_no_one(
    clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    def fail(to, message, attempt):  # type: ignore[no-untyped-def]
        return PlatformError("502 Bad Gateway", retry_after=0) if to.chat_id == "1" else None

    platform = RecordingPlatform(clock, TELEGRAM, fail=fail)
    service = await started(platform, clock)
    outcomes: list[Outcome] = []

    async def record(outcome: Outcome) -> None:
        outcomes.append(outcome)

    service.submit(platform.to("1"), Outgoing("doomed"), key="doomed", on_done=record)
    for n in range(2, 40):
        service.submit(platform.to(str(n)), Outgoing("hi"), key=f"k{n}")
    with caplog.at_level(logging.INFO, logger="pocnet.delivery"):
        await clock.advance(1.4, step=0.001)
        assert len(platform.sent) == 38  # everyone else within the first 1.4 s (30/s)
        await clock.advance(10)
    assert len(outcomes) == 1 and outcomes[0].error == "502 Bad Gateway" and outcomes[0].attempts == 4
    gaps = [b.at - a.at for a, b in zip(platform.attempts, platform.attempts[1:], strict=False) if a.chat_id == "1"]
    assert len([a for a in platform.attempts if a.chat_id == "1"]) == 4  # 1 + 3 retries, backing off
    failed = [r for r in caplog.records if r.getMessage() == "delivery failed"]
    assert len(failed) == 1 and failed[0].levelname == "WARNING" and failed[0].exc_info is None
    assert gaps  # (backoff spacing is covered by the attempt count within the advanced time)
    await service.stop()


async def test_interactive_replies_go_before_bulk(clock: ManualClock) -> None:
    platform = RecordingPlatform(clock, TELEGRAM)
    service = await started(platform, clock)
    for n in range(3000):  # a broadcast: 100 s of sending at 30/s
        service.submit(platform.to(str(10_000 + n)), Outgoing("bulk"), key=f"b{n}", bulk=True)
    await clock.advance(5)
    service.submit(platform.to("7"), Outgoing("your /whois answer"), key="r1")
    asked = clock.now()
    await clock.advance(1.5)
    answer = next(r for r in platform.sent if r.chat_id == "7")
    assert answer.at - asked <= 1.05  # within the next free slot, not after 95 s of bulk
    assert most_in_any_window(platform.times(), 1.0) <= 30
    await service.stop()


async def test_platform_wide_throttling_pauses_every_chat(clock: ManualClock) -> None:
    def fail(to, message, attempt):  # type: ignore[no-untyped-def]
        first = to.chat_id == "1" and attempt == 1
        return PlatformError("M_LIMIT_EXCEEDED", retry_after=2, platform_wide=True) if first else None

    platform = RecordingPlatform(clock, PlatformLimits(per_second=1, retries=3), platform="matrix", fail=fail)
    service = await started(platform, clock)
    service.submit(platform.to("1"), Outgoing("a"), key="a")
    await clock.advance(0.1)
    service.submit(platform.to("2"), Outgoing("b"), key="b")
    await clock.advance(1.5)
    assert platform.sent == []  # the homeserver throttles the account: nobody gets anything meanwhile
    await clock.advance(2)
    assert {r.chat_id for r in platform.sent} == {"1", "2"}
    await service.stop()


async def test_sends_at_once_follow_the_latency_and_a_hanging_chat_holds_no_one(clock: ManualClock) -> None:
    platform = RecordingPlatform(
        clock, PlatformLimits(), delay=lambda to: 30.0 if to.chat_id.startswith("h") else 0.005
    )
    service = await started(platform, clock)
    for n in range(200):  # a fast platform: a couple of sends at once are plenty
        service.submit(platform.to(str(n)), Outgoing("hi"), key=f"k{n}")
    await clock.advance(2, step=0.001)
    assert len(platform.sent) == 200
    assert max(platform.most_concurrent[100:]) <= 2  # not 32 requests fighting for the connection pool
    for n in range(3):  # 3 chats whose sends hang for 30 s (more than the 2 slots), then 10 ordinary ones
        service.submit(platform.to(f"h{n}"), Outgoing("stuck"), key=f"h{n}")
    for n in range(10):
        service.submit(platform.to(f"ok{n}"), Outgoing("hi"), key=f"ok{n}")
    await clock.advance(2.5, step=0.01)
    assert sum(r.chat_id.startswith("ok") for r in platform.sent) == 10  # the hanging ones stopped counting
    await service.stop(drain=0)


async def test_unknown_platform_is_refused_with_a_warning(clock: ManualClock, caplog: pytest.LogCaptureFixture) -> None:
    platform = RecordingPlatform(clock, TELEGRAM)
    service = await started(platform, clock)
    from bot.transports.base import Address

    assert not service.submit(Address("irc", "x", "x"), Outgoing("hi"), key="k")
    assert any(r.getMessage() == "no transport for platform" for r in caplog.records)
    await service.stop()
