"""The audit trail: one AuditEvent per change, written in the same transaction as the change."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.access import Actor
from storage.models import AuditEvent, Base

CHANGED = "pocnet_changed"  # session.info flag: this transaction changed data (see storage.readmodel)


def snapshot(obj: Base) -> dict[str, Any]:
    """The column values of a row, JSON-ready (datetimes as ISO 8601)."""
    values: dict[str, Any] = {}
    for attr in inspect(obj).mapper.column_attrs:
        value = getattr(obj, attr.key)
        values[attr.key] = value.isoformat() if isinstance(value, datetime | date) else value
    return values


def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    subject: Base,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str | None = None,
    directory: bool = True,
) -> AuditEvent:
    identity = inspect(subject).identity
    subject_id = ",".join(str(part) for part in identity) if identity else "?"
    event = AuditEvent(
        actor=actor.name,
        actor_member_id=actor.member_id,
        action=action,
        subject_type=type(subject).__tablename__,
        subject_id=subject_id,
        before=before,
        after=after,
        note=note,
    )
    session.add(event)
    if directory:  # the directory snapshot is rebuilt after this commit (relays and the like leave it be)
        session.info[CHANGED] = True
    return event


async def events_for(session: AsyncSession, subject_type: str, subject_id: str) -> list[AuditEvent]:
    rows = await session.scalars(
        select(AuditEvent)
        .where(AuditEvent.subject_type == subject_type, AuditEvent.subject_id == subject_id)
        .order_by(AuditEvent.id)
    )
    return list(rows)
