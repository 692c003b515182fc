"""How an announcement reads for its recipient, and the report its author gets once every copy has been
settled (sent or failed)."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.hooks import on_outcome
from bot.delivery.render import renderer
from bot.i18n import Translator
from bot.transports.base import Outgoing
from storage import outbox, relays
from storage.announcements import KIND
from storage.errors import N_
from storage.models import OutboxItem, Relay, RelayCopy, Reminder
from storage.relays import relay_id_of
from storage.types import utcnow

RECEIVED = N_("Received")
REPORT = N_(
    "Announcement #{number} has gone out: {sent} sent, {failed} failed. /deliveries {number} shows who is missing."
)
REPORT_ACK = N_(
    "Announcement #{number} has gone out: {sent} sent, {failed} failed; {acked} acknowledged so far. "
    "/deliveries {number} shows who is missing."
)


@renderer(KIND)
def announcement(item: OutboxItem, tr: Translator) -> Outgoing:
    p = item.params
    head = tr(N_("Announcement #{number} from the OAS Secretariat ({sender})")).format(
        number=p["number"], sender=p["sender"]
    )
    buttons = ((tr(RECEIVED), f"/ack {p['number']}"),) if p.get("ack") else ()
    return Outgoing(f"{head}\n\n{p['text']}", buttons=buttons)


@on_outcome(KIND)
async def report_when_done(session: AsyncSession, item_id: int, error: str | None) -> None:
    """Once no copy is queued or being sent, tell the author — once: the check runs after each outcome is
    committed, and only the one that marks the announcement as reported (a conditional UPDATE) sends it."""
    item = await session.get(OutboxItem, item_id)
    number = relay_id_of(item.reference) if item is not None else None
    if number is None:
        return
    ref = relays.reference(number)
    pending = select(OutboxItem.id).where(
        OutboxItem.reference == ref, OutboxItem.status.in_((outbox.QUEUED, outbox.SENDING))
    )
    if await session.scalar(pending.limit(1)) is not None:  # cheap: most outcomes stop here
        return
    planned = select(Reminder.id).where(Reminder.relay_id == number, Reminder.status == "planned")
    if await session.scalar(planned.limit(1)) is not None:  # scheduled copies still to come (reminders/)
        return
    relay = await session.scalar(select(Relay).where(Relay.id == number).with_for_update(of=Relay))
    if relay is None or relay.reported_at is not None:
        return
    # Marked with a conditional UPDATE: SQLite ignores FOR UPDATE, and two outcomes committed at the same
    # moment both saw reported_at empty — the author got the report twice (found by the soak test).
    marked = await session.execute(
        update(Relay).where(Relay.id == number, Relay.reported_at.is_(None)).values(reported_at=utcnow())
    )
    if marked.rowcount != 1:  # type: ignore[attr-defined]
        return
    query = select(OutboxItem.status, func.count()).where(OutboxItem.reference == ref).group_by(OutboxItem.status)
    counts: dict[str, int] = {status: int(n) for status, n in (await session.execute(query)).all()}
    acked = await session.scalar(
        select(func.count(RelayCopy.id)).where(RelayCopy.relay_id == relay.id, RelayCopy.acknowledged_at.is_not(None))
    )
    params = {"number": relay.id, "sent": counts.get(outbox.SENT, 0) + counts.get(outbox.ACKNOWLEDGED, 0),
              "failed": counts.get(outbox.FAILED, 0), "acked": int(acked or 0)}  # fmt: skip
    for to in outbox.recipients_of(relay.sender)[:1]:
        outbox.enqueue(session, to, REPORT_ACK if relay.ack else REPORT, params, priority=outbox.INTERACTIVE)
