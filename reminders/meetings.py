"""Meeting reminders: before a meeting's registration deadline and before it starts, each member of its
audience is reminded at a civil hour of their own day, with the time in their zone (and the meeting's)
and an ``.ics`` calendar file.

Plan (idempotent, by key): ``meeting:<id>:member:<id>:d-7`` and ``registration:<id>:member:<id>:d-1``
at ``[reminders] local_hour`` in the member's zone, ``meeting_days`` / ``registration_days`` before (a
weekend moves it to the Friday before). Firing sends only the latest reminder of a member for a meeting
when several came due together (after downtime), and none once the moment has passed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import icalendar
from babel.dates import format_date, format_time
from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.render import renderer
from bot.i18n import Translator
from bot.transports.base import Outgoing
from reminders.localtime import at_local, weekday_before, zone, zone_of
from reminders.registry import fires, plan_changed, planner
from reminders.settings import current
from storage import announcements, meetings, outbox
from storage.errors import N_
from storage.models import Meeting, Member, OutboxItem, Reminder, StoredFile
from storage.relays import store_file

MEETING, REGISTRATION, CANCELLED_NOTICE = "meeting", "registration", "meeting_cancelled"
PLANNED, SENT, SKIPPED = "planned", "sent", "skipped"
_LINK = re.compile(r"https?://\S+")


def reference(meeting_id: int) -> str:
    return f"meeting:{meeting_id}"


# --- planning -------------------------------------------------------------------------------------------


def _wanted(meeting: Meeting, member_id: int, where: ZoneInfo) -> dict[str, tuple[str, str, datetime]]:
    """key → (kind, step, due) of every reminder this member should get for this meeting."""
    settings = current()
    plans: list[tuple[str, datetime | None, list[int]]] = [
        (MEETING, meeting.starts_at, settings.meeting_days),
        (REGISTRATION, meeting.registration_deadline, settings.registration_days),
    ]
    wanted: dict[str, tuple[str, str, datetime]] = {}
    for kind, moment, offsets in plans:
        if moment is None:
            continue
        local_day = moment.astimezone(where).date()
        for days in offsets:
            due = at_local(weekday_before(local_day - timedelta(days=days)), settings.local_hour, where)
            if due >= moment:  # "0 days before" a meeting at 08:00: too late at 09:00
                continue
            step = f"d-{days}"
            wanted[f"{kind}:{meeting.id}:member:{member_id}:{step}"] = (kind, step, due)
    return wanted


async def plan_meeting(session: AsyncSession, meeting: Meeting, now: datetime) -> int:
    """Add or move the planned reminders of one meeting; withdraw those no longer wanted (a member who
    left its audience). Columns and multi-row statements only: 10,000 members take a second or two.
    Returns how many rows were added."""
    existing = {
        key: (row_id, status, due)
        for row_id, key, status, due in (
            await session.execute(
                select(Reminder.id, Reminder.key, Reminder.status, Reminder.due_at).where(
                    Reminder.meeting_id == meeting.id
                )
            )
        ).all()
    }
    wanted: dict[str, tuple[int, str, str, datetime]] = {}
    if meeting.cancelled_at is None:
        for member_id, zone_name in (await meetings.audience_zones(session, meeting)).items():
            for key, (kind, step, due) in _wanted(meeting, member_id, zone(zone_name)).items():
                wanted[key] = (member_id, kind, step, due)
    new: list[dict[str, Any]] = []
    moved: list[dict[str, Any]] = []
    for key, (member_id, kind, step, due) in wanted.items():
        row = existing.get(key)
        if row is None:
            if due > now:  # a reminder whose moment passed before it was planned is not sent late
                new.append({"key": key, "kind": kind, "meeting_id": meeting.id, "member_id": member_id,
                            "step": step, "due_at": due, "status": PLANNED})  # fmt: skip
        elif row[1] == PLANNED and row[2] != due:
            moved.append({"id": row[0], "due_at": due})
    gone = [row_id for key, (row_id, status, _) in existing.items() if status == PLANNED and key not in wanted]
    if new:
        await session.execute(insert(Reminder), new)
    if moved:
        await session.execute(update(Reminder), moved)
    for chunk in range(0, len(gone), 1000):
        await session.execute(
            update(Reminder)
            .where(Reminder.id.in_(gone[chunk : chunk + 1000]))
            .values(status=SKIPPED, decided_at=now, note="no longer planned")
        )
    if new or moved or gone:
        plan_changed(session)  # re-arm: a new reminder may come before the one the scheduler waits for
    return len(new)


@planner
async def plan_meetings(session: AsyncSession, now: datetime) -> None:
    for meeting in await meetings.upcoming(session, now):
        await plan_meeting(session, meeting, now)


# --- the calendar file ----------------------------------------------------------------------------------


def uid(meeting: Meeting) -> str:
    """Stable for the meeting (a calendar updates the event rather than adding a second one)."""
    return f"meeting-{meeting.id}-{meeting.created_at.astimezone(UTC):%Y%m%dT%H%M%SZ}@pocnet"


def calendar(meeting: Meeting, *, cancelled: bool = False) -> bytes:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//OAS//pocnet//EN")
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if cancelled else "PUBLISH")
    event = icalendar.Event()
    event.add("uid", uid(meeting))
    event.add("dtstamp", (meeting.cancelled_at if cancelled and meeting.cancelled_at else meeting.created_at))
    event.add("dtstart", meeting.starts_at.astimezone(UTC))
    event.add("dtend", meeting.starts_at.astimezone(UTC) + timedelta(minutes=meeting.duration_minutes))
    event.add("summary", meeting.name)
    if meeting.place:
        event.add("location", meeting.place)
        link = _LINK.search(meeting.place)
        if link:
            event.add("url", link.group(0))
    event.add("sequence", 1 if cancelled else 0)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    cal.add_component(event)
    return bytes(cal.to_ical())


def filename(meeting: Meeting) -> str:
    stem = re.sub(r"[^A-Za-z0-9]+", "-", meeting.name).strip("-")[:60] or "meeting"
    return f"{stem}.ics"


async def ics_file(session: AsyncSession, meeting: Meeting, *, cancelled: bool = False) -> StoredFile:
    return await store_file(session, filename(meeting), "text/calendar", calendar(meeting, cancelled=cancelled))


# --- firing ---------------------------------------------------------------------------------------------


def params(meeting: Meeting, zone_name: str, step: str = "") -> dict[str, Any]:
    deadline = meeting.registration_deadline
    return {
        "number": meeting.id, "name": meeting.name, "starts_at": meeting.starts_at.isoformat(),
        "meeting_zone": meeting.timezone, "zone": zone_name, "place": meeting.place or "",
        "deadline": deadline.isoformat() if deadline else "", "step": step,
    }  # fmt: skip


def latest_only(due: Iterable[Reminder]) -> tuple[list[Reminder], list[Reminder]]:
    """Of the rows of one member for one meeting that came due together, the latest is sent and the rest
    are superseded (after downtime, "in 7 days" and "tomorrow" must not both arrive)."""
    groups: defaultdict[tuple[int | None, int | None], list[Reminder]] = defaultdict(list)
    for row in due:
        groups[(row.meeting_id, row.member_id)].append(row)
    send: list[Reminder] = []
    superseded: list[Reminder] = []
    for rows in groups.values():
        rows.sort(key=lambda r: (r.due_at, r.id))
        send.append(rows[-1])
        superseded += rows[:-1]
    return send, superseded


async def _fire(session: AsyncSession, due: list[Reminder], now: datetime, kind: str) -> None:
    send, superseded = latest_only(due)
    for row in superseded:
        row.status, row.decided_at, row.note = SKIPPED, now, "superseded"
    found = {
        m.id: m for m in await session.scalars(select(Meeting).where(Meeting.id.in_({r.meeting_id for r in send})))
    }
    audiences = {m.id: await meetings.audience_zones(session, m) for m in found.values()}  # active members only
    reachable = {p.id: p for p in await announcements.recipients(session, [r.member_id for r in send if r.member_id])}
    files: dict[int, StoredFile] = {}
    rows: list[dict[str, Any]] = []
    chosen: list[Reminder] = []
    for row in send:
        meeting = found.get(row.meeting_id or 0)
        moment = None if meeting is None else (meeting.starts_at if kind == MEETING else meeting.registration_deadline)
        person = reachable.get(row.member_id or 0)
        reason = None
        if meeting is None or meeting.cancelled_at is not None:
            reason = "meeting cancelled"
        elif moment is None or moment <= now:
            reason = "too late"
        elif row.member_id not in audiences[meeting.id]:
            reason = "not in the audience"
        elif person is None or person.platform is None:
            reason = "no chat account"
        if reason is not None or meeting is None or person is None:
            row.status, row.decided_at, row.note = SKIPPED, now, reason
            continue
        if meeting.id not in files:
            files[meeting.id] = await ics_file(session, meeting)
        rows.append({
            "platform": person.platform, "chat_id": person.chat_id, "user_id": person.user_id,
            "member_id": person.id, "kind": kind, "template": "",
            "params": params(meeting, audiences[meeting.id][person.id], row.step), "priority": outbox.BULK,
            "reference": reference(meeting.id), "status": outbox.QUEUED, "attempts": 0,
            "file_id": files[meeting.id].id, "created_at": now,
        })  # fmt: skip
        chosen.append(row)
    if not rows:
        return
    # One executemany INSERT without the ORM (its row-by-row flush took 9 s for 10,000 rows), then the ids:
    # rows after the newest id seen before, of this kind and these meetings (one scheduler fires at a time).
    before = await session.scalar(select(func.max(OutboxItem.id))) or 0
    await session.execute(insert(cast(Table, OutboxItem.__table__)), rows)
    session.info[outbox.WRITTEN] = True
    written = await session.execute(
        select(OutboxItem.member_id, OutboxItem.reference, OutboxItem.id).where(
            OutboxItem.id > before, OutboxItem.kind == kind, OutboxItem.reference.in_({r["reference"] for r in rows})
        )
    )
    ids = {(member_id, ref): item_id for member_id, ref, item_id in written.all()}
    for row in chosen:
        row.status, row.outbox_id, row.decided_at = SENT, ids[(row.member_id, reference(row.meeting_id or 0))], now


@fires(MEETING)
async def meeting_due(session: AsyncSession, due: list[Reminder], now: datetime) -> None:
    await _fire(session, due, now, MEETING)


@fires(REGISTRATION)
async def registration_due(session: AsyncSession, due: list[Reminder], now: datetime) -> None:
    await _fire(session, due, now, REGISTRATION)


async def tell_cancelled(session: AsyncSession, meeting: Meeting) -> int:
    """After ``storage.meetings.cancel``: those already reminded of it learn it is off (with an .ics that
    removes it from their calendar). Returns how many were told."""
    reminded = set(
        await session.scalars(
            select(Reminder.member_id).where(Reminder.meeting_id == meeting.id, Reminder.status == SENT)
        )
    )
    if not reminded:
        return 0
    file = await ics_file(session, meeting, cancelled=True)
    told = 0
    for member in await session.scalars(select(Member).where(Member.id.in_(reminded), Member.active.is_(True))):
        for to in outbox.recipients_of(member)[:1]:
            outbox.enqueue(session, to, "", params(meeting, zone_of(member).key), kind=CANCELLED_NOTICE,
                           reference=reference(meeting.id), file_id=file.id)  # fmt: skip
            told += 1
    return told


# --- how they read --------------------------------------------------------------------------------------


def shown(moment: datetime, zone_name: str, language: str) -> str:
    """ "Tuesday, 12 May 2026, 10:00" in ``zone_name``, in ``language``."""
    local = moment.astimezone(zone(zone_name))
    return f"{format_date(local, 'full', locale=language)}, {format_time(local, 'HH:mm', locale=language)}"


def _times(p: dict[str, Any], tr: Translator) -> str:
    starts = datetime.fromisoformat(p["starts_at"])
    mine = shown(starts, p["zone"], tr.language)
    if zone(p["zone"]).utcoffset(starts) == zone(p["meeting_zone"]).utcoffset(starts):
        return tr(N_("{when} ({zone})")).format(when=mine, zone=p["zone"])
    return tr(N_("{when} your time ({zone}); {original} in {meeting_zone}")).format(
        when=mine,
        zone=p["zone"],
        original=shown(starts, p["meeting_zone"], tr.language),
        meeting_zone=p["meeting_zone"],
    )


def _tail(p: dict[str, Any], tr: Translator) -> list[str]:
    lines = []
    if p["place"]:
        lines.append(tr(N_("Place: {place}")).format(place=p["place"]))
    lines.append(tr(N_("The attached calendar file adds it to your calendar. /meeting lists upcoming meetings.")))
    return lines


@renderer(MEETING)
def render_meeting(item: OutboxItem, tr: Translator) -> Outgoing:
    p = item.params
    head = tr(N_("Reminder: meeting #{number}, “{name}”, starts {times}.")).format(
        number=p["number"], name=p["name"], times=_times(p, tr)
    )
    return Outgoing("\n".join([head, *_tail(p, tr)]))


@renderer(REGISTRATION)
def render_registration(item: OutboxItem, tr: Translator) -> Outgoing:
    p = item.params
    deadline = shown(datetime.fromisoformat(p["deadline"]), p["zone"], tr.language)
    head = tr(
        N_("Reminder: registration for meeting #{number}, “{name}”, closes {deadline} your time ({zone}).")
    ).format(number=p["number"], name=p["name"], deadline=deadline, zone=p["zone"])
    starts = tr(N_("The meeting starts {times}.")).format(times=_times(p, tr))
    return Outgoing("\n".join([head, starts, *_tail(p, tr)]))


@renderer(CANCELLED_NOTICE)
def render_cancelled(item: OutboxItem, tr: Translator) -> Outgoing:
    p = item.params
    return Outgoing(
        tr(N_("Meeting #{number}, “{name}”, planned for {times}, is cancelled. The attached file removes it from "
              "your calendar.")).format(number=p["number"], name=p["name"], times=_times(p, tr))
    )  # fmt: skip
