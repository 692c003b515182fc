"""An announcement to thousands of members through Telegram's limits, with lookups answered meanwhile.

    python -m benchmarks.broadcast [--members 5000] [--database postgresql+asyncpg://postgres@127.0.0.1/test]

The test Bot API server (tests/fakes/telegram_api.py) runs in a child process and enforces Telegram's
limits (30 messages/s overall, 1/s per private chat), answering 429 with retry_after. pocnet runs here
on PostgreSQL (a fresh schema; ``--database sqlite`` for a temporary SQLite file) with ``--members``
members on Telegram, each in their own private chat. The Secretariat's announcement to all of them is
queued as "/announce … yes" queues it (storage.announcements.send, one transaction); then, while the
copies go out, a member asks ``/whois`` every 1.5 s through the Bot API and each answer is timed at
the server (both processes read the same monotonic clock).

Figures and their baselines, same run: the time to queue against a bare multi-row INSERT of as many
outbox rows (the floor of any design that writes a row per copy); the achieved rate against the ideal
schedule, exactly 30 messages/s; 429 answers (target 0); p95 of the /whois answers (target ≤ 2 s).
Last line: ``RESULT broadcast_rate_fraction <value>``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import urllib.request
import uuid
from typing import Any

from sqlalchemy import insert, select, text

try:
    from benchmarks.delivery import RATE, TOKEN, bot_api_server, most_in_window
    from benchmarks.stats import percentile
except ModuleNotFoundError:  # run as a script, python benchmarks/<name>.py: its folder is on the path
    from delivery import RATE, TOKEN, bot_api_server, most_in_window
    from stats import percentile
from bot.app import App
from bot.config import Settings, TelegramSection
from bot.transports.telegram import TelegramTransport
from storage import announcements, exchange, outbox, readmodel
from storage.access import Actor, Role
from storage.announcements import Audience, Draft
from storage.db import Database
from storage.models import Identity, Member, OutboxItem
from storage.sample import synthetic_csv
from storage.types import utcnow

MEMBER_BASE = 3_000_000  # member n is Telegram user and chat MEMBER_BASE + n
ASKER = 2_900_001
AUTHOR = 2_900_002
ASK_EVERY = 1.5  # a private chat takes at most one message a second
TEXT = (
    "en: The questionnaire on UNTOC cooperation cases is due on 31 March. | es: El cuestionario vence el 31 de marzo."
)


def _http(port: int, path: str, payload: object | None = None) -> dict[str, Any]:
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method="POST" if data else "GET")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


async def control(port: int, path: str, payload: object | None = None) -> dict[str, Any]:
    return await asyncio.to_thread(_http, port, path, payload)


async def prepare(db: Database, count: int) -> None:
    """``count`` synthetic members, each linked to a Telegram chat; an asker and the Secretariat author."""
    await db.upgrade()
    actor = Actor.system("bench")
    async with db.transaction() as session:
        await exchange.import_csv(session, actor, synthetic_csv(count * 11 // 10 + 20))  # a few are inactive
        query = select(Member.id).where(Member.active.is_(True)).order_by(Member.id).limit(count)
        rows = (await session.execute(query)).all()
        await session.execute(insert(Identity), [
            {"platform": "telegram", "user_id": str(MEMBER_BASE + n), "chat_id": str(MEMBER_BASE + n), "member_id": m}
            for n, (m,) in enumerate(rows)
        ])  # fmt: skip
        from storage import members

        for user, role, state in ((ASKER, Role.CONTACT, "MX"), (AUTHOR, Role.SECRETARIAT, None)):
            person = await members.create(session, actor, display_name=f"Bench {user}", role=role, state_code=state)
            await members.link_identity(session, actor, person, platform="telegram", user_id=str(user),
                                        chat_id=str(user))  # fmt: skip


async def bare_insert(db: Database, rows: int) -> float:
    """Seconds for one multi-row INSERT of ``rows`` outbox rows like an announcement's (rolled back)."""
    async with db.sessions() as session:
        began = time.perf_counter()
        await session.execute(insert(OutboxItem), [
            {"platform": "telegram", "chat_id": str(MEMBER_BASE + n), "user_id": str(MEMBER_BASE + n),
             "kind": "announcement", "template": "", "params": {"number": 0, "text": TEXT, "ack": False},
             "priority": outbox.BULK, "status": outbox.QUEUED, "attempts": 0, "reference": "bench"}
            for n in range(rows)
        ])  # fmt: skip
        await session.flush()
        elapsed = time.perf_counter() - began
        await session.rollback()
    return elapsed


async def queue(db: Database) -> tuple[float, int, int]:
    """Seconds to queue the announcement to everyone (committed); its number and copies."""
    async with db.transaction() as session:
        author = await session.scalar(select(Member).where(Member.role == Role.SECRETARIAT))
        assert author is not None
        view = await readmodel.load(session)
    began = time.perf_counter()
    async with db.transaction() as session:
        author = await session.merge(author)
        relay, plan = await announcements.send(
            session, Actor.system("bench"), author, Draft(Audience(everyone=True), announcements.split_texts(TEXT)),
            view, now=utcnow(), default_language="en",
        )  # fmt: skip
        number = relay.id
    return time.perf_counter() - began, number, len(plan.reachable)


