"""Night shifts, split hours and round-the-clock desks in a conversation (issue 10)."""

from __future__ import annotations

from tests.fakes.chat import ChatPlatform


async def test_night_shift_split_hours_and_24_7(chat: ChatPlatform) -> None:
    assert "(Mon-Fri 17:00–09:00)" in await chat.say("/myentry set hours Mon-Fri 17:00-09:00", user="MX")
    assert "(Mon 09:00–17:00, Tue 10:00–12:00)" in await chat.say("/myentry set hours Mon 9-17, Tue 10-12", user="MX")
    desk = await chat.say("/myentry set hours 24/7", user="MX")
    assert "within office hours (24/7)" in desk
    assert "within office hours (24/7)" in await chat.say("/whois mexico", user="BR")
    await chat.say("/language es", user="CO")
    saved = await chat.say("/myentry set horario lun-vie 9-13, 15-19", user="CO")
    assert "lun-vie 09:00–13:00, lun-vie 15:00–19:00" in saved


async def test_unreadable_hours_say_what_is_wrong(chat: ChatPlatform) -> None:
    assert "“funday” is not a day of the week" in await chat.say("/myentry set hours funday 9-17", user="MX")
    assert "I cannot find the times in “mon-fri”" in await chat.say("/myentry set hours mon-fri", user="MX")
    assert "does not exist" in await chat.say("/myentry set hours mon 9-25", user="MX")
    await chat.say("/language es", user="MX")
    assert "«funday» no es un día de la semana" in await chat.say("/myentry set horario funday 9-17", user="MX")
