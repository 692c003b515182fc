"""The Secretariat's weekly digest: reporting rounds in progress and how many states still owe, deliveries
that failed in the past week, entries not confirmed for too long and states whose contacts have all
lapsed, and the meetings of the next 30 days. Each member of the Secretariat gets it on
``[reminders] digest_weekday`` at ``digest_hour`` in their own zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from babel.dates import format_date
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.render import renderer
from bot.i18n import Translator
from bot.transports.base import Outgoing
from reminders.localtime import next_weekday_hour, zone, zone_of
from reminders.meetings import shown
from reminders.reconfirm import lapsed
from reminders.registry import fires, mark_sent, planner
from reminders.settings import current
from storage import figures, meetings, outbox
from storage.access import Role
from storage.errors import N_
from storage.models import Member, OutboxItem, Reminder

KIND = "digest"
PLANNED, SENT, SKIPPED = "planned", "sent", "skipped"
WEEK = timedelta(days=7)
MEETINGS_AHEAD = timedelta(days=30)
SHOWN = 12  # states named per round before "…"


def next_digest(member: Member, after: datetime) -> datetime:
    settings = current()
    return next_weekday_hour(after, settings.digest_hour, zone_of(member), settings.digest_weekday)


def key(member_id: int, due: datetime) -> str:
    return f"{KIND}:{member_id}:{due:%Y-%m-%d}"


async def _readers(session: AsyncSession) -> list[Member]:
    rows = await session.scalars(select(Member).where(Member.role == Role.SECRETARIAT, Member.active.is_(True)))
    return [m for m in rows if m.identities]


@planner
async def plan_digests(session: AsyncSession, now: datetime) -> None:
    planned = {
        r.member_id: r
        for r in await session.scalars(select(Reminder).where(Reminder.kind == KIND, Reminder.status == PLANNED))
    }
    for member in await _readers(session):
        if member.id in planned:  # one at a time; the firing plans the next
            continue
        due = next_digest(member, now)
        session.add(Reminder(key=key(member.id, due), kind=KIND, member_id=member.id, due_at=due, status=PLANNED))


async def contents(session: AsyncSession, now: datetime) -> dict[str, Any]:
    """What the digest says, as plain values (the same for every reader; their zone is added apart)."""
    rounds = []
    for row in await figures.open_rounds(session):
        owed = await figures.owed(session, row)
        owing = sorted(state for state, codes in owed.items() if codes)
        rounds.append({"period": row.period, "deadline": row.deadline.isoformat(), "owing": len(owing),
                       "total": len(owed), "states": owing[:SHOWN], "more": max(0, len(owing) - SHOWN)})  # fmt: skip
    failures = (
        select(OutboxItem.kind, func.count())
        .where(OutboxItem.status == outbox.FAILED, OutboxItem.created_at >= now - WEEK)
        .group_by(OutboxItem.kind)
    )
    failed = {str(kind): int(n) for kind, n in (await session.execute(failures)).all()}
    lapsed_count, lapsed_states = await lapsed(session, now)
    upcoming = [
        {"number": m.id, "name": m.name, "starts_at": m.starts_at.isoformat(), "meeting_zone": m.timezone}
        for m in await meetings.upcoming(session, now, within=MEETINGS_AHEAD)
    ][:20]
    return {"date": now.date().isoformat(), "rounds": rounds, "failed": sum(failed.values()),
            "failed_kinds": failed, "lapsed": lapsed_count,
            "lapsed_states": lapsed_states, "days": current().reconfirm_days, "meetings": upcoming}  # fmt: skip


@fires(KIND)
async def digest_due(session: AsyncSession, due: list[Reminder], now: datetime) -> None:
    people = {m.id: m for m in await session.scalars(select(Member).where(Member.id.in_({r.member_id for r in due})))}
    data: dict[str, Any] | None = None
    queued: list[tuple[Reminder, OutboxItem]] = []
    for row in sorted(due, key=lambda r: (r.due_at, r.id), reverse=True):
        member = people.get(row.member_id or 0)
        reason = None
        if member is None or not member.active or member.role != Role.SECRETARIAT:
            reason = "not a reader"
        elif not outbox.recipients_of(member):
            reason = "no chat account"
        elif any(r.member_id == row.member_id for r, _ in queued):
            reason = "superseded"  # several weeks came due after downtime: the latest is enough
        if reason is not None or member is None:
            row.status, row.decided_at, row.note = SKIPPED, now, reason
            continue
        data = data if data is not None else await contents(session, now)
        item = outbox.enqueue(session, outbox.recipients_of(member)[0], "", {**data, "zone": zone_of(member).key},
                              kind=KIND, reference=KIND)  # fmt: skip
        queued.append((row, item))
        upcoming = next_digest(member, max(now, row.due_at))
        session.add(Reminder(key=key(member.id, upcoming), kind=KIND, member_id=member.id, due_at=upcoming,
                             status=PLANNED))  # fmt: skip
    await mark_sent(session, queued, now)


@renderer(KIND)
def render(item: OutboxItem, tr: Translator) -> Outgoing:
    p = item.params
    language = tr.language
    day = datetime.fromisoformat(p["date"])
    lines = [tr(N_("Weekly digest for the Secretariat, {date}")).format(date=format_date(day, "long", locale=language))]
    lines.append("")
    if p["rounds"]:
        lines.append(tr(N_("Reporting rounds in progress:")))
        for r in p["rounds"]:
            states = ", ".join(r["states"]) + (f" +{r['more']}" if r["more"] else "")
            deadline = format_date(datetime.fromisoformat(r["deadline"]), "medium", locale=language)
            lines.append("• " + tr(N_("{period} (deadline {deadline}): {owing} of {total} states still owe figures"))
                         .format(period=r["period"], deadline=deadline, owing=r["owing"], total=r["total"])
                         + (f" — {states}" if states else ""))  # fmt: skip
    else:
        lines.append(tr(N_("No reporting round in progress.")))
    kinds = ", ".join(f"{kind}: {n}" for kind, n in sorted(p["failed_kinds"].items()))
    lines.append(
        tr(N_("Failed deliveries in the past 7 days: {n}")).format(n=p["failed"]) + (f" ({kinds})" if kinds else "")
    )
    lines.append(tr(N_("Entries not confirmed for {days} days: {n}")).format(days=p["days"], n=p["lapsed"]))
    if p["lapsed_states"]:
        lines.append(
            tr(N_("States whose contacts have all lapsed: {states}")).format(states=", ".join(p["lapsed_states"]))
        )
    if p["meetings"]:
        lines.append(tr(N_("Meetings in the next 30 days:")))
        for m in p["meetings"]:
            when = shown(datetime.fromisoformat(m["starts_at"]), p["zone"], language)
            lines.append(f"• #{m['number']} {m['name']}: {when} ({zone(p['zone']).key})")
    else:
        lines.append(tr(N_("No meetings in the next 30 days.")))
    return Outgoing("\n".join(lines))
