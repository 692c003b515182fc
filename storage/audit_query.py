"""Reading the audit trail without SQL: the events of a period, of one member or of one state, and a CSV
export whose cells a spreadsheet will never run as a formula."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEvent, Identity, Invite

COLUMNS = ("id", "at", "actor", "actor_member_id", "action", "subject_type", "subject_id", "before", "after", "note")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """A cell a spreadsheet would read as a formula (``=HYPERLINK(…)``, ``+1``, ``@SUM``, a leading tab or
    carriage return) is prefixed with ``'``, so it shows as the text it is (OWASP's CSV injection advice)."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


async def events(
    session: AsyncSession,
    *,
    since: datetime | None = None,
    member_id: int | None = None,
    state_code: str | None = None,
) -> list[AuditEvent]:
    """Events from ``since`` on, oldest first; of one member (their record, accounts, invitations and what
    they did) or of one state (changes to records and invitations of that state, before or after)."""
    query = select(AuditEvent).order_by(AuditEvent.at, AuditEvent.id)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if member_id is not None:
        identities = select(cast(Identity.id, String)).where(Identity.member_id == member_id)
        invitations = select(cast(Invite.id, String)).where(
            or_(Invite.used_by == member_id, Invite.member_id == member_id)
        )
        query = query.where(
            or_(
                (AuditEvent.subject_type == "member") & (AuditEvent.subject_id == str(member_id)),
                AuditEvent.actor_member_id == member_id,
                (AuditEvent.subject_type == "identity") & AuditEvent.subject_id.in_(identities),
                (AuditEvent.subject_type == "invite") & AuditEvent.subject_id.in_(invitations),
            )
        )
    found = list(await session.scalars(query))
    if state_code is not None:
        code = state_code.upper()
        found = [e for e in found if code in _states(e)]
    return found


def _states(event: AuditEvent) -> set[str]:
    """The states an event touches: its record's state before and after (a move touches both)."""
    return {str(v["state_code"]) for v in (event.before, event.after) if v and v.get("state_code")}


@dataclass(frozen=True)
class Export:
    data: bytes
    rows: int


def to_csv(rows: Iterable[AuditEvent]) -> Export:
    """UTF-8 with a BOM (spreadsheet programs then read accents right), one row per event, JSON for the
    record before and after, every cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    count = 0
    for event in rows:
        writer.writerow([neutralise(_cell(getattr(event, column))) for column in COLUMNS])
        count += 1
    return Export(("\ufeff" + out.getvalue()).encode("utf-8"), count)
