"""/away: while a member is away, relays for them go to their delegate (or their state's other contact),
and /whois shows who covers for them.

    /away until 2026-12-20 to @31     /away until 2026-12-20     /away off     /away
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from bot.commands import command
from bot.context import Context
from bot.transports.base import Incoming
from handlers.common import when, zone_of
from storage import members
from storage.audience import parse_audience
from storage.errors import N_, InvalidInput
from storage.models import Member

_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_OFF = {"off", "back", "no", "fin", "fim", "retour", "de-vuelta"}
_TO = {"to", "a", "para", "à", "a:", "to:"}
MAX_DAYS = 366
USAGE = N_("Usage: /away until YYYY-MM-DD [to @id], or /away off when you are back.")


def _status(ctx: Context, member: Member, delegate: Member | None) -> str:
    if member.away_until is None or member.away_until <= ctx.now():
        return ctx._(N_("You are not marked away. Relays reach you directly."))
    if delegate is not None:
        return ctx._(N_("You are away until {until}; {name} receives your relays.")).format(
            until=when(ctx, member.away_until), name=delegate.display_name
        )
    return ctx._(N_("You are away until {until}; another contact of your state receives your relays.")).format(
        until=when(ctx, member.away_until)
    )


@command("away", help=N_("Mark yourself away, and who covers for you"), usage=N_("until <date> [to <person>] | off"),
         aliases=("ausente", "absent"))  # fmt: skip
async def away(msg: Incoming, ctx: Context) -> None:
    me = ctx.me
    args = ctx.args.strip()[:300]
    if not args:
        current = await members.get(ctx.session, me.away_delegate_id) if me.away_delegate_id else None
        ctx.reply(_status(ctx, me, current))
        return
    if args.lower() in _OFF:
        await members.update(ctx.session, ctx.as_actor, me, away_until=None, away_delegate_id=None)
        ctx.reply(ctx._(N_("Welcome back: relays reach you directly again.")))
        return
    found = _DATE.search(args)
    if found is None:
        raise InvalidInput(USAGE)
    try:
        day = date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
    except ValueError:
        raise InvalidInput(USAGE) from None
    zone = zone_of(me)
    until = datetime.combine(day, time(23, 59), zone)  # the whole of that day, their time
    now = ctx.now()
    if until <= now or until - now > timedelta(days=MAX_DAYS):
        raise InvalidInput(N_("Give a date from today up to a year ahead, as YYYY-MM-DD."))
    words = args[found.end() :].split(maxsplit=1)
    delegate: Member | None = None
    if words:
        target = words[1] if words[0].lower() in _TO and len(words) > 1 else args[found.end() :]
        audience = parse_audience(await ctx.snapshot(), target.strip())
        if not audience.named_only or len(audience.items) != 1:
            raise InvalidInput(N_("Name one person to cover for you, e.g. /away until 2026-12-20 to @31."))
        member_id = audience.items[0].member_id
        assert member_id is not None
        delegate = await members.get(ctx.session, member_id)
        if delegate.id == me.id or not delegate.active:
            raise InvalidInput(N_("Name an active member other than yourself to cover for you."))
    await members.update(ctx.session, ctx.as_actor, me, away_until=until,
                         away_delegate_id=delegate.id if delegate else None)  # fmt: skip
    ctx.reply(_status(ctx, me, delegate))
