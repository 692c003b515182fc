"""Wiring: settings → database, transports, router. ``App.run()`` serves until stopped."""

from __future__ import annotations

import asyncio
import logging
import signal
import uuid
from collections.abc import Sequence

from bot.config import Settings
from bot.metrics import Metrics, StatusServer
from bot.router import Router
from bot.transports.base import Address, Outgoing, Transport
from storage.db import Database

log = logging.getLogger("pocnet.app")


class App:
    def __init__(self, settings: Settings, db: Database, transports: Sequence[Transport]) -> None:
        import handlers

        handlers.load()
        self.settings = settings
        self.db = db
        self.transports = {t.platform: t for t in transports}
        self.metrics = Metrics()
        self.router = Router(db, settings, self.send, bot_username=None, metrics=self.metrics)
        m = settings.metrics
        self.status = StatusServer(self.metrics, db, m.listen, m.port) if m.enabled else None
        self._stop = asyncio.Event()

    async def send(self, to: Address, message: Outgoing, *, idempotency_key: str | None = None) -> str:
        transport = self.transports.get(to.platform)
        if transport is None:
            raise LookupError(f"no transport for platform {to.platform!r}")
        return await transport.send(to, message, idempotency_key=idempotency_key or uuid.uuid4().hex)

    async def start(self) -> None:
        try:  # load the directory snapshot now rather than on the first question
            await self.router.read_model.current()
        except Exception as exc:  # the database may come later; lookups will load it then
            log.warning("directory snapshot not loaded at start", extra={"reason": repr(exc)[:200]})
        if self.status is not None:
            await self.status.start()
        for transport in self.transports.values():
            await transport.start(self.router.handle)
            username = getattr(transport, "username", None)
            if username:  # "/help@other_bot" in a group is not for us
                self.router.bot_username = username
            log.info("transport started", extra={"platform": transport.platform})

    async def stop(self) -> None:
        for transport in self.transports.values():
            try:
                await transport.stop()
            except Exception:
                log.exception("transport did not stop cleanly", extra={"platform": transport.platform})
        if self.status is not None:
            await self.status.stop()
        await self.db.dispose()

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
