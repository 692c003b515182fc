"""Round reminders for a whole network: planning, start-up, and everyone due in the same minute.

    python -m benchmarks.reminders [--members 10000] [--rounds 3] [--db-url URL]

Synthetic members (contacts and officials, each in one of their state's time zones, every OAS state, one
chat account each) on a fresh SQLite file (or ``--db-url``, e.g. a PostgreSQL database), and ``--rounds``
open rounds asking every state. Measured, in one process:

- planning every round from nothing (bulk inserts), then re-planning when nothing changed;
- start-up: a new ReminderScheduler rebuilding its schedule from the tables (lock, re-plan check, arm the
  one APScheduler job) — target ≤ 2 s;
- firing: one reminder of every member due at the same moment, fired by the armed APScheduler job on the
  real clock; lateness = from due until the batch holding it committed its outbox rows — target p99 ≤ 1 s;
- peak RSS of all this (target ≤ 150 MB).

Baseline, same run: a bare APScheduler 3 AsyncIOScheduler (memory job store) given one ``date`` job per
planned reminder — the time to add them (its "rebuild"), its RSS growth, and the lateness of as many
trivial jobs due at the same moment as there are members. Last line ``RESULT reminders_rebuild_s <value>``.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "reminders":  # pragma: no cover - see below
    # A benchmark run as a script (python benchmarks/<name>.py) has this folder on sys.path, so this file
    # shadows the ``reminders`` package: import the package with the folder out of the path, then put it back.
    import importlib

    _here = Path(__file__).resolve().parent
    _saved = list(sys.path)
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]
    del sys.modules["reminders"]
    try:
        sys.modules["reminders"] = importlib.import_module("reminders")
    finally:
        sys.path[:] = _saved
elif __name__ == "__main__" and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)  # run as a script: ``reminders`` is the package, not this file
    sys.path.append(str(Path(__file__).resolve().parent))  # (after it: ``stats`` is still found)

import argparse
import asyncio
import gc
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import func, insert, select, update

try:
    from benchmarks.stats import percentile
except ModuleNotFoundError:  # run as a script, python benchmarks/<name>.py: its folder is on the path
    from stats import percentile
from reminders import load as load_reminder_kinds
from reminders import plan
from reminders.registry import PLANNERS
from reminders.scheduler import ReminderScheduler
from storage.db import Database
from storage.models import Identity, Member, OutboxItem, Reminder, Round, State
from storage.types import utcnow


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident set size of this process, in MB (Linux /proc)."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            values[line.split(":")[0]] = int(line.split()[1]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def reset_peak() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    except OSError:
        pass


async def populate(db: Database, members: int, rounds: int) -> None:
    rng = random.Random(13)
    async with db.transaction() as session:
        states = (await session.execute(select(State.code, State.timezones, State.default_timezone))).all()
        rows = []
        for n in range(members):
            code, zones, default = states[n % len(states)]
            rows.append({"display_name": f"Member {n}", "role": "contact" if n % 3 == 0 else "official",
                         "state_code": code, "timezone": rng.choice(list(zones) or [default]), "active": True,
                         "function": "other", "languages": [], "search_key": f"member {n}", "version": 1})  # fmt: skip
        await session.execute(insert(Member), rows)
        ids = list(await session.scalars(select(Member.id).order_by(Member.id)))
        await session.execute(
            insert(Identity), [{"platform": "console", "user_id": f"u{i}", "chat_id": f"console:u{i}", "member_id": i}
                               for i in ids]
        )  # fmt: skip
        today = utcnow().date()
        for r in range(rounds):
            session.add(Round(period=f"{2030 + r}", deadline=today + timedelta(days=45 + 30 * r),
                              indicators=["mla", "extradition"], states=[], opened_by="benchmark",
                              opened_at=utcnow() - timedelta(days=1)))  # fmt: skip


async def pocnet_side(db: Database, members: int) -> dict[str, float]:
    out: dict[str, float] = {}
    reset_peak()
    started = time.perf_counter()
    async with db.transaction() as session:
        await plan.plan_all(session, utcnow())
    out["plan_s"] = time.perf_counter() - started
    async with db.transaction() as session:
        out["planned"] = float(
            await session.scalar(select(func.count(Reminder.id)).where(Reminder.kind == plan.ROUND)) or 0
        )
    started = time.perf_counter()
    async with db.transaction() as session:
        await plan.plan_all(session, utcnow())
    out["replan_s"] = time.perf_counter() - started
    load_reminder_kinds()
    async with db.transaction() as session:  # what the instance before the restart left: every kind planned
        for planner in PLANNERS:
            await planner(session, utcnow())
    gc.collect()

    # start-up: rebuild the schedule from the tables
    scheduler = ReminderScheduler(db, batch=2000)
    started = time.perf_counter()
    await scheduler.start()
    out["rebuild_s"] = time.perf_counter() - started
    assert scheduler.running and scheduler.next_due is not None

    # the whole network due in the same minute: one reminder of each member, ten seconds from now (the
    # scheduler prepares a firing up to 30 s ahead; ten leaves it time to on a loaded machine)
    due = (datetime.now(UTC) + timedelta(seconds=10)).replace(microsecond=0)
    async with db.transaction() as session:
        first = await session.scalar(select(Round.id).order_by(Round.id).limit(1))
        await session.execute(
            update(Reminder).where(Reminder.round_id == first, Reminder.step == "d-30").values(due_at=due)
        )
    lateness: list[float] = []
    done = asyncio.Event()

    def committed(dues: list[datetime]) -> None:
        at = datetime.now(UTC)
        lateness.extend((at - d).total_seconds() for d in dues)
        if len(lateness) >= members:
            done.set()

    scheduler.after_batch = committed
    await scheduler.arm()
    async with asyncio.timeout(120):
        await done.wait()
    await scheduler.stop()
    async with db.transaction() as session:
        out["queued"] = float(await session.scalar(select(func.count(OutboxItem.id))) or 0)
    out["late_p50_s"] = percentile(lateness, 0.5)
    out["late_p99_s"] = percentile(lateness, 0.99)
    out["peak_rss_mb"] = rss_mb()[1]
    return out


async def bare_side(jobs: int, members: int) -> dict[str, float]:
    gc.collect()
    reset_peak()
    before = rss_mb()[0]
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.start()
    far = datetime.now(UTC) + timedelta(days=30)

    async def nothing() -> None:
        return None

    started = time.perf_counter()
    for n in range(jobs - members):
        scheduler.add_job(nothing, "date", run_date=far + timedelta(seconds=n), id=f"r{n}", misfire_grace_time=None)
    due = (datetime.now(UTC) + timedelta(seconds=3)).replace(microsecond=0)
    lateness: list[float] = []
    done = asyncio.Event()

    async def fired() -> None:
        lateness.append((datetime.now(UTC) - due).total_seconds())
        if len(lateness) >= members:
            done.set()

    for n in range(members):
        scheduler.add_job(fired, "date", run_date=due, id=f"m{n}", misfire_grace_time=None)
    added = time.perf_counter() - started
    async with asyncio.timeout(300):
        await done.wait()
    _, peak = rss_mb()
    scheduler.shutdown(wait=False)
    return {"rebuild_s": added, "late_p50_s": percentile(lateness, 0.5), "late_p99_s": percentile(lateness, 0.99),
            "rss_growth_mb": peak - before}  # fmt: skip


async def _schema(url: str, sql: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text(sql))
    await engine.dispose()


async def main(members: int, rounds: int, db_url: str | None) -> None:
    schema = f"bench_reminders_{int(time.time())}" if db_url and db_url.startswith("postgresql") else None
    if schema is not None and db_url is not None:
        await _schema(db_url, f'CREATE SCHEMA "{schema}"')
    with tempfile.TemporaryDirectory() as tmp:
        db = Database.from_url(db_url or f"sqlite+aiosqlite:///{Path(tmp) / 'reminders.sqlite'}", schema=schema)
        await db.upgrade()
        await populate(db, members, rounds)
        base_rss = rss_mb()[0]
        try:
            ours = await pocnet_side(db, members)
        finally:
            await db.dispose()
            if schema is not None and db_url is not None:
                await _schema(db_url, f'DROP SCHEMA "{schema}" CASCADE')
    bare = await bare_side(int(ours["planned"]), members)
    backend = "PostgreSQL" if db_url and db_url.startswith("postgresql") else "SQLite"
    print(f"reminders: {members} members × {rounds} rounds, {int(ours['planned'])} reminders planned, {backend}")
    print(f"plan from nothing {ours['plan_s']:.2f} s; re-plan with nothing changed {ours['replan_s']:.2f} s")
    print(f"{'what':34} {'rebuild s':>10} {'late p50 s':>11} {'late p99 s':>11} {'RSS MB':>8}")
    print(f"{'pocnet (tables + one APScheduler job)':34} {ours['rebuild_s']:10.3f} {ours['late_p50_s']:11.3f} "
          f"{ours['late_p99_s']:11.3f} {ours['peak_rss_mb']:8.1f}")  # fmt: skip
    print(f"{'bare APScheduler, one job each':34} {bare['rebuild_s']:10.3f} {bare['late_p50_s']:11.3f} "
          f"{bare['late_p99_s']:11.3f} {'+' + format(bare['rss_growth_mb'], '.1f'):>8}")  # fmt: skip
    print(f"ratios pocnet / bare: rebuild {ours['rebuild_s'] / max(bare['rebuild_s'], 1e-9):.2f}, "
          f"lateness p99 {ours['late_p99_s'] / max(bare['late_p99_s'], 1e-9):.2f}")  # fmt: skip
    print(f"pocnet RSS: {base_rss:.1f} MB after loading the network, peak {ours['peak_rss_mb']:.1f} MB; "
          f"{int(ours['queued'])} outbox rows queued for {members} members due together")  # fmt: skip
    print(f"targets: rebuild ≤ 2 s — {'met' if ours['rebuild_s'] <= 2 else 'NOT met'}; "
          f"lateness p99 ≤ 1 s — {'met' if ours['late_p99_s'] <= 1 else 'NOT met'}; "
          f"peak RSS ≤ 150 MB — {'met' if ours['peak_rss_mb'] <= 150 else 'NOT met'}")  # fmt: skip
    print(f"RESULT reminders_rebuild_s {ours['rebuild_s']:.3f}")


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db-url", help="PostgreSQL instead of a fresh SQLite file (a new schema, dropped after)")
    args = parser.parse_args()
    asyncio.run(main(args.members, args.rounds, args.db_url))


if __name__ == "__main__":
    cli()
