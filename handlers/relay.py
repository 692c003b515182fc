"""Relaying: /relay in one line or as a dialog (audience → label → text → "send to N people?").

/relay CO tip tlp:amber urgent Two suspects cross at Ipiales tonight
/relay "Ana Pérez", @12 tlp:red Please call me
/relay                      (asks, step by step)
/relay 12                   (what became of relay #12: see handlers/relay_status.py)
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.commands import MESSAGE_LIMIT, command
from bot.context import Context
from bot.dialogs import dialog, on_confirm
from bot.transports.base import Attachment, Incoming
from handlers.relay_status import show_relay
from storage import audit, relays, tlp
from storage.audience import URGENT_WORDS, Audience, Item, parse_audience, parse_line
from storage.errors import N_, InvalidInput
from storage.models import Member, Relay, StoredFile
from storage.text import fold

DIALOG = "relay"


def check_text(ctx: Context, text: str) -> str:
    text = text.strip()
    if not text:
        raise InvalidInput(N_("The message is empty. Write the text after the audience, e.g. /relay CO tip Text …"))
    limit = ctx.settings.relay.max_length
    if len(text) > limit:
        raise InvalidInput(
            N_("The message is {length} characters long; a relay holds at most {limit}. Shorten it or send a file."),
            length=len(text), limit=limit,
        )  # fmt: skip
    return text


async def check_rate(ctx: Context) -> None:
    limit = ctx.settings.relay.max_per_hour
    if await relays.sent_since(ctx.session, ctx.who.id, relays.window(ctx.now())) >= limit:
        raise InvalidInput(
            N_("You have sent {limit} relays in the last hour, the most allowed. Please wait, or ask the Secretariat."),
            limit=limit,
        )


async def members_named(ctx: Context, audience: Audience) -> list[Member]:
    """The audience's people as rows (with their accounts), in the order the snapshot lists them."""
    entries = audience.members(await ctx.snapshot(), ctx.who.id)
    if not entries:
        raise InvalidInput(N_("That audience is only you. Name a state, a topic or other people."))
    ids = [e.id for e in entries]
    rows = {m.id: m for m in await ctx.session.scalars(select(Member).where(Member.id.in_(ids)))}
    return [rows[i] for i in ids if i in rows and rows[i].active]


async def keep_file(ctx: Context, attachment: Attachment | None) -> StoredFile | None:
    if attachment is None:
        return None
    limit = ctx.settings.relay.max_file_mb
    if attachment.oversize or len(attachment.content) > limit * 1024 * 1024:
        raise InvalidInput(N_("The file is larger than {limit} MB, the most a relay carries."), limit=limit)
    return await relays.store_file(ctx.session, attachment.filename, attachment.mime_type, attachment.content)


async def send(
    ctx: Context,
    msg: Incoming,
    audience: Audience,
    label: str,
    urgent: bool,
    text: str,
    file: StoredFile | None,
) -> None:
    """Check, queue a copy per recipient, audit, and tell the sender where it went."""
    text = check_text(ctx, text)
    refusal = tlp.check_send(label, named_only=audience.named_only, in_group=not msg.private)
    if refusal is not None:
        raise InvalidInput(refusal.message, **refusal.params)
    await check_rate(ctx)
    recipients = await members_named(ctx, audience)
    if not any(m.identities for m in recipients):
        raise InvalidInput(
            N_("None of them has linked a chat account yet, so pocnet cannot reach them. /contact shows their e-mail.")
        )
    now = ctx.now()
    relay = await relays.create(
        ctx.session, ctx.me, mode="send", tlp=label, body=text, audience=audience.describe(), urgent=urgent,
        file=file, now=now,
    )  # fmt: skip
    delivered = await relays.deliver(
        ctx.session,
        relay,
        recipients,
        now=now,
        escalate_after=timedelta(minutes=ctx.settings.relay.escalate_after_minutes),
    )
    record(ctx, relay, len(delivered.copies))
    receipt(ctx, delivered)


def record(ctx: Context, relay: Relay, copies: int) -> None:
    """The audit event of a send, forward or answer: label, audience, counts — never the body."""
    after: dict[str, Any] = {"tlp": relay.tlp, "urgent": relay.urgent, "audience": relay.audience, "copies": copies,
                             "parent": relay.parent_id, "file": relay.file_id is not None}  # fmt: skip
    audit.record(ctx.session, ctx.as_actor, f"relay.{relay.mode}", relay, after=after, directory=False)


