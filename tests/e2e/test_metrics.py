"""The status port: Prometheus metrics and the health check an operator's monitoring reads."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiohttp import ClientSession

from bot.app import App
from bot.metrics import Metrics, StatusServer
from storage import sample
from storage.db import Database
from storage.models import OutboxItem
from storage.types import utcnow
from tests.conftest import make_settings
from tests.e2e.telegram_helpers import telegram_bot
from tests.fakes.chat import ChatPlatform


async def test_metrics_count_commands_errors_and_messages(sqlite_db: Database, unused_tcp_port: int) -> None:
    async with sqlite_db.transaction() as session:
        await sample.seed(session)
    platform = ChatPlatform("console")
    settings = make_settings(str(sqlite_db.engine.url), metrics={"enabled": True, "port": unused_tcp_port})
    app = App(settings, sqlite_db, [platform])
    await app.start()
    try:
        await platform.say("/whoami", user="MX")
        await platform.say("/whois mexico", user="MX")
        await platform.say("/deactivate nobody", user="secretariat")  # bad input: an 'input' error
        async with ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{unused_tcp_port}/metrics") as response:
                assert response.status == 200 and response.headers["Content-Type"].startswith("text/plain")
                body = await response.text()
            async with http.get(f"http://127.0.0.1:{unused_tcp_port}/healthz") as response:
                assert response.status == 200 and response.content_type == "application/json"
                health = await response.json()
    finally:
        await app.stop()
    assert 'pocnet_commands_total{command="whoami",platform="console"} 1.0' in body
    assert 'pocnet_commands_total{command="whois",platform="console"} 1.0' in body
    assert 'pocnet_errors_total{kind="input"} 1.0' in body
    assert 'pocnet_messages_sent_total{platform="console"} 3.0' in body
    assert "pocnet_handling_seconds_count 3.0" in body
    assert health["status"] == "ok"
    assert set(health["parts"]) == {"database", "outbox", "reminders", "transport:console"}
    reminders = health["parts"]["reminders"]
    assert (reminders["ok"], reminders["scheduler running"]) == (True, True)
    if reminders["next_due"] is not None:  # the sample Secretariat's weekly digest, whatever today is
        assert datetime.fromisoformat(reminders["next_due"]) <= utcnow() + timedelta(days=8)
    assert health["parts"]["database"]["ok"] is True and health["parts"]["database"]["latency_ms"] >= 0
    assert health["parts"]["outbox"] == {
        "ok": True, "backlog": 0, "oldest_pending_seconds": None, "failed_last_24h": 0,
    }  # fmt: skip
    assert health["parts"]["transport:console"] == {"ok": True, "detail": "local"}


async def test_health_check_fails_when_the_database_is_unreachable(unused_tcp_port: int) -> None:
    broken = Database.from_url("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    settings = make_settings("sqlite+aiosqlite:///unused.sqlite", metrics={"enabled": True, "port": unused_tcp_port})
    app = App(settings, broken, [])
    await app.start()
    try:
        async with ClientSession() as http, http.get(f"http://127.0.0.1:{unused_tcp_port}/healthz") as response:
            assert response.status == 503
            health = await response.json()
    finally:
        await app.stop()
    assert health["status"] == "unavailable"
    assert health["parts"]["database"]["ok"] is False
    assert health["parts"]["database"]["detail"].startswith("database unavailable")
    assert health["parts"]["outbox"]["ok"] is False


async def get_health(port: int) -> tuple[int, dict[str, Any]]:
    async with ClientSession() as http, http.get(f"http://127.0.0.1:{port}/healthz") as response:
        return response.status, await response.json()


async def test_health_reports_a_stalled_outbox(sqlite_db: Database, unused_tcp_port: int) -> None:
    now = utcnow()
    async with sqlite_db.transaction() as session:
        await sample.seed(session)
        for age, status in [
            (timedelta(hours=2), "queued"),
            (timedelta(minutes=1), "sending"),
            (timedelta(hours=1), "failed"),
        ]:
            row = OutboxItem(platform="console", chat_id="MX", user_id="MX", template="hi", params={}, status=status)
            row.created_at = now - age
            session.add(row)
    server = StatusServer(Metrics(), sqlite_db, "127.0.0.1", unused_tcp_port, transports=[ChatPlatform("console")])
    await server.start()
    try:
        status, health = await get_health(unused_tcp_port)
    finally:
        await server.stop()
    assert status == 503 and health["status"] == "unavailable"
    part = health["parts"]["outbox"]
    assert part["ok"] is False and part["backlog"] == 2 and part["failed_last_24h"] == 1
    assert 7190 <= part["oldest_pending_seconds"] <= 7300
    assert health["parts"]["database"]["ok"] is True


async def test_health_follows_the_telegram_connection(
    sqlite_db: Database, unused_tcp_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(sqlite_db) as bot:
        server = StatusServer(
            bot.app.metrics, sqlite_db, "127.0.0.1", unused_tcp_port, transports=[bot.transport],
            secrets=[bot.server.token],
        )  # fmt: skip
        await server.start()
        try:
            status, health = await get_health(unused_tcp_port)
            assert status == 200, health
            assert health["parts"]["transport:telegram"] == {"ok": True, "detail": "polling as @pocnet_bot"}
            await bot.server.stop()  # Telegram goes away: getUpdates fails and PTB retries
            for _ in range(100):
                status, health = await get_health(unused_tcp_port)
                if status == 503:
                    break
                await asyncio.sleep(0.1)
        finally:
            await server.stop()
    part = health["parts"]["transport:telegram"]
    assert status == 503 and part["ok"] is False and part["detail"].startswith("getUpdates failing")
    # stopping while Telegram is away: PTB cannot confirm the last batch; one WARNING line, no traceback
    updater = [r for r in caplog.records if r.name == "telegram.ext.Updater" and r.levelno >= logging.WARNING]
    assert [r.levelname for r in updater] == ["WARNING"]
    assert updater[0].getMessage().startswith("last updates not confirmed at stop")
    assert all(r.exc_info is None for r in caplog.records if r.levelno >= logging.WARNING)
    assert bot.server.token not in json.dumps(health)
