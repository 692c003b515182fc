"""Sending round reminders when they come due, and how they read.

The scheduler hands over the due ``round`` rows it claimed (locked, grouped so that one member's rows of one
round are in the same batch). For each member and round only the latest due row may be sent: the earlier
ones are ``skipped`` as superseded (after downtime a member gets one reminder, not four stale ones). A row is
also skipped when its round closed, its member left or changed role, or their state owes nothing more. The
rest queue one outbox row each — what ``storage.outbox.enqueue`` writes, to the account ``outbox.recipients_of``
names, but a thousand rows per statement — and are marked ``sent`` with its id, in the scheduler's
transaction: a crash before the commit leaves both undone, and nothing is ever sent twice.

The message is rendered in the recipient's language at send time (``@renderer("reminder")``): what is
missing, a ready-to-fill ``/report`` line, the deadline and the days left or overdue.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from babel.dates import format_date
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

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


@dataclass(frozen=True)
class Due:
    """A claimed reminder, as the scheduler read it (plain values: no ORM bookkeeping on the hot path)."""

    id: int
    kind: str
    round_id: int | None
    member_id: int | None
    step: str
    due_at: datetime

    @classmethod
    def of(cls, row: Reminder) -> Due:
        return cls(row.id, row.kind, row.round_id, row.member_id, row.step, row.due_at)


class _Decisions:
    """What becomes of each claimed row: a few UPDATE … WHERE id IN (…) statements, not one per row."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.skipped: dict[str, list[int]] = defaultdict(list)  # note → ids
        self.sent: list[Due] = []

    def skip(self, row: Due, note: str) -> None:
        self.skipped[note].append(row.id)

    async def write(self, session: AsyncSession, queued_ids: dict[str, int] | None = None) -> None:
        connection = await session.connection()
        table = cast(Table, Reminder.__table__)
        queued = cast(Table, OutboxItem.__table__)
        for note, ids in self.skipped.items():
            for start in range(0, len(ids), plan.CHUNK):
                await connection.execute(
                    update(table)
                    .where(table.c.id.in_(ids[start : start + plan.CHUNK]))
                    .values(status=plan.SKIPPED, decided_at=self.now, note=note)
                )
        # each sent reminder points at the outbox row whose reference names it
        by_reference: dict[str, int] = dict(queued_ids or {})
        refs = [reference(row.id) for row in self.sent] if queued_ids is None else []
        for start in range(0, len(refs), plan.CHUNK):
            found = await connection.execute(
                select(queued.c.id, queued.c.reference).where(queued.c.reference.in_(refs[start : start + plan.CHUNK]))
            )
            by_reference.update({ref: item_id for item_id, ref in found.all()})
        changes = [(by_reference.get(reference(row.id)), row.id) for row in self.sent]
        if changes:
            sqlite = connection.dialect.name == "sqlite"
            decided: Any = _stamp(self.now) if sqlite else self.now
            if sqlite:  # the driver's executemany, as _queue
                await connection.exec_driver_sql(
                    "UPDATE reminder SET status = ?, decided_at = ?, note = NULL, outbox_id = ? WHERE id = ?",
                    [(plan.SENT, decided, item_id, rid) for item_id, rid in changes],
                )
            elif connection.dialect.name == "postgresql":  # one statement: the pairs as two arrays
                await connection.exec_driver_sql(
                    "UPDATE reminder SET status = $1, decided_at = $2, note = NULL, outbox_id = x.o "
                    "FROM unnest($3::integer[], $4::integer[]) AS x(r, o) WHERE reminder.id = x.r",
                    (plan.SENT, decided, [rid for _, rid in changes], [item_id for item_id, _ in changes]),
                )
            else:
                await connection.execute(
                    update(table).where(table.c.id == bindparam("rid")).values(
                        status=plan.SENT, decided_at=self.now, note=None, outbox_id=bindparam("oid")),
                    [{"rid": rid, "oid": item_id} for item_id, rid in changes],
                )  # fmt: skip


def _stamp(moment: datetime) -> str:
    """A UTC moment as SQLAlchemy stores it in SQLite (so that it sorts and compares with the others)."""
    return moment.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


_COLUMNS = ("platform", "chat_id", "user_id", "member_id", "kind", "template", "params", "language", "priority",
            "reference", "status", "attempts", "created_at")  # fmt: skip


_UNNEST = (
    "INSERT INTO outbox (platform, chat_id, user_id, member_id, kind, template, params, language, priority, "
    "reference, status, attempts, created_at) "
    "SELECT p, c, u, m, k, t, j::json, l, pr, r, s, a, $13 FROM unnest($1::varchar[], $2::varchar[], "
    "$3::varchar[], $4::integer[], $5::varchar[], $6::text[], $7::text[], $8::varchar[], $9::integer[], "
    "$10::varchar[], $11::varchar[], $12::integer[]) AS x(p, c, u, m, k, t, j, l, pr, r, s, a) "
    "RETURNING id, reference"
)
QUEUE_ROWS = 1000  # outbox rows per INSERT statement (13 parameters each: within every driver's limit)


