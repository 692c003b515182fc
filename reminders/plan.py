"""Round reminders: who is reminded of a reporting round, and when.

Every active contact and official of a state that still owes figures for an open round gets a reminder at
each of the round's ``offsets`` (days before the deadline), then every ``overdue_every`` days after it, at
most ``overdue_limit`` times. Each comes at ``remind_at`` (09:00) on the member's own clock — their time
zone, else their state's — and never on a Saturday, a Sunday or a public holiday of their state (the
``holidays`` package; a state it does not know has weekends only): one due before the deadline moves to
the working day before, an overdue one to the working day after. The UTC moment is computed from the local
date and hour through zoneinfo, so a daylight-saving change between planning and sending changes nothing.

Planning is idempotent by ``Reminder.key`` (``round:3:member:17:d-30``) and done in bulk: the rows of a
round are read once, then the missing ones inserted, the moved ones updated and the ones no longer wanted
cancelled, each in one statement. A planned row moves with the deadline; a sent one stays as it was.

``/snooze`` leaves a marker row (kind ``snooze``, status ``noted``, ``due_at`` = until when): reminders
of that round due before then move to the first civil hour after it (the scheduler sends only the latest of
those that come due together).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from sqlalchemy import and_, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from reminders.registry import planner
from storage import figures
from storage.access import Role
from storage.models import Member, Reminder, Round, State

log = logging.getLogger("pocnet.reminders")

ROUND = "round"  # Reminder.kind of a round reminder
SNOOZE = "snooze"  # Reminder.kind of a /snooze marker
PLAN = "plan"  # Reminder.kind of a round's plan marker: ``note`` is the digest of what the plan was made from
PLANNED, SENT, SKIPPED, CANCELLED, NOTED = "planned", "sent", "skipped", "cancelled", "noted"
REMINDED_ROLES = (Role.CONTACT.value, Role.OFFICIAL.value)
CHUNK = 2000  # ids per IN (…) list: well below every driver's bound-parameter limit
OVERDUE = 1000  # rank of "overdue-1": after every "d-N"


def key_of(round_id: int, member_id: int, step: str) -> str:
    return f"round:{round_id}:member:{member_id}:{step}"


def plan_key(round_id: int) -> str:
    return f"plan:round:{round_id}"


def snooze_key(round_id: int, member_id: int) -> str:
    return f"snooze:round:{round_id}:member:{member_id}"


def rank(step: str) -> int:
    """Order of a round's steps: d-30 < d-14 < … < d-1 < overdue-1 < overdue-2."""
    name, _, number = step.rpartition("-")
    value = int(number) if number.isdigit() else 0
    return OVERDUE + value if name == "overdue" else -value


@dataclass(frozen=True)
class Step:
    name: str  # "d-30", "overdue-2"
    day: date  # the nominal day, before moving off weekends and holidays
    direction: int  # -1: move to the working day before; +1: after


def steps(row: Round) -> list[Step]:
    """The round's steps, earliest first."""
    found = [Step(f"d-{n}", row.deadline - timedelta(days=n), -1) for n in sorted(set(row.offsets), reverse=True)]
    every = max(1, row.overdue_every)
    found += [
        Step(f"overdue-{k}", row.deadline + timedelta(days=every * k), 1) for k in range(1, row.overdue_limit + 1)
    ]
    return found


@cache
def _supported() -> frozenset[str]:
    return frozenset(holidays.list_supported_countries())


@lru_cache(maxsize=1024)
def public_holidays(state_code: str, year: int) -> frozenset[date]:
    """The state's public holidays of that year; empty where the holidays package does not know it."""
    if state_code not in _supported():
        return frozenset()
    return frozenset(holidays.country_holidays(state_code, years=year))


def is_working_day(day: date, state_code: str | None) -> bool:
    return day.weekday() < 5 and (state_code is None or day not in public_holidays(state_code, day.year))


def working_day(day: date, state_code: str | None, direction: int) -> date:
    """``day`` itself if it is a working day of the state, else the nearest one in ``direction``."""
    while not is_working_day(day, state_code):
        day += timedelta(days=direction)
    return day


