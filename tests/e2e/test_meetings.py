"""/meeting on the fake chat: the Secretariat records and cancels meetings, everyone lists them in their own
zone and fetches the calendar file; a reminder that comes due reaches the member with the .ics attached."""

from __future__ import annotations

from datetime import UTC, datetime

import icalendar
from sqlalchemy import func, select

from storage.models import Meeting, Reminder
from tests.fakes.chat import ChatPlatform
from tests.fakes.schedule import fire_due

ADD = '/meeting add "RANDOT V" 2027-05-12 10:00 Colombia place:"OAS HQ / https://meet.example.org/r5" register-by:2027-04-30 for:CO,MX'


async def test_the_secretariat_records_a_meeting_and_members_see_it_in_their_zone(chat: ChatPlatform) -> None:
    assert await chat.say(ADD, user="MX") == "You are not allowed to do that."
    answer = await chat.say(ADD, user="secretariat")
    assert "Meeting #1 recorded: “RANDOT V”, Wednesday, May 12, 2027, 11:00 (America/New_York)" in answer
    assert "10:00 (America/Bogota)" in answer and "reminders are planned" in answer
    db = chat.app.db  # type: ignore[attr-defined]
    async with db.transaction() as session:
        meeting = await session.get(Meeting, 1)
        assert meeting is not None and meeting.states == ["CO", "MX"] and meeting.timezone == "America/Bogota"
        assert meeting.registration_deadline == datetime(2027, 5, 1, 4, 59, tzinfo=UTC)
        assert await session.scalar(select(func.count(Reminder.id)).where(Reminder.meeting_id == 1)) > 8

    listing = await chat.say("/meeting", user="MX")
    assert "#1 RANDOT V — Wednesday, May 12, 2027, 09:00 (America/Mexico_City)" in listing
    assert "10:00 (America/Bogota) · OAS HQ / https://meet.example.org/r5 · registration until" in listing
    assert "CO, MX" in listing
    await chat.say("/meeting 1", user="MX")
    sent = chat.received("MX")[-1].message
    assert sent.attachment is not None and sent.attachment.filename == "RANDOT-V.ics"
    event = next(iter(icalendar.Calendar.from_ical(sent.attachment.content).walk("VEVENT")))
    assert event.decoded("DTSTART") == datetime(2027, 5, 12, 15, 0, tzinfo=UTC)

    # the registration reminder a week before the deadline reaches Mexico with its calendar file
    await fire_due(db, datetime(2027, 4, 23, 16, 0, tzinfo=UTC), kinds=("registration",))
    await chat.idle()  # type: ignore[misc]
    reminder = chat.received("MX")[-1].message
    assert "RANDOT V" in reminder.text and "America/Mexico_City" in reminder.text
    assert reminder.attachment is not None and reminder.attachment.mime_type == "text/calendar"

    assert await chat.say("/meeting cancel 1", user="MX") == "You are not allowed to do that."
    cancelled = await chat.say("/meeting cancel 1", user="secretariat")
    assert (
        "Meeting #1, “RANDOT V”, is cancelled:" in cancelled and "3 members who had been reminded are told" in cancelled
    )
    notice = chat.received("MX")[-1].message
    assert "“RANDOT V”" in notice.text and notice.attachment is not None  # the .ics that removes it
    assert b"METHOD:CANCEL" in notice.attachment.content
    assert await chat.say("/meeting", user="secretariat") == "No upcoming meetings."


async def test_bad_meeting_input_gets_a_clear_answer(chat: ChatPlatform) -> None:
    assert "Usage: /meeting add" in await chat.say('/meeting add "X" 2027-05-01', user="secretariat")
    assert "Dates look like 2027-05-12" in await chat.say('/meeting add "X" 2027-13-01 10:00 CO', user="secretariat")
    assert "Times look like 10:00" in await chat.say('/meeting add "X" 2027-05-01 25:00 CO', user="secretariat")
    assert "Unknown time zone “Mars/Base”" in await chat.say('/meeting add "X" 2027-05-01 10:00 Mars/Base',
                                                             user="secretariat")  # fmt: skip
    assert "already passed" in await chat.say('/meeting add "X" 2020-05-01 10:00 UTC', user="secretariat")
    assert "There is no state called “Atlantis”" in await chat.say(
        '/meeting add "X" 2027-05-01 10:00 UTC for:Atlantis', user="secretariat"
    )
    assert "There is no meeting #9." in await chat.say("/meeting 9", user="MX")
    assert "Meeting numbers look like" in await chat.say("/meeting soon", user="MX")
    long = "x" * 300
    assert "at most 200 characters" in await chat.say(f'/meeting add "{long}" 2027-05-01 10:00 UTC', user="secretariat")


async def test_a_meeting_can_be_recorded_step_by_step(chat: ChatPlatform) -> None:
    assert "What is the meeting called?" in await chat.say("/meeting add", user="secretariat")
    assert "When does it start?" in await chat.say("Coordination call", user="secretariat")
    assert "Dates look like" in await chat.say("2027-02-30 10:00 PE", user="secretariat")  # asked again
    assert "Where?" in await chat.say("2027-03-01 10:00 Peru", user="secretariat")
    assert "Registration deadline" in await chat.say("no", user="secretariat")
    assert "Dates look like" in await chat.say("soon", user="secretariat")
    done = await chat.say("no", user="secretariat")
    assert "Meeting #1 recorded: “Coordination call”, Monday, March 1, 2027, 10:00 (America/New_York)" in done
    assert "10:00 (America/Lima)" not in done  # the same offset in March: shown once
    assert "#1 Coordination call" in await chat.say("/meeting", user="CO")
    assert await chat.say("/meeting add", user="CO") == "You are not allowed to do that."
