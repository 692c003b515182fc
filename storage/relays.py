"""Relays and their copies: creating them (each copy an outbox row in the same transaction), finding
them again for answers, acknowledgements, status and escalation.

An outbox row of a relay copy holds everything its renderer needs (handlers/relay_messages.py), so the
copy reads the same whenever it leaves; the body is also kept on the relay, for answers and forwards.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import hours, outbox
from storage.models import Member, OutboxItem, Relay, RelayCopy, StoredFile
from storage.taxonomy import FUNCTION_RANK
from storage.text import whole_number
from storage.types import utcnow

KIND = "relay"  # the outbox kind of a relay copy, and the prefix of its reference
AUDIENCE, AWAY, ESCALATION = "audience", "away", "escalation"


def reference(relay_id: int) -> str:
    return f"{KIND}:{relay_id}"


def number_in(text: str) -> int | None:
    """A relay's (or announcement's) number as people write it: ``12`` or ``#12``; None for anything else."""
    return whole_number(text.strip().removeprefix("#"))


def relay_id_of(ref: str | None) -> int | None:
    if ref and ref.startswith(f"{KIND}:") and ref[len(KIND) + 1 :].isdigit():
        return int(ref[len(KIND) + 1 :])
    return None


async def create(
    session: AsyncSession,
    sender: Member,
    *,
    mode: str,
    tlp: str,
    body: str,
    audience: str,
    urgent: bool = False,
    parent: Relay | None = None,
    file: StoredFile | None = None,
    now: datetime | None = None,
) -> Relay:
    relay = Relay(
        mode=mode, sender_id=sender.id, parent_id=parent.id if parent else None, tlp=tlp, urgent=urgent,
        audience=audience, body=body, file_id=file.id if file else None, created_at=now or utcnow(),
    )  # fmt: skip
    relay.sender = sender
    session.add(relay)
    await session.flush()
    return relay


def queue_copy(
    session: AsyncSession,
    relay: Relay,
    recipient: Member,
    *,
    reason: str = AUDIENCE,
    covers_for: Member | None = None,
    due_at: datetime | None = None,
    origin: Relay | None = None,
) -> RelayCopy:
    """A copy for ``recipient``: the copy row and its outbox row (none when they have no linked account)."""
    copy = RelayCopy(
        relay_id=relay.id, member_id=recipient.id, reason=reason, due_at=due_at,
        covers_for_id=covers_for.id if covers_for else None,
    )  # fmt: skip
    copy.member = recipient
    session.add(copy)
    sender = relay.sender
    params: dict[str, Any] = {
        "number": relay.id,
        "mode": relay.mode,
        "parent": relay.parent_id,
        "sender": sender.display_name,
        "function": sender.function,
        "role": sender.role,
        "state": sender.state_code,
        "tlp": relay.tlp,
        "urgent": relay.urgent,
        "body": relay.body,
        "reason": reason,
        "covers_for": covers_for.display_name if covers_for else None,
    }
    if origin is not None:  # a forward: who first sent it
        params |= {"origin_sender": origin.sender.display_name, "origin_number": origin.id}
    for to in outbox.recipients_of(recipient)[:1]:
        copy.outbox = outbox.enqueue(
            session, to, "", params, kind=KIND, priority=outbox.INTERACTIVE, reference=reference(relay.id),
            file_id=relay.file_id,
        )  # fmt: skip
    return copy


@dataclass
class Delivered:
    relay: Relay
    copies: list[RelayCopy] = field(default_factory=list)
    covered: list[tuple[Member, Member]] = field(default_factory=list)  # (away, who covers)
    unreachable: list[Member] = field(default_factory=list)  # no linked chat account


def _zone(member: Member) -> ZoneInfo:
    name = member.timezone or (member.state.default_timezone if member.state is not None else None) or "UTC"
    return ZoneInfo(name)


def is_away(member: Member, now: datetime) -> bool:
    return member.away_until is not None and member.away_until > now


def reachable(member: Member, now: datetime) -> bool:
    return member.active and bool(member.identities) and not is_away(member, now)


async def state_contacts(session: AsyncSession, state_code: str | None) -> list[Member]:
    """A state's active members, alternate and national point of contact first (as /whois lists them)."""
    if state_code is None:
        return []
    rows = await session.scalars(select(Member).where(Member.state_code == state_code, Member.active.is_(True)))
    return sorted(rows, key=lambda m: (FUNCTION_RANK.get(m.function, len(FUNCTION_RANK)), m.display_name, m.id))


async def cover(session: AsyncSession, member: Member, now: datetime) -> Member | None:
    """Who receives relays for an away member: their delegate, else another contact of their state."""
    if member.away_delegate_id is not None:
        delegate = await session.get(Member, member.away_delegate_id)
        if delegate is not None and reachable(delegate, now):
            return delegate
    return next(
        (m for m in await state_contacts(session, member.state_code) if m.id != member.id and reachable(m, now)), None
    )


