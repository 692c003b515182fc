"""The authorization matrix: every command in the registry, run by every kind of sender, against their own
state, another state and the Secretariat's own entries, with the exact outcome of each cell.

Actors (on the fake chat, see tests/conftest.py):

- ``stranger``: nobody pocnet knows;
- ``deactivated``: Rodrigo Salas, an official of Mexico whose access was removed;
- ``official``: Marisol Tapia, a delegated official of Mexico;
- ``contact``: Lucía Núñez, Mexico's national point of contact;
- ``secretariat``: the Secretariat desk.

Targets: ``own`` is Mexico or Héctor Ugalde (an official of Mexico), ``other`` is Colombia or Camilo Restrepo
(an official of Colombia), ``oas`` is a member of the Secretariat's staff (no chat account) or the desk.
A reporting round for 2025 is open (for /report and /myreport).

A command without a row in ``MATRIX`` fails ``test_every_command_has_a_row``: a new command cannot ship
until someone decides who may run it.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands import REGISTRY
from bot.messages import DEACTIVATED, ONBOARDING
from reminders.plan import plan_all
from storage import catalogue, figures, invites, members, sample
from storage.access import Actor, Role
from storage.db import Database
from storage.errors import AccessDenied
from storage.models import Figure, Invite, Meeting, Member, Relay, Reminder, Round
from storage.types import utcnow
from tests.fakes.chat import ChatPlatform

# --- outcome classes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    kind: str  # allowed | refused | role | scope | onboarding | deactivated
    text: str = ""  # what the answer says (allowed, refused, scope with its own message)
    changes: bool = False  # the row's change happened (only ever in allowed cells)


def allowed(text: str, *, changes: bool = True) -> Outcome:
    """A normal answer containing ``text``; the row's change really happened (unless ``changes=False``:
    a normal answer that changes nothing, e.g. /start from someone already registered)."""
    return Outcome("allowed", text, changes)


def refused(text: str) -> Outcome:
    """A refusal for another reason than role or scope (e.g. not a recipient of that relay)."""
    return Outcome("refused", text)


def scope(text: str = AccessDenied.message) -> Outcome:
    """Refused by state scope (storage.access): AccessDenied's message, and nothing changed."""
    return Outcome("scope", text)


ROLE = Outcome("role")  # the router: "/{name} is not available to your role. …"
ONBOARDING_ONLY = Outcome("onboarding")  # strangers see the invitation text and nothing else
DEACTIVATED_MSG = Outcome("deactivated")  # deactivated members see only that they are deactivated

ACTORS = ("stranger", "deactivated", "official", "contact", "secretariat")
USERS = {"stranger": "stranger", "deactivated": "MX-fiu", "official": "MX-police", "contact": "MX",
         "secretariat": "secretariat"}  # fmt: skip
OUTSIDERS = {"stranger": ONBOARDING_ONLY, "deactivated": DEACTIVATED_MSG}


def members_may(outcome: Outcome | dict[str, Outcome]) -> dict[str, Any]:
    """Every member may run it, with the same outcome (or the same outcome per target)."""
    return {**OUTSIDERS, "official": outcome, "contact": outcome, "secretariat": outcome}


def secretariat_only(outcome: Outcome | dict[str, Outcome]) -> dict[str, Any]:
    return {**OUTSIDERS, "official": ROLE, "contact": ROLE, "secretariat": outcome}


# --- what a cell may change ---------------------------------------------------------------------------


@dataclass
class World:
    """Ids of the people in the matrix, and a valid invitation code for /start."""

    ids: dict[str, int]  # own, other, oas, desk, and each actor that is a member
    code: str
    until: str  # a date two weeks ahead, for /away

    def args(self, template: str) -> str:
        return template.format(**self.ids, code=self.code, until=self.until)


Probe = Callable[[AsyncSession, World, str, str], Awaitable[object]]  # session, world, actor, target


def count(model: Any) -> Probe:
    async def probe(session: AsyncSession, world: World, actor: str, target: str) -> object:
        return await session.scalar(select(func.count()).select_from(model))

    return probe


def of_target(attr: str) -> Probe:
    async def probe(session: AsyncSession, world: World, actor: str, target: str) -> object:
        return getattr(await session.get(Member, world.ids[target]), attr)

    return probe


