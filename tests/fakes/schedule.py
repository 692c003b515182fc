"""What the scheduler does when the clock reaches ``now``, driven by a test: every planned reminder that
came due is handed, grouped by kind, to the function reminders/registry.py registered for it, in one
transaction (as reminders/scheduler.py does)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select

import handlers
from reminders.registry import FIRES, PLANNERS
from storage.db import Database
from storage.models import OutboxItem, Reminder

OURS = ("meetings", "reconfirm", "digest")


async def plan(db: Database, now: datetime, only: tuple[str, ...] = OURS) -> None:
    """Run the planners of reminders/<only> (the round planner of another module is left out)."""
    handlers.load()  # registers the kinds, planners and renderers
    async with db.transaction() as session:
        for planner in PLANNERS:
            if planner.__module__ in {f"reminders.{name}" for name in only}:
                await planner(session, now)


async def fire_due(db: Database, now: datetime, kinds: tuple[str, ...] | None = None) -> list[OutboxItem]:
    """Fire what came due; returns the outbox rows queued by it."""
    handlers.load()
    async with db.transaction() as session:
        last = await session.scalar(select(OutboxItem.id).order_by(OutboxItem.id.desc()).limit(1)) or 0
        query = select(Reminder).where(Reminder.status == "planned", Reminder.due_at <= now)
        by_kind: defaultdict[str, list[Reminder]] = defaultdict(list)
        for row in await session.scalars(query.order_by(Reminder.id)):
            if kinds is None or row.kind in kinds:
                by_kind[row.kind].append(row)
        for kind, rows in by_kind.items():
            await FIRES[kind](session, rows, now)
        await session.flush()
        return list(await session.scalars(select(OutboxItem).where(OutboxItem.id > last).order_by(OutboxItem.id)))
