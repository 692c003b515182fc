"""The vocabularies the directory resolves against: states (from the database) and the taxonomies."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage.lookup import Vocabulary
from storage.models import State
from storage.taxonomy import COMPETENCES, FUNCTIONS

TOPICS = Vocabulary({t.code: (*t.names, *t.aliases) for t in COMPETENCES})
FUNCTION_NAMES = Vocabulary({t.code: (*t.names, *t.aliases) for t in FUNCTIONS})

_states: dict[str, Vocabulary] = {}


def state_vocabulary(states: Iterable[Any]) -> Vocabulary:
    """States (rows or snapshot views) by code, names in four languages and aliases."""
    return Vocabulary({s.code: (s.name_en, s.name_es, s.name_pt, s.name_fr, *s.aliases) for s in states})


async def states(session: AsyncSession) -> Vocabulary:
    """States by code, alpha-3, names in four languages and aliases. Built once per database: the
    reference data only changes with ``pocnet db upgrade``, which restarts the bot anyway."""
    bind = session.bind
    key = str(bind.url) if isinstance(bind, AsyncEngine) else str(bind.engine.url) if bind is not None else ""
    if key not in _states:
        rows = await session.scalars(select(State).order_by(State.code))
        _states[key] = state_vocabulary(rows)
    return _states[key]
