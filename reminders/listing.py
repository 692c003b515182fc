"""What /reminders, /snooze and ``pocnet reminders list`` read and change: a member's coming round
reminders, a snooze, and the Secretariat's summary of every planned reminder."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from reminders import plan
from storage import audit, figures
from storage.access import Actor
from storage.errors import N_, AccessDenied, InvalidInput
from storage.models import Member, Reminder, Round

MAX_SNOOZE_DAYS = 90


@dataclass
class Coming:
    row: Round
    missing: list[str]
    due: list[datetime]  # planned, earliest first


async def coming(session: AsyncSession, member: Member) -> list[Coming]:
    """The member's planned reminders per open round — only for rounds their state still owes figures for
    (a state that has reported everything has nothing coming, even before the planner cancels the rows)."""
    rows = await session.execute(
        select(Reminder.round_id, Reminder.due_at)
        .where(Reminder.member_id == member.id, Reminder.kind == plan.ROUND, Reminder.status == plan.PLANNED)
        .order_by(Reminder.due_at)
    )
    by_round: dict[int, list[datetime]] = {}
    for round_id, due_at in rows.all():
        if round_id is not None:
            by_round.setdefault(round_id, []).append(due_at)
    found: list[Coming] = []
    for round_id, due in by_round.items():
        row = await session.get(Round, round_id)
        if row is None or not row.is_open or member.state_code is None:
            continue
        missing = (await figures.owed(session, row)).get(member.state_code, [])
        if missing:
            found.append(Coming(row, missing, due))
    return sorted(found, key=lambda c: (c.row.deadline, c.row.period))


async def snooze(session: AsyncSession, actor: Actor, member: Member, row: Round, days: int, now: datetime) -> datetime:
    """Postpone the member's reminders of the round: none before ``now + days``; those planned before then
    come at the first reminding hour after it (once: the scheduler sends the latest of those due together).
    Returns until when."""
    actor.ensure_state(member.state_code)
    if not 1 <= days <= MAX_SNOOZE_DAYS:
        raise InvalidInput(N_("Snooze for 1 to {most} days."), most=MAX_SNOOZE_DAYS)
    if not row.is_open:
        raise InvalidInput(N_("The round for {period} is closed."), period=row.period)
    until = now + timedelta(days=days)
    marker = await session.scalar(select(Reminder).where(Reminder.key == plan.snooze_key(row.id, member.id)))
    before = marker.due_at.isoformat() if marker is not None else None
    if marker is None:
        marker = Reminder(key=plan.snooze_key(row.id, member.id), kind=plan.SNOOZE, round_id=row.id,
                          member_id=member.id, step="snooze", due_at=until, status=plan.NOTED, decided_at=now)  # fmt: skip
        session.add(marker)
    else:
        marker.due_at, marker.decided_at = until, now
    where = plan.zone(member.timezone or (member.state.default_timezone if member.state else "UTC"))
    hour = plan.at_hour(row.remind_at)
    planned = await session.scalars(
        select(Reminder).where(Reminder.round_id == row.id, Reminder.member_id == member.id,
                               Reminder.kind == plan.ROUND, Reminder.status == plan.PLANNED, Reminder.due_at < until)
    )  # fmt: skip
    for reminder in planned:
        reminder.due_at = plan.first_civil_after(until, hour, where, member.state_code)
    await session.flush()
    audit.record(session, actor, "reminder.snooze", marker, before={"until": before} if before else None,
                 after={"round": row.period, "member": member.id, "days": days, "until": until.isoformat()},
                 directory=False)  # fmt: skip
    return until


@dataclass
class RoundSummary:
    row: Round
    planned: int = 0
    members: int = 0
    next_due: datetime | None = None
    by_state: dict[str, int] = field(default_factory=dict)
    sent: int = 0
    skipped: int = 0


async def summary(session: AsyncSession, actor: Actor) -> list[RoundSummary]:
    """Every open round's planned reminders, counted per state (the Secretariat's view)."""
    if not actor.is_secretariat:
        raise AccessDenied()
    found: list[RoundSummary] = []
    for row in await figures.open_rounds(session):
        item = RoundSummary(row)
        counts = await session.execute(
            select(Member.state_code, func.count(Reminder.id), func.count(func.distinct(Reminder.member_id)),
                   func.min(Reminder.due_at))
            .join(Member, Member.id == Reminder.member_id)
            .where(Reminder.round_id == row.id, Reminder.kind == plan.ROUND, Reminder.status == plan.PLANNED)
            .group_by(Member.state_code)
            .order_by(Member.state_code)
        )  # fmt: skip
        for code, n, people, first in counts.all():
            item.by_state[code or "OAS"] = int(n)
            item.planned += int(n)
            item.members += int(people)
            if first is not None and (item.next_due is None or first < item.next_due):
                item.next_due = first
        done = await session.execute(
            select(Reminder.status, func.count(Reminder.id))
            .where(Reminder.round_id == row.id, Reminder.kind == plan.ROUND)
            .group_by(Reminder.status)
        )
        statuses = dict(done.all())
        item.sent, item.skipped = int(statuses.get(plan.SENT, 0)), int(statuses.get(plan.SKIPPED, 0))
        found.append(item)
    return found
