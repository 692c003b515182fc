"""Directory upkeep: editing a field, confirming an entry is current, verification by the Secretariat.

Lookups are answered from the in-memory snapshot in storage.readmodel. Changes go through
storage.members (audit, scope), which also tells the snapshot to refresh.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage import members
from storage.access import Actor
from storage.entry_fields import FIELDS, field_named
from storage.errors import N_, AccessDenied, InvalidInput
from storage.models import Member
from storage.types import utcnow
from storage.vocabularies import states as state_names


def _second(now: datetime | None) -> datetime:
    """Confirmation times are kept to the second, as exported, so a re-import changes nothing."""
    return (now or utcnow()).replace(microsecond=0)


async def confirm(session: AsyncSession, actor: Actor, member: Member, *, now: datetime | None = None) -> Member:
    """The person (or the Secretariat) says the entry is current."""
    return await members.update(session, actor, member, last_confirmed_at=_second(now))


async def verify(session: AsyncSession, actor: Actor, member: Member, *, now: datetime | None = None) -> Member:
    """The Secretariat vouches for the entry."""
    if not actor.is_secretariat:
        raise AccessDenied()
    moment = _second(now)
    return await members.update(
        session, actor, member, verified_by=actor.member_id, verified_at=moment, last_confirmed_at=moment
    )


async def set_field(session: AsyncSession, actor: Actor, member: Member, name: str, text: str) -> Member:
    """Edit one field from what a person typed (see storage.entry_fields for the fields)."""
    field = field_named(name)
    if field is None:
        raise InvalidInput(N_("Unknown field “{name}”. Fields: {fields}."), name=name, fields=", ".join(FIELDS))
    if field.secretariat_only and not actor.is_secretariat:
        raise AccessDenied(N_("Only the Secretariat can change the function or the state of an entry."))
    value = field.read(text, await state_names(session))
    return await members.update(session, actor, member, **{field.attr: value})
