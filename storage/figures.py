"""Reporting rounds and the figures states report in them (design note §4: Campaign, Submission).

A round asks the states in its audience for the indicators it names, for one period, by a deadline.
A state's figure is a series of versions: reporting an indicator again adds a version and marks it
current, so the history is never lost. Only members of the state (or the Secretariat, on its behalf)
record figures for it; :class:`storage.access.Actor` decides, here and nowhere else.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit
from storage.access import Actor
from storage.catalogue import Catalogue
from storage.errors import N_, AccessDenied, InvalidInput, NotFound
from storage.models import Figure, Round, State
from storage.types import utcnow

PERIOD_LENGTH = 16


@dataclass(frozen=True)
class Entry:
    """One figure as a member gave it: ``value`` None means not available (n/a), which is not 0."""

    code: str
    value: int | None
    estimate: bool = False
    provisional: bool = False
    sentences: str | None = None
    comment: str | None = None


# --- rounds ---------------------------------------------------------------------------------------------


async def open_round(
    session: AsyncSession,
    actor: Actor,
    catalogue: Catalogue,
    period: str,
    deadline: date,
    *,
    indicators: list[str] | None = None,
    states: list[str] | None = None,
) -> Round:
    """Open a round for ``period`` (``"2025"``): every catalogue indicator and member state by default."""
    if not actor.is_secretariat:
        raise AccessDenied()
    period = period.strip()
    if not period or len(period) > PERIOD_LENGTH or not period.replace("-", "").isalnum():
        raise InvalidInput(N_("A period is a year such as 2025, or a short name without spaces."))
    if await session.scalar(select(Round.id).where(Round.period == period)) is not None:
        raise InvalidInput(N_("There is already a round for {period}."), period=period)
    codes = list(indicators or catalogue.codes)
    unknown = [code for code in codes if catalogue.get(code) is None]
    if unknown:
        raise InvalidInput(N_("Unknown indicator: {code}."), code=unknown[0])
    known = set(await member_states(session))
    chosen = sorted({s.upper() for s in states or []})
    if [code for code in chosen if code not in known]:
        raise InvalidInput(N_("Unknown state: {code}."), code=next(c for c in chosen if c not in known))
    row = Round(period=period, deadline=deadline, indicators=codes, states=chosen, opened_by=actor.name)
    session.add(row)
    await session.flush()
    audit.record(session, actor, "round.open", row, after=audit.snapshot(row), directory=False)
    return row


async def close_round(session: AsyncSession, actor: Actor, row: Round) -> None:
    if not actor.is_secretariat:
        raise AccessDenied()
    if row.closed_at is None:
        row.closed_at = utcnow()
        audit.record(session, actor, "round.close", row, directory=False)


async def move_deadline(session: AsyncSession, actor: Actor, row: Round, deadline: date) -> None:
    if not actor.is_secretariat:
        raise AccessDenied()
    before = row.deadline.isoformat()
    row.deadline = deadline
    audit.record(session, actor, "round.deadline", row, before={"deadline": before},
                 after={"deadline": deadline.isoformat()}, directory=False)  # fmt: skip


async def get_round(session: AsyncSession, period: str) -> Round:
    row = await session.scalar(select(Round).where(Round.period == period.strip()[:PERIOD_LENGTH]))
    if row is None:
        raise NotFound(N_("There is no reporting round for {period}."), period=period.strip()[:PERIOD_LENGTH])
    return row


async def open_rounds(session: AsyncSession) -> list[Round]:
    """Open rounds, the nearest deadline first."""
    rows = await session.scalars(select(Round).where(Round.closed_at.is_(None)).order_by(Round.deadline, Round.id))
    return list(rows)


async def all_rounds(session: AsyncSession) -> list[Round]:
    return list(await session.scalars(select(Round).order_by(Round.period)))


async def member_states(session: AsyncSession) -> list[str]:
    return list(await session.scalars(select(State.code).where(State.is_member.is_(True)).order_by(State.code)))


async def audience(session: AsyncSession, row: Round) -> list[str]:
    """The states a round asks figures of."""
    return list(row.states) if row.states else await member_states(session)


# --- figures --------------------------------------------------------------------------------------------


async def current(session: AsyncSession, round_id: int, state_code: str) -> dict[str, Figure]:
    """A state's current figures in a round, by indicator code."""
    rows = await session.scalars(
        select(Figure).where(Figure.round_id == round_id, Figure.state_code == state_code, Figure.current.is_(True))
    )
    return {f.indicator: f for f in rows}


