"""Managing people: /invite (Secretariat any role; contacts their own officials), /deactivate, /reactivate.
Who may do what is decided in storage.access, not here."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from bot.commands import command
from bot.context import Context
from bot.dialogs import on_confirm
from bot.transports.base import Incoming
from handlers.common import member_by_id, role_label, when
from storage import invites, members, vocabularies
from storage.access import Role, role_named
from storage.errors import N_, InvalidInput
from storage.lookup import leading_name

MANAGERS = frozenset({Role.SECRETARIAT, Role.CONTACT})
_DURATION = re.compile(r"^(\d{1,3})([dh])$")


def parse_duration(text: str) -> timedelta | None:
    """``7d`` or ``12h``; None if it is not a duration."""
    match = _DURATION.match(text.lower())
    if not match:
        return None
    amount, unit = int(match.group(1)), match.group(2)
    ttl = timedelta(days=amount) if unit == "d" else timedelta(hours=amount)
    if not timedelta(hours=1) <= ttl <= invites.MAX_TTL:
        raise InvalidInput(N_("An invitation lasts from 1h to 90d; “{value}” is outside that range."), value=text)
    return ttl


@command(
    "invite",
    help=N_("Create a one-time invitation code"),
    usage=N_("<secretariat|contact|official> [state] [7d]"),
    roles=MANAGERS,
)
async def invite(msg: Incoming, ctx: Context) -> None:
    words = ctx.argv
    usage = N_("Usage: /invite <secretariat|contact|official> [state code] [duration such as 7d]")
    if not words:
        raise InvalidInput(usage)
    role = role_named(words[0])
    if role is None:
        raise InvalidInput(usage)
    state_code = ctx.me.state_code
    ttl = invites.DEFAULT_TTL
    rest = []
    for word in words[1:]:  # the duration may come before or after the state
        if (duration := parse_duration(word)) is not None:
            ttl = duration
        else:
            rest.append(word)
    if rest:  # a state by code or name, of one word or several ("Estados Unidos")
        named, used = leading_name(await vocabularies.states(ctx.session), rest)
        if named is None or used < len(rest):
            raise InvalidInput(N_("Unknown state “{value}”."), value=" ".join(rest))
        state_code = named
    new = await invites.create(ctx.session, ctx.as_actor, role=role, state_code=state_code, ttl=ttl)
    where = new.invite.state_code or ctx._("OAS General Secretariat")
    ctx.reply(
        ctx._(
            "Invitation code — {role}, {where}: {code}\n"
            "Valid until {until}, once. The person sends /start {code} to pocnet on Telegram or Matrix."
        ).format(role=role_label(ctx, role), where=where, code=new.code, until=when(ctx, new.invite.expires_at))
    )


@command("deactivate", help=N_("Remove a member's access"), usage=N_("<member id>"), roles=MANAGERS)
async def deactivate(msg: Incoming, ctx: Context) -> None:
    member = await member_by_id(ctx, ctx.args, N_("Usage: /deactivate <member id>"))
    members.check_can_set_active(ctx.as_actor, member)  # refuse before asking
    if not member.active:
        ctx.reply(ctx._("{name} (#{id}) is already deactivated.").format(name=member.display_name, id=member.id))
        return
    question = ctx._("Deactivate {name} (#{id})? They lose access to pocnet at once.")
    await ctx.confirm(question.format(name=member.display_name, id=member.id), "deactivate", {"id": member.id})


@on_confirm("deactivate")
async def deactivate_confirmed(msg: Incoming, ctx: Context, payload: dict[str, Any]) -> None:
    member = await members.get(ctx.session, int(payload["id"]))
    await members.set_active(ctx.session, ctx.as_actor, member, False)
    ctx.reply(ctx._("{name} (#{id}) is deactivated.").format(name=member.display_name, id=member.id))


@command("reactivate", help=N_("Restore a member's access"), usage=N_("<member id>"), roles=MANAGERS)
async def reactivate(msg: Incoming, ctx: Context) -> None:
    member = await member_by_id(ctx, ctx.args, N_("Usage: /reactivate <member id>"))
    if member.active:
        members.check_can_set_active(ctx.as_actor, member)
        ctx.reply(ctx._("{name} (#{id}) is already active.").format(name=member.display_name, id=member.id))
        return
    await members.set_active(ctx.session, ctx.as_actor, member, True)
    ctx.reply(ctx._("{name} (#{id}) is active again.").format(name=member.display_name, id=member.id))
