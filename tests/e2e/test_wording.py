"""Wording that misled (issue 10): repeated /reactivate, French agreement, role wording on joining."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Member
from tests.fakes.chat import ChatPlatform


async def test_reactivating_an_active_member_says_so(chat: ChatPlatform) -> None:
    async with chat.app.db.transaction() as session:  # type: ignore[attr-defined]
        co = await session.scalar(select(Member).where(Member.state_code == "CO"))
    assert co is not None
    assert "is already active." in await chat.say(f"/reactivate {co.id}", user="secretariat")
    await chat.say(f"/deactivate {co.id}", user="secretariat")
    await chat.say("yes", user="secretariat")
    assert "is active again." in await chat.say(f"/reactivate {co.id}", user="secretariat")
    await chat.say("/language es", user="secretariat")
    assert "ya está activo/a." in await chat.say(f"/reactivate {co.id}", user="secretariat")


async def test_french_agreement_and_invitation_wording(chat: ChatPlatform) -> None:
    await chat.say("/language fr", user="MX")
    assert await chat.say("/find zzzz", user="MX") == "Aucune personne trouvée pour « zzzz »."
    code = await chat.say("/invite secretariat", user="secretariat")
    assert code.startswith("Invitation code — OAS Secretariat, OAS General Secretariat:")