def of_actor(*attrs: str) -> Probe:
    async def probe(session: AsyncSession, world: World, actor: str, target: str) -> object:
        member = await session.get(Member, world.ids[actor]) if actor in world.ids else None
        return tuple(getattr(member, a) for a in attrs) if member is not None else None

    return probe


async def invite_used(session: AsyncSession, world: World, actor: str, target: str) -> object:
    return await session.scalar(select(Invite.used_at).where(Invite.used_at.is_not(None)).limit(1))


# --- the matrix ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    args: str | dict[str, str]  # one argument line, or one per target ({own}, {other}, {oas}, {desk} are ids)
    expect: dict[str, Any]  # actor → Outcome, or actor → {target: Outcome}
    changes: Probe | None = None  # a change happened exactly in the "allowed" cells
    confirm: str = ""  # the command asks yes/no: answered "yes" where allowed, then this is the answer
    relay_first: bool = False  # the Secretariat relays #1 (TLP:GREEN) to Mexico before the cell runs
    inactive_target: bool = False  # the target is deactivated before the cell runs


def per_target(own: Outcome, other: Outcome, oas: Outcome) -> dict[str, Outcome]:
    return {"own": own, "other": other, "oas": oas}


MATRIX: dict[str, Row] = {
    "start": Row(
        "{code}",
        {
            "stranger": allowed("Welcome to pocnet"),
            "deactivated": DEACTIVATED_MSG,
            **{a: allowed("Welcome back", changes=False) for a in ("official", "contact", "secretariat")},
        },
        changes=invite_used,
    ),
    "link": Row("", members_may(allowed("Your link code is")), changes=count(Invite)),
    "help": Row("", members_may(allowed("Commands you can use:"))),
    "cancel": Row("", members_may(allowed("There is nothing to cancel."))),
    "whois": Row(
        {"own": "MX", "other": "CO"},
        members_may({"own": allowed("Mexico (MX):"), "other": allowed("Colombia (CO):")}),
    ),
    "find": Row("Restrepo", members_may(allowed("Camilo Restrepo (CO)"))),
    "contact": Row(
        {"own": "{own}", "other": "{other}", "oas": "{oas}"},
        members_may(
            per_target(
                allowed("Héctor Ugalde (#"),
                allowed("Camilo Restrepo (#"),
                allowed("Inés Calderón (#"),
            )
        ),
    ),
    "states": Row("", members_may(allowed("Member states"))),
    "topics": Row("", members_may(allowed("Topics"))),
    "functions": Row("", members_may(allowed("Functions:"))),
    "relays": Row("", members_may(allowed("You have sent no relays yet."))),
    "relay": Row(
        {"own": "MX Coordination call moved to Monday", "other": "CO Coordination call moved to Monday"},
        members_may(allowed("is on its way to")),
        changes=count(Relay),
    ),
    "ack": Row(
        "1",
        {
            **OUTSIDERS,
            "official": allowed("Relay #1 acknowledged."),
            "contact": allowed("Relay #1 acknowledged."),
            "secretariat": refused("You did not receive relay #1."),
        },
        relay_first=True,
    ),
    "answer": Row(
        "1 Received, we will follow up",
        {
            **OUTSIDERS,
            "official": allowed("to relay #1 is on its way to Secretariat Desk"),
            "contact": allowed("to relay #1 is on its way to Secretariat Desk"),
            "secretariat": refused("You did not receive relay #1."),
        },
        changes=count(Relay),
        relay_first=True,
    ),
    "forward": Row(
        "1 CO",
        {
            **OUTSIDERS,
            "official": allowed("is on its way to"),
            "contact": allowed("is on its way to"),
            "secretariat": refused("You did not receive relay #1."),
        },
        changes=count(Relay),
        relay_first=True,
    ),
    "away": Row(
        # who covers for them while they are away
        {"own": "until {until} to @{own}", "other": "until {until} to @{other}", "oas": "until {until} to @{oas}"},
        {
            **OUTSIDERS,
            **{
                a: per_target(allowed("Héctor Ugalde receives your relays"), scope(), scope())
                for a in ("official", "contact")
            },
            "secretariat": per_target(
                allowed("Héctor Ugalde receives your relays"),
                allowed("Camilo Restrepo receives your relays"),
                allowed("Inés Calderón receives your relays"),
            ),
        },
        changes=of_actor("away_until", "away_delegate_id"),
    ),
    "announce": Row(
        {
            "own": "to:MX Office closed on Friday",
            "other": "to:CO Office closed on Friday",
            "oas": "role:secretariat Office closed on Friday",
        },
        secretariat_only(
            per_target(
                allowed("Send announcement to"),
                allowed("Send announcement to"),
                refused("None of them has linked a chat account yet"),
            )
        ),
        changes=count(Relay),
        confirm="is going out to",
    ),
    "deliveries": Row("", secretariat_only(allowed("No announcements yet."))),
    "meeting": Row(  # everyone lists meetings; only the Secretariat records them (storage.access)
        {
            "own": 'add "Coordination call" 2030-05-12 10:00 MX for:MX',
            "other": 'add "Coordination call" 2030-05-12 10:00 CO for:CO',
        },
        {
            **OUTSIDERS,
            "official": scope(),
            "contact": scope(),
            "secretariat": allowed("Meeting #1 recorded: “Coordination call”"),
        },
        changes=count(Meeting),
    ),
    "myentry": Row(
        # own: an everyday field of one's entry; other: moving oneself into another state
        {"own": "set hours mon-fri 08:00-16:00", "other": "set state CO"},
        {
            **OUTSIDERS,
            **{
                a: {
                    "own": allowed("Saved."),
                    "other": scope("Only the Secretariat can change the function or the state of an entry."),
                }
                for a in ("official", "contact")
            },
            # the Secretariat's own entry stays without a state (it would show in that state's /whois)
            "secretariat": {
                "own": allowed("Saved."),
                "other": refused("The OAS Secretariat does not belong to a state."),
            },
        },
        changes=of_actor("office_hours", "state_code", "function"),
    ),
    "confirm": Row("", members_may(allowed("your entry is confirmed")), changes=of_actor("last_confirmed_at")),
    "entry": Row(
        {
            "own": "{own} set phone +52 55 5555 0101",
            "other": "{other} set phone +57 601 555 0101",
            "oas": "{oas} set phone +1 202 555 0101",
        },
        secretariat_only(allowed("Saved.")),
        changes=of_target("phone"),
    ),
    "verify": Row(
        {"own": "{own}", "other": "{other}", "oas": "{oas}"},
        secretariat_only(allowed("is verified.")),
        changes=of_target("verified_at"),
    ),
    "export": Row("csv", secretariat_only(allowed("The directory as of"))),
    "whoami": Row(
        "",
        {
            **OUTSIDERS,
            "official": allowed("Role: delegated official"),
            "contact": allowed("Role: national point of contact"),
            "secretariat": allowed("Role: OAS Secretariat"),
        },
    ),
    "language": Row("es", members_may(allowed("español")), changes=of_actor("language")),
    "invite": Row(
        {"own": "official MX", "other": "official CO", "oas": "secretariat"},
        {
            **OUTSIDERS,
            "official": ROLE,
            "contact": per_target(allowed("Invitation code — delegated official, MX"), scope(), scope()),
            "secretariat": per_target(
                allowed("Invitation code — delegated official, MX"),
                allowed("Invitation code — delegated official, CO"),
                allowed("Invitation code — OAS Secretariat, OAS General Secretariat"),
            ),
        },
        changes=count(Invite),
    ),
    "deactivate": Row(
        {"own": "{own}", "other": "{other}", "oas": "{oas}"},
        {
            **OUTSIDERS,
            "official": ROLE,
            "contact": per_target(allowed("? They lose access to pocnet at once."), scope(), scope()),
            "secretariat": allowed("? They lose access to pocnet at once."),
        },
        changes=of_target("active"),
        confirm="is deactivated.",
    ),
    "reactivate": Row(
        {"own": "{own}", "other": "{other}", "oas": "{oas}"},
        {
            **OUTSIDERS,
            "official": ROLE,
            "contact": per_target(allowed("is active again."), scope(), scope()),
            "secretariat": allowed("is active again."),
        },
        changes=of_target("active"),
        inactive_target=True,
    ),
    "report": Row(
        {"own": "MX 2025 mla=3", "other": "CO 2025 mla=3"},
        {
            **OUTSIDERS,
            **{a: {"own": allowed("as I read them"), "other": scope()} for a in ("official", "contact")},
            "secretariat": allowed("as I read them"),
        },
        changes=count(Figure),
        confirm="Stored 1 figure of",
    ),
    "myreport": Row(
        {"own": "MX 2025", "other": "CO 2025"},
        {
            **OUTSIDERS,
            **{a: {"own": allowed("figures for 2025"), "other": scope()} for a in ("official", "contact")},
            "secretariat": allowed("figures for 2025"),
        },
    ),
    "round": Row(
        f"open 2030 deadline {utcnow().year + 5}-03-31",
        secretariat_only(allowed("The round for 2030 is open")),
        changes=count(Round),
    ),
    "status": Row(
        "",
        {
            **OUTSIDERS,
            **{
                a: allowed("Mexico still owes 14 of 14 figures for 2025", changes=False)
                for a in ("official", "contact")
            },
            "secretariat": allowed("0 complete, 0 partial, 35 nothing", changes=False),
        },
    ),
    "reminders": Row(
        "",
        {
            **OUTSIDERS,
            "official": allowed("Reminders coming for you:", changes=False),
            "contact": allowed("Reminders coming for you:", changes=False),
            "secretariat": allowed("No reminders are planned for you.", changes=False),
        },
    ),
    "snooze": Row(
        "2024 7",
        {
            **OUTSIDERS,
            "official": allowed("No reminder of round 2024 until"),
            "contact": allowed("No reminder of round 2024 until"),
            "secretariat": ROLE,
        },
        changes=count(Reminder),
    ),
    "audit": Row(
        {"own": "MX", "other": "CO", "oas": "{oas}"},
        secretariat_only(per_target(allowed("Mexico (MX)"), allowed("Colombia (CO)"), allowed("Inés Calderón (#"))),
    ),
}


