"""A database outage: lookups keep answering from the snapshot; every other command says the service is
temporarily unavailable, within seconds, in the sender's language; the bot recovers by itself."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from bot.app import App
from storage import sample
from storage.db import Database
from tests.conftest import PG_URL, _drop_pg_schema, make_settings, migrated_pg_schema
from tests.e2e.test_hostile_input import Failures
from tests.fakes.chat import ChatPlatform
from tests.fakes.tcp_proxy import FaultyProxy

pytestmark = pytest.mark.postgres
UNAVAILABLE = "temporarily unavailable"


@dataclass
class Outage:
    app: App
    chat: ChatPlatform
    proxy: FaultyProxy
    failures: Failures
    warnings: list[logging.LogRecord]


class Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
async def outage() -> AsyncIterator[Outage]:
    """The sample directory on PostgreSQL, reached by the bot through a proxy the test can break."""
    schema = await migrated_pg_schema()
    direct = Database.from_url(PG_URL, schema=schema)
    async with direct.transaction() as session:
        await sample.seed(session, platform="console")
    await direct.dispose()
    proxy = FaultyProxy("127.0.0.1", 5432)
    port = await proxy.start()
    url = PG_URL.replace("127.0.0.1:5432", f"127.0.0.1:{port}")
    db = Database.from_url(url, schema=schema, timeout=1.0, connect_timeout=1.0)  # a few seconds per fault
    platform = ChatPlatform("console")
    app = App(make_settings(url), db, [platform])
    await app.start()
    platform.idle = app.delivery.idle
    failures, warnings = Failures(), Warnings()
    logger = logging.getLogger("pocnet")
    logger.addHandler(failures)
    logger.addHandler(warnings)
    yield Outage(app, platform, proxy, failures, warnings.records)
    logger.removeHandler(failures)
    logger.removeHandler(warnings)
    proxy.mode = "pass"
    await app.stop()
    await db.dispose()
    await proxy.stop()
    await _drop_pg_schema(schema)


async def _timed(chat: ChatPlatform, text: str, user: str) -> tuple[str, float]:
    started = time.perf_counter()
    answer = await chat.say(text, user=user)
    return answer, time.perf_counter() - started


@pytest.mark.parametrize("fault", ["hang", "refuse"])
async def test_lookups_answer_from_the_snapshot_and_the_rest_say_unavailable(outage: Outage, fault: str) -> None:
    chat = outage.chat
    assert "Mexico (MX)" in await chat.say("/whois mexico", user="MX")
    await chat.say("/language es", user="BR")
    assert "México (MX)" in await chat.say("/whois mexico", user="BR")  # the snapshot now knows
    outage.proxy.mode = fault
    await asyncio.sleep(1.1)  # the snapshot's next freshness check will meet the fault

    answer, seconds = await _timed(chat, "/whois mexico", user="MX")
    assert "Mexico (MX)" in answer and seconds < 3, (answer, seconds)
    answer, seconds = await _timed(chat, "/find fiscalia", user="MX")
    assert answer.startswith("1. ") and seconds < 3
    answer, seconds = await _timed(chat, "/whois saint", user="MX")  # choices: listed, not kept
    assert "St. Lucia" in answer and seconds < 8

    answer, seconds = await _timed(chat, "/whoami", user="MX")
    assert UNAVAILABLE in answer and seconds < 12, (answer, seconds)
    answer, _ = await _timed(chat, "/confirm", user="BR")
    assert "no está disponible" in answer  # in the sender's language (from the snapshot)
    answer, _ = await _timed(chat, "/start ABCD-EFGH", user="stranger")
    assert UNAVAILABLE in answer

    assert not outage.failures.records, [r.getMessage() for r in outage.failures.records]  # no traceback
    unavailable = [r for r in outage.warnings if r.getMessage() == "database unavailable"]
    assert len(unavailable) == 3 and all(r.exc_info is None for r in unavailable)

    outage.proxy.mode = "pass"
    for _ in range(20):  # back by itself once the database answers again
        if "Role:" in (answer := await chat.say("/whoami", user="MX")):
            break
        await asyncio.sleep(0.5)
    assert "Role:" in answer


async def test_stopping_while_the_database_hangs_is_bounded_and_logs_no_traceback(outage: Outage) -> None:
    """The pool's connections cannot be closed politely when the server stops answering: the bot still
    stops within seconds, and each fault is one WARNING line (SQLAlchemy's pool would log ERROR with a
    traceback per connection)."""
    chat = outage.chat
    assert "Role:" in await chat.say("/whoami", user="MX")  # the pool holds open connections
    outage.proxy.mode = "hang"
    everything = Warnings()  # on the root: SQLAlchemy's and asyncpg's records too
    root = logging.getLogger()
    root.addHandler(everything)
    try:
        started = time.perf_counter()
        await outage.app.stop()
        seconds = time.perf_counter() - started
    finally:
        root.removeHandler(everything)
    assert seconds < 15, seconds  # services give up on the database after its 1 s timeout; dispose after 3 s
    assert everything.records, "a hung database at shutdown says so"
    assert all(r.levelno == logging.WARNING and r.exc_info is None for r in everything.records), [
        (r.name, r.levelname, r.getMessage()) for r in everything.records
    ]
    closing = [r.getMessage() for r in everything.records if r.name.startswith("sqlalchemy") or r.name == "pocnet.db"]
    assert closing and set(closing) <= {
        "database connection not closed cleanly",
        "database connections abandoned at close",
    }
