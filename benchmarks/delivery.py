"""Bulk delivery at Telegram's limits, with interactive replies going out meanwhile.

    python -m benchmarks.delivery [--chats 5000] [--private 20] [--group 40] [--baseline-chats 600]

The test Bot API server (tests/fakes/telegram_api.py) runs in a child process and enforces Telegram's
limits — 30 messages/s overall, 1/s per private chat, 20/min per group — answering 429 with retry_after.
pocnet's delivery service (bot.delivery, TelegramTransport with the default limits of TelegramSection)
gets at once ``--chats`` bulk messages, one to each of as many private chats, plus ``--private`` replies
to one private chat and ``--group`` to one group (both on the interactive lane, as a conversation's
answers are); while the bulk goes out, an interactive reply to a new chat is submitted every 0.5 s and
timed from submit until the server recorded it (both processes read the same monotonic clock).

Baselines, same run: the ideal schedule — exactly 30 messages/s, so N messages take N/30 s; the figure is
achieved rate / ideal rate — and python-telegram-bot's own ``AIORateLimiter`` sending ``--baseline-chats``
messages to as many private chats on a fresh server (0 skips it). Everything is measured where Telegram
measures it: at the server. Last line ``RESULT delivery_rate_fraction <value>``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from telegram.ext import AIORateLimiter, Application

try:
    from benchmarks.stats import percentile
except ModuleNotFoundError:  # run as a script, python benchmarks/<name>.py: its folder is on the path
    from stats import percentile
from bot.config import TelegramSection
from bot.delivery.sender import Outcome
from bot.delivery.service import DeliveryService
from bot.transports.base import Address, Outgoing
from bot.transports.telegram import TelegramTransport

TOKEN = "424242:DELIVERY-BENCHMARK"
RATE = 30  # Telegram's overall limit, messages/s
BULK_BASE = 1_000_000  # bulk recipients: BULK_BASE + n
INTERACTIVE_BASE = 2_000_000  # a new private chat for each interactive reply
PRIVATE_CHAT = 500
GROUP_CHAT = -100_500
INTERACTIVE_EVERY = 0.5


def _http(port: int, path: str) -> dict:  # type: ignore[type-arg]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=60) as response:
        return json.loads(response.read())


async def server_sends(port: int) -> dict:  # type: ignore[type-arg]
    """The server's record: ``at`` (its monotonic clock), ``chat_ids``, ``rejected_429``."""
    return await asyncio.to_thread(_http, port, "/control/sent?detail=1")