def at_hour(text: str) -> time:
    hours, _, minutes = (text or "09:00").partition(":")
    try:
        return time(int(hours), int(minutes or 0))
    except ValueError:
        return time(9, 0)


@cache
def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def civil(day: date, hour: time, where: ZoneInfo) -> datetime:
    """That local wall-clock time on that day, as a UTC moment (the offset of that very day)."""
    return datetime.combine(day, hour, tzinfo=where).astimezone(UTC)


def first_civil_after(moment: datetime, hour: time, where: ZoneInfo, state_code: str | None) -> datetime:
    """The first reminding hour on a working day at or after ``moment``."""
    day = moment.astimezone(where).date()
    while True:
        day = working_day(day, state_code, 1)
        due = civil(day, hour, where)
        if due >= moment:
            return due
        day += timedelta(days=1)


def schedule(row: Round, state_code: str | None, where: ZoneInfo) -> list[tuple[str, datetime]]:
    """(step, due) for one state and time zone; steps landing on the same moment keep only the later."""
    hour = at_hour(row.remind_at)
    planned: dict[datetime, str] = {}
    for step in steps(row):
        due = civil(working_day(step.day, state_code, step.direction), hour, where)
        planned[due] = step.name  # later steps overwrite earlier ones on the same moment
    return sorted(((name, due) for due, name in planned.items()), key=lambda p: p[1])


@dataclass
class Outcome:
    added: int = 0
    moved: int = 0
    cancelled: int = 0


async def reminded_members(session: AsyncSession, states: Iterable[str]) -> list[tuple[int, str, str]]:
    """(member id, state code, time zone name) of the active contacts and officials of these states."""
    codes = sorted(set(states))
    if not codes:
        return []
    rows = await session.execute(
        select(Member.id, Member.state_code, Member.timezone, State.default_timezone)
        .join(State, State.code == Member.state_code)
        .where(Member.active.is_(True), Member.role.in_(REMINDED_ROLES), Member.state_code.in_(codes))
        .order_by(Member.id)
    )
    return [(mid, code or "", tz or default) for mid, code, tz, default in rows.all()]


def _digest(row: Round, owing: list[str], people: list[tuple[int, str, str]], snoozed: dict[int, datetime]) -> str:
    inputs = (row.deadline, row.offsets, row.overdue_every, row.overdue_limit, row.remind_at, row.opened_at,
              sorted(owing), people, sorted(snoozed.items()))  # fmt: skip
    return hashlib.sha256(repr(inputs).encode()).hexdigest()[:32]


