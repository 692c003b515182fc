"""Reminders driven by a test's clock. ``fire_due(db, now)`` runs the real scheduler
(reminders/scheduler.py, its timer off) at ``now``; with ``kinds`` it hands only those kinds' due rows to
the functions reminders/registry.py registered for them, so a test of one kind is not disturbed by the
others (the digest, re-confirmation questions) that the full scheduler would also fire."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select

import handlers
from reminders.registry import FIRES, PLANNERS
from reminders.scheduler import ReminderScheduler
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
    if kinds is None:
        async with db.transaction() as session:
            last = await session.scalar(select(OutboxItem.id).order_by(OutboxItem.id.desc()).limit(1)) or 0
        scheduler = ReminderScheduler(db, now=lambda: now)
        scheduler.timer = False
        await scheduler.fire()
        async with db.transaction() as session:
            return list(await session.scalars(select(OutboxItem).where(OutboxItem.id > last).order_by(OutboxItem.id)))
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
