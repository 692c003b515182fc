"""The demo's sample directory: fictional people only. Each member state has a national point of
contact, reachable on the console as the state code (``MX``) or ``secretariat`` for the Secretariat desk;
a few states also have specialists (FIU, police, central authority …) so that /whois has something to
rank. Nobody has chosen a UI language yet, so the bot's default applies until they use /language."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import figures, members
from storage.access import Actor, Role
from storage.catalogue import Catalogue
from storage.models import Member, Round
from storage.reference import OAS_MEMBERS

_FIRST = {
    "es": ["Ana", "Carlos", "Lucía", "Jorge", "María", "Diego", "Sofía", "Andrés", "Valeria", "Pablo"],
    "en": ["Alicia", "Brandon", "Charlene", "Dwayne", "Keisha", "Marcus", "Natalie", "Trevor", "Simone", "Andre"],
    "pt": ["Beatriz", "João", "Fernanda", "Rafael"],
    "fr": ["Nadège", "Jean-Robert"],
    "nl": ["Sharda", "Ricardo"],
}
_LAST = {
    "es": ["Martínez", "Rojas", "Fernández", "Castillo", "Núñez", "Herrera", "Morales", "Quispe", "Ibáñez", "Vargas"],
    "en": ["Baptiste", "Campbell", "Charles", "Daniel", "Edwards", "Francis", "Gordon", "James", "Lewis", "Thomas"],
    "pt": ["Gonçalves", "Araújo", "Oliveira"],
    "fr": ["Pierre-Louis", "Étienne"],
    "nl": ["Ramdin", "Pinas"],
}
_LANGUAGE = dict.fromkeys(("BZ", "CA", "US", "GY", "JM", "AG", "BS", "BB", "DM", "GD", "KN", "LC", "VC", "TT"), "en")
_LANGUAGE.update({"BR": "pt", "HT": "fr", "SR": "nl"})
_INSTITUTION = {
    "es": "Ministerio de Justicia (ficticio)",
    "en": "Ministry of National Security (fictional)",
    "pt": "Ministério da Justiça (fictício)",
    "fr": "Ministère de la Justice (fictif)",
    "nl": "Ministerie van Justitie (fictief)",
}
_TOPICS = [["tip", "som"], ["firearms", "drugs"], ["aml", "assets"], ["cyber", "corruption"], ["mla", "general"]]
# Specialists for a few states: (state, function, name, institution, competences, hours)
_SPECIALISTS = [
    (
        "MX",
        "fiu",
        "Rodrigo Salas",
        "Unidad de Inteligencia Financiera (ficticia)",
        ["aml", "assets"],
        "mon-fri 08:00-16:00",
    ),
    ("MX", "police", "Marisol Tapia", "Guardia Nacional (ficticia)", ["firearms", "drugs"], "mon-sat 07:00-19:00"),
    ("MX", "central_authority", "Héctor Ugalde", "Fiscalía General (ficticia)", ["mla"], "mon-fri 09:00-18:00"),
    (
        "AR",
        "alternate",
        "Paula Benítez",
        "Ministerio de Seguridad (ficticio)",
        ["tip", "som", "cyber"],
        "mon-fri 09:00-17:00",
    ),
    (
        "BR",
        "police",
        "Thiago Moreira",
        "Polícia Federal (fictícia)",
        ["firearms", "drugs", "cyber"],
        "mon-fri 08:00-18:00",
    ),
    (
        "US",
        "prosecutor",
        "Dana Whitfield",
        "Department of Justice (fictional)",
        ["mla", "aml", "corruption"],
        "mon-fri 09:00-17:00",
    ),
    (
        "CO",
        "customs",
        "Camilo Restrepo",
        "Dirección de Aduanas (ficticia)",
        ["drugs", "firearms"],
        "mon-fri 07:00-15:00",
    ),
]
SECRETARIAT_USER = "secretariat"


def sample_people() -> list[dict[str, object]]:
    """The national points of contact, one per member state."""
    people: list[dict[str, object]] = []
    for n, code in enumerate(OAS_MEMBERS):
        lang = _LANGUAGE.get(code, "es")
        first, last = _FIRST[lang], _LAST[lang]
        spoken = [lang, "en"] if lang != "en" else ["en", "es"]
        people.append(
            {
                "state_code": code,
                "display_name": f"{first[n % len(first)]} {last[(n + n // len(first)) % len(last)]}",
                "institution": _INSTITUTION[lang],
                "function": "npc",
                "languages": spoken,
                "office_hours": "mon-fri 09:00-17:00",
                "competences": _TOPICS[n % len(_TOPICS)],
                "email": f"npc.{code.lower()}@example.org",
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
        languages=["en", "es", "fr", "pt"],
        timezone="America/New_York",
        office_hours="mon-fri 09:00-17:30",
    )
    await members.link_identity(
        session, actor, desk, platform=platform, user_id=SECRETARIAT_USER, chat_id=f"console:{SECRETARIAT_USER}"
    )
    for person in sample_people():
        member = await members.create(session, actor, role=Role.CONTACT, **person)  # type: ignore[arg-type]
        code = str(person["state_code"])
        await members.link_identity(session, actor, member, platform=platform, user_id=code, chat_id=f"console:{code}")
    for state, function, name, institution, competences, hours in _SPECIALISTS:
        role = Role.CONTACT if function == "alternate" else Role.OFFICIAL
        await members.create(
            session, actor, display_name=name, role=role, state_code=state, function=function,
            institution=institution, competences=competences, office_hours=hours, languages=["es", "en"],
        )  # fmt: skip
    return 1 + len(OAS_MEMBERS) + len(_SPECIALISTS)


# The demo round: states that have already reported (state → how many of the indicators, in order).
# Mexico and Colombia have not, so that `/report 2025 mla=14` as either starts from nothing.
_DEMO_REPORTED = {"AR": 14, "BR": 9, "CA": 14, "CL": 5, "PE": 14, "US": 3, "JM": 14, "UY": 11, "CR": 1}


def demo_deadline(today: date) -> date:
    """31 March of this year while it is ahead; later in the year, a month from today."""
    return max(date(today.year, 3, 31), today + timedelta(days=30))


async def demo_round(session: AsyncSession, catalogue: Catalogue, today: date) -> Round | None:
    """Open the round for last calendar year (unless there is one) and record a few states' figures, as
    their national points of contact, so that /status, /round and the chart have something to show."""
    period = str(today.year - 1)
    if await session.scalar(select(Round.id).where(Round.period == period)) is not None:
        return None
    row = await figures.open_round(session, Actor.system("sample-data"), catalogue, period, demo_deadline(today))
    for n, (state, count) in enumerate(sorted(_DEMO_REPORTED.items())):
        contact = await session.scalar(
            select(Member).where(Member.state_code == state, Member.function == "npc").order_by(Member.id).limit(1)
        )
        if contact is None:
            continue
        entries = [
            figures.Entry(code, None if (n + k) % 9 == 8 else (n * 7 + k * 3) % 40, estimate=(n + k) % 5 == 0)
            for k, code in enumerate(row.indicators[:count])
        ]
        await figures.record(session, Actor.of(contact), row, state, entries)
    return row


def synthetic_csv(count: int, *, seed: int = 7) -> bytes:
    """A directory CSV of ``count`` made-up people across all states, for load tests and benchmarks.
    Values are varied on purpose: accents, commas and quotes in names, every field, inactive rows and
    verification links between people."""
    import io
    import random
    from datetime import UTC, datetime, timedelta

    from storage import spreadsheet
    from storage.exchange import COLUMNS
    from storage.taxonomy import COMPETENCES, FUNCTIONS

    rng = random.Random(seed)
    codes = list(OAS_MEMBERS)
    first = [*_FIRST["es"], *_FIRST["en"], *_FIRST["pt"], *_FIRST["fr"], "Zoë", "Ñusta", "O'Neil"]
    last = [*_LAST["es"], *_LAST["en"], *_LAST["pt"], "Smith, Jr.", 'Da "Lua"', "Łukasz"]
    zones = ["America/Mexico_City", "America/Bogota", "America/Sao_Paulo", "America/New_York", "America/Lima", ""]
    base = datetime(2026, 1, 1, tzinfo=UTC)
    out = io.StringIO()
    writer = spreadsheet.writer(out)
    writer.writerow(COLUMNS)
    for n in range(1, count + 1):
        function = rng.choice(FUNCTIONS).code
        confirmed = base + timedelta(seconds=rng.randrange(0, 300 * 86400)) if rng.random() < 0.7 else None
        verifier = str(rng.randrange(1, n)) if n > 1 and rng.random() < 0.2 else ""
        writer.writerow(
            [
                n,
                rng.choice(codes),
                f"{rng.choice(first)} {rng.choice(last)} {n}",
                function,
                "contact" if function in ("npc", "alternate") else "official",
                rng.choice(["", "Fiscalía General", "Policía Nacional", "Unidad de Inteligencia Financiera",
                            "Ministry of Justice", "Polícia Federal", "Ministère de la Justice"]),
                ";".join(rng.sample(["es", "en", "pt", "fr", "nl"], rng.randint(0, 3))),
                rng.choice(zones),
                rng.choice(["", "mon-fri 09:00-17:00", "mon-fri 08:00-16:00", "mon-sat 07:00-19:00"]),
                ";".join(sorted(t.code for t in rng.sample(COMPETENCES, rng.randint(0, 3)))),
                f"person{n}@example.org" if rng.random() < 0.8 else "",
                f"+{rng.randint(1, 598)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}" if rng.random() < 0.5 else "",
                "true" if rng.random() < 0.95 else "false",
                confirmed.strftime("%Y-%m-%dT%H:%M:%SZ") if confirmed else "",
                confirmed.strftime("%Y-%m-%dT%H:%M:%SZ") if confirmed and verifier else "",
                verifier,
                1,  # version
            ]
        )  # fmt: skip
    return out.getvalue().encode("utf-8-sig")