async def run(url: str, schema: str | None, count: int) -> dict[str, Any]:
    db = Database.from_url(url, schema=schema) if schema else Database.from_url(url)
    await prepare(db, count)
    floor = min([await bare_insert(db, count) for _ in range(3)])
    async with bot_api_server() as port:
        section = TelegramSection.model_validate({"token": TOKEN, "base_url": f"http://127.0.0.1:{port}/bot",
                                                  "poll_timeout": 1})  # fmt: skip
        settings = Settings(database={"url": url}, delivery={"batch": 500},  # type: ignore[arg-type]
                            limits={"commands_per_minute": 10_000})  # fmt: skip
        app = App(settings, db, [TelegramTransport(section)])
        await app.start()
        try:
            queued, number, copies = await queue(db)
            asked: list[float] = []
            began = time.monotonic()
            while True:
                asked.append(time.monotonic())
                await control(port, "/control/enqueue", [{"user_id": ASKER, "text": "/whois MX firearms"}])
                await asyncio.sleep(ASK_EVERY)
                record = await control(port, "/control/sent")
                if record["sent"] >= copies + len(asked) + 1:  # every copy, every answer, the report
                    break
                if time.monotonic() - began > copies / RATE * 3 + 120:
                    raise TimeoutError(f"only {record['sent']} of {copies} copies went out")
            await asyncio.sleep(2 * ASK_EVERY)  # the last answers
            record = await control(port, "/control/sent?detail=1")
            async with db.transaction() as session:
                failed = await outbox.counts(session, f"relay:{number}")
        finally:
            await app.stop()
    at: list[float] = record["at"]
    chats: list[int] = record["chat_ids"]
    bulk = sorted(t for t, c in zip(at, chats, strict=True) if c >= MEMBER_BASE)
    answers = sorted(t for t, c in zip(at, chats, strict=True) if c == ASKER)
    latencies = [next((t - a for t in answers if t >= a), float("inf")) for a in asked[: len(answers)]]
    window = [t for t in at if bulk[0] <= t <= bulk[-1]]
    elapsed = bulk[-1] - bulk[0]
    return {"queued": queued, "floor": floor, "copies": copies, "bulk_sent": len(bulk), "sent": len(window),
            "elapsed": elapsed, "rate": (len(window) - 1) / elapsed if elapsed > 0 else 0.0,
            "max_per_second": most_in_window(at, 1.0), "rejected_429": record["rejected_429"],
            "p95": percentile(latencies, 0.95) if latencies else float("inf"), "asked": len(latencies),
            "number": number, "outcomes": failed}  # fmt: skip


async def main(count: int, database: str) -> None:
    schema = None
    with tempfile.TemporaryDirectory() as tmp:
        if database == "sqlite":
            url = f"sqlite+aiosqlite:///{os.path.join(tmp, 'bench.sqlite')}"
        else:
            url, schema = database, f"bench_{uuid.uuid4().hex[:8]}"
            admin = Database.from_url(url)
            async with admin.engine.begin() as conn:
                await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            figures = await run(url, schema, count)
        finally:
            if schema:
                async with admin.engine.begin() as conn:
                    await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                await admin.dispose()
    f = figures
    backend = "SQLite" if database == "sqlite" else "PostgreSQL"
    fraction = f["rate"] / RATE
    print(f"broadcast: one announcement to {f['copies']} members on Telegram ({backend}), test Bot API server in")
    print(f"another process enforcing {RATE}/s overall and 1/s per chat; /whois asked every {ASK_EVERY} s meanwhile")
    print(f"{'figure':46} {'value':>10} {'baseline':>10} {'ratio':>7}")
    print(f"{'time to queue (s) vs a bare multi-row INSERT':46} {f['queued']:10.3f} {f['floor']:10.3f} "
          f"{f['queued'] / f['floor']:7.2f}   target ≤ 1 s: {'met' if f['queued'] <= 1 else 'NOT met'}")  # fmt: skip
    print(f"{'messages/s at the server vs ideal 30/s':46} {f['rate']:10.2f} {RATE:10.2f} {fraction:7.3f}   "
          f"target ≥ 0.95: {'met' if fraction >= 0.95 else 'NOT met'}")  # fmt: skip
    print(f"{'most in any 1 s window':46} {f['max_per_second']:10d} {RATE:10d}")
    print(f"{'429 answers':46} {f['rejected_429']:10d} {0:10d}          target 0: "
          f"{'met' if f['rejected_429'] == 0 else 'NOT met'}")  # fmt: skip
    print(f"{'/whois answer p95 during the broadcast (s)':46} {f['p95']:10.3f} {'':10} {'':7}   "
          f"target ≤ 2 s: {'met' if f['p95'] <= 2 else 'NOT met'} ({f['asked']} asked)")  # fmt: skip
    print(f"copies sent: {f['bulk_sent']} of {f['copies']} in {f['elapsed']:.1f} s; outbox: {f['outcomes']}")
    print(f"RESULT broadcast_rate_fraction {fraction:.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--database", default=os.environ.get("POCNET_TEST_PG_URL",
                                                             "postgresql+asyncpg://postgres@127.0.0.1:5432/test"))  # fmt: skip
    options = parser.parse_args()
    asyncio.run(main(options.members, options.database))
