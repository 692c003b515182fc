"""After a relay arrives: answering it (a reply to the copy, or /answer), acknowledging it (/ack, its
button, or any answer), forwarding it under its TLP label (/forward), and telling a sender when a copy
could not be delivered."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands import MESSAGE_LIMIT, command
from bot.context import Context
from bot.delivery.hooks import on_outcome
from bot.dialogs import on_reply
from bot.transports.base import Incoming
from handlers.relay import check_rate, check_text, members_named, receipt, record
from storage import audit, outbox, relays, tlp
from storage.audience import parse_audience
from storage.errors import N_, InvalidInput, NotFound
from storage.models import Member, OutboxItem, RelayCopy


async def _my_copy(ctx: Context, msg: Incoming, number_text: str | None) -> RelayCopy:
    """The copy of the relay named by number — or, without a number, of the relay this message replies to."""
    number: int | None = None
    if number_text is not None:
        number = relays.number_in(number_text)
        if number is None:
            raise InvalidInput(N_("Relay numbers look like 12 or #12."))
    elif msg.reply_to:
        a = msg.address
        item = await outbox.by_platform_message(ctx.session, a.platform, a.chat_id, msg.reply_to)
        number = relays.relay_id_of(item.reference) if item is not None else None
    if number is None:
        raise InvalidInput(N_("Which relay? Give its number, e.g. /ack 12."))
    copy = await relays.copy_for(ctx.session, number, ctx.who.id)
    if copy is None:
        raise NotFound(N_("You did not receive relay #{number}."), number=number)
    return copy


def _acknowledge(ctx: Context, copy: RelayCopy, how: str) -> bool:
    first = relays.acknowledge(copy, ctx.now())
    if first:
        audit.record(ctx.session, ctx.as_actor, "relay.ack", copy.relay, after={"copy": copy.id, "how": how},
                     directory=False)  # fmt: skip
    return first


@command("ack", help=N_("Acknowledge receipt of a relay"), usage=N_("<number>"), aliases=("recibido", "recu"))
async def ack(msg: Incoming, ctx: Context) -> None:
    words = ctx.args.split()
    copy = await _my_copy(ctx, msg, words[0] if words else None)
    if _acknowledge(ctx, copy, "command"):
        thanks = N_("Announcement #{number}: receipt acknowledged. Thank you.") if copy.relay.mode == "announce" else (
            N_("Relay #{number} acknowledged. Thank you."))  # fmt: skip
        ctx.reply(ctx._(thanks).format(number=copy.relay_id))
    else:
        ctx.reply(ctx._(N_("Relay #{number} was already acknowledged.")).format(number=copy.relay_id))


async def _answer(ctx: Context, copy: RelayCopy, text: str) -> None:
    text = check_text(ctx, text)
    original = copy.relay
    sender: Member = original.sender
    if not sender.active:
        raise InvalidInput(N_("{name}, who sent relay #{number}, is no longer active in the network."),
                           name=sender.display_name, number=original.id)  # fmt: skip
    answer = await relays.create(
        ctx.session, ctx.me, mode="answer", tlp=original.tlp, body=text, audience=f"@{sender.id}",
        parent=original, now=ctx.now(),
    )  # fmt: skip
    delivered = await relays.deliver(ctx.session, answer, [sender], now=ctx.now(), escalate_after=timedelta(0))
    _acknowledge(ctx, copy, "answer")
    record(ctx, answer, len(delivered.copies))
    if not delivered.copies:
        raise InvalidInput(
            N_("{name} has no linked chat account; /contact shows their e-mail."), name=sender.display_name
        )
    ctx.reply(
        ctx._(N_("Your answer #{answer} to relay #{number} is on its way to {name}.")).format(
            answer=answer.id, number=original.id, name=sender.display_name
        )
    )


@command(
    "answer",
    help=N_("Answer a relay you received"),
    usage=N_("<number> <text>"),
    aliases=("responder", "repondre"),
    max_arguments=MESSAGE_LIMIT,
)
async def answer_command(msg: Incoming, ctx: Context) -> None:
    number, _, text = ctx.args.strip().partition(" ")
    if not number:
        raise InvalidInput(N_("Usage: /answer <number> <text>, or reply to the relay's message."))
    copy = await _my_copy(ctx, msg, number)
    await _answer(ctx, copy, text)


@on_reply(relays.KIND)
async def reply_to_copy(msg: Incoming, ctx: Context, item: OutboxItem) -> None:
    """A plain reply to a relay copy is an answer to its sender."""
    copy = await relays.copy_by_outbox(ctx.session, item)
    if copy is None:
        raise NotFound(N_("That message is not a relay you received."))
    await _answer(ctx, copy, msg.text)


@command("forward", help=N_("Forward a relay you received, as its TLP label allows"), usage=N_("<number> <audience>"),
         aliases=("reenviar", "transferer"))  # fmt: skip
async def forward(msg: Incoming, ctx: Context) -> None:
    number, _, audience_text = ctx.args.strip().partition(" ")
    if not number or not audience_text.strip():
        raise InvalidInput(N_("Usage: /forward <number> <audience>, e.g. /forward 12 @31"))
    copy = await _my_copy(ctx, msg, number)
    original = copy.relay
    audience = parse_audience(await ctx.snapshot(), audience_text[:2000])
    recipients = await members_named(ctx, audience)
    refusal = tlp.check_forward(original.tlp, ctx.me, recipients, in_group=not msg.private)
    if refusal is not None:
        raise InvalidInput(refusal.message, **refusal.params)
    await check_rate(ctx)
    origin = original
    while origin.mode == "forward" and origin.parent_id is not None:  # credit whoever first sent it
        parent = await relays.get(ctx.session, origin.parent_id)
        if parent is None:
            break
        origin = parent
    forwarded = await relays.create(
        ctx.session, ctx.me, mode="forward", tlp=original.tlp, body=original.body, audience=audience.describe(),
        urgent=original.urgent, parent=original, now=ctx.now(),
    )  # fmt: skip
    forwarded.file_id = original.file_id
    delivered = await relays.deliver(
        ctx.session, forwarded, recipients, now=ctx.now(), origin=origin,
        escalate_after=timedelta(minutes=ctx.settings.relay.escalate_after_minutes),
    )  # fmt: skip
    _acknowledge(ctx, copy, "forward")
    record(ctx, forwarded, len(delivered.copies))
    receipt(ctx, delivered)


@on_outcome(relays.KIND)
async def tell_sender(session: AsyncSession, item_id: int, error: str | None) -> None:
    if error is None:
        return
    item = await session.get(OutboxItem, item_id)
    copy = await relays.copy_by_outbox(session, item) if item is not None else None
    if copy is None:
        return
    relay = copy.relay
    for to in outbox.recipients_of(relay.sender)[:1]:
        outbox.enqueue(
            session, to,
            N_("Relay #{number} could not be delivered to {name}: {reason}. /relay {number} shows every recipient."),
            {"number": relay.id, "name": copy.member.display_name, "reason": error[:200]},
            priority=outbox.INTERACTIVE, reference=relays.reference(relay.id),
        )  # fmt: skip