async def history(session: AsyncSession, round_id: int, state_code: str) -> list[Figure]:
    """Every version of a state's figures in a round, by indicator then version."""
    rows = await session.scalars(
        select(Figure)
        .where(Figure.round_id == round_id, Figure.state_code == state_code)
        .order_by(Figure.indicator, Figure.version)
    )
    return list(rows)


async def previous_round(session: AsyncSession, row: Round) -> Round | None:
    """The round of the period before this one (periods sort as text: "2024" < "2025")."""
    return await session.scalar(select(Round).where(Round.period < row.period).order_by(Round.period.desc()).limit(1))


async def previous_values(session: AsyncSession, row: Round, state_code: str) -> dict[str, int]:
    """The state's current figures of the previous round (values only; n/a left out)."""
    before = await previous_round(session, row)
    if before is None:
        return {}
    return {code: f.value for code, f in (await current(session, before.id, state_code)).items() if f.value is not None}


async def record(
    session: AsyncSession, actor: Actor, row: Round, state_code: str, entries: list[Entry]
) -> list[Figure]:
    """Store ``entries`` as the state's new current figures (a new version of each). The caller has run
    the checks (storage.figure_checks) and read the figures back to the member, who confirmed them."""
    actor.ensure_state(state_code)
    if not row.is_open:
        raise InvalidInput(N_("The round for {period} is closed."), period=row.period)
    if state_code not in await audience(session, row):
        raise InvalidInput(N_("The round for {period} does not ask figures of {state}."), period=row.period,
                           state=state_code)  # fmt: skip
    known = set(row.indicators)
    for entry in entries:
        if entry.code not in known:
            raise InvalidInput(N_("Unknown indicator: {code}."), code=entry.code)
    had = await current(session, row.id, state_code)
    if had:
        await session.execute(
            update(Figure)
            .where(
                Figure.round_id == row.id,
                Figure.state_code == state_code,
                Figure.indicator.in_([e.code for e in entries]),
                Figure.current.is_(True),
            )
            .values(current=False)
        )
    stored: list[Figure] = []
    for entry in entries:
        before = had.get(entry.code)
        figure = Figure(
            round_id=row.id, state_code=state_code, indicator=entry.code,
            version=(before.version + 1) if before else 1, current=True,
            value=entry.value, not_available=entry.value is None, estimate=entry.estimate,
            provisional=entry.provisional, sentences=entry.sentences, comment=entry.comment,
            submitted_by=actor.member_id, submitted_by_label=actor.name,
            on_behalf=actor.is_secretariat and actor.state_code != state_code,
        )  # fmt: skip
        session.add(figure)
        stored.append(figure)
    await session.flush()
    for figure, entry in zip(stored, entries, strict=True):
        before = had.get(entry.code)
        audit.record(
            session, actor, "figure.amend" if before else "figure.report", figure,
            before=audit.snapshot(before) if before else None, after=audit.snapshot(figure), directory=False,
        )  # fmt: skip
    return stored


async def reported(session: AsyncSession, row: Round) -> dict[str, set[str]]:
    """Which indicators each state has a current figure for (n/a counts as reported)."""
    pairs = await session.execute(
        select(Figure.state_code, Figure.indicator).where(Figure.round_id == row.id, Figure.current.is_(True))
    )
    done: dict[str, set[str]] = defaultdict(set)
    for state_code, code in pairs:
        done[state_code].add(code)
    return done


async def owed(session: AsyncSession, row: Round) -> dict[str, list[str]]:
    """For each state of the round's audience, the indicators it has not reported yet (in catalogue
    order); a state that has reported everything maps to an empty list."""
    done = await reported(session, row)
    return {
        state: [c for c in row.indicators if c not in done.get(state, set())] for state in await audience(session, row)
    }
