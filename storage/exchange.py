"""Directory exchange: CSV export/import (the Secretariat's spreadsheet round trip) and vCard 4 export.

CSV: UTF-8 with a byte-order mark (so spreadsheet programs show accents), one row per member, ordered
by id, every field in the canonical text form of storage.entry_fields. Import validates every row before
it changes anything: one bad row rejects the whole file, with row numbers and reasons. A row whose id
exists updates that member; a new id or an empty id creates one. Export → import into an empty database
→ export gives the same bytes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from storage import audit, members, spreadsheet
from storage.access import Actor, Role
from storage.entry_fields import FIELDS
from storage.errors import N_, AccessDenied, PocnetError
from storage.models import AuditEvent, Member
from storage.taxonomy import COMPETENCE_BY_CODE, FUNCTION_BY_CODE
from storage.text import excerpt, unsafe, whole_number
from storage.vocabularies import states as state_names

COLUMNS = (
    "id", "state", "name", "function", "role", "institution", "languages", "timezone", "hours",
    "competences", "email", "phone", "active", "last_confirmed_at", "verified_at", "verified_by", "version",
)  # fmt: skip
REQUIRED = ("name",)
_FIELD_OF_COLUMN = {name: f for name, f in FIELDS.items() if name in COLUMNS}
_TRUE, _FALSE = {"true", "yes", "1", "si", "sí", "sim", "oui"}, {"false", "no", "0", "nao", "não", "non"}
Progress = Callable[[int], None]  # called with the number of rows just handled


class ImportRejected(PocnetError):
    message = N_("The file was not imported: {count} rows have problems.")

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        self.problems = problems
        super().__init__(count=len({row for row, _ in problems}))

    def report(self, limit: int = 50) -> str:
        lines = [f"row {row}: {reason}" for row, reason in self.problems[:limit]]
        if len(self.problems) > limit:
            more = len(self.problems) - limit
            lines.append(f"… and {more} more problem" + ("" if more == 1 else "s"))
        return "\n".join(lines)


def _iso(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""


def _row(member: Member) -> list[str]:
    values: dict[str, Any] = {
        "id": member.id,
        "state": member.state_code or "",
        "role": member.role,
        "active": "true" if member.active else "false",
        "last_confirmed_at": _iso(member.last_confirmed_at),
        "verified_at": _iso(member.verified_at),
        "verified_by": member.verified_by or "",
        "version": member.version,
    }
    for name, column_field in _FIELD_OF_COLUMN.items():
        if name != "state":
            values[name] = column_field.show(getattr(member, column_field.attr))
    return [str(values[c]) for c in COLUMNS]


async def count(session: AsyncSession) -> int:
    return await session.scalar(select(func.count(Member.id))) or 0


async def _all(session: AsyncSession, *, active_only: bool = False) -> Iterable[Member]:
    query = select(Member).order_by(Member.id)
    if active_only:
        query = query.where(Member.active.is_(True))
    return list((await session.scalars(query)).unique())


def _audit_export(session: AsyncSession, actor: Actor | None, kind: str, rows: int) -> None:
    """Who took a copy of the directory, when, and how much of it (the caller's transaction commits it)."""
    if actor is not None:
        session.add(AuditEvent(actor=actor.name, actor_member_id=actor.member_id, action="directory.export",
                               subject_type="directory", subject_id="*", note=f"{kind}, {rows} entries"))  # fmt: skip


async def export_csv(session: AsyncSession, progress: Progress | None = None, *, actor: Actor | None = None) -> bytes:
    out = io.StringIO()
    writer = spreadsheet.writer(out)  # no cell can run as a formula
    writer.writerow(COLUMNS)
    everyone = await _all(session)
    for member in everyone:
        writer.writerow(_row(member))
        if progress:
            progress(1)
    _audit_export(session, actor, "csv", len(list(everyone)))
    return out.getvalue().encode("utf-8-sig")


# --- import -----------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class _Parsed:
    line: int
    id: int | None
    role: Role
    values: dict[str, Any] = field(default_factory=dict)  # Member attribute → value
    verified_by: int | None = None
    has_verified_by: bool = False  # the column is in the file (empty means: not verified)
    version: int | None = None  # the entry's version when the file was exported (None: not known)


def _date(value: str) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("no time zone")
    return moment.astimezone(UTC)


def _whole_number(text: str) -> bool:
    return whole_number(text) is not None


def _english(exc: PocnetError) -> str:
    params = {k: excerpt(v) if isinstance(v, str) and k != "fields" else v for k, v in exc.params.items()}
    return exc.message.format(**params) if params else exc.message


def _separator(text: str) -> str:
    """``,`` or the ``;`` (or tab) that spreadsheets save in Spanish, Portuguese and French settings: the one
    that splits the header line into the most known columns."""
    first = text.split("\n", 1)[0]
    return max(",;\t", key=lambda sep: (sum(c.strip() in COLUMNS for c in first.split(sep)), sep == ","))


async def _parse_rows(session: AsyncSession, data: bytes) -> tuple[list[_Parsed], list[tuple[int, str]]]:
    problems: list[tuple[int, str]] = []
    try:
        text = data.decode("utf-8-sig")
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=_separator(text), strict=True)
        header = reader.fieldnames or []
    except (UnicodeDecodeError, csv.Error) as exc:
        return [], [(1, f"not a UTF-8 CSV file ({exc})")]
    unknown = [c for c in header if c not in COLUMNS]
    missing = [c for c in REQUIRED if c not in header]
    if unknown or missing:
        if unknown:
            problems.append((1, f"unknown columns: {', '.join(unknown)} (known: {', '.join(COLUMNS)})"))
        if missing:
            problems.append((1, f"missing columns: {', '.join(missing)}"))
        return [], problems
    vocab = await state_names(session)
    parsed: list[_Parsed] = []
    seen_ids: dict[int, int] = {}
    try:
        rows = list(reader)  # strict: an unterminated quote is an error, not a silently merged last row
    except csv.Error as exc:  # also a cell over csv.field_size_limit() (131,072 characters)
        return [], [(reader.line_num or 1, f"not a valid CSV file ({exc})")]
    for line, raw in enumerate(rows, start=2):
        row = {k: spreadsheet.read_cell(v or "").strip() for k, v in raw.items() if k is not None}
        if None in raw:
            problems.append((line, "more cells than columns"))
            continue
        if any(v is None for v in raw.values()):  # DictReader fills a short row with None
            cells = sum(v is not None for v in raw.values())
            problems.append((line, f"{cells} cell{'' if cells == 1 else 's'}, {len(header)} expected (one per column)"))
            continue
        item_problems: list[str] = []
        values: dict[str, Any] = {}
        for name, column_field in _FIELD_OF_COLUMN.items():
            if name not in row or (
                name not in REQUIRED and row[name] == "" and name not in ("languages", "competences")
            ):
                continue
            try:
                values[column_field.attr] = column_field.read(row[name], vocab)
            except PocnetError as exc:
                item_problems.append(f"{name}: {_english(exc)}")
        member_id = None
        if row.get("id"):
            if not _whole_number(row["id"]):
                item_problems.append(f"id: {excerpt(row['id'])!r} is not a positive whole number")
            else:
                member_id = int(row["id"])
                if member_id in seen_ids:
                    item_problems.append(f"id: {member_id} is also on row {seen_ids[member_id]}")
                seen_ids[member_id] = line
        function = values.get("function", "other")
        try:
            role = (
                Role(row["role"])
                if row.get("role")
                else (Role.CONTACT if function in ("npc", "alternate") else Role.OFFICIAL)
            )
        except ValueError:
            item_problems.append(f"role: {excerpt(row['role'])!r} is not secretariat, contact or official")
            role = Role.OFFICIAL
        if role is not Role.SECRETARIAT and not row.get("state"):
            item_problems.append("state: required (except for the Secretariat)")
        elif role is Role.SECRETARIAT and row.get("state"):
            item_problems.append("state: must be empty for the Secretariat")
        if row.get("active"):
            flag = row["active"].lower()
            if flag not in _TRUE | _FALSE:
                item_problems.append(f"active: {excerpt(row['active'])!r} is not true or false")
            values["active"] = flag in _TRUE
        for column in ("last_confirmed_at", "verified_at"):
            try:
                if column in row:
                    values[column] = _date(row[column])
            except ValueError:
                item_problems.append(f"{column}: {excerpt(row[column])!r} is not a date such as 2026-01-31T12:00:00Z")
        verified_by = None
        if row.get("verified_by"):
            if _whole_number(row["verified_by"]):
                verified_by = int(row["verified_by"])
            else:
                item_problems.append(f"verified_by: {excerpt(row['verified_by'])!r} is not a member id")
        version = None
        if row.get("version"):
            if _whole_number(row["version"]):
                version = int(row["version"])
            else:
                item_problems.append(f"version: {excerpt(row['version'])!r} is not a positive whole number")
        problems += [(line, p) for p in item_problems]
        parsed.append(_Parsed(line, member_id, role, values, verified_by, "verified_by" in row, version))
    return parsed, problems


