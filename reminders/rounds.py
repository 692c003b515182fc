"""Sending round reminders when they come due, and how they read.

The scheduler hands over the due ``round`` rows it claimed (locked, grouped so that one member's rows of one
round are in the same batch). For each member and round only the latest due row may be sent: the earlier
ones are ``skipped`` as superseded (after downtime a member gets one reminder, not four stale ones). A row is
also skipped when its round closed, its member left or changed role, or their state owes nothing more. The
rest queue one outbox row (``storage.outbox.enqueue``, to ``outbox.recipients_of`` the member) and are marked
``sent`` with its id — in the scheduler's transaction, so a crash before the commit leaves both undone.

The message is rendered in the recipient's language at send time (``@renderer("reminder")``): what is
missing, a ready-to-fill ``/report`` line, the deadline and the days left or overdue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from babel.dates import format_date
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from bot.delivery.render import renderer
from bot.i18n import Translator
from bot.transports.base import Outgoing
from reminders import plan
from reminders.registry import fires
from storage import catalogue, figures, outbox
from storage.errors import N_
from storage.models import Identity, Member, OutboxItem, Reminder, Round, State

KIND = "reminder"  # OutboxItem.kind
CATALOGUE_PATH: list[str | None] = [None]  # [figures] catalogue, set by the scheduler from the settings

DUE_TODAY = N_("Reminder: the figures of {state} for {period} are due today, {deadline}.")
MISSING = N_("Still missing: {items}.")
FILL_IN = N_("Put a number after each = (or n/a where a figure is not available) and send:")
CONTROLS = N_("/snooze {period} 7 postpones these reminders by a week; /reminders lists what is coming.")


def reference(reminder_id: int) -> str:
    """OutboxItem.reference of the message a reminder queued."""
    return f"reminder:{reminder_id}"


def report_line(period: str, codes: list[str]) -> str:
    return " ".join([f"/report {period}", *(f"{code}=" for code in codes)])


@renderer(KIND)
def render_reminder(item: OutboxItem, tr: Translator) -> Outgoing:
    p = item.params
    language = tr.language
    state = p["state_names"].get(language) or p["state_names"]["en"]
    deadline = format_date(date.fromisoformat(p["deadline"]), "long", locale=language)
    days = int(p["days"])
    fields = {"state": state, "period": p["period"], "deadline": deadline, "days": abs(days)}
    if days > 0:
        head = tr.ngettext(
            "Reminder: the figures of {state} for {period} are due on {deadline}, in {days} day.",
            "Reminder: the figures of {state} for {period} are due on {deadline}, in {days} days.",
            days,
        )
    elif days == 0:
        head = tr(DUE_TODAY)
    else:
        head = tr.ngettext(
            "Reminder: the figures of {state} for {period} were due on {deadline}; they are {days} day overdue.",
            "Reminder: the figures of {state} for {period} were due on {deadline}; they are {days} days overdue.",
            -days,
        )
    names: dict[str, dict[str, str]] = p.get("names", {})
    items = ", ".join(f"{(names.get(code) or {}).get(language) or code} ({code})" for code in p["missing"])
    lines = [
        head.format(**fields),
        tr(MISSING).format(items=items),
        "",
        tr(FILL_IN),
        report_line(p["period"], p["missing"]),
        "",
        tr(CONTROLS).format(period=p["period"]),
    ]
    return Outgoing("\n".join(lines))


def _names(codes: list[str]) -> dict[str, dict[str, str]]:
    try:
        known = catalogue.cached(CATALOGUE_PATH[0])
    except Exception:  # a broken catalogue file: the codes alone still say what is missing
        return {}
    found: dict[str, dict[str, str]] = {}
    for code in codes:
        indicator = known.get(code)
        if indicator is not None:
            found[code] = indicator.name.model_dump()
    return found


@dataclass(frozen=True)
class _Person:
    code: str | None
    active: bool
    role: str
    timezone: str | None
    state: State | None


class _Decisions:
    """What becomes of each claimed row, written in one bulk UPDATE (and set on the loaded rows, so the
    scheduler reads them as they are now)."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.rows: list[tuple[Reminder, dict[str, Any]]] = []

    def __call__(self, row: Reminder, status: str, note: str | None = None, outbox_id: int | None = None) -> None:
        self.rows.append((row, {"id": row.id, "status": status, "decided_at": self.now, "note": note,
                                "outbox_id": outbox_id}))  # fmt: skip

    async def write(self, session: AsyncSession) -> None:
        if not self.rows:
            return
        table = cast(Table, Reminder.__table__)
        statement = (
            update(table)
            .where(table.c.id == bindparam("rid"))
            .values(status=bindparam("s"), decided_at=bindparam("d"), note=bindparam("n"), outbox_id=bindparam("o"))
        )
        rows = [{"rid": v["id"], "s": v["status"], "d": v["decided_at"], "n": v["note"], "o": v["outbox_id"]}
                for _, v in self.rows]  # fmt: skip
        await (await session.connection()).execute(statement, rows)  # one executemany
        for row, values in self.rows:
            for name in ("status", "decided_at", "note", "outbox_id"):
                set_committed_value(row, name, values[name])


