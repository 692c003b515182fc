"""Operational metrics (Prometheus text format) and a health check, on an optional local HTTP port.

    GET /metrics   counters and latencies: commands, errors, rate limiting, messages sent and failed
    GET /healthz   200 "ok" when the database answers, 503 otherwise (for the supervisor/load balancer)

Off by default; ``[metrics] enabled = true``. Bind it to 127.0.0.1 or an internal interface only.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import text

from storage.db import Database

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


class StatusServer:
    def __init__(self, metrics: Metrics, db: Database, listen: str, port: int) -> None:
        self.metrics = metrics
        self.db = db
        self.listen = listen
        self.port = port
        self._runner: web.AppRunner | None = None

    async def _metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=self.metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _health(self, request: web.Request) -> web.Response:
        try:
            async with asyncio.timeout(3):
                async with self.db.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
        except Exception as exc:  # any failure means "not healthy"; say which
            log.warning("health check failed", extra={"reason": repr(exc)[:200]})
            return web.Response(status=503, text="database unavailable\n")
        return web.Response(text="ok\n")

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
