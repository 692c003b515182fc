"""The status port: Prometheus metrics and the health check an operator's monitoring reads."""

from __future__ import annotations

from aiohttp import ClientSession

from bot.app import App
from storage import sample
from storage.db import Database
from tests.conftest import make_settings
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
                assert response.status == 200 and (await response.text()) == "ok\n"
    finally:
        await app.stop()
    assert 'pocnet_commands_total{command="whoami",platform="console"} 1.0' in body
    assert 'pocnet_commands_total{command="whois",platform="console"} 1.0' in body
    assert 'pocnet_errors_total{kind="input"} 1.0' in body
    assert 'pocnet_messages_sent_total{platform="console"} 3.0' in body
    assert "pocnet_handling_seconds_count 3.0" in body


async def test_health_check_fails_when_the_database_is_unreachable(unused_tcp_port: int) -> None:
    broken = Database.from_url("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    settings = make_settings("sqlite+aiosqlite:///unused.sqlite", metrics={"enabled": True, "port": unused_tcp_port})
    app = App(settings, broken, [])
    await app.start()
    try:
        async with ClientSession() as http, http.get(f"http://127.0.0.1:{unused_tcp_port}/healthz") as response:
            assert response.status == 503 and "database unavailable" in await response.text()
    finally:
        await app.stop()