@contextlib.asynccontextmanager
async def bot_api_server() -> AsyncIterator[int]:
    """A fresh test Bot API server enforcing Telegram's limits, in a child process; yields its port."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "benchmarks.delivery", "--serve", stdout=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    try:
        yield int((await process.stdout.readline()).decode())
    finally:
        process.terminate()
        await process.wait()


async def _serve() -> None:
    from tests.fakes.telegram_api import FakeBotAPI

    server = FakeBotAPI(token=TOKEN, enforce_limits=True)
    await server.start()
    print(server.port, flush=True)
    await asyncio.Event().wait()


# --- figures ------------------------------------------------------------------------------------------


def most_in_window(times: list[float], period: float) -> int:
    """The most events in any window of ``period`` seconds, counted as the server counts them (an event
    exactly ``period`` seconds old has left the window)."""
    ordered = sorted(times)
    best = low = 0
    for high, t in enumerate(ordered):
        while ordered[low] <= t - period:
            low += 1
        best = max(best, high - low + 1)
    return best


def min_gap(times: list[float]) -> float:
    ordered = sorted(times)
    return min((b - a for a, b in itertools.pairwise(ordered)), default=float("inf"))


@dataclass
class Figures:
    sent: int  # server-recorded messages from the start until the last bulk message
    elapsed: float  # seconds from the bulk's submit until the server recorded its last message
    most_per_second: int
    rejected_429: int
    failed: int
    latencies: list[float] = field(default_factory=list)
    group_most_per_minute: int = 0
    group_sent: int = 0
    private_min_gap: float = float("inf")
    private_sent: int = 0

    @property
    def rate(self) -> float:
        return self.sent / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def fraction(self) -> float:
        return self.rate / RATE


def _address(chat_id: int) -> Address:
    return Address("telegram", str(chat_id), str(abs(chat_id)))


# --- pocnet's delivery service ---------------------------------------------------------------------------


async def pocnet(chats: int, private: int, group: int) -> Figures:
    async with bot_api_server() as port:
        section = TelegramSection.model_validate({"token": TOKEN, "base_url": f"http://127.0.0.1:{port}/bot"})
        transport = TelegramTransport(section)
        await transport.app.initialize()
        delivery = DeliveryService([transport])
        delivery.start()
        failed = 0
        bulk_left = chats
        bulk_done = asyncio.Event()

        async def on_bulk(outcome: Outcome) -> None:
            nonlocal bulk_left
            await on_any(outcome)
            bulk_left -= 1
            if bulk_left == 0:
                bulk_done.set()

        async def on_any(outcome: Outcome) -> None:
            nonlocal failed
            failed += not outcome.sent

        submitted: dict[int, float] = {}  # interactive chat → when its reply was submitted

        async def interactive() -> None:
            number = 0
            await asyncio.sleep(INTERACTIVE_EVERY / 2)
            while not bulk_done.is_set():
                chat = INTERACTIVE_BASE + number
                submitted[chat] = time.monotonic()
                delivery.submit(_address(chat), Outgoing(f"reply {number}"), key=f"i{number}", on_done=on_any)
                number += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(bulk_done.wait(), INTERACTIVE_EVERY)

        began = time.monotonic()
        for n in range(private):
            delivery.submit(_address(PRIVATE_CHAT), Outgoing(f"part {n}"), key=f"p{n}", on_done=on_any)
        for n in range(group):
            delivery.submit(_address(GROUP_CHAT), Outgoing(f"group {n}"), key=f"g{n}", on_done=on_any)
        for n in range(chats):
            delivery.submit(_address(BULK_BASE + n), Outgoing(f"announcement to {n}"), key=f"b{n}", bulk=True,
                            on_done=on_bulk)  # fmt: skip
        if chats == 0:
            bulk_done.set()
        generator = asyncio.create_task(interactive())
        await asyncio.wait_for(bulk_done.wait(), timeout=chats / RATE * 3 + 120)
        await generator
        await asyncio.wait_for(delivery.idle(), timeout=group / 20 * 61 + 60)
        await delivery.stop()
        await transport.app.shutdown()
        record = await server_sends(port)

    at: list[float] = record["at"]
    ids: list[int] = record["chat_ids"]
    bulk_at = [t for t, c in zip(at, ids, strict=True) if BULK_BASE <= c < INTERACTIVE_BASE]
    end = max(bulk_at, default=began)
    recorded = {c: t for t, c in zip(at, ids, strict=True) if c >= INTERACTIVE_BASE}
    private_at = [t for t, c in zip(at, ids, strict=True) if c == PRIVATE_CHAT]
    group_at = [t for t, c in zip(at, ids, strict=True) if c == GROUP_CHAT]
    return Figures(
        sent=sum(began <= t <= end for t in at),
        elapsed=end - began,
        most_per_second=most_in_window(at, 1.0),
        rejected_429=record["rejected_429"],
        failed=failed,
        latencies=[recorded[c] - s for c, s in submitted.items() if c in recorded],
        group_most_per_minute=most_in_window(group_at, 60.0),
        group_sent=len(group_at),
        private_min_gap=min_gap(private_at),
        private_sent=len(private_at),
    )


# --- baseline: python-telegram-bot's AIORateLimiter ------------------------------------------------------


async def ptb_rate_limiter(chats: int) -> Figures:
    """Every message handed to PTB at once; its limiter (aiolimiter buckets: 30/s overall, 20/min per
    group) paces them and retries a 429 after retry_after, up to 5 times."""
    async with bot_api_server() as port:
        app = (
            Application.builder()
            .token(TOKEN)
            .base_url(f"http://127.0.0.1:{port}/bot")
            .rate_limiter(AIORateLimiter(max_retries=5))
            .job_queue(None)
            .build()
        )
        await app.initialize()
        began = time.monotonic()
        results = await asyncio.gather(
            *(app.bot.send_message(BULK_BASE + n, f"announcement to {n}") for n in range(chats)),
            return_exceptions=True,
        )
        await app.shutdown()
        record = await server_sends(port)
    at: list[float] = record["at"]
    return Figures(
        sent=len(at),
        elapsed=max(at, default=began) - began,
        most_per_second=most_in_window(at, 1.0),
        rejected_429=record["rejected_429"],
        failed=sum(isinstance(r, BaseException) for r in results),
    )


# --- report -----------------------------------------------------------------------------------------------


def _check(ok: bool) -> str:
    return "met" if ok else "NOT met"


async def main(chats: int, private: int, group: int, baseline_chats: int) -> None:
    baseline = await ptb_rate_limiter(baseline_chats) if baseline_chats > 0 else None
    ours = await pocnet(chats, private, group)

    print(f"delivery: {chats} bulk messages to {chats} private chats, {private} to one private chat and {group} "
          f"to one group, an interactive reply every {INTERACTIVE_EVERY} s;")  # fmt: skip
    print(f"test Bot API server in another process enforcing {RATE}/s overall, 1/s per private chat, 20/min per group")
    print(f"{'sender':44} {'messages':>8} {'seconds':>8} {'msg/s':>7} {'of 30/s':>7} {'max/1s':>6} {'429s':>5}")
    ideal_seconds = ours.sent / RATE
    print(f"{'baseline: ideal schedule, exactly 30/s':44} {ours.sent:8d} {ideal_seconds:8.1f} {RATE:7.1f} "
          f"{1.0:7.3f} {RATE:6d} {0:5d}")  # fmt: skip
    if baseline is not None:
        print(f"{'PTB AIORateLimiter (' + str(baseline_chats) + ' chats, fresh server)':44} {baseline.sent:8d} "
              f"{baseline.elapsed:8.1f} {baseline.rate:7.1f} {baseline.fraction:7.3f} {baseline.most_per_second:6d} "
              f"{baseline.rejected_429:5d}")  # fmt: skip
        if baseline.failed:
            print(f"  PTB AIORateLimiter: {baseline.failed} messages not delivered")
    print(f"{'pocnet delivery service':44} {ours.sent:8d} {ours.elapsed:8.1f} {ours.rate:7.1f} {ours.fraction:7.3f} "
          f"{ours.most_per_second:6d} {ours.rejected_429:5d}")  # fmt: skip
    print("  (messages and seconds: from submitting the bulk until the server recorded its last bulk message; "
          "max/1s: over the whole run)")  # fmt: skip
    p95 = percentile(ours.latencies, 0.95) if ours.latencies else float("nan")
    p50 = percentile(ours.latencies, 0.5) if ours.latencies else float("nan")
    worst = max(ours.latencies, default=float("nan"))
    print(f"interactive replies during the bulk: {len(ours.latencies)}, submit → recorded by the server: "
          f"p50 {p50:.3f} s, p95 {p95:.3f} s, max {worst:.3f} s")  # fmt: skip
    print(f"group: {ours.group_sent} sent, most in any 60 s: {ours.group_most_per_minute}; "
          f"private chat: {ours.private_sent} sent, smallest gap {ours.private_min_gap:.3f} s")  # fmt: skip
    print(f"messages not delivered: {ours.failed}")
    print(f"rate / ideal: {ours.fraction:.3f} (target ≥ 0.95 — {_check(ours.fraction >= 0.95)})")
    print(f"most in any 1 s: {ours.most_per_second} (target ≤ 30 — {_check(ours.most_per_second <= RATE)})")
    print(f"429 answers: {ours.rejected_429} (target 0 — {_check(ours.rejected_429 == 0)})")
    print(f"interactive p95: {p95:.3f} s (target ≤ 2 s — {_check(p95 <= 2.0)})")
    print(f"group most per 60 s: {ours.group_most_per_minute} (target ≤ 20 — "
          f"{_check(ours.group_most_per_minute <= 20)}); private smallest gap: {ours.private_min_gap:.3f} s "
          f"(target ≥ 1 s — {_check(ours.private_min_gap >= 1.0)})")  # fmt: skip
    print(f"RESULT delivery_rate_fraction {ours.fraction:.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=5000, help="bulk messages, each to its own private chat")
    parser.add_argument("--private", type=int, default=20, help="messages to one private chat")
    parser.add_argument("--group", type=int, default=40, help="messages to one group")
    parser.add_argument("--baseline-chats", type=int, default=600, help="PTB AIORateLimiter baseline (0: skip)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)  # the server child process
    options = parser.parse_args()
    if options.serve:
        asyncio.run(_serve())
    else:
        asyncio.run(main(options.chats, options.private, options.group, options.baseline_chats))
