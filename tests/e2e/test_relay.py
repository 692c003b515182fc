"""Relaying, as conversations: sending (one line and dialog), what recipients see, answers that travel
back, acknowledgements, status, failures reported to the sender, limits and bad input, and the audit."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from bot import logs
from storage import members
from storage.access import Actor
from storage.models import AuditEvent, Member, OutboxItem, Relay
from tests.fakes.chat import ChatPlatform, Sent


async def member_of(chat: ChatPlatform, state: str, function: str = "npc") -> Member:
    async with chat.app.db.transaction() as session:  # type: ignore[attr-defined]
        found = await session.scalar(select(Member).where(Member.state_code == state, Member.function == function))
        assert found is not None
        return found


async def link(chat: ChatPlatform, state: str, function: str, user: str) -> Member:
    """Give a sample specialist (who has no chat account) one on this platform, as ``user``."""
    async with chat.app.db.transaction() as session:  # type: ignore[attr-defined]
        found = await session.scalar(select(Member).where(Member.state_code == state, Member.function == function))
        assert found is not None
        await members.link_identity(session, Actor.system("test"), found, platform="console", user_id=user,
                                    chat_id=f"console:{user}")  # fmt: skip
        return found


def copy_to(chat: ChatPlatform, user: str) -> Sent:
    """The last relay copy ``user`` received (copies carry an Acknowledge button)."""
    return next(
        s
        for s in reversed(chat.sent)
        if s.to.user_id == user and any(d.startswith("/ack") for _, d in s.message.buttons)
    )


async def test_a_relay_reaches_the_state_and_says_who_sent_it_under_which_label(chat: ChatPlatform) -> None:
    receipt = await chat.say("/relay CO Two suspects cross at Ipiales tonight", user="MX")
    assert "Relay #1 (TLP:AMBER) is on its way to 1 person: Pablo Vargas (CO)" in receipt
    assert "Camilo Restrepo" in receipt and "no linked account" in receipt  # the customs officer has no chat
    copy = copy_to(chat, "CO").message
    assert copy.text.splitlines()[0] == "Relay #1 from Lucía Núñez (national point of contact, Mexico)"
    assert "TLP:AMBER — may be shared only with people of your own state who need to know." in copy.text
    assert "Two suspects cross at Ipiales tonight" in copy.text
    assert "/answer 1" in copy.text
    assert copy.buttons == (("Acknowledge", "/ack 1"),)


async def test_a_copy_is_rendered_in_the_recipients_language_with_the_label_in_english(chat: ChatPlatform) -> None:
    await chat.say("/language es", user="CO")
    await chat.say("/relay CO tlp:red urgent Llamar hoy", user="MX")  # refused: RED to a state
    assert "TLP:RED goes only to named individuals" in chat.last("MX")
    co = await member_of(chat, "CO")
    await chat.say(f"/relay @{co.id} tlp:red urgent Llamar hoy", user="MX")
    text = copy_to(chat, "CO").message.text
    assert text.startswith("URGENTE\nEnvío #1 de Lucía Núñez (punto de contacto nacional, México)")
    assert "TLP:RED — " in text and "TLP:ROJO" not in text
    assert "Llamar hoy" in text


async def test_an_answer_goes_back_to_the_sender_only_with_the_same_label_and_threads_go_on(chat: ChatPlatform) -> None:
    await chat.say("/relay CO, PE tlp:green Who handles the Ipiales case?", user="MX")
    copy = copy_to(chat, "CO")
    reply = await chat.say("Our prosecutor in Nariño, I will send details", user="CO", reply_to=copy.message_id)
    assert "Your answer #2 to relay #1 is on its way to Lucía Núñez" in reply
    answer = copy_to(chat, "MX").message.text
    assert answer.splitlines()[0].startswith("Answer #2 to relay #1, from Pablo Vargas (national point of contact")
    assert "TLP:GREEN" in answer and "Our prosecutor in Nariño" in answer
    assert not any("Our prosecutor" in s.message.text for s in chat.received("PE"))  # only to the sender
    await chat.say("/answer 2 Thank you, please do", user="MX")  # the thread goes on
    assert "Thank you, please do" in copy_to(chat, "CO").message.text
    assert "Answer #3 to relay #2" in copy_to(chat, "CO").message.text
    status = await chat.say("/relay 1", user="MX")
    assert "Pablo Vargas (CO): acknowledged" in status  # any answer acknowledges
    assert "Sofía Ibáñez (PE): delivered" in status and "not acknowledged yet" in status


async def test_acknowledgement_by_button_and_command_and_the_status_lists(chat: ChatPlatform) -> None:
    await chat.say("/relay CO, PE, BR tlp:clear Meeting moved to Friday", user="MX")
    assert "Relay #1 acknowledged" in await chat.say("/ack 1", user="CO")
    assert "already acknowledged" in await chat.say("/ack #1", user="CO")
    button = copy_to(chat, "PE").message.buttons[0][1]
    assert "Relay #1 acknowledged" in await chat.say(button, user="PE")  # the button sends its command
    assert "You did not receive relay #1" in await chat.say("/ack 1", user="AR")
    assert "You did not receive relay #7" in await chat.say("/ack 7", user="PE")
    overview = await chat.say("/relays", user="MX")
    assert "#1 · " in overview and "TLP:CLEAR" in overview
    assert "3 delivered, 2 acknowledged, 0 queued, 0 failed" in overview
    assert "no relay #1" in await chat.say("/relay 1", user="CO")  # only the sender sees the recipients


async def test_a_failed_delivery_is_reported_to_the_sender(chat: ChatPlatform) -> None:
    chat.refusing.add("PE")
    await chat.say("/relay CO, PE Please confirm receipt", user="MX")
    notice = chat.last("MX")
    assert "Relay #1 could not be delivered to Sofía Ibáñez" in notice and "blocked by the user" in notice
    status = await chat.say("/relay 1", user="MX")
    assert "Sofía Ibáñez (PE): failed (" in status and "Pablo Vargas (CO): delivered" in status
    assert "1 delivered, 0 acknowledged, 0 queued, 1 failed" in await chat.say("/relays", user="MX")


async def test_the_dialog_asks_audience_label_and_text_then_confirms(chat: ChatPlatform) -> None:
    assert "Who is it for?" in await chat.say("/relay", user="MX")
    assert "There is no" not in (asked := await chat.say("peru, Brazil", user="MX"))
    assert "2 people. Which TLP label?" in asked
    assert [label for label, _ in chat.sent[-1].message.buttons] == [
        "TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"]  # fmt: skip
    assert "TLP:RED goes only to named individuals" in await chat.say("5", user="MX")  # the fifth button: asked again
    assert "Now the text" in await chat.say("green urgent", user="MX")
    question = await chat.say("Shipment leaves Santos on the 3rd", user="MX")
    assert "to 2 people (Sofía Ibáñez, Fernanda Araújo)?" in question
    assert "on its way to 2 people" in await chat.say("yes", user="MX")
    text = copy_to(chat, "BR").message.text
    assert "Shipment leaves Santos on the 3rd" in text and "URGENT" in text.upper()


async def test_bad_input_gets_a_clear_message_and_sends_nothing(chat: ChatPlatform) -> None:
    me = await member_of(chat, "MX")
    cases = {
        "/relay CO": "The message is empty",
        "/relay CO " + "x" * 4001: "4001 characters long; a relay holds at most 4000",
        "/relay Atlantis hello": "I could not read “Atlantis”",
        "/relay AR aml hello": "No one in Argentina handles that topic",
        f"/relay @{me.id} hello": "That audience is only you",
        "/relay @99999 hello": "There is no member #99999",
        "/relay CO tlp:purple hello": "Unknown TLP label “tlp:purple”",
        "/relay saint hello": "could mean",
        "/ack": "Which relay?",
        "/answer": "Usage: /answer",
        "/forward 1": "Usage: /forward",
    }
    for text, expected in cases.items():
        assert expected in await chat.say(text, user="MX"), text
    async with chat.app.db.transaction() as session:  # type: ignore[attr-defined]
        assert list(await session.scalars(select(Relay))) == []
        assert list(await session.scalars(select(OutboxItem))) == []


async def test_a_deactivated_person_is_refused_by_name(chat: ChatPlatform) -> None:
    pe = await member_of(chat, "PE")
    await chat.say(f"/deactivate {pe.id}", user="secretariat")
    await chat.say("yes", user="secretariat")
    assert "Sofía Ibáñez is no longer active" in await chat.say(f"/relay @{pe.id} hello", user="MX")


async def test_relays_per_hour_are_limited(chat: ChatPlatform) -> None:
    chat.app.settings.relay.max_per_hour = 2  # type: ignore[attr-defined]
    for n in range(2):
        assert "on its way" in await chat.say(f"/relay CO message {n}", user="MX")
    assert "You have sent 2 relays in the last hour" in await chat.say("/relay CO message 3", user="MX")
    assert "on its way" in await chat.say("/relay CO message from Peru", user="PE")  # others are not held


async def test_every_step_is_audited_without_the_body_and_bodies_stay_out_of_logs(
    chat: ChatPlatform, caplog: pytest.LogCaptureFixture
) -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    logs.setup("DEBUG")  # as `[logging] level = "DEBUG"` configures it
    root.addHandler(caplog.handler)
    caplog.handler.setLevel(logging.DEBUG)
    co = await member_of(chat, "CO")
    await chat.say(f"/relay @{co.id} tlp:red The informant is SECRET-NAME-42", user="MX")
    await chat.say("/answer 1 Understood SECRET-ANSWER-43", user="CO")
    await chat.say("/ack 1", user="CO")
    async with chat.app.db.transaction() as session:  # type: ignore[attr-defined]
        events = list(await session.scalars(select(AuditEvent).where(AuditEvent.action.like("relay.%"))))
    assert [e.action for e in events] == ["relay.send", "relay.ack", "relay.answer"]
    assert events[0].after is not None and events[0].after["tlp"] == "RED" and events[0].after["copies"] == 1
    assert not any("SECRET" in repr(e.after) + repr(e.note) for e in events)
    root.handlers[:], root.level = handlers, level
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "relay" in logged  # the handlers did log, at DEBUG
    assert "SECRET-NAME-42" not in logged and "SECRET-ANSWER-43" not in logged


async def test_forwarding_follows_the_label(chat: ChatPlatform) -> None:
    co = await member_of(chat, "CO")
    customs = await link(chat, "CO", "customs", "CO-customs")
    pe = await member_of(chat, "PE")
    await chat.say(f"/relay @{co.id} tlp:red For you only", user="MX")
    assert "TLP:RED is never forwarded" in await chat.say(f"/forward 1 @{customs.id}", user="CO")
    await chat.say(f"/relay @{co.id} Amber news", user="MX")
    assert "TLP:AMBER is shared only within your own state; Sofía Ibáñez" in await chat.say(
        f"/forward 2 @{pe.id}", user="CO"
    )
    receipt = await chat.say(f"/forward 2 @{customs.id}", user="CO")
    assert "Relay #3 (TLP:AMBER) is on its way to 1 person: Camilo Restrepo (CO)" in receipt
    forwarded = copy_to(chat, "CO-customs").message.text
    assert "Pablo Vargas" in forwarded and "forwards relay #2 of Lucía Núñez" in forwarded and "Amber news" in forwarded
    await chat.say(f"/relay @{co.id} tlp:amber+strict Strict news", user="MX")
    assert "only within your own institution" in await chat.say(f"/forward 4 @{customs.id}", user="CO")
    await chat.say(f"/relay @{co.id} tlp:green Green news", user="MX")
    assert "is on its way" in await chat.say(f"/forward 5 @{pe.id}", user="CO")
    assert "You did not receive relay #5" in await chat.say(f"/forward 5 @{co.id}", user="AR")
    answer = await chat.say("/answer 6 Thanks for passing it on", user="PE")  # answers go to the forwarder
    assert "on its way to Pablo Vargas" in answer
