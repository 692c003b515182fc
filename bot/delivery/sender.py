"""One sender per platform: a queue per chat, hard windows, two priorities, per-chat pauses.

The loop picks the next chat that may send now — interactive replies before bulk — and starts its send
as a task, so one chat's slow or failing sends never hold another chat. Each chat has at most one send in
flight (its messages stay in order). How many sends run at once follows Little's law: the rate to keep
times the measured send latency, doubled (at least 2). More only costs: on a fast link, 32 concurrent
HTTP requests halved the bot's throughput against 2. A send that takes far longer than usual stops
counting, so a hanging chat never holds the others. After a failure the verdict of ``transport.classify`` decides: wait
``retry_after`` (that chat only, or the whole platform when the platform says so), back off
exponentially, or give up — one WARNING line, and the outcome goes to whoever asked (the outbox records
it). No traceback for handled faults: tracebacks are for bugs.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import math
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.delivery.clock import Clock
from bot.delivery.windows import HardWindow, PlatformLimits
from storage.outbox import BULK, INTERACTIVE  # the priorities outbox rows carry

if TYPE_CHECKING:
    from bot.metrics import Metrics
    from bot.transports.base import Address, Outgoing, Transport

log = logging.getLogger("pocnet.delivery")


@dataclass(frozen=True)
class Outcome:
    """What became of one message: sent (``message_id``) or failed (``error``)."""

    message_id: str | None
    error: str | None
    attempts: int

    @property
    def sent(self) -> bool:
        return self.error is None


OnDone = Callable[[Outcome], Awaitable[None]]


class _Message:
    """The parts of one message (long texts are split); reports once, when the last part is settled."""

    __slots__ = ("attempts", "error", "message_id", "on_done", "remaining")

    def __init__(self, parts: int, on_done: OnDone | None) -> None:
        self.remaining = parts
        self.on_done = on_done
        self.message_id: str | None = None
        self.error: str | None = None
        self.attempts = 0

    def settle(self, message_id: str | None, error: str | None, attempts: int) -> bool:
        self.remaining -= 1
        self.attempts = max(self.attempts, attempts)
        if message_id is not None and self.message_id is None:
            self.message_id = message_id  # the first part: what a reply to "the message" most likely quotes
        if error is not None and self.error is None:
            self.error = error
        return self.remaining == 0


@dataclass(eq=False)
class _Job:
    to: Address
    message: Outgoing
    key: str
    priority: int
    parent: _Message
    attempts: int = 0


@dataclass(eq=False)
class _Chat:
    chat_id: str
    window: HardWindow | None
    queues: tuple[deque[_Job], deque[_Job]] = field(default_factory=lambda: (deque(), deque()))
    busy: bool = False
    paused_until: float = 0.0
    where: str | None = None  # "0" / "1" (a ready deque), "heap", or None (not scheduled)

    def has_jobs(self) -> bool:
        return bool(self.queues[0] or self.queues[1])

    def priority(self) -> int:
        return INTERACTIVE if self.queues[0] else BULK

    def ready_at(self, now: float) -> float:
        at = max(now, self.paused_until)
        return max(at, self.window.available_at(at)) if self.window is not None else at


class PlatformSender:
    def __init__(
        self, transport: Transport, limits: PlatformLimits, clock: Clock, metrics: Metrics | None = None
    ) -> None:
        self.transport = transport
        self.platform = transport.platform
        self.limits = limits
        self.clock = clock
        self.metrics = metrics
        self._overall = limits.overall()
        self._chats: dict[str, _Chat] = {}
        self._ready: tuple[deque[_Chat], deque[_Chat]] = (deque(), deque())
        self._timers: list[tuple[float, int, _Chat]] = []
        self._seq = itertools.count()
        self._paused_until = 0.0
        self._in_flight: set[asyncio.Task[None]] = set()
        self._queued = [0, 0]  # jobs waiting, per priority
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self._sends = 0
        self._interactive_in_flight = 0
        self._sending: dict[_Job, float] = {}  # sends waiting for the platform → when they left
        self._latency = 0.1  # seconds a send takes (moving average), until measured
        self._calm = asyncio.Event()  # set whenever a send finishes: interactive_idle looks again

    # --- what callers use ---------------------------------------------------------------------------

    def submit(
        self, to: Address, message: Outgoing, *, key: str, priority: int = INTERACTIVE, on_done: OnDone | None = None
    ) -> None:
        parts = self.transport.parts(message)
        parent = _Message(len(parts), on_done)
        chat = self._chats.get(to.chat_id)
        if chat is None:
            chat = self._chats[to.chat_id] = _Chat(to.chat_id, self.limits.chat(self.transport.is_group(to)))
        for number, part in enumerate(parts):
            chat.queues[priority].append(_Job(to, part, key if number == 0 else f"{key}.{number}", priority, parent))
            self._queued[priority] += 1
        self._idle.clear()
        if priority == INTERACTIVE and chat.where == str(BULK):
            chat.where = None  # move it up: the stale entry in the bulk deque is skipped
        self._schedule(chat, self.clock.now())
        self._wake.set()

    @property
    def pending(self) -> int:
        return self._queued[0] + self._queued[1] + len(self._in_flight)

    async def interactive_idle(self) -> None:
        """Return once no interactive reply is queued or in flight."""
        while self._queued[INTERACTIVE] or self._interactive_in_flight:
            self._calm.clear()
            await self._calm.wait()

    async def idle(self) -> None:
        """Return once nothing is queued or in flight."""
        while self.pending:
            self._idle.clear()
            await self._idle.wait()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"delivery-{self.platform}")

    async def stop(self, *, drain: float = 5.0) -> None:
        """Finish queued interactive replies (at most ``drain`` seconds), then stop."""
        try:
            async with asyncio.timeout(drain):
                while self._queued[INTERACTIVE] or self._in_flight:
                    self._idle.clear()
                    self._wake.set()
                    await asyncio.wait([asyncio.create_task(self._idle.wait())], timeout=0.05)
        except TimeoutError:
            log.warning("stopping with messages unsent", extra={"platform": self.platform, "queued": sum(self._queued)})
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._in_flight:  # sends under way, and the recording of their outcome: let them end
            _done, late = await asyncio.wait(set(self._in_flight), timeout=2.0)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    # --- scheduling -----------------------------------------------------------------------------------

    def _schedule(self, chat: _Chat, now: float) -> None:
        if chat.busy or chat.where is not None or not chat.has_jobs():
            return
        at = chat.ready_at(now)
        if at <= now:
            chat.where = str(chat.priority())
            self._ready[chat.priority()].append(chat)
        else:
            chat.where = "heap"
            heapq.heappush(self._timers, (at, next(self._seq), chat))

    def _promote(self, now: float) -> None:
        timers = self._timers
        while timers and timers[0][0] <= now:
            _, _, chat = heapq.heappop(timers)
            if chat.where == "heap":
                chat.where = None
                self._schedule(chat, now)

    def _next_ready(self, now: float) -> _Chat | None:
        for priority in (INTERACTIVE, BULK):
            ready = self._ready[priority]
            while ready:
                chat = ready.popleft()
                if chat.where != str(priority):
                    continue  # stale entry: moved, or already taken
                chat.where = None
                if chat.busy or not chat.has_jobs():
                    continue
                if chat.ready_at(now) > now:
                    self._schedule(chat, now)
                    continue
                return chat
        return None

    async def _sleep(self, seconds: float | None) -> None:
        """Until ``seconds`` pass or something changes (a submit, a finished send)."""
        self._wake.clear()
        if seconds is None:  # the common idle case: no timer, no extra tasks
            await self._wake.wait()
            return
        waiter = asyncio.ensure_future(self._wake.wait())
        timer = asyncio.ensure_future(self.clock.sleep(seconds))
        try:
            await asyncio.wait([waiter, timer], return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            timer.cancel()

    async def _run(self) -> None:
        while True:
            now = self.clock.now()
            if now < self._paused_until:
                await self._sleep(self._paused_until - now)
                continue
            self._promote(now)
            if len(self._in_flight) >= self.limits.max_in_flight:
                await self._sleep(None)
                continue
            busy, frees_at = self._busy(now)
            if busy >= self._concurrency():
                await self._sleep(frees_at)
                continue
            at = max((w.available_at(now) for w in self._overall), default=now)
            if at > now:
                await self._sleep(at - now)
                continue
            chat = self._next_ready(now)
            if chat is None:
                await self._sleep(self._timers[0][0] - now if self._timers else None)
                continue
            self._dispatch(chat, now)

    def _concurrency(self) -> int:
        rate = self.limits.per_second or 30.0  # Telegram's rate where none is set
        return max(2, min(self.limits.max_in_flight, math.ceil(2 * rate * self._latency)))

    def _busy(self, now: float) -> tuple[int, float | None]:
        """Sends that count against the concurrency (not stragglers), and in how many seconds the oldest
        of them turns into one."""
        horizon = max(1.0, 4 * self._latency)
        fresh = [started for started in self._sending.values() if now - started < horizon]
        return len(fresh), (min(fresh) + horizon - now if fresh else None)

    def _dispatch(self, chat: _Chat, now: float) -> None:
        job = chat.queues[chat.priority()].popleft()
        self._queued[job.priority] -= 1
        chat.busy = True
        if job.priority == INTERACTIVE:
            self._interactive_in_flight += 1
        if chat.window is not None:
            chat.window.record(now)
        for window in self._overall:
            window.record(now)
        self._sending[job] = now  # counted at once: the task has not run yet when the loop looks again
        task = asyncio.create_task(self._attempt(chat, job))
        self._in_flight.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._calm.set()
        if not self.pending:
            self._idle.set()
        self._wake.set()

    # --- one attempt ----------------------------------------------------------------------------------

    async def _attempt(self, chat: _Chat, job: _Job) -> None:
        try:
            await self._try(chat, job)
        finally:
            self._sending.pop(job, None)
            if job.priority == INTERACTIVE:
                self._interactive_in_flight -= 1

    async def _try(self, chat: _Chat, job: _Job) -> None:
        job.attempts += 1
        message_id: str | None = None
        error: str | None = None
        try:
            if job.parent.error is not None:
                error = job.parent.error  # an earlier part failed for good: the rest would read wrong
            else:
                message_id = await self._send(job)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # classified: a handled fault is one WARNING line, not a traceback
            verdict = self.transport.classify(exc)
            if verdict.after is not None and job.attempts <= self.limits.retries:
                wait = verdict.after or self.limits.backoff * 2 ** (job.attempts - 1)
                now = self.clock.now()
                if verdict.platform_wide:
                    self._paused_until = max(self._paused_until, now + wait)
                chat.paused_until = now + wait
                chat.queues[job.priority].appendleft(job)
                self._queued[job.priority] += 1
                log.info("retrying", extra={"platform": self.platform, "chat": chat.chat_id,
                                            "reason": verdict.reason, "attempt": job.attempts, "wait": round(wait, 2)})  # fmt: skip
                self._finish(chat)
                return
            error = verdict.reason
            log.warning("delivery failed", extra={"platform": self.platform, "chat": chat.chat_id,
                                                  "reason": verdict.reason, "attempts": job.attempts})  # fmt: skip
        if self.metrics is not None:
            (self.metrics.sent if error is None else self.metrics.failed).labels(self.platform).inc()
        self._finish(chat)
        parent = job.parent
        if parent.settle(message_id, error, job.attempts) and parent.on_done is not None:
            try:
                await parent.on_done(Outcome(parent.message_id, parent.error, parent.attempts))
            except Exception:
                log.exception("recording a delivery outcome failed", extra={"platform": self.platform})

    async def _send(self, job: _Job) -> str:
        started = self.clock.now()
        try:
            return await self.transport.send(job.to, job.message, idempotency_key=job.key)
        finally:
            self._sending.pop(job, None)  # done waiting for the platform (recording the outcome may follow)
            self._latency = 0.8 * self._latency + 0.2 * (self.clock.now() - started)

    def _finish(self, chat: _Chat) -> None:
        chat.busy = False
        now = self.clock.now()
        self._schedule(chat, now)
        self._sends += 1
        if self._sends % 1000 == 0:
            self._forget_idle_chats(now)
        self._wake.set()

    def _forget_idle_chats(self, now: float) -> None:
        for chat_id, chat in list(self._chats.items()):
            if not chat.busy and not chat.has_jobs() and chat.where is None and chat.paused_until <= now:
                if chat.window is None or chat.window.idle(now):
                    del self._chats[chat_id]