async def _queue(connection: AsyncConnection, values: list[dict[str, Any]], now: datetime) -> dict[str, int] | None:
    """Insert the outbox rows, a thousand per multi-row ``INSERT … RETURNING id, reference`` written for
    the driver: SQLAlchemy's per-row parameter processing costs four times the insert itself, and a whole
    network may be due in the same minute. Returns each row's id by its reference (None: not known)."""
    dialect = connection.dialect
    if dialect.name not in ("sqlite", "postgresql"):
        plain = [{k: v for k, v in item.items() if k != ROW} | {"created_at": now} for item in values]
        await connection.execute(insert(cast(Table, OutboxItem.__table__)), plain)
        return None
    sqlite = dialect.name == "sqlite"
    created: Any = _stamp(now) if sqlite else now
    ids: dict[str, int] = {}
    if not sqlite:  # PostgreSQL: every column as one array, a single INSERT … SELECT FROM unnest(…)
        rows = [v.get(ROW) or as_row(v) for v in values]
        columns = [list(column) for column in zip(*rows, strict=True)]
        found_pg: Any = await connection.exec_driver_sql(_UNNEST, (*columns, created))
        return {ref: item_id for item_id, ref in found_pg.all()}
    width = len(_COLUMNS)
    for start in range(0, len(values), QUEUE_ROWS):
        chunk = values[start : start + QUEUE_ROWS]
        if sqlite:
            groups = ", ".join(["(" + ", ".join("?" * width) + ")"] * len(chunk))
        else:
            groups = ", ".join("(" + ", ".join(f"${n * width + c + 1}" for c in range(width)) + ")"
                               for n in range(len(chunk)))  # fmt: skip
        params = tuple(p for v in chunk for p in (*(v.get(ROW) or as_row(v)), created))
        sql = f"INSERT INTO outbox ({', '.join(_COLUMNS)}) VALUES {groups} RETURNING id, reference"
        found: Any = await connection.exec_driver_sql(sql, params)
        ids.update({ref: item_id for item_id, ref in found.all()})
    return ids


ROW = "_row"  # an outbox row's values as the driver takes them, computed ahead (see prepare)


def as_row(values: dict[str, Any]) -> tuple[Any, ...]:
    """The driver's parameters for one outbox row, but its creation time (the moment it is queued)."""
    return tuple(json.dumps(values[c]) if c == "params" else values[c] for c in _COLUMNS[:-1])


@fires(plan.ROUND)
async def fire_rounds(session: AsyncSession, due: list[Reminder], now: datetime) -> None:
    """The registry's entry: ORM rows in (as other kinds get them), decided in bulk, read back."""
    await fire_due(session, [Due.of(row) for row in due], now)
    for row in due:
        await session.refresh(row)


PREPARED_FOR = timedelta(minutes=2)  # prepared decisions are used only this close to their moment


@dataclass
class Prepared:
    """Decisions computed shortly before a known firing moment (the scheduler prepares the rows due at its
    next firing), so that at the moment itself only the writes remain: the lateness of a whole network due
    in the same minute. Used only when fired within PREPARED_FOR of that moment and while what each state
    owes is unchanged; the rows are still claimed, locked and checked as planned at the moment itself."""

    at: datetime
    owed: dict[int, dict[str, list[str]]]
    decisions: dict[int, tuple[str | None, dict[str, Any] | None]]  # reminder id → (skip note | outbox row)

    def usable(self, owed: dict[int, dict[str, list[str]]], now: datetime) -> bool:
        return abs(now - self.at) <= PREPARED_FOR and all(self.owed.get(k) == v for k, v in owed.items())


async def _rounds(session: AsyncSession, due: list[Due]) -> tuple[dict[int, Round], dict[int, dict[str, list[str]]]]:
    by_id: dict[int, Round] = {}
    owed: dict[int, dict[str, list[str]]] = {}
    for round_id in {r.round_id for r in due if r.round_id is not None}:
        found_round = await session.get(Round, round_id)
        if found_round is not None:
            by_id[round_id] = found_round
            if found_round.is_open:
                owed[round_id] = await figures.owed(session, found_round)
    return by_id, owed


async def _people(
    session: AsyncSession, member_ids: list[int]
) -> tuple[dict[int, _Person], dict[int, outbox.Recipient]]:
    people: dict[int, _Person] = {}
    reach: dict[int, outbox.Recipient] = {}
    if not member_ids:
        return people, reach
    states = {state.code: state for state in await session.scalars(select(State))}  # 35 rows, loaded once
    connection = await session.connection()
    for start in range(0, len(member_ids), plan.CHUNK):
        chunk = member_ids[start : start + plan.CHUNK]
        found = await connection.execute(
            select(Member.id, Member.state_code, Member.active, Member.role, Member.timezone).where(
                Member.id.in_(chunk)
            )
        )
        for mid, code, active, role, tz in found.all():
            people[mid] = _Person(code, active, role, tz, states.get(code) if code else None)
        ids = await connection.execute(
            select(Identity.member_id, Identity.platform, Identity.chat_id, Identity.user_id)
            .where(Identity.member_id.in_(chunk))
            .order_by(Identity.id.desc())
        )
        for mid, platform, chat_id, user_id in ids.all():  # the first linked account wins (as recipients_of)
            reach[mid] = outbox.Recipient(platform, chat_id, user_id, mid)
    return people, reach


