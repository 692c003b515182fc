"""Directory queries and upkeep: who to reach in a state for a topic, search, confirmation, verification.

Only active members are ever returned. Changes go through storage.members (audit, scope).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, exists, func, literal, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload

from storage import members
from storage.access import Actor
from storage.entry_fields import FIELDS
from storage.errors import N_, AccessDenied, InvalidInput
from storage.models import Member, MemberCompetence, State
from storage.taxonomy import FUNCTION_RANK
from storage.text import fold
from storage.types import UTCDateTime, utcnow
from storage.vocabularies import FUNCTION_NAMES, TOPICS
from storage.vocabularies import states as state_names

_RANK = case(FUNCTION_RANK, value=Member.function, else_=len(FUNCTION_RANK))
_LISTING = raiseload(Member.identities)  # lists show no accounts; don't load them for every row


def _has(competence: str) -> Any:
    return exists().where(MemberCompetence.member_id == Member.id, MemberCompetence.competence == competence)


@dataclass(frozen=True)
class WhoisResult:
    members: list[Member]
    total: int  # active contacts of the state
    matching: int  # of which handle the topic (0 when no topic)


async def whois(session: AsyncSession, state_code: str, competence: str | None, *, limit: int = 10) -> WhoisResult:
    """A state's contacts, those handling ``competence`` first, then by function and name."""
    scope = (Member.state_code == state_code, Member.active.is_(True))
    matches = _has(competence) if competence else literal(False)
    rows = await session.scalars(
        select(Member)
        .where(*scope)
        .order_by(case((matches, 0), else_=1), _RANK, Member.display_name, Member.id)
        .limit(limit)
        .options(_LISTING)
    )
    counts = await session.execute(select(func.count(Member.id), func.count(Member.id).filter(matches)).where(*scope))
    total, matching = counts.one()
    return WhoisResult(list(rows.unique()), total, matching if competence else 0)


async def find(session: AsyncSession, words: list[str], *, limit: int = 20) -> list[Member]:
    """People whose name or institution contains every word, or who handle the topic a word names."""
    query = select(Member).where(Member.active.is_(True))
    for word in words:
        condition = Member.search_key.contains(fold(word), autoescape=True)
        topic = TOPICS.exact(word)
        if topic is not None and topic.code:
            condition = condition | _has(topic.code)
        function = FUNCTION_NAMES.exact(word)
        if function is not None and function.code:
            condition = condition | (Member.function == function.code)
        query = query.where(condition)
    rows = await session.scalars(
        query.order_by(Member.state_code, _RANK, Member.display_name).limit(limit).options(_LISTING)
    )
    return list(rows.unique())


async def find_by_name(session: AsyncSession, text: str, *, limit: int = 10) -> list[Member]:
    key = fold(text)
    rows = await session.scalars(
        select(Member)
        .where(Member.active.is_(True), Member.search_key.contains(key, autoescape=True))
        .order_by(Member.display_name, Member.id)
        .limit(limit)
    )
    return list(rows.unique())


async def active_names(session: AsyncSession) -> dict[int, str]:
    rows = await session.execute(select(Member.id, Member.display_name).where(Member.active.is_(True)))
    return {row.id: row.display_name for row in rows}


async def get_active(session: AsyncSession, member_id: int) -> Member | None:
    member = await session.get(Member, member_id)
    return member if member is not None and member.active else None


@dataclass(frozen=True)
class StateSummary:
    state: State
    contacts: int
    last_confirmed: datetime | None


async def summary(session: AsyncSession) -> list[StateSummary]:
    counts = (
        select(
            Member.state_code,
            func.count(Member.id).label("n"),
            type_coerce(func.max(Member.last_confirmed_at), UTCDateTime).label("confirmed"),
        )
        .where(Member.active.is_(True))
        .group_by(Member.state_code)
        .subquery()
    )
    rows = await session.execute(
        select(State, counts.c.n, counts.c.confirmed)
        .outerjoin(counts, counts.c.state_code == State.code)
        .order_by(State.code)
    )
    return [StateSummary(state, n or 0, confirmed) for state, n, confirmed in rows]


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
    field = FIELDS.get(name.lower())
    if field is None:
        raise InvalidInput(N_("Unknown field “{name}”. Fields: {fields}."), name=name, fields=", ".join(FIELDS))
    if field.secretariat_only and not actor.is_secretariat:
        raise AccessDenied(N_("Only the Secretariat can change the function or the state of an entry."))
    value = field.parse(text, await state_names(session))
    return await members.update(session, actor, member, **{field.attr: value})
