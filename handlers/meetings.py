"""Meetings: the Secretariat records them, everyone sees what is coming; reminders/ reminds the audience.

/meeting                                                  upcoming meetings, times in your own zone
/meeting 3                                                one meeting, with its calendar file (.ics)
/meeting add "RANDOT V" 2027-05-12 10:00 America/Bogota place:"OAS HQ / https://…" register-by:2027-04-30
             [for:CO,PE] [hours:3]                        (the zone may be a state: its capital's zone)
/meeting cancel 3
/meeting add                                              (asks: name → start → place → registration deadline)

Importing this module also registers the scheduled messages of reminders/ (meetings, re-confirmation,
the weekly digest), whose renderers must be known wherever outbox rows are sent.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import available_timezones

from bot.commands import command
from bot.context import Context
from bot.dialogs import dialog
from bot.transports.base import Attachment, Incoming
from handlers.common import reader_zone
from reminders import digest, reconfirm  # noqa: F401  (registers their kinds and renderers)
from reminders.localtime import zone
from reminders.meetings import calendar, filename, plan_meeting, shown, tell_cancelled
from storage import meetings
from storage.errors import N_, InvalidInput
from storage.models import Meeting, State
from storage.text import fold, whole_number

USAGE = N_(
    'Usage: /meeting add "<name>" <YYYY-MM-DD> <HH:MM> <time zone or state> [place:"<place or link>"] '
    "[register-by:<YYYY-MM-DD>] [for:<states>] [hours:<length>]\n"
    'Example: /meeting add "RANDOT V" 2027-05-12 10:00 America/Bogota place:"OAS HQ, Washington" '
    "register-by:2027-04-30 for:CO,PE,MX\n"
    "/meeting lists upcoming meetings; /meeting <number> shows one with its calendar file; "
    "/meeting cancel <number> cancels one."
)
_ADD = {"add", "agregar", "anadir", "adicionar", "ajouter", "nueva", "new"}
_CANCEL = {"cancel", "cancelar", "annuler"}
_PLACE = {"place", "lugar", "local", "lieu", "link"}
_REGISTER = {"register by", "registration", "register", "registro", "inscripcion", "inscricao", "inscription"}
_FOR = {"for", "to", "para", "pour", "states"}
_HOURS = {"hours", "horas", "heures", "duration"}
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@cache
def _zones() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text[:10]) if len(text) == 10 else date.fromisoformat("x")
    except ValueError:
        raise InvalidInput(N_("Dates look like 2027-05-12 (year-month-day).")) from None


def _time(text: str) -> time:
    match = _TIME.match(text)
    if match is None:
        raise InvalidInput(N_("Times look like 10:00 or 14:30 (24-hour clock)."))
    return time(int(match.group(1)), int(match.group(2)))


async def _zone(ctx: Context, text: str) -> str:
    """An IANA zone (America/Bogota), or a state: its capital's zone."""
    found = _zones().get(text.strip().lower()[:64])
    if found is not None:
        return found
    state = (await ctx.snapshot()).state_names.exact(text[:60])
    if state is not None and state.code is not None:
        row = await ctx.session.get(State, state.code)
        if row is not None:
            return row.default_timezone
    raise InvalidInput(N_("Unknown time zone “{value}”. Use a name such as America/Bogota, or a state."),
                       value=text[:64])  # fmt: skip


async def _states(ctx: Context, text: str) -> list[str]:
    view = await ctx.snapshot()
    codes = []
    for name in text.split(",")[:40]:
        found = view.state_names.exact(name) if name.strip() else None
        if found is None or found.code is None:
            raise InvalidInput(N_("There is no state called “{typed}”. Send /states for the list."), typed=name[:40])
        codes.append(found.code)
    return codes


async def _add(ctx: Context, words: list[str]) -> None:
    if len(words) < 4:
        raise InvalidInput(USAGE)
    name, day, at, zone_text, *options = words
    zone_name = await _zone(ctx, zone_text)
    where = zone(zone_name)
    starts_at = datetime.combine(_date(day), _time(at), tzinfo=where)
    place, deadline, states, minutes = None, None, None, 120
    for option in options[:10]:
        key, sep, value = option.partition(":")
        key = fold(key)
        if not sep or not value.strip():
            raise InvalidInput(USAGE)
        if key in _PLACE:
            place = value.strip()
        elif key in _REGISTER:
            day_text, _, time_text = value.partition("T")
            moment = _time(time_text) if time_text else time(23, 59)
            deadline = datetime.combine(_date(day_text), moment, tzinfo=where)
        elif key in _FOR:
            states = await _states(ctx, value)
        elif key in _HOURS:
            hours = value.replace(",", ".")
            if not re.fullmatch(r"\d{1,3}(\.\d{1,2})?", hours):
                raise InvalidInput(N_("The length is in hours, e.g. hours:2 or hours:1.5."))
            minutes = round(float(hours) * 60)
        else:
            raise InvalidInput(USAGE)
    meeting = await meetings.add(
        ctx.session, ctx.as_actor, name=name, starts_at=starts_at, timezone=zone_name, now=ctx.now(),
        duration_minutes=minutes, place=place, registration_deadline=deadline, states=states,
    )  # fmt: skip
    planned = await plan_meeting(ctx.session, meeting, ctx.now())
    audience = len(await meetings.audience_zones(ctx.session, meeting))
    lines = [
        ctx._(N_("Meeting #{number} recorded: “{name}”, {when}.")).format(
            number=meeting.id, name=meeting.name, when=_when(ctx, meeting)
        ),
        ctx.ngettext(
            "Its audience has {n} member; {planned} reminders are planned.",
            "Its audience has {n} members; {planned} reminders are planned.",
            audience,
        ).format(n=audience, planned=planned),
    ]
    ctx.reply("\n".join(lines))