async def import_csv(
    session: AsyncSession, actor: Actor, data: bytes, progress: Progress | None = None
) -> ImportReport:
    """Validate everything, then apply everything (in the caller's transaction)."""
    if not actor.is_secretariat:
        raise AccessDenied()
    parsed, problems = await _parse_rows(session, data)
    versions: dict[int, int] = {i: v for i, v in await session.execute(select(Member.id, Member.version))}
    existing_ids = set(versions)
    known_ids = existing_ids | {p.id for p in parsed if p.id is not None}
    for item in parsed:
        if item.verified_by is not None and item.verified_by not in known_ids:
            problems.append((item.line, f"verified_by: no member {item.verified_by} in the file or the directory"))
        if item.id in versions and item.version is not None and item.version != versions[item.id]:
            problems.append((item.line, f"id {item.id} was changed in the directory after this file was exported "
                             f"(version {item.version} in the file, {versions[item.id]} now): export again and "
                             "redo the change there"))  # fmt: skip
    if problems:
        raise ImportRejected(sorted(problems))

    report = ImportReport()
    to_update = {p.id for p in parsed if p.id in existing_ids}
    current = {m.id: m for m in await session.scalars(select(Member).where(Member.id.in_(to_update)))}
    applied: list[tuple[_Parsed, Member, dict[str, Any] | None]] = []
    for item in parsed:  # 1: create and update, without links between members
        values = dict(item.values)
        competences = values.pop("competences", [])
        if item.id in current:
            member = current[item.id]
            before: dict[str, Any] | None = members.snapshot(member)
            for attr, value in values.items():
                setattr(member, attr, value)
            member.role = item.role.value
        else:
            before = None
            values.setdefault("function", "other")
            member = Member(id=item.id, role=item.role.value, competence_rows=[], version=item.version or 1, **values)
            session.add(member)
        members.set_competences(member, competences)
        members.derive(member)
        if before is not None and members.snapshot(member) != before:
            member.version += 1  # the UPDATE also checks that no one changed the row since it was read
        applied.append((item, member, before))
        if progress:
            progress(1)
    try:
        await session.flush()
    except StaleDataError:
        raise members.Conflict() from None
    for item, member, _before in applied:  # 2: links, now that every member exists
        if item.has_verified_by:
            member.verified_by = item.verified_by
    await session.flush()
    for _item, member, before in applied:  # 3: the audit trail
        after = members.snapshot(member)
        if before is None:
            audit.record(session, actor, "member.import", member, after=after)
            report.created += 1
        elif after != before:
            audit.record(session, actor, "member.import", member, before=before, after=after)
            report.updated += 1
        else:
            report.unchanged += 1
    await _fix_sequence(session)
    return report


