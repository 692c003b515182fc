"""``pocnet reminders …``: the reminder plan from the command line (the running bot sends them).

    pocnet reminders list [--round 2025] [--state MX] [--limit 50]
    pocnet reminders plan 2025 [--offsets 30,14,7,1] [--overdue-every 7] [--overdue-limit 4] [--at 09:00]

``list`` prints, per open round, how many reminders are planned, sent and skipped and for how many members
of each state, then the next planned ones (UTC and the member's local time). ``plan`` changes a round's
plan and re-plans it at once (audited); the running bot notices within a minute and re-arms.
"""

from __future__ import annotations

import argparse
import getpass
import re
from datetime import UTC
from typing import Any

from sqlalchemy import select

from reminders import listing, plan
from storage import audit, figures
from storage.access import Actor
from storage.db import Database
from storage.errors import PocnetError
from storage.models import Member, Reminder, State
from storage.types import utcnow

_HOUR = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
MAX_OFFSET, MAX_OFFSETS = 365, 12


class CliError(Exception):
    """Printed as one line; exit code 2."""


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("reminders", help="reporting reminders: list the plan, change a round's plan")
    cmds = parser.add_subparsers(dest="reminders_command", required=True)
    show = cmds.add_parser("list", help="planned reminders per round and state, then the next ones")
    show.add_argument("--round", help="only this round (its period, e.g. 2025)")
    show.add_argument("--state", help="only members of this state (ISO code, e.g. MX)")
    show.add_argument("--limit", type=int, default=20, help="how many of the next reminders to print (default 20)")
    change = cmds.add_parser("plan", help="change when a round reminds, and re-plan it")
    change.add_argument("period", help="the round, e.g. 2025")
    change.add_argument("--offsets", help="days before the deadline, e.g. 30,14,7,1")
    change.add_argument("--overdue-every", type=int, help="days between overdue reminders (1-60)")
    change.add_argument("--overdue-limit", type=int, help="how many overdue reminders at most (0-12)")
    change.add_argument("--at", help="local hour of each reminder, HH:MM (default 09:00)")


async def run(args: argparse.Namespace, db: Database) -> int:
    try:
        if args.reminders_command == "plan":
            return await _plan(args, db)
        return await _list(args, db)
    except PocnetError as exc:
        raise CliError(exc.message.format(**exc.params) if exc.params else exc.message) from None


def _offsets(text: str) -> list[int]:
    try:
        values = sorted({int(part) for part in text.split(",") if part.strip()}, reverse=True)
    except ValueError:
        raise CliError(f"--offsets: whole numbers of days separated by commas, not {text[:40]!r}") from None
    if not values or len(values) > MAX_OFFSETS or any(not 1 <= v <= MAX_OFFSET for v in values):
        raise CliError(f"--offsets: 1 to {MAX_OFFSETS} numbers of days from 1 to {MAX_OFFSET}")
    return values


async def _plan(args: argparse.Namespace, db: Database) -> int:
    actor = Actor.system(f"cli:{getpass.getuser()}")
    changes: dict[str, Any] = {}
    if args.offsets is not None:
        changes["offsets"] = _offsets(args.offsets)
    if args.overdue_every is not None:
        if not 1 <= args.overdue_every <= 60:
            raise CliError("--overdue-every: 1 to 60 days")
        changes["overdue_every"] = args.overdue_every
    if args.overdue_limit is not None:
        if not 0 <= args.overdue_limit <= 12:
            raise CliError("--overdue-limit: 0 to 12")
        changes["overdue_limit"] = args.overdue_limit
    if args.at is not None:
        if not _HOUR.match(args.at.strip()):
            raise CliError(f"--at: a local hour as HH:MM, e.g. 09:00, not {args.at[:20]!r}")
        changes["remind_at"] = args.at.strip()
    async with db.transaction() as session:
        row = await figures.get_round(session, args.period)
        before = {name: getattr(row, name) for name in changes}
        for name, value in changes.items():
            setattr(row, name, value)
        if changes:
            audit.record(session, actor, "round.plan", row, before=before, after=changes, directory=False)
        await session.flush()
        outcome = await plan.plan_round(session, row, utcnow())
        print(f"round {row.period}: offsets {','.join(map(str, row.offsets))}, overdue every {row.overdue_every} "
              f"days up to {row.overdue_limit} times, at {row.remind_at} local time; "
              f"{outcome.added} added, {outcome.moved} moved, {outcome.cancelled} cancelled")  # fmt: skip
    return 0


async def _list(args: argparse.Namespace, db: Database) -> int:
    limit = max(0, min(args.limit, 1000))
    async with db.transaction() as session:
        summaries = await listing.summary(session, Actor.system("cli"))
        if args.round:
            summaries = [s for s in summaries if s.row.period == args.round.strip()]
        if not summaries:
            print("no open reporting round" + (f" {args.round}" if args.round else ""))
            return 0
        state = args.state.strip().upper()[:2] if args.state else None
        for item in summaries:
            print(f"round {item.row.period} (deadline {item.row.deadline.isoformat()}): {item.planned} planned "
                  f"for {item.members} members, {item.sent} sent, {item.skipped} skipped")  # fmt: skip
            if item.next_due is not None:
                print(f"  next: {item.next_due.astimezone(UTC):%Y-%m-%d %H:%M} UTC")
            shown = {c: n for c, n in item.by_state.items() if state is None or c == state}
            if shown:
                print("  " + " · ".join(f"{code} {n}" for code, n in shown.items()))
        query = (
            select(Reminder.due_at, Reminder.step, Member.id, Member.display_name, Member.state_code,
                   Member.timezone, State.default_timezone, Reminder.round_id)
            .join(Member, Member.id == Reminder.member_id)
            .join(State, State.code == Member.state_code, isouter=True)
            .where(Reminder.kind == plan.ROUND, Reminder.status == plan.PLANNED,
                   Reminder.round_id.in_([s.row.id for s in summaries]))
            .order_by(Reminder.due_at, Reminder.id)
            .limit(limit)
        )  # fmt: skip
        if state is not None:
            query = query.where(Member.state_code == state)
        periods = {s.row.id: s.row.period for s in summaries}
        rows = (await session.execute(query)).all()
    if rows:
        print(f"next {len(rows)}:")
    for due, step, member_id, name, code, tz, default, round_id in rows:
        where = plan.zone(tz or default or "UTC")
        local = due.astimezone(where)
        print(f"  {due.astimezone(UTC):%Y-%m-%d %H:%M} UTC  {local:%a %d %b %H:%M} {where.key:<22} "
              f"{periods.get(round_id or 0, '?'):<6} {step:<10} {code or 'OAS':<3} #{member_id} {name}")  # fmt: skip
    return 0
