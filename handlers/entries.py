"""Keeping the directory current: /myentry, /confirm (everyone, own entry); /entry, /verify, /export
(Secretariat, any entry). Who may change what is decided in storage (access, entry_fields)."""

from __future__ import annotations

from bot.commands import command
from bot.context import Context
from bot.transports.base import Attachment, Incoming
from handlers.cards import entry_card
from handlers.common import member_by_id, when
from handlers.figure_files import export_figures
from storage import directory, exchange, invites, members, vocabularies
from storage.access import Role
from storage.entry_fields import field_list, field_named
from storage.errors import N_, InvalidInput
from storage.lookup import leading_name
from storage.models import Member
from storage.text import fold
from storage.types import utcnow
from storage.vocabularies import FUNCTION_NAMES

SECRETARIAT = frozenset({Role.SECRETARIAT})
FIGURE_WORDS = {"figures", "cifras", "dados", "chiffres"}  # /export figures …: the reporting rounds' figures


def _edit_hint(ctx: Context, command_prefix: str) -> str:
    return ctx._("Change a field with {command} set <field> <value>. Fields: {fields}.").format(
        command=command_prefix, fields=field_list(ctx.language, secretariat=False)
    )


async def _set(ctx: Context, member: Member, words: str, usage: str) -> None:
    name, _, value = words.partition(" ")
    if not name or not value.strip():
        raise InvalidInput(usage)
    field = field_named(name)
    if field is None:  # listed in the member's language
        secretariat = ctx.as_actor.is_secretariat
        raise InvalidInput(
            N_("Unknown field “{name}”. Fields: {fields}."),
            name=name,
            fields=field_list(ctx.language, secretariat=secretariat),
        )
    await directory.set_field(ctx.session, ctx.as_actor, member, field.name, value)
    ctx.reply(ctx._("Saved.") + "\n" + entry_card(ctx, member, utcnow()))


@command("myentry", help=N_("Show or edit your own directory entry"), usage=N_("[set <field> <value>]"))
async def myentry(msg: Incoming, ctx: Context) -> None:
    action, _, rest = ctx.args.partition(" ")
    if not action:
        ctx.reply(entry_card(ctx, ctx.me, utcnow()) + "\n\n" + _edit_hint(ctx, "/myentry"))
    elif action.lower() == "set":
        await _set(
            ctx,
            ctx.me,
            rest.strip(),
            N_("Usage: /myentry set <field> <value>, for example /myentry set hours Mon-Fri 09:00-17:00"),
        )
    else:
        raise InvalidInput(N_("Usage: /myentry, or /myentry set <field> <value>"))


@command("confirm", help=N_("Confirm that your directory entry is current"))
async def confirm(msg: Incoming, ctx: Context) -> None:
    member = await directory.confirm(ctx.session, ctx.as_actor, ctx.me)
    assert member.last_confirmed_at is not None
    ctx.reply(
        ctx._("Thank you: your entry is confirmed as current on {date}.").format(
            date=when(ctx, member.last_confirmed_at)
        )
    )


ENTRY_USAGE = N_(
    "Usage: /entry <id> · /entry <id> set <field> <value> · /entry <id> invite · /entry add <state> <function> <name>"
)


@command(
    "entry",
    help=N_("Show, edit or add any directory entry"),
    usage=N_("<id> [set <field> <value>] | add …"),
    roles=SECRETARIAT,
)
async def entry(msg: Incoming, ctx: Context) -> None:
    words = ctx.args.split(maxsplit=2)
    if not words:
        raise InvalidInput(ENTRY_USAGE)
    if words[0].lower() == "add":
        await _add(ctx, ctx.args.split()[1:])
        return
    member = await member_by_id(ctx, words[0], ENTRY_USAGE)
    action = words[1].lower() if len(words) > 1 else ""
    if not action:
        status = "" if member.active else "\n" + ctx._("Status: deactivated")
        ctx.reply(entry_card(ctx, member, utcnow()) + status)
    elif action == "set":
        await _set(ctx, member, words[2] if len(words) > 2 else "", ENTRY_USAGE)
    elif action == "invite":
        new = await invites.create(
            ctx.session, ctx.as_actor, role=Role(member.role), state_code=member.state_code, member=member
        )
        ctx.reply(
            ctx._("Code for {name} to join: {code} (valid until {until}). They send /start {code} to pocnet.").format(
                name=member.display_name, code=new.code, until=when(ctx, new.invite.expires_at)
            )
        )
    else:
        raise InvalidInput(ENTRY_USAGE)


async def _add(ctx: Context, words: list[str]) -> None:
    """``/entry add <state> <function> <name>``; the state and the function may be names of several words
    ("Saint Vincent and the Grenadines", "Estados Unidos", "punto de contacto nacional")."""
    if len(words) < 3:
        raise InvalidInput(ENTRY_USAGE)
    state_code, used = leading_name(await vocabularies.states(ctx.session), words)
    if state_code is None:
        raise InvalidInput(N_("Unknown state “{value}”."), value=words[0])
    function_code, taken = leading_name(FUNCTION_NAMES, words[used:])
    if function_code is None:
        raise InvalidInput(
            N_("Unknown function “{value}”. Send /functions for the list."), value=(words[used:] or [""])[0]
        )
    name = " ".join(words[used + taken :])
    if not name:
        raise InvalidInput(ENTRY_USAGE)
    role = Role.CONTACT if function_code in ("npc", "alternate") else Role.OFFICIAL
    member = await members.create(
        ctx.session, ctx.as_actor, display_name=name, role=role, state_code=state_code, function=function_code
    )
    ctx.reply(
        ctx._(
            "Entry #{id} added. Complete it with /entry {id} set <field> <value>; /entry {id} invite gives a code to join."
        ).format(id=member.id)
        + "\n"
        + entry_card(ctx, member, utcnow())
    )


@command("verify", help=N_("Mark an entry as verified by the Secretariat"), usage=N_("<id>"), roles=SECRETARIAT)
async def verify(msg: Incoming, ctx: Context) -> None:
    member = await member_by_id(ctx, ctx.args, N_("Usage: /verify <id>"))
    await directory.verify(ctx.session, ctx.as_actor, member)
    ctx.reply(ctx._("{name} (#{id}) is verified.").format(name=member.display_name, id=member.id))


@command(
    "export",
    help=N_("Get the directory or the figures as a file"),
    usage=N_("[csv|vcf] | figures [year] [csv|xlsx]"),
    roles=SECRETARIAT,
)
async def export(msg: Incoming, ctx: Context) -> None:
    words = ctx.args.split()
    if words and fold(words[0]) in FIGURE_WORDS:
        await export_figures(ctx, words[1:])
        return
    kind = (ctx.args.strip().lower() or "csv").lstrip(".")
    stamp = f"{utcnow():%Y-%m-%d}"
    if kind == "csv":
        data = await exchange.export_csv(ctx.session, actor=ctx.as_actor)
        attachment = Attachment(f"pocnet-directory-{stamp}.csv", data, "text/csv")
    elif kind in ("vcf", "vcard"):
        data = await exchange.export_vcards(ctx.session, actor=ctx.as_actor)
        attachment = Attachment(f"pocnet-directory-{stamp}.vcf", data, "text/vcard")
    else:
        raise InvalidInput(N_("Usage: /export csv, /export vcf or /export figures [year] [csv|xlsx]"))
    ctx.reply(ctx._("The directory as of {date}.").format(date=when(ctx, utcnow())), attachment=attachment)
