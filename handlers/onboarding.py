"""Joining pocnet: /start with an invitation code, /link to add another platform to yourself."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.commands import command
from bot.context import Context
from bot.i18n import best_language
from bot.messages import DEACTIVATED, ONBOARDING
from bot.transports.base import Incoming
from handlers.common import role_label
from storage import invites
from storage.access import Role
from storage.errors import N_, PocnetError

LINK_TTL = timedelta(hours=24)
log = logging.getLogger("pocnet.onboarding")


class TooManyAttempts(PocnetError):
    message = N_("Too many wrong codes. Please try again in {minutes} minutes.")


@command("start", help=N_("Join with an invitation code"), usage=N_("<code>"), roles=frozenset(), public=True)
async def start(msg: Incoming, ctx: Context) -> None:
    code = ctx.args.strip()
    key = (msg.address.platform, msg.address.user_id)
    if code and not msg.private:  # everyone in the group has now seen the code: it must not work for anyone,
        # whoever sent it (a member who already joined as well as a stranger)
        if not await invites.revoke(ctx.session, code, reason="shown in a group chat") and ctx.member is None:
            _count_failure(ctx, key)  # a guess in a group counts like one in private
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
    if ctx.deactivated:  # a deactivated member's account cannot join again with a code
        ctx.reply(ctx._(DEACTIVATED))
        return
    if not code:
        ctx.reply(ctx._(ONBOARDING))
        return
    mine, everyone = ctx.limits.invite_failures, ctx.limits.invite_failures_total
    for window, who in ((mine, key), (everyone, ALL)):
        if window.count(who) >= window.limit:
            minutes = max(1, round(window.retry_after(who) / 60))
            _refused(ctx, key, "locked out" if who == key else "locked out: too many wrong codes from all accounts")
            ctx.reply(ctx._(TooManyAttempts.message).format(minutes=minutes))
            return
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
    except invites.AlreadyRegistered:
        raise  # the transaction failed: it is rolled back, and the code stays unused
    except invites.InviteRefused as exc:  # nothing was changed: the refusal is audited in this transaction
        _count_failure(ctx, key)
        _refused(ctx, key, type(exc).__name__)
        ctx.reply(ctx._(exc.message))
        return
    ctx.use_member(member)
    ctx.reply(
        ctx._("Welcome to pocnet, {name}. Your role: {role}. Send /help to see what you can do.").format(
            name=member.display_name, role=role_label(ctx, member.role)
        )
    )


ALL = ("*", "*")  # the key of the failure budget shared by all accounts


def _count_failure(ctx: Context, key: tuple[str, str]) -> None:
    ctx.limits.invite_failures.add(key)
    ctx.limits.invite_failures_total.add(ALL)


def _refused(ctx: Context, key: tuple[str, str], reason: str) -> None:
    """One WARNING line (no code, no account) and an audit event (with the account) per refusal."""
    log.warning("invitation refused", extra={"platform": key[0], "reason": reason})
    invites.record_refusal(ctx.session, platform=key[0], user_id=key[1], reason=reason)


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
