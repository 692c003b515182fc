"""Everyday commands of the foundation: help per role, whoami, language, deactivation, errors."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.commands import REGISTRY, Command
from storage.access import ALL_ROLES
from storage.models import AuditEvent, Member
from tests.fakes.chat import ChatPlatform


async def test_help_lists_what_each_role_may_use(chat: ChatPlatform) -> None:
    secretariat = await chat.say("/help", user="secretariat")
    contact = await chat.say("/help", user="MX")
    for line in ["/help", "/whoami", "/language", "/invite", "/deactivate"]:
        assert line in secretariat and line in contact
    assert "/start" not in contact  # only useful to strangers
    assert all(" — " in line for line in contact.splitlines()[1:])  # one line per command


async def test_commands_addressed_by_name_in_a_group(chat: ChatPlatform) -> None:
    """``[bot] name`` (default "pocnet") marks a command as ours; one for another bot is left alone."""
    assert "State: Mexico (MX)" in await chat.say("/whoami@pocnet", user="MX", private=False)
    assert await chat.say("/whoami@other_bot", user="MX", private=False) == ""


async def test_whoami_shows_the_member_record(chat: ChatPlatform) -> None:
    card = await chat.say("/whoami", user="AR")
    assert "Role: national point of contact" in card
    assert "State: Argentina (AR)" in card
    assert "America/Argentina/Buenos_Aires" in card
    desk = await chat.say("/whoami", user="secretariat")
    assert "Role: OAS Secretariat" in desk


async def test_language_switch_changes_every_later_answer(chat: ChatPlatform) -> None:
    assert "Commands you can use" in await chat.say("/help", user="MX")
    assert "español" in (await chat.say("/language es", user="MX")).lower()
    assert "Comandos que puede usar" in await chat.say("/help", user="MX")
    assert "Idioma" in await chat.say("/whoami", user="MX")
    assert "je vous écrirai en français" in await chat.say("/langue français", user="MX")
    assert "Commandes" in await chat.say("/aide", user="MX")
    bad = await chat.say("/language klingon", user="MX")
    assert "klingon" in bad and "en, es, pt, fr" in bad


async def test_language_without_argument_offers_choices(chat: ChatPlatform) -> None:
    await chat.say("/language", user="PE")
    assert [label for label, _ in chat.sent[-1].message.buttons] == ["English", "Español", "Português", "Français"]
    data = chat.sent[-1].message.buttons[1][1]  # a short name for the choice, kept in the open dialog
    assert len(data.encode()) <= 64
    assert "español" in await chat.say(data, user="PE")  # the button press
    await chat.say("/language", user="PE")
    assert "português" in await chat.say("3", user="PE")  # the number typed (Matrix, console)


async def test_unknown_and_malformed_input_get_a_clear_message(chat: ChatPlatform) -> None:
    assert "Did you mean /help" in await chat.say("/hlep", user="MX")
    assert "Unknown command /zzzzzz" in await chat.say("/zzzzzz", user="MX")
    assert "not a command I can read" in await chat.say("/???", user="MX")
    assert "only understand commands" in await chat.say("good morning", user="MX")
    assert "Usage: /invite" in await chat.say("/invite wizard", user="secretariat")
    assert "Usage: /deactivate" in await chat.say("/deactivate someone", user="secretariat")
    assert "No member with id 99999" in await chat.say("/deactivate 99999", user="secretariat")
    assert "Unknown state “QQ”" in await chat.say("/invite contact QQ", user="secretariat")


async def test_secretariat_deactivates_and_reactivates_with_audit(chat: ChatPlatform) -> None:
    async with chat.app.db.transaction() as session:  # type: ignore[attr-defined]
        cl = await session.scalar(select(Member).where(Member.state_code == "CL"))
        assert cl is not None
    assert "lose access" in await chat.say(f"/deactivate {cl.id}", user="secretariat")  # asks first
    assert "is deactivated" in await chat.say("yes", user="secretariat")
    assert "deactivated" in await chat.say("/help", user="CL")
    assert "Commands" not in await chat.say("/help", user="CL")
    assert "active again" in await chat.say(f"/reactivate #{cl.id}", user="secretariat")
    assert "Commands you can use" in await chat.say("/help", user="CL")
    async with chat.app.db.transaction() as session:  # type: ignore[attr-defined]
        events = list(await session.scalars(select(AuditEvent).where(AuditEvent.subject_id == str(cl.id))))
    changes = [(e.before["active"], e.after["active"]) for e in events if e.action == "member.update"]
    assert changes == [(True, False), (False, True)]
    assert all(e.actor.startswith("member:") for e in events if e.action == "member.update")


async def test_contacts_act_only_within_their_own_state(chat: ChatPlatform) -> None:
    assert "invites and manages delegated officials only" in await chat.say("/invite contact", user="MX")
    assert "members of their own state (MX) only" in await chat.say("/invite official AR", user="MX")
    assert "members of their own state (MX) only" in await chat.say("/invite official Colombia", user="MX")
    answer = await chat.say("/invite official", user="MX")
    assert "Invitation code — delegated official, MX" in answer
    assert "Invitation code — national point of contact, CO" in await chat.say(
        "/invite contact Colombia", user="secretariat"
    )
    assert "Invitation code — delegated official, US" in await chat.say(
        "/invite funcionario 3d Estados Unidos", user="secretariat"
    )
    assert "from 1h to 90d; “0h” is outside" in await chat.say("/invite official 0h", user="MX")
    async with chat.app.db.transaction() as session:  # type: ignore[attr-defined]
        ar = await session.scalar(select(Member).where(Member.state_code == "AR"))
    assert "not allowed" in await chat.say(f"/deactivate {ar.id}", user="MX")  # type: ignore[union-attr]
    assert "cannot change your own" in await chat.say("/deactivate 1", user="secretariat")
    await chat.say("/language es", user="MX")
    assert "de su propio Estado (MX)" in await chat.say("/invite official AR", user="MX")


async def test_a_failing_handler_becomes_an_apology_with_a_reference(
    chat: ChatPlatform, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def boom(msg, ctx):  # type: ignore[no-untyped-def]
        raise ZeroDivisionError("secret internals")

    monkeypatch.setitem(REGISTRY, "boom", Command("boom", boom, "test", roles=ALL_ROLES))
    answer = await chat.say("/boom", user="MX")
    assert "Sorry, something went wrong" in answer and "reference" in answer
    assert "Traceback" not in answer and "secret internals" not in answer and "ZeroDivision" not in answer
    ref = answer.rsplit("reference ", 1)[1].rstrip(").")
    assert any(getattr(r, "ref", None) == ref and r.exc_info for r in caplog.records)
    assert "Commands you can use" in await chat.say("/help", user="MX")  # the bot carries on


async def test_rate_limit_warns_once_then_drops(chat: ChatPlatform) -> None:
    limit = chat.app.settings.limits.commands_per_minute  # type: ignore[attr-defined]
    answers = [await chat.say("/whoami", user="UY") for _ in range(limit + 5)]
    assert all("Uruguay" in a for a in answers[:limit])
    assert "too fast" in answers[limit]
    assert answers[limit + 1 :] == [""] * 4
    assert "Paraguay" in await chat.say("/whoami", user="PY")  # others are not affected