async def alternate_for(session: AsyncSession, member: Member, now: datetime, taken: set[int]) -> Member | None:
    """Where an unacknowledged urgent copy escalates: the state's alternate (the NPC when the alternate
    is the one who did not answer), else its next contact, never someone who already has a copy."""
    candidates = [m for m in await state_contacts(session, member.state_code) if m.id != member.id]
    ranked = sorted(candidates, key=lambda m: (m.function != "alternate", m.function != "npc"))
    return next((m for m in ranked if m.id not in taken and reachable(m, now)), None)


async def deliver(
    session: AsyncSession,
    relay: Relay,
    recipients: list[Member],
    *,
    now: datetime,
    escalate_after: timedelta,
    origin: Relay | None = None,
) -> Delivered:
    """A copy for each recipient (or whoever covers for them while they are away); an urgent copy is due
    for acknowledgement after ``escalate_after`` of its recipient's working time."""
    result = Delivered(relay)
    taken: set[int] = {relay.sender_id}
    for member in recipients:
        target, reason, covers_for = member, AUDIENCE, None
        if is_away(member, now):
            standin = await cover(session, member, now)
            if standin is not None:
                target, reason, covers_for = standin, AWAY, member
                result.covered.append((member, standin))
        if target.id in taken:
            continue
        taken.add(target.id)
        if not target.identities:
            result.unreachable.append(target)
            continue
        due = None
        if relay.urgent:
            due = hours.working_deadline(now, escalate_after, target.office_hours, _zone(target))
        result.copies.append(
            queue_copy(session, relay, target, reason=reason, covers_for=covers_for, due_at=due, origin=origin)
        )
    return result


async def get(session: AsyncSession, relay_id: int) -> Relay | None:
    return await session.get(Relay, relay_id)


async def copy_for(session: AsyncSession, relay_id: int, member_id: int) -> RelayCopy | None:
    return await session.scalar(
        select(RelayCopy).where(RelayCopy.relay_id == relay_id, RelayCopy.member_id == member_id)
    )


async def copy_by_outbox(session: AsyncSession, item: OutboxItem) -> RelayCopy | None:
    return await session.scalar(select(RelayCopy).where(RelayCopy.outbox_id == item.id))


async def sent_since(session: AsyncSession, sender_id: int, since: datetime) -> int:
    """Relays (first sends and forwards) a member started since ``since`` — for the hourly limit."""
    query = select(func.count(Relay.id)).where(
        Relay.sender_id == sender_id, Relay.created_at >= since, Relay.mode != "answer"
    )
    return int(await session.scalar(query) or 0)


async def recent(session: AsyncSession, sender_id: int, limit: int = 10) -> list[Relay]:
    rows = await session.scalars(
        select(Relay).where(Relay.sender_id == sender_id).order_by(Relay.id.desc()).limit(limit)
    )
    return list(rows)


def acknowledge(copy: RelayCopy, now: datetime) -> bool:
    """Mark a copy acknowledged (once); True when this was the first acknowledgement."""
    if copy.acknowledged_at is not None:
        return False
    copy.acknowledged_at = now
    if copy.outbox is not None and copy.outbox.status in (outbox.SENT, outbox.SENDING, outbox.QUEUED):
        copy.outbox.status = outbox.ACKNOWLEDGED
        copy.outbox.acknowledged_at = now
    return True


async def due(session: AsyncSession, now: datetime, limit: int = 100) -> list[RelayCopy]:
    """Copies of urgent relays whose time to be acknowledged has run out, not yet escalated — locked for
    this transaction (another instance skips them)."""
    locked = (
        select(RelayCopy.id)
        .where(
            RelayCopy.due_at.is_not(None),
            RelayCopy.due_at <= now,
            RelayCopy.acknowledged_at.is_(None),
            RelayCopy.escalated_at.is_(None),
        )
        .order_by(RelayCopy.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(await session.scalars(locked))
    if not ids:
        return []
    rows = await session.scalars(select(RelayCopy).where(RelayCopy.id.in_(ids)).order_by(RelayCopy.due_at))
    return list(rows.unique())


def window(now: datetime) -> datetime:
    return now - timedelta(hours=1)


async def store_file(session: AsyncSession, filename: str, mime_type: str, content: bytes) -> StoredFile:
    stored = StoredFile(
        filename=filename[:255], mime_type=mime_type[:100], size=len(content),
        sha256=hashlib.sha256(content).hexdigest(), content=content,
    )  # fmt: skip
    session.add(stored)
    await session.flush()
    return stored
