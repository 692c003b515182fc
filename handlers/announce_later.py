"""``/announce at:<when> …``: the part of /announce that sends later (reminders/announcements.py plans
and fires it). Kept apart so that handlers/broadcast.py only hands the ``at:`` word over."""

from __future__ import annotations

from babel.dates import format_time

from bot.context import Context
from handlers.common import when as shown_when
from reminders import announcements as scheduled
from reminders.announcements import When, parse_when, split_at
from storage.announcements import Draft
from storage.errors import N_
from storage.models import StoredFile

__all__ = ["confirmed", "describe", "parse_when", "split_at"]


def describe(ctx: Context, when: When) -> str:
    if when.moment is not None:
        return ctx._(N_("It will go out on {when}.")).format(when=shown_when(ctx, when.moment))
    assert when.local is not None
    hour = format_time(when.local, "HH:mm", locale=ctx.language)
    if when.day is not None:
        return ctx._(N_("It will go out on {date} at {time} in each recipient's own time zone.")).format(
            date=when.day.isoformat(), time=hour
        )
    return ctx._(N_("It will go out at the next {time} in each recipient's own time zone.")).format(time=hour)


async def confirmed(ctx: Context, draft: Draft, at: str, file: StoredFile | None) -> None:
    when = parse_when(at, ctx.who.timezone, ctx.now())
    relay, moments = await scheduled.schedule(
        ctx.session, ctx.as_actor, ctx.me, draft, when, await ctx.snapshot(), now=ctx.now(),
        default_language=ctx.settings.bot.default_language, file=file,
    )  # fmt: skip
    ctx.reply(
        ctx._(N_("Announcement #{number} is scheduled for {n} members: the first copies go out on {first}, the "
                 "last on {last}. You will get a report when it has gone out.")).format(
            number=relay.id, n=len(moments), first=shown_when(ctx, min(moments)), last=shown_when(ctx, max(moments)))
    )  # fmt: skip
