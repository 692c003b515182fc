"""Small formatting helpers shared by handlers: labels, dates in the reader's time zone, member cards."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

from bot.context import Context
from bot.i18n import language_name
from storage import members
from storage.access import Role
from storage.errors import N_, InvalidInput
from storage.models import Member
from storage.readmodel import EntryView
from storage.text import whole_number

Person = Member | EntryView  # a live row (transactions) or a snapshot entry (lookups): the same attributes

ROLE_LABELS = {
    Role.SECRETARIAT: N_("OAS Secretariat"),
    Role.CONTACT: N_("national point of contact"),
    Role.OFFICIAL: N_("delegated official"),
}


def role_label(ctx: Context, role: str) -> str:
    return ctx._(ROLE_LABELS[Role(role)])


@cache
def zone(name: str) -> ZoneInfo:
    """ZoneInfo keeps only a few zones strongly cached; a directory shows dozens, so keep them all."""
    return ZoneInfo(name)


def zone_of(member: Person | None) -> ZoneInfo:
    """A person's own time zone, else their state's capital's, else UTC."""
    if member is not None:
        if member.timezone:
            return zone(member.timezone)
        if member.state is not None:
            return zone(member.state.default_timezone)
    return zone("UTC")


def reader_zone(ctx: Context) -> ZoneInfo:
    return zone(ctx.sender.timezone) if ctx.sender is not None else zone("UTC")


def when(ctx: Context, moment: datetime) -> str:
    """A moment in the reader's time zone and language, e.g. "27 nov 2026, 14:05 (America/Mexico_City)"."""
    zone = reader_zone(ctx)
    local = moment.astimezone(zone)
    text = f"{format_date(local, 'medium', locale=ctx.language)} {format_time(local, 'HH:mm', locale=ctx.language)}"
    return f"{text} ({zone.key})"


def state_label(ctx: Context, member: Person) -> str:
    if member.state is None:
        return ctx._(N_("OAS General Secretariat"))
    return f"{member.state.name(ctx.language)} ({member.state.code})"


async def member_by_id(ctx: Context, text: str, usage: str) -> Member:
    """The member a command names by id ("42" or "#42"); ``usage`` explains the command otherwise."""
    number = whole_number(text.strip().lstrip("#"))
    if number is None:  # ASCII digits within the database's range, or the usage
        raise InvalidInput(usage)
    return await members.get(ctx.session, number)


def card_head(ctx: Context, member: Person, role_line: str) -> list[str]:
    """The first lines of every card about a person: name and id, role, state, institution."""
    lines = [
        f"{member.display_name} (#{member.id})",
        role_line,
        ctx._("State: {state}").format(state=state_label(ctx, member)),
    ]
    if member.institution:
        lines.append(ctx._("Institution: {institution}").format(institution=member.institution))
    return lines


def member_card(ctx: Context, member: Member) -> str:
    _ = ctx._
    lines = card_head(ctx, member, _("Role: {role}").format(role=role_label(ctx, member.role)))
    lang = member.language or ctx.language
    lines.append(_("Language: {language}").format(language=language_name(lang, ctx.language)))
    platforms = sorted({i.platform for i in member.identities})
    lines.append(_("Linked accounts: {platforms}").format(platforms=", ".join(platforms) or "—"))
    if not member.active:
        lines.append(_("Status: deactivated"))
    lines.append(_("Member since: {date}").format(date=when(ctx, member.created_at)))
    return "\n".join(lines)
