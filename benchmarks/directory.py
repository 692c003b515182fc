"""Directory lookup latency on 10,000 contacts (SQLite, in-process).

    python -m benchmarks.directory [--contacts 10000] [--queries 2000]

Builds a directory of synthetic contacts, then times complete /whois and /find commands through the
router (identity lookup, transaction, handler, formatting, reply) and, as the baseline measured in the
same run on the same data, a bare indexed SQL query for one state's contacts. Prints p50/p99 of each and
their ratio. Last line: ``RESULT directory_whois_p99_ms <value>``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

try:
    from benchmarks.stats import percentile
except ModuleNotFoundError:  # run as a script, python benchmarks/<name>.py: its folder is on the path
    from stats import percentile
from bot.app import App
from bot.config import Settings
from bot.transports.base import Address, Deliver, Incoming, LocalTransport, Outgoing
from storage import exchange, members
from storage.access import Actor, Role
from storage.db import Database
from storage.reference import OAS_MEMBERS
from storage.sample import synthetic_csv

TOPIC_WORDS = ["firearms", "armas", "TIP", "trata", "AML", "lavado", "cyber", "MLA", "drogas", "corruption", ""]
STATE_WORDS = ["mexico", "México", "Mexique", "brasil", "EEUU", "Argentina", "peru", "Colombia", "jamaica", "haiti",
               "trinidad and tobago", "CL", "canada", "Guatemala", "saint lucia", "Paraguai"]  # fmt: skip
FIND_WORDS = ["fiscalia", "policia federal", "martinez", "UIF", "cyber", "justice", "araujo aml", "thomas"]


class Sink(LocalTransport):
    """A transport that only counts what it is given."""

    platform = "bench"

    def __init__(self) -> None:
        self.sent = 0
        self.last = ""

    async def start(self, deliver: Deliver) -> None:
        pass

    async def send(self, to: Address, message: Outgoing, *, idempotency_key: str) -> str:
        self.sent += 1
        self.last = message.text
        return str(self.sent)

    async def stop(self) -> None:
        pass


async def timed(samples: int, make: object) -> list[float]:
    out = []
    for n in range(samples):
        start = time.perf_counter()
        await make(n)  # type: ignore[operator]
        out.append((time.perf_counter() - start) * 1000)
    return out


async def main(contacts: int, queries: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite'}"
        db = Database.from_url(url)
        await db.upgrade()
        async with db.transaction() as session:
            await exchange.import_csv(session, Actor.system("bench"), synthetic_csv(contacts))
            me = await members.create(session, Actor.system("bench"), display_name="Bench", role=Role.CONTACT,
                                      state_code="MX")  # fmt: skip
            await members.link_identity(session, Actor.system("bench"), me, platform="bench", user_id="u", chat_id="c")
        sink = Sink()
        settings = Settings(database={"url": url}, limits={"commands_per_minute": 10_000_000})  # type: ignore[arg-type]
        app = App(settings, db, [sink])
        rng = random.Random(1)
        address = Address("bench", "c", "u")

        app.delivery.start()

        async def command(line: str) -> None:  # handled, and its answer delivered
            await app.router.handle(Incoming(address, line, "1"))
            await app.delivery.idle()

        async def whois(_: int) -> None:
            await command(f"/whois {rng.choice(STATE_WORDS)} {rng.choice(TOPIC_WORDS)}".strip())

        async def find(_: int) -> None:
            await command(f"/find {rng.choice(FIND_WORDS)}")

        codes = list(OAS_MEMBERS)

        async def bare_sql(_: int) -> None:
            async with db.sessions() as session:
                rows = await session.execute(
                    text("SELECT id, display_name, function FROM member WHERE state_code = :s AND active = 1 LIMIT 10"),
                    {"s": rng.choice(codes)},
                )
                rows.all()

        await timed(200, whois)  # warm-up: caches, SQLite pages, first-use imports
        await timed(200, find)
        await timed(200, bare_sql)
        before = sink.sent
        results = {
            "bare indexed SQL (baseline)": await timed(queries, bare_sql),
            "/whois <state> <topic>": await timed(queries, whois),
            "/find <words>": await timed(queries, find),
        }
        assert sink.sent - before == 2 * queries, "every command must have been answered"
        assert "contact" in sink.last or "No one" in sink.last or "(" in sink.last
        await app.delivery.stop()
        await db.dispose()

    base50 = statistics.median(results["bare indexed SQL (baseline)"])
    base99 = percentile(results["bare indexed SQL (baseline)"], 0.99)
    print(f"directory lookup latency: {contacts} contacts, {queries} queries each, SQLite, in-process")
    print(f"{'what':32} {'p50 ms':>8} {'p99 ms':>8} {'p50 ×SQL':>9} {'p99 ×SQL':>9}")
    for name, values in results.items():
        p50, p99 = statistics.median(values), percentile(values, 0.99)
        print(f"{name:32} {p50:8.3f} {p99:8.3f} {p50 / base50:9.1f} {p99 / base99:9.1f}")
    whois99 = percentile(results["/whois <state> <topic>"], 0.99)
    print(f"target: /whois p99 ≤ 5 ms — {'met' if whois99 <= 5 else 'NOT met'}")
    print(f"RESULT directory_whois_p99_ms {whois99:.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=2_000)
    options = parser.parse_args()
    asyncio.run(main(options.contacts, options.queries))