def distinct_commands() -> list[str]:
    import handlers

    handlers.load()
    return sorted({cmd.name for cmd in REGISTRY.values()})


def cells() -> list[Any]:
    out = []
    for name, row in MATRIX.items():
        targets = list(row.args) if isinstance(row.args, dict) else [""]
        for actor in ACTORS:
            for target in targets:
                out.append(pytest.param(name, actor, target, id=f"{name}-{actor}" + (f"-{target}" if target else "")))
    return out


def expected(row: Row, actor: str, target: str) -> Outcome:
    cell = row.expect[actor]
    return cell[target] if isinstance(cell, dict) else cell


# --- the tests ----------------------------------------------------------------------------------------


def test_every_command_has_a_row() -> None:
    """A command without a row cannot ship: decide who may run it, and add the row."""
    assert set(distinct_commands()) - set(MATRIX) == set(), "commands without a row in the authorization matrix"
    assert set(MATRIX) - set(distinct_commands()) == set(), "rows for commands that no longer exist"
    for name, row in MATRIX.items():
        targets = set(row.args) if isinstance(row.args, dict) else {""}
        assert set(row.expect) == set(ACTORS), name
        for actor, cell in row.expect.items():
            assert not isinstance(cell, dict) or set(cell) == targets, (name, actor)


