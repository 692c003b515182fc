"""Meetings the Secretariat records (handlers/meetings.py), and who is reminded of them (reminders/).

A meeting's audience is the contacts and officials of its states (every state when it names none) and the
Secretariat. Only the Secretariat records or cancels a meeting; :class:`storage.access.Actor` decides.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit
from storage.access import Actor, Role
from storage.errors import N_, AccessDenied, InvalidInput, NotFound
from storage.models import Meeting, Member, Reminder, State

NAME_LENGTH = 200
PLACE_LENGTH = 500
MEETING_KINDS = ("meeting", "registration")  # the reminder kinds that belong to a meeting
PLANNED, CANCELLED = "planned", "cancelled"


def ensure_may_manage(actor: Actor) -> None:
    """Only the Secretariat records or cancels meetings."""
    if not actor.is_secretariat:
        raise AccessDenied()


async def add(
    session: AsyncSession,
    actor: Actor,
    *,
    name: str,
    starts_at: datetime,
    timezone: str,
    now: datetime,
    duration_minutes: int = 120,
    place: str | None = None,
    registration_deadline: datetime | None = None,
    states: list[str] | None = None,
) -> Meeting:
    ensure_may_manage(actor)
    name = " ".join(name.split())
    if not name or len(name) > NAME_LENGTH:
        raise InvalidInput(N_("A meeting needs a name of at most {limit} characters."), limit=NAME_LENGTH)
    if starts_at <= now:
        raise InvalidInput(N_("That moment has already passed; a meeting is recorded before it starts."))
    if not 5 <= duration_minutes <= 7 * 24 * 60:
        raise InvalidInput(N_("A meeting lasts between 5 minutes and 7 days."))
    if place is not None and len(place) > PLACE_LENGTH:
        raise InvalidInput(N_("The place holds at most {limit} characters."), limit=PLACE_LENGTH)
    if registration_deadline is not None and not now < registration_deadline <= starts_at:
        raise InvalidInput(N_("The registration deadline must be after now and before the meeting starts."))
    chosen = sorted({code.upper() for code in states or []})
    known = set(await session.scalars(select(State.code).where(State.code.in_(chosen)))) if chosen else set()
    unknown = [code for code in chosen if code not in known]
    if unknown:
        raise InvalidInput(N_("Unknown state: {code}."), code=unknown[0])
    row = Meeting(
        name=name, starts_at=starts_at, timezone=timezone, duration_minutes=duration_minutes,
        place=place or None, registration_deadline=registration_deadline, states=chosen, created_by=actor.name,
        created_at=now,
    )  # fmt: skip
    session.add(row)
    await session.flush()
    audit.record(session, actor, "meeting.add", row, after=audit.snapshot(row), directory=False)
    return row


async def get(session: AsyncSession, number: int) -> Meeting:
    row = await session.get(Meeting, number)
    if row is None:
        raise NotFound(N_("There is no meeting #{number}."), number=number)
    return row


async def upcoming(session: AsyncSession, now: datetime, *, within: timedelta | None = None) -> list[Meeting]:
    """Meetings not cancelled that have not ended, the soonest first."""
    query = select(Meeting).where(Meeting.cancelled_at.is_(None), Meeting.starts_at > now - timedelta(days=7))
    if within is not None:
        query = query.where(Meeting.starts_at <= now + within)
    rows = await session.scalars(query.order_by(Meeting.starts_at, Meeting.id).limit(500))
    return [m for m in rows if m.starts_at + timedelta(minutes=m.duration_minutes) > now]


async def audience_zones(session: AsyncSession, meeting: Meeting) -> dict[int, str]:
    """The audience — active contacts and officials of its states, and the Secretariat — as columns only
    (10,000 members in one light query): member id → their zone (their own, else their state's
    capital's, else UTC)."""
    in_states = Member.state_code.in_(meeting.states) if meeting.states else Member.state_code.is_not(None)
    query = (
        select(Member.id, Member.timezone, State.default_timezone)
        .outerjoin(State, State.code == Member.state_code)
        .where(Member.active.is_(True), or_(Member.role == Role.SECRETARIAT, in_states))
        .order_by(Member.id)
    )
    return {member_id: own or capital or "UTC" for member_id, own, capital in (await session.execute(query)).all()}


async def cancel(session: AsyncSession, actor: Actor, meeting: Meeting, now: datetime) -> int:
    """Cancel the meeting and its pending reminders; returns how many reminders were withdrawn."""
    ensure_may_manage(actor)
    if meeting.cancelled_at is not None:
        raise InvalidInput(N_("Meeting #{number} is already cancelled."), number=meeting.id)
    meeting.cancelled_at = now
    result = await session.execute(
        update(Reminder)
        .where(Reminder.meeting_id == meeting.id, Reminder.status == PLANNED)
        .values(status=CANCELLED, decided_at=now, note="meeting cancelled")
    )
    withdrawn = int(result.rowcount or 0)  # type: ignore[attr-defined]
    audit.record(session, actor, "meeting.cancel", meeting, after={"reminders_cancelled": withdrawn},
                 directory=False)  # fmt: skip
    return withdrawn
