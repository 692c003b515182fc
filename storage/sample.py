"""The demo's sample directory: fictional people only (no UI language chosen yet, so the bot's default
applies until they use /language) — a national point of contact for each member
state and a Secretariat desk — each reachable on the console as their state code (or ``secretariat``)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import members
from storage.access import Actor, Role
from storage.models import Member
from storage.reference import OAS_MEMBERS

_FIRST = {
    "es": ["Ana", "Carlos", "Lucía", "Jorge", "María", "Diego", "Sofía", "Andrés", "Valeria", "Pablo"],
    "en": ["Alicia", "Brandon", "Charlene", "Dwayne", "Keisha", "Marcus", "Natalie", "Trevor", "Simone", "Andre"],
    "pt": ["Beatriz", "João"],
    "fr": ["Nadège", "Jean-Robert"],
    "nl": ["Sharda", "Ricardo"],
}
_LAST = {
    "es": ["Martínez", "Rojas", "Fernández", "Castillo", "Núñez", "Herrera", "Morales", "Quispe", "Ibáñez", "Vargas"],
    "en": ["Baptiste", "Campbell", "Charles", "Daniel", "Edwards", "Francis", "Gordon", "James", "Lewis", "Thomas"],
    "pt": ["Gonçalves", "Araújo"],
    "fr": ["Pierre-Louis", "Étienne"],
    "nl": ["Ramdin", "Pinas"],
}
_LANGUAGE = {
    "BR": "pt",
    "HT": "fr",
    "SR": "nl",
    "BZ": "en",
    "CA": "en",
    "US": "en",
    "GY": "en",
    "JM": "en",
    "AG": "en",
    "BS": "en",
    "BB": "en",
    "DM": "en",
    "GD": "en",
    "KN": "en",
    "LC": "en",
    "VC": "en",
    "TT": "en",
}
_INSTITUTION = {
    "es": "Ministerio de Justicia (ficticio)",
    "en": "Ministry of National Security (fictional)",
    "pt": "Ministério da Justiça (fictício)",
    "fr": "Ministère de la Justice (fictif)",
    "nl": "Ministerie van Justitie (fictief)",
}
SECRETARIAT_USER = "secretariat"


def sample_people() -> list[dict[str, str | None]]:
    people: list[dict[str, str | None]] = []
    for n, code in enumerate(OAS_MEMBERS):
        lang = _LANGUAGE.get(code, "es")
        first, last = _FIRST[lang], _LAST[lang]
        people.append(
            {
                "state_code": code,
                "display_name": f"{first[n % len(first)]} {last[(n * 3) % len(last)]}",
                "institution": _INSTITUTION[lang],
            }
        )
    return people


async def seed(session: AsyncSession, platform: str = "console") -> int:
    """Add the sample people unless the directory already has members. Returns how many were added."""
    if await session.scalar(select(func.count(Member.id))):
        return 0
    actor = Actor.system("sample-data")
    desk = await members.create(
        session,
        actor,
        display_name="Secretariat Desk",
        role=Role.SECRETARIAT,
        state_code=None,
        institution="OAS Department against Transnational Organized Crime (sample)",
    )
    await members.link_identity(
        session, actor, desk, platform=platform, user_id=SECRETARIAT_USER, chat_id=f"console:{SECRETARIAT_USER}"
    )
    for person in sample_people():
        member = await members.create(session, actor, role=Role.CONTACT, **person)  # type: ignore[arg-type]
        code = str(person["state_code"])
        await members.link_identity(session, actor, member, platform=platform, user_id=code, chat_id=f"console:{code}")
    return len(OAS_MEMBERS) + 1
