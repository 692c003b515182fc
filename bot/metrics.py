"""Operational metrics (Prometheus text format) and a health check, on an optional local HTTP port.

    GET /metrics   counters and latencies: commands, errors, rate limiting, messages sent and failed
    GET /healthz   JSON, one entry per part — the database, each transport, the outbox — with 200 when every
                   part is well and 503 otherwise (for the supervisor, the container runtime, monitoring)

Off by default; ``[metrics] enabled = true``. Bind it to 127.0.0.1 or an internal interface only.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import text

from bot.transports.base import Transport, health_of
from storage import outbox
from storage.db import Database
from storage.types import utcnow

log = logging.getLogger("pocnet.metrics")


class Metrics:
    """One registry per running bot (tests run several)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.commands = Counter(
            "pocnet_commands_total", "Messages handled, by command", ["command", "platform"], registry=self.registry
        )
        self.errors = Counter(
            "pocnet_errors_total",
            "Messages that ended in an error: 'input' (explained to the user), 'database' (unavailable), "
            "or 'internal' (a bug, logged)",
            ["kind"],
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "pocnet_rate_limited_total", "Messages dropped by the rate limit", registry=self.registry
        )
        self.latency = Histogram(
            "pocnet_handling_seconds",
            "Time from receiving a message to having its answers sent",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )
        self.sent = Counter("pocnet_messages_sent_total", "Messages sent", ["platform"], registry=self.registry)
        self.failed = Counter(
            "pocnet_messages_failed_total", "Messages the platform did not take after every retry", ["platform"],
            registry=self.registry,
        )  # fmt: skip

    def render(self) -> bytes:
        return generate_latest(self.registry)


BACKLOG_AGE = timedelta(minutes=15)  # a message waiting longer than this: sending has stalled
FAILURE_WINDOW = timedelta(hours=24)
CHECK_SECONDS = 3.0


class StatusServer:
    def __init__(
        self,
        metrics: Metrics,
        db: Database,
        listen: str,
        port: int,
        *,
        transports: Sequence[Transport] = (),
        secrets: Sequence[str] = (),
        scheduler: Any = None,
    ) -> None:
        self.metrics = metrics
        self.scheduler = scheduler  # reminders.scheduler.ReminderScheduler: reported, never unhealthy
        self.db = db
        self.listen = listen
        self.port = port
        self.transports = list(transports)
        self.secrets = [s for s in secrets if s and len(s) >= 6]
        self._runner: web.AppRunner | None = None

    async def _metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=self.metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _database(self) -> dict[str, Any]:
        started = time.perf_counter()
        async with asyncio.timeout(CHECK_SECONDS):
            async with self.db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 1)}

    async def _outbox(self) -> dict[str, Any]:
        now = utcnow()
        async with asyncio.timeout(CHECK_SECONDS), self.db.sessions() as session:
            found = await outbox.backlog(session, failed_since=now - FAILURE_WINDOW)
        age = (now - found.oldest).total_seconds() if found.oldest is not None else None
        part: dict[str, Any] = {
            "ok": age is None or age <= BACKLOG_AGE.total_seconds(),
            "backlog": found.waiting,
            "oldest_pending_seconds": round(age, 1) if age is not None else None,
            "failed_last_24h": found.failed,
        }
        if not part["ok"]:
            part["detail"] = f"a message has waited more than {BACKLOG_AGE.total_seconds() / 60:.0f} min"
        return part

    async def report(self) -> dict[str, Any]:
        """Every part's state; ``ok`` only when all are."""
        parts: dict[str, dict[str, Any]] = {}
        for name, check in (("database", self._database), ("outbox", self._outbox)):
            try:
                parts[name] = await check()
            except Exception as exc:  # any failure means "not healthy"; say which
                log.warning("health check failed", extra={"part": name, "reason": repr(exc)[:200]})
                reason = "no answer" if isinstance(exc, TimeoutError) else type(exc).__name__
                parts[name] = {"ok": False, "detail": f"database unavailable ({reason})"}
        if self.scheduler is not None:  # a standby instance (another one holds the lock) is healthy too
            due = self.scheduler.next_due
            parts["reminders"] = {"ok": True, "scheduler running": self.scheduler.running,
                                  "next_due": due.isoformat() if due is not None else None}  # fmt: skip
        for transport in self.transports:
            health = health_of(transport)
            parts[f"transport:{transport.platform}"] = {"ok": health.connected, "detail": health.detail}
        return {"status": "ok" if all(p["ok"] for p in parts.values()) else "unavailable", "parts": parts}

    async def _health(self, request: web.Request) -> web.Response:
        report = await self.report()
        body = json.dumps(report, indent=2, sort_keys=True)
        for secret in self.secrets:
            body = body.replace(secret, "[REDACTED]")
        return web.Response(
            status=200 if report["status"] == "ok" else 503, text=body + "\n", content_type="application/json"
        )

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._health)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.listen, self.port)
        await site.start()
        log.info("status server started", extra={"listen": self.listen, "port": self.port})

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