def test_the_table_agrees_with_the_declared_roles() -> None:
    """A role refusal in the table is exactly a command the registry does not give that role."""
    distinct_commands()
    for name, row in MATRIX.items():
        cmd = REGISTRY[name]
        for actor, role in (("official", Role.OFFICIAL), ("contact", Role.CONTACT), ("secretariat", Role.SECRETARIAT)):
            refused_by_role = row.expect[actor] is ROLE
            assert refused_by_role == (not cmd.public and role not in cmd.roles), (name, actor)


async def _build_world(session: AsyncSession) -> World:
    """The sample directory plus: Marisol Tapia (official, MX) on the chat as ``MX-police``; Rodrigo Salas
    (official, MX) as ``MX-fiu``, deactivated; Inés Calderón, Secretariat staff without a chat account."""
    system = Actor.system("authorization-matrix")
    await sample.seed(session, platform="console")

    async def named(name: str) -> Member:
        member = await session.scalar(select(Member).where(Member.display_name == name))
        assert member is not None, name
        return member

    police, fiu = await named("Marisol Tapia"), await named("Rodrigo Salas")
    await members.link_identity(session, system, police, platform="console", user_id="MX-police",
                                chat_id="console:MX-police")  # fmt: skip
    await members.link_identity(session, system, fiu, platform="console", user_id="MX-fiu", chat_id="console:MX-fiu")
    await members.set_active(session, system, fiu, False)
    staff = await members.create(session, system, display_name="Inés Calderón", role=Role.SECRETARIAT,
                                 state_code=None, function="other")  # fmt: skip
    contact = await session.scalar(select(Member).where(Member.state_code == "MX", Member.function == "npc"))
    assert contact is not None
    new = await invites.create(session, system, role=Role.OFFICIAL, state_code="MX")
    await figures.open_round(session, system, catalogue.cached(None), "2025", date(2026, 3, 31))  # for /report
    session.add(Round(period="2024", deadline=utcnow().date() + timedelta(days=60), indicators=["mla"],
                      states=["MX", "CO"], opened_by="authorization-matrix"))  # fmt: skip
    desk = (await named("Secretariat Desk")).id
    ids = {"own": (await named("Héctor Ugalde")).id, "other": (await named("Camilo Restrepo")).id, "oas": staff.id,
           "desk": desk, "official": police.id, "deactivated": fiu.id, "contact": contact.id, "secretariat": desk}  # fmt: skip
    return World(ids, new.code, f"{utcnow().date() + timedelta(days=14):%Y-%m-%d}")