async def _fix_sequence(session: AsyncSession) -> None:
    """PostgreSQL: explicit ids do not move the id sequence; move it past the largest id."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(
            text("SELECT setval(pg_get_serial_sequence('member', 'id'), COALESCE((SELECT MAX(id) FROM member), 1))")
        )


# --- vCard ------------------------------------------------------------------------------------------


def _escape(value: str) -> str:
    value = "".join(" " if unsafe(ch) and ch != "\n" else ch for ch in value)  # rows stored before the checks
    return value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;").replace("\n", "\\n")


def _fold(line: str) -> str:
    """RFC 6350 §3.2: lines longer than 75 octets continue on the next line after a space."""
    out, current = [], b""
    for char in line:
        encoded = char.encode()
        if len(current) + len(encoded) > 75:
            out.append(current)
            current = b" "
        current += encoded
    out.append(current)
    return "\r\n".join(part.decode() for part in out)


def vcard(member: Member) -> str:
    state = member.state.name_en if member.state else "OAS General Secretariat"
    title = FUNCTION_BY_CODE.get(member.function)
    lines = [
        "BEGIN:VCARD",
        "VERSION:4.0",
        f"UID:urn:pocnet:member:{member.id}",
        f"FN:{_escape(member.display_name)}",
        f"TITLE:{_escape(title.en if title else member.function)}",
        f"ORG:{_escape(member.institution or state)}",
        f"ADR;TYPE=work:;;;;;;{_escape(state)}",
    ]
    if member.email:
        lines.append(f"EMAIL;TYPE=work:{_escape(member.email)}")
    if member.phone:
        lines.append(f"TEL;VALUE=uri;TYPE=work:tel:{member.phone.replace(' ', '-')}")
    lines += [f"LANG;PREF={n}:{code}" for n, code in enumerate(member.languages, 1)]
    zone = member.timezone or (member.state.default_timezone if member.state else None)
    if zone:
        lines.append(f"TZ;VALUE=text:{zone}")
    if member.competences:
        lines.append("CATEGORIES:" + ",".join(_escape(COMPETENCE_BY_CODE[c].en) for c in member.competences))
    if member.office_hours:
        lines.append(f"NOTE:{_escape('Office hours: ' + member.office_hours)}")
    if member.last_confirmed_at:
        lines.append(f"REV:{member.last_confirmed_at.astimezone(UTC):%Y%m%dT%H%M%SZ}")
    lines.append("END:VCARD")
    return "".join(_fold(line) + "\r\n" for line in lines)


async def export_vcards(
    session: AsyncSession, progress: Progress | None = None, *, actor: Actor | None = None
) -> bytes:
    cards = []
    for member in await _all(session, active_only=True):
        cards.append(vcard(member))
        if progress:
            progress(1)
    _audit_export(session, actor, "vcf", len(cards))
    return "".join(cards).encode()
