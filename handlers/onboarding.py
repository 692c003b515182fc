"""Joining pocnet: /start with an invitation code, /link to add another platform to yourself."""

from __future__ import annotations

from datetime import timedelta

from bot.commands import command
from bot.context import Context
from bot.i18n import best_language
from bot.messages import ONBOARDING
from bot.transports.base import Incoming
from handlers.common import role_label
from storage import invites
from storage.access import Role
from storage.errors import N_, PocnetError

LINK_TTL = timedelta(hours=24)


class TooManyAttempts(PocnetError):
    message = N_("Too many wrong codes. Please try again in {minutes} minutes.")


@command("start", help=N_("Join with an invitation code"), usage=N_("<code>"), roles=frozenset(), public=True)
async def start(msg: Incoming, ctx: Context) -> None:
    code = ctx.args.strip()
    if code and not msg.private:  # everyone in the group has now seen the code: it must not work for anyone,
        # whoever sent it (a member who already joined as well as a stranger)
        await invites.revoke(ctx.session, code, reason="shown in a group chat")
        ctx.reply(
            ctx._(
                "For safety, invitation codes only work in a private chat with the bot. This code was shown in "
                "a group, so it no longer works: ask for a new one and send it to the bot privately."
            )
        )
        return
    if ctx.member is not None:
        ctx.reply(
            ctx._("Welcome back, {name}. Send /help to see what you can do.").format(name=ctx.member.display_name)
        )
        return
    if not code:
        ctx.reply(ctx._(ONBOARDING))
        return
    # ctx.member is None here both for strangers and for deactivated members; neither may redeem.
    key = (msg.address.platform, msg.address.user_id)
    failures = ctx.limits.invite_failures
    if failures.count(key) >= failures.limit:
        raise TooManyAttempts(minutes=max(1, round(failures.retry_after(key) / 60)))
    try:
        member = await invites.redeem(
            ctx.session,
            code,
            platform=msg.address.platform,
            user_id=msg.address.user_id,
            chat_id=msg.address.chat_id,
            sender_name=msg.sender_name,
            language=best_language(msg.language_hint) if msg.language_hint else None,
        )
    except invites.InviteRefused:
        failures.add(key)
        raise
    ctx.use_member(member)
    ctx.reply(
        ctx._("Welcome to pocnet, {name}. You are registered as {role}. Send /help to see what you can do.").format(
            name=member.display_name, role=role_label(ctx, member.role)
        )
    )


@command("link", help=N_("Get a code to use pocnet from another platform too"))
async def link(msg: Incoming, ctx: Context) -> None:
    new = await invites.create(
        ctx.session, ctx.as_actor, role=Role(ctx.me.role), state_code=ctx.me.state_code, member=ctx.me, ttl=LINK_TTL
    )
    ctx.reply(
        ctx._(
            "Your link code is {code}. Within 24 hours, send /start {code} to pocnet from the other platform "
            "(Telegram or Matrix) and both accounts will be yours."
        ).format(code=new.code)
    )