@fires(plan.ROUND)
async def fire_rounds(session: AsyncSession, due: list[Reminder], now: datetime) -> None:
    by_id: dict[int, Round] = {}
    owed: dict[int, dict[str, list[str]]] = {}
    for round_id in {r.round_id for r in due if r.round_id is not None}:
        found_round = await session.get(Round, round_id)
        if found_round is not None:
            by_id[round_id] = found_round
            if found_round.is_open:
                owed[round_id] = await figures.owed(session, found_round)
    member_ids = sorted({r.member_id for r in due if r.member_id is not None})
    people: dict[int, _Person] = {}
    reach: dict[int, outbox.Recipient] = {}
    states = {state.code: state for state in await session.scalars(select(State))}  # 35 rows, loaded once
    for start in range(0, len(member_ids), plan.CHUNK):
        chunk = member_ids[start : start + plan.CHUNK]
        found = await session.execute(
            select(Member.id, Member.state_code, Member.active, Member.role, Member.timezone).where(
                Member.id.in_(chunk)
            )
        )
        for mid, code, active, role, tz in found.all():
            people[mid] = _Person(code, active, role, tz, states.get(code) if code else None)
        ids = await session.execute(
            select(Identity.member_id, Identity.platform, Identity.chat_id, Identity.user_id)
            .where(Identity.member_id.in_(chunk))
            .order_by(Identity.id.desc())
        )
        for mid, platform, chat_id, user_id in ids.all():  # the first linked account wins (as recipients_of)
            reach[mid] = outbox.Recipient(platform, chat_id, user_id, mid)
    names_cache: dict[int, dict[str, dict[str, str]]] = {}
    decide = _Decisions(now)
    queued: list[tuple[Reminder, dict[str, Any]]] = []
    for (group_round, group_member), rows in plan.group_by_member(due).items():
        rows.sort(key=lambda r: (r.due_at, plan.rank(r.step)))
        latest = rows[-1]
        for older in rows[:-1]:
            decide(older, plan.SKIPPED, "superseded")
        row = by_id.get(group_round) if group_round is not None else None
        person = people.get(group_member) if group_member is not None else None
        if row is None or not row.is_open:
            decide(latest, plan.SKIPPED, "round closed")
            continue
        if person is None or not person.active or person.role not in plan.REMINDED_ROLES or person.code is None:
            decide(latest, plan.SKIPPED, "not reminded")
            continue
        code, tz, home = person.code, person.timezone, person.state
        missing = owed[row.id].get(code, [])
        if not missing:
            decide(latest, plan.SKIPPED, "reported")
            continue
        to = reach.get(latest.member_id or 0)
        if to is None:
            decide(latest, plan.SKIPPED, "no chat account")
            continue
        where = plan.zone(tz or (home.default_timezone if home else "UTC"))
        today = now.astimezone(where).date()
        if row.id not in names_cache:
            names_cache[row.id] = _names(list(row.indicators))
        params: dict[str, Any] = {
            "period": row.period, "state": code, "missing": missing,
            "state_names": {lang: home.name(lang) for lang in ("en", "es", "pt", "fr")} if home else {"en": code},
            "names": {c: n for c, n in names_cache[row.id].items() if c in missing},
            "deadline": row.deadline.isoformat(), "days": (row.deadline - today).days, "step": latest.step,
        }  # fmt: skip
        queued.append((latest, {"to": to, "params": params, "reference": reference(latest.id)}))
    if queued:  # one multi-row INSERT … RETURNING, not one round trip per row
        values = [
            {"platform": q["to"].platform, "chat_id": q["to"].chat_id, "user_id": q["to"].user_id,
             "member_id": q["to"].member_id, "kind": KIND, "template": "reminder", "params": q["params"],
             "language": None, "priority": outbox.BULK, "reference": q["reference"], "status": outbox.QUEUED,
             "attempts": 0, "created_at": now}
            for _, q in queued
        ]  # fmt: skip
        # RETURNING in parameter order would fall back to one row per statement on SQLite: each row's
        # reference names its reminder instead
        table = cast(Table, OutboxItem.__table__)
        connection = await session.connection()  # Core: no ORM bookkeeping per row
        inserted = await connection.execute(insert(table).returning(table.c.id, table.c.reference), values)
        outbox_ids = {ref: item_id for item_id, ref in inserted.all()}
        session.info[outbox.WRITTEN] = True  # wake the senders at commit
        for reminder, q in queued:
            decide(reminder, plan.SENT, None, outbox_ids[q["reference"]])
    await decide.write(session)
