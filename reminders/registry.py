"""What each kind of reminder does when it comes due, and what plans reminders.

A reminder is a ``storage.models.Reminder`` row; the scheduler (reminders/scheduler.py) claims the rows
that came due and hands them, grouped by ``kind``, to the function registered for that kind::

    @fires("meeting")
    async def meeting_due(session: AsyncSession, due: list[Reminder], now: datetime) -> None:
        for reminder in due: ...   # queue outbox rows, then set status "sent" (or "skipped"),
                                   # outbox_id and decided_at on each — in this same transaction

Planners add or update ``planned`` rows (idempotently, by ``Reminder.key``); the scheduler runs each at
start-up and after the changes that call for it::

    @planner
    async def plan_reconfirmations(session: AsyncSession, now: datetime) -> None: ...
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxItem, Reminder

Fire = Callable[[AsyncSession, list[Reminder], datetime], Awaitable[None]]
Planner = Callable[[AsyncSession, datetime], Awaitable[None]]

PLAN_CHANGED = "pocnet_reminder_plan_changed"  # session.info flag: the scheduler re-plans after this commit

FIRES: dict[str, Fire] = {}
PLANNERS: list[Planner] = []


def fires(kind: str) -> Callable[[Fire], Fire]:
    def register(func: Fire) -> Fire:
        if kind in FIRES:
            raise RuntimeError(f"reminder kind {kind!r} registered twice")
        FIRES[kind] = func
        return func

    return register


def planner(func: Planner) -> Planner:
    PLANNERS.append(func)
    return func


def plan_changed(session: AsyncSession) -> None:
    """Call in a transaction that changes what reminders should be (a snooze, a round's plan, a meeting,
    a scheduled announcement): once it commits, this process's scheduler re-plans and re-arms."""
    session.info[PLAN_CHANGED] = True


async def mark_sent(session: AsyncSession, queued: list[tuple[Reminder, OutboxItem]], now: datetime) -> None:
    """The end of a firing: each reminder is ``sent`` with the outbox row queued for it, in this transaction."""
    await session.flush()  # the outbox rows get their ids
    for row, item in queued:
        row.status, row.outbox_id, row.decided_at = "sent", item.id, now
