"""/audit: the Secretariat reads the audit trail — all of it, one member's or one state's — for a number of
days, newest last. The whole trail, with the records before and after, is `pocnet audit export`."""

from __future__ import annotations

import re
from datetime import timedelta

from babel.dates import format_date, format_time

from bot.commands import command
from bot.context import Context
from bot.transports.base import Incoming
from handlers.common import member_by_id, reader_zone
from storage import audit_query, states
from storage.access import Role
from storage.errors import N_, InvalidInput
from storage.models import AuditEvent
from storage.types import utcnow

DEFAULT_DAYS, MAX_DAYS = 7, 365
SHOWN = 40  # the newest events shown in a chat; the export has them all
USAGE = N_("Usage: /audit [member id | state code] [days, 1-365]")
_DAYS = re.compile(r"^(\d{1,3})d?$")


def _split(words: list[str]) -> tuple[str | None, int]:
    """(subject, days) from ``[subject] [days]``: ``/audit``, ``/audit 30d``, ``/audit MX 30``, ``/audit #42``."""
    days = DEFAULT_DAYS
    if words and (match := _DAYS.match(words[-1].lower())) and (len(words) == 2 or words[-1].lower().endswith("d")):
        days = int(match.group(1))
        words = words[:-1]
    if len(words) > 1 or not 1 <= days <= MAX_DAYS:
        raise InvalidInput(USAGE)
    return (words[0] if words else None), days


def _line(ctx: Context, event: AuditEvent) -> str:
    local = event.at.astimezone(reader_zone(ctx))
    moment = f"{format_date(local, 'medium', locale=ctx.language)} {format_time(local, 'HH:mm', locale=ctx.language)}"
    record = event.after or event.before or {}
    name = record.get("display_name")
    subject = f"{event.subject_type} #{event.subject_id}" + (f" {name}" if name else "")
    return f"{moment} · {event.actor} · {event.action} · {subject}"


@command(
    "audit", help=N_("Read the audit trail"), usage=N_("[member id | state code] [days]"), roles={Role.SECRETARIAT}
)
async def audit(msg: Incoming, ctx: Context) -> None:
    subject, days = _split(ctx.argv)
    since = utcnow() - timedelta(days=days)
    if subject is None:
        found = await audit_query.events(ctx.session, since=since)
        title = ctx._("Audit trail, last {days} days ({zone}): {count} events")
    elif subject.lstrip("#").isdigit():
        member = await member_by_id(ctx, subject, USAGE)
        found = await audit_query.events(ctx.session, since=since, member_id=member.id)
        title = ctx._("Audit trail of {subject}, last {days} days ({zone}): {count} events")
        subject = f"{member.display_name} (#{member.id})"
    elif len(subject) == 2 and subject.isalpha():
        state = await states.get(ctx.session, subject)
        found = await audit_query.events(ctx.session, since=since, state_code=state.code)
        title = ctx._("Audit trail of {subject}, last {days} days ({zone}): {count} events")
        subject = f"{state.name(ctx.language)} ({state.code})"
    else:
        raise InvalidInput(USAGE)
    lines = [title.format(subject=subject, days=days, zone=reader_zone(ctx).key, count=len(found))]
    if not found:
        lines.append(ctx._("Nothing was recorded."))
    if len(found) > SHOWN:
        earlier = len(found) - SHOWN
        lines.append(
            ctx._("… {count} earlier events not shown: `pocnet audit export --since {date}` lists them all.").format(
                count=earlier, date=since.date().isoformat()
            )
        )
        found = found[-SHOWN:]
    lines.extend(_line(ctx, event) for event in found)
    ctx.reply("\n".join(lines))
