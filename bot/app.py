"""Wiring: settings → database, delivery, router, transports. ``App.run()`` serves until stopped.

The app is a list of services started in order and stopped in reverse:

    (connections) → status server → platform senders → outbox lane → transports (receiving)

so on SIGTERM pocnet first stops receiving (finishing what it has fetched), then stops taking outbox rows,
then finishes the interactive replies already queued (at most ``delivery.drain_seconds``).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.config import Settings
from bot.delivery.clock import Clock
from bot.delivery.durable import DurableLane
from bot.delivery.service import DeliveryService
from bot.escalation import Escalator
from bot.metrics import Metrics, StatusServer
from bot.router import Router
from bot.transports.base import Transport
from reminders.scheduler import ReminderScheduler
from storage import outbox
from storage.db import Database
from storage.types import utcnow

log = logging.getLogger("pocnet.app")

FLUSH_SECONDS = 10.0  # the longest a Matrix sync batch waits for its replies before moving on


@dataclass
class Service:
    name: str
    start: Callable[[], Awaitable[None]]
    stop: Callable[[], Awaitable[None]]


class StartFailed(Exception):
    """A service could not start; the message is one line for the operator."""


class App:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        transports: Sequence[Transport],
        *,
        clock: Clock | None = None,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        import handlers
        from reminders import settings as reminder_settings

        handlers.load()
        reminder_settings.configure(settings.reminders, settings.bot.default_language)
        self.settings = settings
        self.db = db
        self.transports = {t.platform: t for t in transports}
        self.metrics = Metrics()
        self.delivery = DeliveryService(transports, clock=clock, metrics=self.metrics)
        d = settings.delivery
        self.outbox = DurableLane(db, self.delivery, default_language=settings.bot.default_language,
                                  poll_seconds=d.poll_seconds, batch=d.batch, standby_seconds=d.standby_seconds)  # fmt: skip
        self.router = Router(db, settings, self.delivery, bot_username=None, metrics=self.metrics, now=now)
        self.escalator = Escalator(db, every=settings.relay.check_seconds, now=now)
        self.reminders = ReminderScheduler(db, now=now, catalogue_path=settings.figures.catalogue)
        for transport in transports:
            if hasattr(transport, "flush"):  # Matrix saves its sync position once the replies have left
                transport.flush = self._flusher(transport.platform)
        m = settings.metrics
        self.status = (
            StatusServer(
                self.metrics,
                db,
                m.listen,
                m.port,
                transports=transports,
                secrets=settings.secrets(),
                scheduler=self.reminders,
            )
            if m.enabled
            else None
        )
        self.services = self._services()
        self._started: list[Service] = []
        self._stop = asyncio.Event()

    def _flusher(self, platform: str) -> Callable[[], Awaitable[None]]:
        async def flush() -> None:
            try:
                await asyncio.wait_for(self.delivery.senders[platform].interactive_idle(), FLUSH_SECONDS)
            except TimeoutError:
                log.warning("replies still queued after a sync batch", extra={"platform": platform})

        return flush

    def _services(self) -> list[Service]:
        async def nothing() -> None:
            return None

        async def start_senders() -> None:
            self.delivery.start()

        async def stop_senders() -> None:
            await self.delivery.stop(drain=self.settings.delivery.drain_seconds)

        async def start_outbox() -> None:
            self.outbox.start()

        async def start_escalation() -> None:
            self.escalator.start()

        # Connections close last (after the senders have drained); receiving stops first.
        services = [Service(f"{t.platform} connection", nothing, t.stop) for t in self.transports.values()]
        services.append(Service("directory snapshot", self._load_snapshot, nothing))
        if self.status is not None:
            services.append(Service("status server", self.status.start, self.status.stop))
        services.append(Service("senders", start_senders, stop_senders))
        services.append(Service("outbox", start_outbox, self.outbox.stop))
        services.append(Service("escalation", start_escalation, self.escalator.stop))
        services.append(Service("reminders", self.reminders.start, self.reminders.stop))
        for transport in self.transports.values():
            stop_receiving = getattr(transport, "stop_receiving", nothing)
            services.append(Service(transport.platform, self._starter(transport), stop_receiving))
        return services

    def _starter(self, transport: Transport) -> Callable[[], Awaitable[None]]:
        async def start() -> None:
            await transport.start(self.router.handle)
            username = getattr(transport, "username", None)
            if username:  # "/help@other_bot" in a group is not for us
                self.router.bot_username = username

        return start

    async def _load_snapshot(self) -> None:
        try:  # load the directory snapshot now rather than on the first question
            await self.router.read_model.current()
        except Exception as exc:  # the database may come later; lookups will load it then
            log.warning("directory snapshot not loaded at start", extra={"reason": repr(exc)[:200]})

    async def start(self) -> None:
        """Start every service in order; if one cannot start (Telegram unreachable, a refused Matrix login),
        stop those already started and raise StartFailed, which names the service and the reason."""
        for service in self.services:
            try:
                await service.start()
            except Exception as exc:
                reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
                log.warning("service did not start", extra={"service": service.name, "reason": type(exc).__name__})
                await self.stop()
                raise StartFailed(f"{service.name}: {reason}") from exc
            self._started.append(service)
            log.info("service started", extra={"service": service.name})

    async def stop(self) -> None:
        while self._started:
            service = self._started.pop()
            try:
                await service.stop()
            except Exception:
                log.exception("service did not stop cleanly", extra={"service": service.name})
        await self.db.dispose()

    async def idle(self, within: float = 30.0) -> None:
        """Until everything queued — replies, and outbox rows of this app's platforms — has been sent and
        its outcome recorded (tests and the console's scripted mode wait on this)."""
        async with asyncio.timeout(within):
            while True:
                await self.delivery.idle()
                if not self.outbox.outstanding:
                    async with self.db.transaction() as session:
                        if not await outbox.pending(session, list(self.transports)):
                            return
                await asyncio.sleep(0.005)

    def request_stop(self) -> None:
        self._stop.set()

    async def run(self, *, until: asyncio.Event | None = None) -> None:
        """Start, serve until SIGINT/SIGTERM (or ``until`` is set), then stop cleanly."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self.request_stop)
            except (NotImplementedError, RuntimeError):  # pragma: no cover - non-main thread / Windows
                pass
        await self.start()
        waiters = [asyncio.create_task(self._stop.wait())]
        if until is not None:
            waiters.append(asyncio.create_task(until.wait()))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await self.stop()
            log.info("stopped")
