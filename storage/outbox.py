"""The durable lane's table: queue a message in the business transaction, claim, record the outcome.

Claiming uses ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two senders never take the same row (on
SQLite, one process, the clause is dropped and the transaction is enough).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Member, OutboxItem, StoredFile
from storage.types import utcnow

WRITTEN = "pocnet_outbox_written"  # session.info flag: wake the senders after this commit

QUEUED, SENDING, SENT, FAILED, ACKNOWLEDGED = "queued", "sending", "sent", "failed", "acknowledged"
INTERACTIVE, BULK = 0, 1  # priorities: replies and relays before broadcasts and reminders


@dataclass(frozen=True)
class Recipient:
    platform: str
    chat_id: str
    user_id: str
    member_id: int | None = None


def recipients_of(member: Member) -> list[Recipient]:
    """Where a member is reached: the chat of their first linked account (None linked: nowhere)."""
    return [Recipient(i.platform, i.chat_id, i.user_id, member.id) for i in member.identities[:1]]


def enqueue(
    session: AsyncSession,
    to: Recipient,
    template: str,
    params: dict[str, Any] | None = None,
    *,
    kind: str = "text",
    priority: int = BULK,
    reference: str | None = None,
    language: str | None = None,
    file_id: int | None = None,
) -> OutboxItem:
    """Queue one message; it leaves once the surrounding transaction commits."""
    item = OutboxItem(
        platform=to.platform,
        chat_id=to.chat_id,
        user_id=to.user_id,
        member_id=to.member_id,
        kind=kind,
        template=template,
        params=params or {},
        language=language,
        priority=priority,
        reference=reference,
        status=QUEUED,
        attempts=0,
        file_id=file_id,
    )
    session.add(item)
    session.info[WRITTEN] = True
    return item


async def claim(session: AsyncSession, platform: str, limit: int) -> list[OutboxItem]:
    """Take up to ``limit`` queued rows of ``platform`` (most urgent first) and mark them as being sent."""
    query = (
        select(OutboxItem)
        .where(OutboxItem.platform == platform, OutboxItem.status == QUEUED)
        .order_by(OutboxItem.priority, OutboxItem.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list((await session.scalars(query)).all())
    now = utcnow()
    for row in rows:
        row.status = SENDING
        row.claimed_at = now
    return rows


async def languages(session: AsyncSession, member_ids: Sequence[int]) -> dict[int, str | None]:
    if not member_ids:
        return {}
    result = await session.execute(select(Member.id, Member.language).where(Member.id.in_(set(member_ids))))
    return {member_id: language for member_id, language in result.all()}


async def files(session: AsyncSession, file_ids: Sequence[int]) -> dict[int, StoredFile]:
    """The files that travel with claimed rows (each loaded once however many rows carry it)."""
    if not file_ids:
        return {}
    rows = await session.scalars(select(StoredFile).where(StoredFile.id.in_(set(file_ids))))
    return {row.id: row for row in rows}


async def release_claimed(session: AsyncSession, platform: str) -> int:
    """Rows claimed by a sender that died go back to the queue (called by the sender that takes over)."""
    result = await session.execute(
        update(OutboxItem)
        .where(OutboxItem.platform == platform, OutboxItem.status == SENDING)
        .values(status=QUEUED, claimed_at=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def record(
    session: AsyncSession, item_id: int, *, message_id: str | None, error: str | None, attempts: int
) -> None:
    values: dict[str, Any] = {"attempts": OutboxItem.attempts + attempts}
    if error is None:
        values |= {"status": SENT, "platform_message_id": message_id, "sent_at": utcnow(), "error": None}
    else:
        values |= {"status": FAILED, "error": error[:1000]}
    await session.execute(update(OutboxItem).where(OutboxItem.id == item_id).values(**values))


async def by_platform_message(session: AsyncSession, platform: str, chat_id: str, message_id: str) -> OutboxItem | None:
    """The outbox row whose sent copy has this platform message id (to route a reply back)."""
    return await session.scalar(
        select(OutboxItem).where(
            OutboxItem.platform == platform,
            OutboxItem.chat_id == chat_id,
            OutboxItem.platform_message_id == message_id,
        )
    )


async def acknowledge(session: AsyncSession, item_id: int) -> bool:
    result = await session.execute(
        update(OutboxItem)
        .where(OutboxItem.id == item_id, OutboxItem.status == SENT)
        .values(status=ACKNOWLEDGED, acknowledged_at=utcnow())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def counts(session: AsyncSession, reference: str | None = None) -> dict[str, int]:
    """Rows per status (of one reference, or all)."""
    query = select(OutboxItem.status, func.count()).group_by(OutboxItem.status)
    if reference is not None:
        query = query.where(OutboxItem.reference == reference)
    return {status: int(n) for status, n in (await session.execute(query)).all()}


async def pending(session: AsyncSession, platforms: Sequence[str]) -> int:
    """Rows of these platforms not yet sent or failed (queued, or claimed by a sender)."""
    query = select(func.count(OutboxItem.id)).where(
        OutboxItem.platform.in_(list(platforms)), OutboxItem.status.in_((QUEUED, SENDING))
    )
    return int(await session.scalar(query) or 0)


@dataclass(frozen=True)
class Backlog:
    waiting: int  # queued or being sent
    oldest: datetime | None  # when the oldest of them was written
    failed: int  # failed rows written since the time asked about
    last_error: str | None  # the newest failed row's reason


async def backlog(session: AsyncSession, *, failed_since: datetime) -> Backlog:
    """What an operator asks of the outbox: how much waits, since when, and what failed lately."""
    waiting, oldest = (
        await session.execute(
            select(func.count(), func.min(OutboxItem.created_at)).where(OutboxItem.status.in_((QUEUED, SENDING)))
        )
    ).one()
    failed = await session.scalar(
        select(func.count()).where(OutboxItem.status == FAILED, OutboxItem.created_at >= failed_since)
    )
    last_error = await session.scalar(
        select(OutboxItem.error).where(OutboxItem.status == FAILED).order_by(OutboxItem.id.desc()).limit(1)
    )
    return Backlog(int(waiting), oldest, int(failed or 0), last_error)
