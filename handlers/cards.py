"""How directory entries read: one compact block per person in lists, a full card for /contact."""

from __future__ import annotations

from datetime import datetime
from functools import cache, lru_cache

from bot.context import Context
from bot.i18n import Translator, language_name
from handlers.common import Person, card_head, when, zone, zone_of
from storage import hours
from storage.errors import N_
from storage.readmodel import EntryView
from storage.taxonomy import COMPETENCE_BY_CODE, FUNCTION_BY_CODE


def function_name(ctx: Context, code: str) -> str:
    term = FUNCTION_BY_CODE.get(code)
    return term.name(ctx.language) if term else code


def competence_names(ctx: Context, member: Person) -> str:
    return _competence_names(tuple(member.competences), ctx.language)


@cache
def _competence_names(codes: tuple[str, ...], language: str) -> str:
    return ", ".join(COMPETENCE_BY_CODE[c].name(language) for c in codes if c in COMPETENCE_BY_CODE)


def spoken(ctx: Context, member: Person) -> str:
    return _spoken(tuple(member.languages), ctx.language)


@cache
def _spoken(codes: tuple[str, ...], language: str) -> str:
    return ", ".join(language_name(code, language) for code in codes)


def availability(ctx: Context, member: Person, now: datetime) -> str:
    """ "Local time 14:05 — within office hours (Mon-Fri 09:00–17:00)" in the reader's language."""
    minute = now.replace(second=0, microsecond=0)
    return _availability(zone_of(member).key, member.office_hours, ctx.translator, minute)


@lru_cache(maxsize=4096)
def _availability(zone_name: str, office_hours: str | None, translator: Translator, minute: datetime) -> str:
    _ = translator.gettext
    local = f"{minute.astimezone(zone(zone_name)):%H:%M}"  # 24-hour clock, as pocnet shows times everywhere
    if not office_hours:
        return _("Local time {time} — office hours not given").format(time=local)
    office = hours.parse(office_hours)
    shown = office.shown(translator.language)
    if office.is_open(minute, zone(zone_name)):
        return _("Local time {time} — within office hours ({hours})").format(time=local, hours=shown)
    return _("Local time {time} — outside office hours ({hours})").format(time=local, hours=shown)


def entry_block(ctx: Context, member: EntryView, now: datetime, number: int, *, with_state: bool = False) -> str:
    """A person in a list: name, function, institution; topics and languages; local time and office hours."""
    block = _block(member, ctx.translator, now.replace(second=0, microsecond=0), with_state)
    if member.away_until is not None and member.away_until > now:
        block += "\n   " + away_line(ctx, member)
    return f"{number}. {block}"


def away_line(ctx: Context, member: Person) -> str:
    """ "Away until …; Ana Pérez covers" — who receives their relays meanwhile."""
    assert member.away_until is not None
    delegate = ctx.directory.get_active(member.away_delegate_id) if member.away_delegate_id else None
    if delegate is not None:
        return ctx._(N_("Away until {until}; {name} covers (/contact {id})")).format(
            until=when(ctx, member.away_until), name=delegate.display_name, id=delegate.id
        )
    return ctx._(N_("Away until {until}; another contact of the state covers")).format(
        until=when(ctx, member.away_until)
    )


@lru_cache(maxsize=8192)
def _block(member: EntryView, translator: Translator, minute: datetime, with_state: bool) -> str:
    # Keyed on the snapshot entry itself (hashed by identity): entries are replaced, never changed, when
    # data changes — which is why this takes an EntryView and never a live ORM Member.
    language = translator.language
    where = f" ({member.state_code or 'OAS'})" if with_state else ""
    function = FUNCTION_BY_CODE.get(member.function)
    first = f"{member.display_name}{where} — {function.name(language) if function else member.function}"
    if member.institution:
        first += f" · {member.institution}"
    lines = [first]
    details = [
        d
        for d in (_competence_names(tuple(member.competences), language), _spoken(tuple(member.languages), language))
        if d
    ]
    if details:
        lines.append("   " + " · ".join(details))
    status = _availability(zone_of(member).key, member.office_hours, translator, minute)
    lines.append(f"   {status} · /contact {member.id}")
    return "\n".join(lines)


def entry_card(ctx: Context, member: Person, now: datetime) -> str:
    _ = ctx._
    lines = card_head(ctx, member, _("Function: {function}").format(function=function_name(ctx, member.function)))
    if member.competences:
        lines.append(_("Competences: {competences}").format(competences=competence_names(ctx, member)))
    if member.languages:
        lines.append(_("Languages spoken: {languages}").format(languages=spoken(ctx, member)))
    lines.append(f"{availability(ctx, member, now)} [{zone_of(member).key}]")
    if member.email:
        lines.append(_("E-mail: {email}").format(email=member.email))
    if member.phone:
        lines.append(_("Phone: {phone}").format(phone=member.phone))
    platforms = sorted({identity.platform for identity in member.identities})
    if platforms:
        lines.append(_("Reachable on: {platforms}").format(platforms=", ".join(platforms)))
    if isinstance(member, EntryView) and member.away_until is not None and member.away_until > now:
        lines.append(away_line(ctx, member))
    confirmed = when(ctx, member.last_confirmed_at) if member.last_confirmed_at else _("never")
    lines.append(_("Last confirmed: {date}").format(date=confirmed))
    if member.verified_at:
        lines.append(_("Verified by the Secretariat: {date}").format(date=when(ctx, member.verified_at)))
    return "\n".join(lines)