def _groups(due: list[Due]) -> list[list[Due]]:
    """One member's rows of one round together, oldest first (the last is the one that may be sent)."""
    grouped: dict[tuple[int | None, int | None], list[Due]] = defaultdict(list)
    for r in due:
        grouped[(r.round_id, r.member_id)].append(r)
    return [sorted(rows, key=lambda r: (r.due_at, plan.rank(r.step))) for rows in grouped.values()]


def _decide(
    latest: Due, row: Round | None, person: _Person | None, owed: dict[int, dict[str, list[str]]],
    to: outbox.Recipient | None, now: datetime, names: dict[int, dict[str, dict[str, str]]],
) -> tuple[str | None, dict[str, Any] | None]:  # fmt: skip
    """(why it is skipped, None) or (None, the outbox row to queue) for the latest due row of a group."""
    if row is None or not row.is_open:
        return "round closed", None
    if person is None or not person.active or person.role not in plan.REMINDED_ROLES or person.code is None:
        return "not reminded", None
    code, home = person.code, person.state
    missing = owed[row.id].get(code, [])
    if not missing:
        return "reported", None
    if to is None:
        return "no chat account", None
    where = plan.zone(person.timezone or (home.default_timezone if home else "UTC"))
    today = now.astimezone(where).date()
    if row.id not in names:
        names[row.id] = _names(list(row.indicators))
    params: dict[str, Any] = {
        "period": row.period, "state": code, "missing": missing,
        "state_names": {lang: home.name(lang) for lang in ("en", "es", "pt", "fr")} if home else {"en": code},
        "names": {c: n for c, n in names[row.id].items() if c in missing},
        "deadline": row.deadline.isoformat(), "days": (row.deadline - today).days, "step": latest.step,
    }  # fmt: skip
    return None, {"platform": to.platform, "chat_id": to.chat_id, "user_id": to.user_id,
                  "member_id": to.member_id, "kind": KIND, "template": "reminder", "params": params,
                  "language": None, "priority": outbox.BULK, "reference": reference(latest.id),
                  "status": outbox.QUEUED, "attempts": 0}  # fmt: skip


async def prepare(session: AsyncSession, due: list[Due], at: datetime) -> Prepared:
    """What firing ``due`` at ``at`` would decide, computed ahead (reads only)."""
    by_id, owed = await _rounds(session, due)
    people, reach = await _people(session, sorted({r.member_id for r in due if r.member_id is not None}))
    names: dict[int, dict[str, dict[str, str]]] = {}
    decisions: dict[int, tuple[str | None, dict[str, Any] | None]] = {}
    for rows in _groups(due):
        latest = rows[-1]
        row = by_id.get(latest.round_id) if latest.round_id is not None else None
        mid = latest.member_id or 0
        note, item = _decide(latest, row, people.get(mid), owed, reach.get(mid), at, names)
        if item is not None:
            item[ROW] = as_row(item)  # serialised now rather than at the moment itself
        decisions[latest.id] = (note, item)
    return Prepared(at, owed, decisions)


async def fire_due(session: AsyncSession, due: list[Due], now: datetime, prepared: Prepared | None = None) -> list[Due]:
    """Decide the claimed round reminders ``due`` (one member's rows of a round all together); return the
    ones sent. ``prepared``: decisions computed ahead for this moment, used where still valid."""
    by_id, owed = await _rounds(session, due)
    ready = prepared.decisions if prepared is not None and prepared.usable(owed, now) else {}
    groups = _groups(due)
    unprepared = sorted({rows[-1].member_id for rows in groups if rows[-1].id not in ready and rows[-1].member_id})
    people, reach = await _people(session, unprepared)
    names: dict[int, dict[str, dict[str, str]]] = {}
    decide = _Decisions(now)
    values: list[dict[str, Any]] = []
    for rows in groups:
        latest = rows[-1]
        for older in rows[:-1]:
            decide.skip(older, "superseded")
        decision = ready.get(latest.id)
        if decision is None:
            row = by_id.get(latest.round_id) if latest.round_id is not None else None
            mid = latest.member_id or 0
            decision = _decide(latest, row, people.get(mid), owed, reach.get(mid), now, names)
        note, item = decision
        if item is None:
            decide.skip(latest, note or "skipped")
            continue
        values.append(item)
        decide.sent.append(latest)
    queued_ids: dict[str, int] | None = {}
    if values:
        queued_ids = await _queue(await session.connection(), values, now)
        session.info[outbox.WRITTEN] = True  # wake the senders at commit
    await decide.write(session, queued_ids)
    return decide.sent