def receipt(ctx: Context, delivered: relays.Delivered) -> None:
    relay = delivered.relay
    names = ", ".join(f"{c.member.display_name} ({c.member.state_code or 'OAS'})" for c in delivered.copies[:12])
    if len(delivered.copies) > 12:
        names += " …"
    label = tlp.tag(relay.tlp) + (", " + ctx._(N_("urgent")) if relay.urgent else "")
    lines = [
        ctx.ngettext(
            "Relay #{number} ({label}) is on its way to {n} person: {names}.",
            "Relay #{number} ({label}) is on its way to {n} people: {names}.",
            len(delivered.copies),
        ).format(number=relay.id, label=label, n=len(delivered.copies), names=names)
    ]
    for away, standin in delivered.covered:
        lines.append(
            ctx._(N_("{away} is away; {standin} receives it instead.")).format(
                away=away.display_name, standin=standin.display_name
            )
        )
    if delivered.unreachable:
        lines.append(
            ctx._(N_("Not reachable in chat (no linked account): {names}. /contact shows their e-mail.")).format(
                names=", ".join(m.display_name for m in delivered.unreachable[:12])
            )
        )
    lines.append(ctx._(N_("/relay {number} shows what becomes of it.")).format(number=relay.id))
    ctx.reply("\n".join(lines))


# --- /relay in one line ---------------------------------------------------------------------------------


@command(
    "relay",
    help=N_("Send information to a state, a topic's contacts or a person"),
    usage=N_("<audience> [tlp:<label>] [urgent] <text>"),
    aliases=("enviar", "transmettre"),
    max_arguments=MESSAGE_LIMIT,
)
async def relay(msg: Incoming, ctx: Context) -> None:
    args = ctx.args
    if len(args) > ctx.settings.relay.max_length + 1000:  # before any parsing
        check_text(ctx, args)
    if not args.strip() and msg.attachment is None:
        await ctx.open_dialog(DIALOG, step="audience")
        ctx.reply(ctx._(AUDIENCE_QUESTION))
        return
    number = relays.number_in(args)
    if number is not None:
        await show_relay(ctx, number)
        return
    line = parse_line(await ctx.snapshot(), args)
    if not line.audience.items:
        raise InvalidInput(AUDIENCE_QUESTION)
    file = await keep_file(ctx, msg.attachment)
    await send(ctx, msg, line.audience, line.label or tlp.DEFAULT, line.urgent, line.text, file)


# --- /relay as a dialog -----------------------------------------------------------------------------------

AUDIENCE_QUESTION = N_(
    "Who is it for? A state (CO), a state and a topic (CO tip), a person (@12 or their name), or several "
    "separated by commas. /cancel stops."
)


def _items(data: dict[str, Any]) -> Audience:
    return Audience([Item(**item) for item in data["items"]])


@dialog(DIALOG)
async def compose(msg: Incoming, ctx: Context) -> None:
    assert ctx.dialog is not None
    data = dict(ctx.dialog.data)
    step = ctx.dialog.step
    answer = ctx.args.strip()
    if step == "audience":
        audience = parse_audience(await ctx.snapshot(), answer[:2000])
        people = [m for m in await members_named(ctx, audience) if m.identities]  # reachable in chat
        data["items"] = [vars(item) for item in audience.items]
        await ctx.open_dialog(DIALOG, step="label", data=data)
        ctx.reply(
            ctx.ngettext("{n} person. Which TLP label?", "{n} people. Which TLP label?", len(people)).format(
                n=len(people)
            )
            + "\n"
            + "\n".join(tlp.line(label, ctx._) for label in tlp.LABELS)
            + "\n"
            + ctx._(N_("Add “urgent” to mark it urgent, e.g. “AMBER urgent”.")),
            buttons=tuple((tlp.tag(label), label) for label in tlp.LABELS),
        )
    elif step == "label":
        words = answer.split()[:4]
        urgent = any(fold(w) in URGENT_WORDS for w in words)
        rest = [w for w in words if fold(w) not in URGENT_WORDS]
        label = tlp.parse(" ".join(rest)) if rest else tlp.DEFAULT
        refusal = tlp.check_send(label, named_only=_items(data).named_only, in_group=not msg.private)
        if refusal is not None:
            raise InvalidInput(refusal.message, **refusal.params)
        data |= {"label": label, "urgent": urgent}
        await ctx.open_dialog(DIALOG, step="text", data=data)
        ctx.reply(ctx._(N_("Now the text (up to {limit} characters). You may attach a file.")).format(
            limit=ctx.settings.relay.max_length))  # fmt: skip
    else:
        text = check_text(ctx, answer)
        file = await keep_file(ctx, msg.attachment)
        people = [m for m in await members_named(ctx, _items(data)) if m.identities]
        data |= {"text": text, "file": file.id if file else None}
        names = ", ".join(m.display_name for m in people[:12]) + (" …" if len(people) > 12 else "")
        question = ctx.ngettext(
            "Send this {label} relay to {n} person ({names})?",
            "Send this {label} relay to {n} people ({names})?",
            len(people),
        ).format(label=tlp.tag(data["label"]), n=len(people), names=names)
        await ctx.confirm(question, "relay.send", data)


@on_confirm("relay.send")
async def confirmed(msg: Incoming, ctx: Context, data: dict[str, Any]) -> None:
    file = await ctx.session.get(StoredFile, data["file"]) if data.get("file") else None
    await send(ctx, msg, _items(data), data["label"], bool(data["urgent"]), data["text"], file)
