"""Announcements, as conversations: audiences (combined, empty), languages and fallback, acknowledgements,
the report to the author, /deliveries, and refusal for every role but the Secretariat."""

from __future__ import annotations

from sqlalchemy import select

from storage import members
from storage.access import Actor
from storage.models import AuditEvent, Member, OutboxItem, Relay
from tests.fakes.chat import ChatPlatform

SECRETARIAT = "secretariat"


HEADS = ("Announcement #", "Anuncio #", "Comunicado #", "Annonce #")


def announcement_to(chat: ChatPlatform, user: str) -> str:
    return next(
        s.message.text for s in reversed(chat.sent) if s.to.user_id == user and s.message.text.startswith(HEADS)
    )


async def test_only_the_secretariat_may_announce(chat: ChatPlatform) -> None:
    async with chat.app.db.transaction() as session:  # type: ignore[attr-defined]
        police = await session.scalar(select(Member).where(Member.display_name == "Marisol Tapia"))
        assert police is not None and police.role == "official"
        await members.link_identity(session, Actor.system("test"), police, platform="console", user_id="MX-police",
                                    chat_id="console:MX-police")  # fmt: skip
    for user in ("MX", "MX-police"):
        assert "/announce is not available to your role" in await chat.say("/announce to:all Hello", user=user)
        assert "/deliveries is not available to your role" in await chat.say("/deliveries", user=user)
    assert "/announce is not available" not in await chat.say("/help", user="MX")  # not even listed
    async with chat.app.db.transaction() as session:  # type: ignore[attr-defined]
        assert list(await session.scalars(select(Relay))) == []


async def test_combined_audience_languages_acknowledgement_and_report(chat: ChatPlatform) -> None:
    await chat.say("/language es", user="CO")
    await chat.say("/language fr", user="PE")  # no French text: gets the first one given
    question = await chat.say(
        "/announce to:CO,PE,MX role:contact ack en: Meeting on Friday at 10:00 | es: Reunión el viernes a las 10:00",
        user=SECRETARIAT,
    )
    assert "Send announcement to 3 members (3 Console)?" in question
    assert "Languages: en: 2, es: 1." in question
    assert not any(s.message.text.startswith(HEADS) for s in chat.received("CO"))  # nothing before "yes"
    done = await chat.say("yes", user=SECRETARIAT)
    assert "Announcement #1 is going out to 3 members" in done
    assert "Reunión el viernes a las 10:00" in announcement_to(chat, "CO")
    assert announcement_to(chat, "CO").startswith("Anuncio #1 de la Secretaría de la OEA")
    assert "Meeting on Friday at 10:00" in announcement_to(chat, "PE")
    assert "Meeting on Friday" in announcement_to(chat, "MX")
    report = chat.last(SECRETARIAT)
    assert "Announcement #1 has gone out: 3 sent, 0 failed; 0 acknowledged so far" in report
    copy = next(s for s in reversed(chat.sent) if s.to.user_id == "MX" and s.message.buttons)
    assert copy.message.buttons == (("Received", "/ack 1"),)
    assert "acknowledged" in await chat.say(copy.message.buttons[0][1], user="MX")
    status = await chat.say("/deliveries 1", user=SECRETARIAT)
    assert "3 sent, 0 failed, 0 queued" in status and "1 of 3 acknowledged" in status
    assert "CO: Pablo Vargas" in status and "PE: Sofía Ibáñez" in status and "MX:" not in status
    overview = await chat.say("/deliveries", user=SECRETARIAT)
    assert "#1 · to:CO,PE,MX role:contact" in overview
    async with chat.app.db.transaction() as session:  # type: ignore[attr-defined]
        event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "announce.send"))
    assert event is not None and event.after is not None
    assert event.after["copies"] == 3 and event.after["languages"] == {"en": 2, "es": 1}
    assert event.actor_member_id is not None


async def test_the_dialog_asks_audience_texts_file_then_confirms(chat: ChatPlatform) -> None:
    assert "Who is it for?" in await chat.say("/announce", user=SECRETARIAT)
    assert "The text." in await chat.say("to:all topic:tip", user=SECRETARIAT)
    assert "Noted (en)" in await chat.say("en: Training on victim identification", user=SECRETARIAT)
    assert "Noted (en, es)" in await chat.say("es: Capacitación sobre identificación de víctimas", user=SECRETARIAT)
    assert "Attach a file" in await chat.say("done", user=SECRETARIAT)
    question = await chat.say("no", user=SECRETARIAT)
    handling = question.split("Send announcement to ")[1].split(" ")[0]
    assert int(handling) == 7  # the seven states whose contact handles trafficking in persons
    assert "more have no linked chat account" in question  # Argentina's alternate handles it, without a chat
    await chat.say("yes", user=SECRETARIAT)
    assert "Training on victim identification" in announcement_to(chat, "BO")  # Bolivia's contact: tip
    assert not any("Announcement #" in s.message.text for s in chat.received("MX"))  # Mexico's: not tip


async def test_empty_audiences_and_texts_are_refused_and_nothing_is_queued(chat: ChatPlatform) -> None:
    cases = {
        "/announce Hello everyone": "Say who it is for",
        "/announce to:all": "The announcement has no text",
        "/announce to:all " + "x" * 4001: "4001 characters long; an announcement holds at most 4000",
        "/announce to:Atlantis Hello": "There is no state called “Atlantis”",
        "/announce role:king Hello": "Roles are contact, official or secretariat",
        "/announce to:all topic:astrology Hello": "I do not know the topic “astrology”",
        "/announce to:AR role:official Hello": "No active member matches that audience",
        "/deliveries 99": "There is no announcement #99",
    }
    for text, expected in cases.items():
        assert expected in await chat.say(text, user=SECRETARIAT), text
    async with chat.app.db.transaction() as session:  # type: ignore[attr-defined]
        assert list(await session.scalars(select(OutboxItem))) == []
