"""Directory re-confirmation: a member whose entry was not confirmed for ``[reminders] reconfirm_days``
(since ``last_confirmed_at``, else since the entry was made) is asked "Is this still correct?" with their
entry and two buttons, /confirm and /myentry. Unanswered, they are asked again one period later.

Keys name the start of the period asked about (``reconfirm:17:20260101T120000``): planning twice plans
once, and a member who confirms in between is skipped when the row comes due (their period restarted).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from babel.dates import format_date
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.render import renderer
from bot.i18n import Translator, language_name
from bot.transports.base import Outgoing
from reminders.localtime import next_weekday_hour, zone, zone_of
from reminders.registry import fires, mark_sent, planner
from reminders.settings import current
from storage import outbox
from storage.access import Role
from storage.errors import N_
from storage.models import Identity, Member, OutboxItem, Reminder, State
from storage.taxonomy import COMPETENCE_BY_CODE, FUNCTION_BY_CODE

KIND = "reconfirm"
PLANNED, SENT, SKIPPED = "planned", "sent", "skipped"


def period() -> timedelta:
    return timedelta(days=current().reconfirm_days)


def key(member_id: int, since: datetime) -> str:
    return f"{KIND}:{member_id}:{since:%Y%m%dT%H%M%S}"


def _due(since: datetime, zone_name: str, now: datetime) -> datetime:
    """One period after ``since``, at the local hour of a weekday — and never in the past."""
    return next_weekday_hour(max(since + period(), now), current().local_hour, zone(zone_name))


@planner
async def plan_reconfirmations(session: AsyncSession, now: datetime) -> None:
    """One planned question per active member with a chat account: columns and multi-row statements only
    (10,000 members: two queries and one INSERT)."""
    linked = select(Identity.member_id).where(Identity.member_id == Member.id).exists()
    query = (
        select(Member.id, func.coalesce(Member.last_confirmed_at, Member.created_at), Member.timezone,
               State.default_timezone)
        .outerjoin(State, State.code == Member.state_code)
        .where(Member.active.is_(True), linked)
    )  # fmt: skip
    people = (await session.execute(query)).all()
    rows = await session.execute(
        select(Reminder.id, Reminder.key, Reminder.member_id, Reminder.status, Reminder.due_at).where(
            Reminder.kind == KIND, Reminder.status.in_((SENT, PLANNED))
        )
    )
    asked: dict[int, datetime] = {}  # member → when they were last asked
    planned: dict[int, list[tuple[int, str]]] = {}
    for row_id, row_key, member_id, status, due_at in rows.all():
        if member_id is None:
            continue
        if status == SENT and (member_id not in asked or due_at > asked[member_id]):
            asked[member_id] = due_at
        elif status == PLANNED:
            planned.setdefault(member_id, []).append((row_id, row_key))
    new: list[dict[str, Any]] = []
    stale: list[int] = []
    for member_id, confirmed, own_zone, state_zone in people:
        confirmed = _aware(confirmed)
        last_ask = asked.get(member_id)
        since = last_ask if last_ask is not None and last_ask > confirmed else confirmed
        wanted = key(member_id, since)
        mine = planned.get(member_id, [])
        stale += [row_id for row_id, row_key in mine if row_key != wanted]  # planned from an older confirmation
        if all(row_key != wanted for _, row_key in mine):
            due = _due(since, own_zone or state_zone or "UTC", now)
            new.append({"key": wanted, "kind": KIND, "member_id": member_id, "step": "", "due_at": due,
                        "status": PLANNED})  # fmt: skip
    if new:
        await session.execute(insert(Reminder), new)
    for chunk in range(0, len(stale), 1000):
        await session.execute(
            update(Reminder)
            .where(Reminder.id.in_(stale[chunk : chunk + 1000]))
            .values(status=SKIPPED, decided_at=now, note="confirmed since")
        )


def _aware(moment: datetime | str) -> datetime:
    """``coalesce`` of two UTC columns comes back without the column type (naive on SQLite)."""
    if isinstance(moment, str):  # SQLite may hand back the stored text
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def confirmed_at(member: Member) -> datetime:
    return member.last_confirmed_at or member.created_at


def card(member: Member) -> dict[str, Any]:
    """The entry as plain values: the renderer writes it in the recipient's language when it is sent."""
    return {
        "id": member.id, "name": member.display_name, "state": member.state_code or "OAS",
        "function": member.function, "institution": member.institution or "", "email": member.email or "",
        "phone": member.phone or "", "hours": member.office_hours or "", "zone": zone_of(member).key,
        "languages": list(member.languages or []), "competences": list(member.competences),
        "confirmed": confirmed_at(member).isoformat(), "days": current().reconfirm_days,
    }  # fmt: skip


