"""What became of a member's relays: /relays (the recent ones, in counts) and /relay <number> (each
recipient: queued, delivered, failed and why, acknowledged and when)."""

from __future__ import annotations

from collections import Counter

from bot.commands import command
from bot.context import Context
from bot.transports.base import Incoming
from handlers.common import when
from storage import outbox, relays, tlp
from storage.errors import N_, NotFound
from storage.models import Relay, RelayCopy

RECENT = 10
QUEUED, DELIVERED, FAILED = N_("queued"), N_("delivered"), N_("failed")
ACKNOWLEDGED, NO_ACCOUNT = N_("acknowledged"), N_("no account")


def status_of(copy: RelayCopy) -> str:
    if copy.acknowledged_at is not None:
        return ACKNOWLEDGED
    item = copy.outbox
    if item is None:
        return NO_ACCOUNT
    if item.status == outbox.FAILED:
        return FAILED
    if item.status in (outbox.SENT, outbox.ACKNOWLEDGED):
        return DELIVERED
    return QUEUED


def _copy_line(ctx: Context, copy: RelayCopy) -> str:
    status = status_of(copy)
    who = f"{copy.member.display_name} ({copy.member.state_code or 'OAS'})"
    if status == ACKNOWLEDGED:
        assert copy.acknowledged_at is not None
        text = ctx._(N_("{who}: acknowledged {when}")).format(who=who, when=when(ctx, copy.acknowledged_at))
    elif status == DELIVERED:
        sent = copy.outbox.sent_at if copy.outbox is not None else None
        text = ctx._(N_("{who}: delivered {when}, not acknowledged yet")).format(
            who=who, when=when(ctx, sent) if sent else "—"
        )
    elif status == FAILED:
        error = (copy.outbox.error if copy.outbox is not None else None) or "?"
        text = ctx._(N_("{who}: failed ({reason})")).format(who=who, reason=error[:200])
    elif status == NO_ACCOUNT:
        text = ctx._(N_("{who}: no linked chat account")).format(who=who)
    else:
        text = ctx._(N_("{who}: queued")).format(who=who)
    if copy.reason == relays.AWAY:
        text += " · " + ctx._(N_("covering for someone away"))
    elif copy.reason == relays.ESCALATION:
        text += " · " + ctx._(N_("escalated"))
    if copy.escalated_at is not None:
        text += " · " + ctx._(N_("not acknowledged in time, escalated {when}")).format(
            when=when(ctx, copy.escalated_at)
        )
    return text


def _head(ctx: Context, relay: Relay) -> str:
    label = tlp.tag(relay.tlp) + (" · " + ctx._(N_("urgent")) if relay.urgent else "")
    return f"#{relay.id} · {when(ctx, relay.created_at)} · {label} · {relay.audience}"


async def show_relay(ctx: Context, number: int) -> None:
    relay = await relays.get(ctx.session, number)
    if relay is None or relay.sender_id != ctx.who.id:
        raise NotFound(N_("You have no relay #{number}. /relays lists yours."), number=number)
    lines = [_head(ctx, relay)]
    lines += [_copy_line(ctx, copy) for copy in relay.copies]
    if not relay.copies:
        lines.append(ctx._(N_("No copies were sent.")))
    ctx.reply("\n".join(lines))


@command("relays", help=N_("Your recent relays and what became of them"), aliases=("envios",))
async def relays_(msg: Incoming, ctx: Context) -> None:
    mine = await relays.recent(ctx.session, ctx.who.id, RECENT)
    if not mine:
        ctx.reply(ctx._(N_("You have sent no relays yet. /relay sends one.")))
        return
    lines = [ctx._(N_("Your recent relays (/relay <number> for each recipient):"))]
    for relay in mine:
        counts = Counter(status_of(copy) for copy in relay.copies)
        summary = ctx._(N_("{delivered} delivered, {acknowledged} acknowledged, {queued} queued, {failed} failed")).format(
            delivered=counts[DELIVERED] + counts[ACKNOWLEDGED], acknowledged=counts[ACKNOWLEDGED],
            queued=counts[QUEUED], failed=counts[FAILED],
        )  # fmt: skip
        lines.append(f"{_head(ctx, relay)} — {summary}")
    ctx.reply("\n".join(lines))