@pytest.fixture(scope="module")
def matrix_template(tmp_path_factory: pytest.TempPathFactory, migrated_template: Path) -> tuple[Path, World]:
    """A database with the world above, built once; each cell runs on its own copy (building it each time
    would triple the run time). The open round's reminders are planned here, as a running bot would have
    them: each cell's start-up then finds the plan current instead of planning every member afresh."""
    path = tmp_path_factory.mktemp("matrix") / "matrix.sqlite"
    shutil.copy(migrated_template, path)

    async def build() -> World:
        db = Database.from_url(f"sqlite+aiosqlite:///{path}")
        async with db.transaction() as session:
            world = await _build_world(session)
        async with db.transaction() as session:
            await plan_all(session, utcnow())
        await db.dispose()
        return world

    return path, asyncio.run(build())


@pytest.fixture
def sqlite_url(tmp_path: Path, matrix_template: tuple[Path, World]) -> str:
    """Overrides conftest's: the chat fixture starts the bot on a copy of the matrix's database."""
    target = tmp_path / "pocnet.sqlite"
    shutil.copy(matrix_template[0], target)
    return f"sqlite+aiosqlite:///{target}"


@pytest.fixture
def world(matrix_template: tuple[Path, World]) -> World:
    return matrix_template[1]


@pytest.mark.parametrize(("name", "actor", "target"), cells())
async def test_cell(chat: ChatPlatform, world: World, name: str, actor: str, target: str) -> None:
    row = MATRIX[name]
    outcome = expected(row, actor, target)
    user = USERS[actor]
    db = chat.app.db  # type: ignore[attr-defined]
    if row.relay_first:
        assert "Relay #1 " in await chat.say("/relay MX tlp:green Shipment expected on Tuesday", user="secretariat")
    if row.inactive_target:
        async with db.transaction() as session:
            await members.set_active(session, Actor.system("test"), await session.get(Member, world.ids[target]), False)
    before = await _probe(db, row, world, actor, target)

    args = world.args(row.args[target] if isinstance(row.args, dict) else row.args)
    answer = await chat.say(f"/{name} {args}".strip(), user=user)
    if row.confirm and outcome.kind == "allowed":
        assert outcome.text in answer
        answer = await chat.say("yes", user=user)
        outcome = allowed(row.confirm, changes=outcome.changes)

    _assert_answer(answer, name, outcome)
    after = await _probe(db, row, world, actor, target)
    if row.changes is not None:
        if outcome.changes:
            assert after != before, f"/{name} by {actor} answered as allowed but changed nothing"
        else:
            assert after == before, f"/{name} by {actor} was refused but changed {before!r} → {after!r}"


async def _probe(db: Any, row: Row, world: World, actor: str, target: str) -> object:
    if row.changes is None:
        return None
    async with db.transaction() as session:
        return await row.changes(session, world, actor, target)


REFUSALS = ("is not available to your role", AccessDenied.message, ONBOARDING, DEACTIVATED, "something went wrong")


def _assert_answer(answer: str, name: str, outcome: Outcome) -> None:
    if outcome.kind == "role":
        assert answer == f"/{name} is not available to your role. Send /help to see your commands."
    elif outcome.kind == "onboarding":
        assert answer == ONBOARDING
    elif outcome.kind == "deactivated":
        assert answer == DEACTIVATED
    elif outcome.kind == "scope":  # AccessDenied's message, then the reason when it has one
        assert answer.startswith(outcome.text)
    else:
        assert outcome.text in answer
        if outcome.kind == "allowed":
            assert not any(r in answer for r in REFUSALS), answer