@fires(KIND)
async def reconfirm_due(session: AsyncSession, due: list[Reminder], now: datetime) -> None:
    people = {m.id: m for m in await session.scalars(select(Member).where(Member.id.in_({r.member_id for r in due})))}
    queued: list[tuple[Reminder, OutboxItem]] = []
    following: dict[str, tuple[int, datetime]] = {}  # key → member, due: planned here unless already planned
    for row in sorted(due, key=lambda r: (r.due_at, r.id)):
        member = people.get(row.member_id or 0)
        reason = None
        if member is None or not member.active:
            reason = "inactive"
        elif confirmed_at(member) + period() > now:
            reason = "confirmed since"
        elif not outbox.recipients_of(member):
            reason = "no chat account"
        elif any(r.member_id == row.member_id for r, _ in queued):
            reason = "superseded"
        if reason is not None or member is None:
            row.status, row.decided_at, row.note = SKIPPED, now, reason
            if member is not None and reason == "confirmed since":  # the next question, one period on
                since = confirmed_at(member)
                following[key(member.id, since)] = (member.id, _due(since, zone_of(member).key, now))
            continue
        item = outbox.enqueue(session, outbox.recipients_of(member)[0], "", card(member), kind=KIND,
                              reference=f"{KIND}:{member.id}")  # fmt: skip
        queued.append((row, item))
        # unanswered, they are asked again one period later
        following[key(member.id, row.due_at)] = (member.id, _due(row.due_at, zone_of(member).key, now))
    if following:
        known = set(await session.scalars(select(Reminder.key).where(Reminder.key.in_(list(following)))))
        for row_key, (member_id, due_at) in following.items():
            if row_key not in known:
                session.add(Reminder(key=row_key, kind=KIND, member_id=member_id, step="", due_at=due_at,
                                     status=PLANNED))  # fmt: skip
    await mark_sent(session, queued, now)


@renderer(KIND)
def render(item: OutboxItem, tr: Translator) -> Outgoing:
    p = item.params
    language = tr.language
    function = FUNCTION_BY_CODE.get(p["function"])
    confirmed = datetime.fromisoformat(p["confirmed"])

    lines = [
        tr(N_("Is your directory entry still correct? It was last confirmed on {date}, more than {days} days "
              "ago.")).format(date=format_date(confirmed, "medium", locale=language), days=p["days"]),
        "",
        f"{p['name']} (#{p['id']}) · {p['state']}",
        tr(N_("Function: {function}")).format(function=function.name(language) if function else p["function"]),
    ]  # fmt: skip
    if p["institution"]:
        lines.append(tr(N_("Institution: {institution}")).format(institution=p["institution"]))
    if p["competences"]:
        names = ", ".join(COMPETENCE_BY_CODE[c].name(language) for c in p["competences"] if c in COMPETENCE_BY_CODE)
        lines.append(tr(N_("Competences: {competences}")).format(competences=names))
    if p["languages"]:
        spoken = ", ".join(language_name(code, language) for code in p["languages"])
        lines.append(tr(N_("Languages spoken: {languages}")).format(languages=spoken))
    if p["hours"]:
        lines.append(tr(N_("Office hours: {hours}")).format(hours=p["hours"]))
    lines.append(tr(N_("Time zone: {zone}")).format(zone=p["zone"]))
    if p["email"]:
        lines.append(tr(N_("E-mail: {email}")).format(email=p["email"]))
    if p["phone"]:
        lines.append(tr(N_("Phone: {phone}")).format(phone=p["phone"]))
    lines += ["", tr(N_("If it is, /confirm keeps it for another period; /myentry shows how to change a field."))]
    buttons = ((tr(N_("Confirm")), "/confirm"), (tr(N_("Edit")), "/myentry"))
    return Outgoing("\n".join(lines), buttons=buttons)


# --- lapsed entries (for the digest) --------------------------------------------------------------------


async def lapsed(session: AsyncSession, now: datetime) -> tuple[int, list[str]]:
    """How many active entries have lapsed, and the states whose active contacts have all lapsed."""
    cutoff = now - period()
    last = func.coalesce(Member.last_confirmed_at, Member.created_at)
    rows = (await session.execute(select(Member.state_code, Member.role, last).where(Member.active.is_(True)))).all()
    count = 0
    contacts: dict[str, list[bool]] = {}
    for state_code, role, moment in rows:
        old = _aware(moment) < cutoff
        count += old
        if state_code is not None and role == Role.CONTACT:
            contacts.setdefault(state_code, []).append(old)
    return count, sorted(code for code, flags in contacts.items() if all(flags))
