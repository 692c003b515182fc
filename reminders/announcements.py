"""Scheduled announcements: ``/announce at:<when> to:… <text>`` goes out later.

    at:2026-12-01T14:00Z        that moment (Z or an offset such as -05:00; without one, the author's zone)
    at:09:00local               the next 09:00 in each recipient's own zone
    at:2026-12-01T09:00local    09:00 on that day in each recipient's own zone

The announcement (a Relay row) is made at once; a reminder row of kind ``announcement`` per recipient
(``relay_id``, ``member_id``) comes due at their moment, and its firing queues the copies through the
announcement path (storage.announcements.queue_copies), in that transaction.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from reminders.localtime import zone
from reminders.registry import fires, plan_changed
from reminders.settings import default_language
from storage import announcements, audit
from storage.access import Actor
from storage.announcements import Draft
from storage.errors import N_, AccessDenied, InvalidInput
from storage.models import Member, OutboxItem, Relay, Reminder, State, StoredFile
from storage.readmodel import DirectoryView
from storage.relays import reference

KIND = "announcement"
PLANNED, SENT, SKIPPED = "planned", "sent", "skipped"
HORIZON = timedelta(days=366)
_LOCAL = re.compile(r"^(?:(\d{4}-\d{2}-\d{2})T)?([01]?\d|2[0-3]):([0-5]\d)local$", re.I)
BAD_WHEN = N_(
    "Say when like this: at:2026-12-01T14:00Z (a moment), at:09:00local (09:00 in each recipient's own zone) "
    "or at:2026-12-01T09:00local."
)


@dataclass(frozen=True)
class When:
    moment: datetime | None = None  # one moment for everyone (UTC)
    local: time | None = None  # this hour in each recipient's zone
    day: date | None = None  # on this day (local sends); None: the next such hour

    def due(self, where: str, now: datetime) -> datetime:
        if self.moment is not None:
            return self.moment
        assert self.local is not None
        place = zone(where)
        day = self.day or now.astimezone(place).date()
        moment = datetime.combine(day, self.local, tzinfo=place)
        if self.day is None and moment <= now:
            moment = datetime.combine(day + timedelta(days=1), self.local, tzinfo=place)
        return max(moment, now)  # a day given, that hour already passed there: at once


def split_at(args: str) -> tuple[str | None, str]:
    """A leading ``at:`` word and the rest of the arguments."""
    head, _, rest = args.strip().partition(" ")
    if head.lower().startswith("at:"):
        return head[3:], rest
    return None, args


def parse_when(text: str, author_zone: str, now: datetime) -> When:
    text = text.strip()[:40]
    local = _LOCAL.match(text)
    if local is not None:
        try:
            day = date.fromisoformat(local.group(1)) if local.group(1) else None
        except ValueError:
            raise InvalidInput(BAD_WHEN) from None
        if day is not None and not now.date() - timedelta(days=1) <= day <= (now + HORIZON).date():
            raise InvalidInput(N_("A scheduled announcement goes out within a year from now."))
        return When(local=time(int(local.group(2)), int(local.group(3))), day=day)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(BAD_WHEN) from None
    if "T" not in text.upper():
        raise InvalidInput(BAD_WHEN)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(author_zone))
    if not now < moment <= now + HORIZON:
        raise InvalidInput(N_("A scheduled announcement goes out within a year from now."))
    return When(moment=moment)


async def schedule(
    session: AsyncSession,
    actor: Actor,
    author: Member,
    draft: Draft,
    when: When,
    view: DirectoryView,
    *,
    now: datetime,
    default_language: str,
    file: StoredFile | None = None,
) -> tuple[Relay, list[datetime]]:
    """Make the announcement and plan a send per reachable recipient; returns it and their moments."""
    if not actor.is_secretariat:
        raise AccessDenied()
    announcements.check(draft)
    people = await announcements.recipients(session, draft.audience.member_ids(view, author.id))
    target = announcements.plan(people, draft.texts, default_language)
    if not target.reachable:
        raise InvalidInput(N_("No active member with a linked chat account matches that audience."))
    relay = await announcements.create(session, author, draft, now=now, default_language=default_language, file=file)
    ids = [p.id for p in target.reachable]
    zones = {
        member_id: own or capital or "UTC"
        for member_id, own, capital in (
            await session.execute(
                select(Member.id, Member.timezone, State.default_timezone)
                .outerjoin(State, State.code == Member.state_code)
                .where(Member.id.in_(ids))
            )
        ).all()
    }
    moments = []
    for member_id in ids:
        due = when.due(zones.get(member_id, "UTC"), now)
        moments.append(due)
        session.add(Reminder(key=f"{KIND}:{relay.id}:member:{member_id}", kind=KIND, relay_id=relay.id,
                             member_id=member_id, due_at=due, status=PLANNED))  # fmt: skip
    after = {"audience": relay.audience, "copies": len(ids), "first": min(moments).isoformat(),
             "last": max(moments).isoformat(), "local": when.local is not None, "ack": relay.ack}  # fmt: skip
    audit.record(session, actor, "announce.schedule", relay, after=after, directory=False)
    plan_changed(session)  # the scheduler re-arms: these may come before what it waits for
    return relay, moments


@fires(KIND)
async def announcement_due(session: AsyncSession, due: list[Reminder], now: datetime) -> None:
    """Queue the copies that came due, each announcement's in one batch."""
    by_relay: defaultdict[int, list[Reminder]] = defaultdict(list)
    for row in due:
        if row.relay_id is None or row.member_id is None:
            row.status, row.decided_at, row.note = SKIPPED, now, "incomplete"
            continue
        by_relay[row.relay_id].append(row)
    for relay_id, rows in by_relay.items():
        relay = await session.get(Relay, relay_id)
        if relay is None:
            for row in rows:
                row.status, row.decided_at, row.note = SKIPPED, now, "no such announcement"
            continue
        ids = [row.member_id for row in rows if row.member_id is not None]
        active = set(await session.scalars(select(Member.id).where(Member.id.in_(ids), Member.active.is_(True))))
        people = [p for p in await announcements.recipients(session, ids) if p.id in active]
        await announcements.queue_copies(session, relay, relay.sender, people, now=now,
                                         default_language=default_language())  # fmt: skip
        queued = dict(
            (await session.execute(
                select(OutboxItem.member_id, OutboxItem.id).where(
                    OutboxItem.reference == reference(relay.id), OutboxItem.member_id.in_(ids))
            )).all()
        )  # fmt: skip
        for row in rows:
            outbox_id = queued.get(row.member_id)
            if outbox_id is None:
                row.status, row.decided_at, row.note = SKIPPED, now, "inactive or no chat account"
            else:
                row.status, row.outbox_id, row.decided_at = SENT, outbox_id, now