async def plan_round(
    session: AsyncSession, row: Round, now: datetime, *, force: bool = False,
    members: dict[tuple[str, ...], list[tuple[int, str, str]]] | None = None,
) -> Outcome:  # fmt: skip
    """Bring the round's planned reminders in line with the round, its audience and what each state owes.

    What the plan is made from (the round, the states that owe, the reminded members and their zones, the
    snoozes) is digested into the round's plan marker; when it has not changed since, the rows are not
    read at all — that keeps a restart of a large network within a second."""
    outcome = Outcome()
    owing = [state for state, missing in (await figures.owed(session, row)).items() if missing] if row.is_open else []
    states_key = tuple(sorted(owing))
    people = members.get(states_key) if members is not None else None
    if people is None:  # rounds asking the same states share one read of their members (plan_all)
        people = await reminded_members(session, owing)
        if members is not None:
            members[states_key] = people
    marks = await session.execute(
        select(Reminder.member_id, Reminder.due_at).where(Reminder.round_id == row.id, Reminder.kind == SNOOZE)
    )
    snoozed = {member_id: until for member_id, until in marks.all() if member_id is not None}
    digest = _digest(row, owing, people, snoozed)
    marker = await session.scalar(select(Reminder).where(Reminder.key == plan_key(row.id)))
    if marker is not None and marker.note == digest and not force:
        return outcome
    if marker is None:
        session.add(Reminder(key=plan_key(row.id), kind=PLAN, round_id=row.id, step="plan", due_at=now,
                             status=NOTED, decided_at=now, note=digest))  # fmt: skip
    else:
        marker.note, marker.decided_at = digest, now
    existing: dict[str, tuple[int, str, datetime]] = {
        key: (rid, status, due)
        for rid, key, status, due in (
            await session.execute(
                select(Reminder.id, Reminder.key, Reminder.status, Reminder.due_at).where(
                    Reminder.round_id == row.id, Reminder.kind == ROUND
                )
            )
        ).all()
    }
    opened = row.opened_at
    hour = at_hour(row.remind_at)
    cache: dict[tuple[str, str], list[tuple[str, datetime]]] = {}
    wanted: set[str] = set()
    inserts: list[dict[str, Any]] = []
    moves: list[dict[str, Any]] = []
    revives: list[dict[str, Any]] = []
    for member_id, state_code, tz in people:
        where = zone(tz)
        plan = cache.get((state_code, tz))
        if plan is None:
            plan = cache[(state_code, tz)] = schedule(row, state_code, where)
        until = snoozed.get(member_id)
        for step, due in plan:
            if opened is not None and due < opened:
                continue  # a round opened ten days before its deadline does not remind "30 days left"
            if until is not None and due < until:
                due = first_civil_after(until, hour, where, state_code)
            key = key_of(row.id, member_id, step)
            wanted.add(key)
            found = existing.get(key)
            if found is None:
                inserts.append({"key": key, "kind": ROUND, "round_id": row.id, "member_id": member_id, "step": step,
                                "due_at": due, "status": PLANNED})  # fmt: skip
            elif found[1] == PLANNED and found[2] != due:
                moves.append({"id": found[0], "due_at": due})
            elif found[1] == CANCELLED and due > now:  # owed again (a member back, a figure withdrawn)
                revives.append({"id": found[0], "due_at": due, "status": PLANNED, "decided_at": None, "note": None})
    stale = [rid for key, (rid, status, _) in existing.items() if status == PLANNED and key not in wanted]
    for start in range(0, len(inserts), CHUNK * 5):
        await session.execute(insert(Reminder), inserts[start : start + CHUNK * 5])
    for changes in (moves, revives):
        if changes:
            await session.execute(update(Reminder), changes)  # bulk UPDATE … WHERE id = :id
    for start in range(0, len(stale), CHUNK):
        await session.execute(
            update(Reminder)
            .where(Reminder.id.in_(stale[start : start + CHUNK]), Reminder.status == PLANNED)
            .values(status=CANCELLED, decided_at=now, note="no longer owed")
        )
    outcome.added, outcome.moved, outcome.cancelled = len(inserts), len(moves) + len(revives), len(stale)
    if inserts or moves or revives or stale:
        log.info("round reminders planned", extra={"round": row.period, "added": outcome.added,
                                                   "moved": outcome.moved, "cancelled": outcome.cancelled})  # fmt: skip
    return outcome


async def plan_all(session: AsyncSession, now: datetime) -> dict[str, Outcome]:
    """Plan every open round; cancel what is still planned for closed ones."""
    done: dict[str, Outcome] = {}
    members: dict[tuple[str, ...], list[tuple[int, str, str]]] = {}
    for row in await figures.all_rounds(session):
        if row.is_open:
            done[row.period] = await plan_round(session, row, now, members=members)
    closed = select(Round.id).where(Round.closed_at.is_not(None))
    await session.execute(
        update(Reminder)
        .where(Reminder.kind == ROUND, Reminder.status == PLANNED, Reminder.round_id.in_(closed))
        .values(status=CANCELLED, decided_at=now, note="round closed")
    )
    return done


@planner
async def plan_rounds(session: AsyncSession, now: datetime) -> None:
    await plan_all(session, now)


async def cancel_reported(session: AsyncSession, row: Round, state_code: str, now: datetime) -> int:
    """Eagerly cancel the planned reminders of a state that owes nothing more for this round (a figures
    submission may call it in its own transaction; the scheduler also checks when a reminder comes due)."""
    if (await figures.owed(session, row)).get(state_code):
        return 0
    ids = select(Member.id).where(Member.state_code == state_code)
    result = await session.execute(
        update(Reminder)
        .where(and_(Reminder.round_id == row.id, Reminder.kind == ROUND, Reminder.status == PLANNED,
                    Reminder.member_id.in_(ids)))
        .values(status=CANCELLED, decided_at=now, note="reported")
    )  # fmt: skip
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