DIALOG = "meeting"
ASK_NAME = N_("What is the meeting called? /cancel stops.")
ASK_START = N_("When does it start? Date, time and time zone (or a state), e.g. 2027-05-12 10:00 America/Bogota.")
ASK_PLACE = N_("Where? A place or a link, or “no”.")
ASK_DEADLINE = N_("Registration deadline (e.g. 2027-04-30), or “no”.")
_NO = {"no", "nao", "non", "-"}
_STEPS = {"name": ("start", ASK_START), "start": ("place", ASK_PLACE), "place": ("deadline", ASK_DEADLINE)}


@dialog(DIALOG)
async def guided(msg: Incoming, ctx: Context) -> None:
    """``/meeting add`` alone: one question at a time; each answer is checked when the meeting is recorded,
    and a wrong one is asked again."""
    assert ctx.dialog is not None
    step, data, answer = ctx.dialog.step, dict(ctx.dialog.data), " ".join(ctx.args.split())[:600]
    if not answer:
        raise InvalidInput(ASK_NAME if step == "name" else _STEPS.get(step, ("", ASK_DEADLINE))[1])
    if step == "start":  # checked now, so that a wrong start is asked again at once
        parts = answer.split()
        if len(parts) != 3:
            raise InvalidInput(ASK_START)
        where = zone(await _zone(ctx, parts[2]))
        if datetime.combine(_date(parts[0]), _time(parts[1]), tzinfo=where) <= ctx.now():
            raise InvalidInput(N_("That moment has already passed; a meeting is recorded before it starts."))
    if step == "deadline" and fold(answer) not in _NO:
        _date(answer.partition("T")[0])
    data[step] = answer
    if step in _STEPS:
        following, question = _STEPS[step]
        await ctx.open_dialog(DIALOG, step=following, data=data)
        ctx.reply(ctx._(question))
        return
    words = [data["name"], *data["start"].split()]
    if fold(data["place"]) not in _NO:
        words.append(f"place:{data['place']}")
    if fold(answer) not in _NO:
        words.append(f"register-by:{answer}")
    await _add(ctx, words)
    await ctx.close_dialog()


def _when(ctx: Context, meeting: Meeting) -> str:
    """In the reader's zone, and in the meeting's when that differs."""
    mine = reader_zone(ctx).key
    text = f"{shown(meeting.starts_at, mine, ctx.language)} ({mine})"
    if reader_zone(ctx).utcoffset(meeting.starts_at) != _offset(meeting):
        text += f" · {shown(meeting.starts_at, meeting.timezone, ctx.language)} ({meeting.timezone})"
    return text


def _offset(meeting: Meeting) -> timedelta | None:
    return zone(meeting.timezone).utcoffset(meeting.starts_at)


def _line(ctx: Context, meeting: Meeting) -> str:
    parts = [f"#{meeting.id} {meeting.name} — {_when(ctx, meeting)}"]
    if meeting.place:
        parts.append(meeting.place)
    if meeting.registration_deadline is not None:
        deadline = shown(meeting.registration_deadline, reader_zone(ctx).key, ctx.language)
        parts.append(ctx._(N_("registration until {deadline}")).format(deadline=deadline))
    if meeting.states:
        parts.append(", ".join(meeting.states))
    return " · ".join(parts)


async def _number(text: str) -> int:
    number = whole_number(text.strip().lstrip("#"))
    if number is None:
        raise InvalidInput(N_("Meeting numbers look like 3 or #3."))
    return number


@command(
    "meeting",
    help=N_("Upcoming meetings; the Secretariat records and cancels them"),
    usage=N_('[<number> | add "<name>" <date> <time> <zone> … | cancel <number>]'),
    aliases=("meetings", "reunion", "reuniao"),
)
async def meeting(msg: Incoming, ctx: Context) -> None:
    words = ctx.argv
    action = fold(words[0]) if words else ""
    if action in _ADD:
        meetings.ensure_may_manage(ctx.as_actor)  # before any parsing: the others learn only that they may not
        if len(words) == 1:  # step by step
            await ctx.open_dialog(DIALOG, step="name")
            ctx.reply(ctx._(ASK_NAME))
            return
        await _add(ctx, words[1:])
    elif action in _CANCEL:
        if len(words) != 2:
            raise InvalidInput(USAGE)
        row = await meetings.get(ctx.session, await _number(words[1]))
        withdrawn = await meetings.cancel(ctx.session, ctx.as_actor, row, ctx.now())
        told = await tell_cancelled(ctx.session, row)
        ctx.reply(
            ctx._(N_("Meeting #{number}, “{name}”, is cancelled: {withdrawn} planned reminders withdrawn, "
                     "{told} members who had been reminded are told.")).format(
                number=row.id, name=row.name, withdrawn=withdrawn, told=told)
        )  # fmt: skip
    elif action:
        row = await meetings.get(ctx.session, await _number(words[0]))
        attachment = Attachment(filename(row), calendar(row, cancelled=row.cancelled_at is not None), "text/calendar")
        text = _line(ctx, row)
        if row.cancelled_at is not None:
            text += "\n" + ctx._(N_("This meeting is cancelled."))
        ctx.reply(text, attachment=attachment)
    else:
        rows = await meetings.upcoming(ctx.session, ctx.now())
        if not rows:
            ctx.reply(ctx._(N_("No upcoming meetings.")))
            return
        ctx.reply("\n".join([ctx._(N_("Upcoming meetings (/meeting <number> for the calendar file):")),
                             *(_line(ctx, m) for m in rows[:30])]))  # fmt: skip
