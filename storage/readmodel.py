"""The directory as read by lookups: an in-memory snapshot of every member, rebuilt when data changes.

Every lookup (/whois, /find, /contact, /states, /help …) is answered from here without touching the
database, which is what keeps them fast under load. The snapshot is rebuilt on the first read after a
change: at once for changes made by this process (any transaction that wrote an audit event — and every
change does), and within ``POLL_SECONDS`` for changes made by another process (the CLI, a second bot),
noticed through the highest audit event id (of directory changes: relays do not count).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.audit import CHANGED
from storage.db import on_commit, unavailable
from storage.lookup import MAX_WORDS, Vocabulary
from storage.models import AuditEvent, Identity, Member, MemberCompetence, State
from storage.taxonomy import FUNCTION_RANK
from storage.text import fold
from storage.vocabularies import FUNCTION_NAMES, TOPICS, state_vocabulary

POLL_SECONDS = 1.0
NOT_DIRECTORY = ("relay",)  # audited subjects that never change the directory (relays, announcements, acks)
CHECK_SECONDS = 1.0  # a refresh taking longer goes on in the background; lookups answer from the last snapshot
log = logging.getLogger("pocnet.readmodel")
_UNRANKED = len(FUNCTION_RANK)


# --- change tracking --------------------------------------------------------------------------------

_local_changes = 0  # transactions of this process that changed data (audit.record marks them)


def _count_change() -> None:
    global _local_changes
    _local_changes += 1


on_commit(CHANGED, _count_change)


# --- the snapshot -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StateView:
    code: str
    name_en: str
    name_es: str
    name_pt: str
    name_fr: str
    default_timezone: str
    aliases: tuple[str, ...]

    def name(self, language: str) -> str:
        return str(getattr(self, f"name_{language}", None) or self.name_en)


@dataclass(frozen=True, slots=True)
class IdentityView:
    platform: str
    user_id: str


@dataclass(frozen=True, slots=True, eq=False)
class EntryView:
    """A member as lookups see it; attribute names match ``storage.models.Member``. Compared and hashed
    by identity: a changed member is a new entry in a new snapshot, so caches keyed on entries stay right."""

    id: int
    display_name: str
    role: str
    function: str
    state_code: str | None
    state: StateView | None
    institution: str | None
    language: str | None
    languages: tuple[str, ...]
    timezone: str | None
    office_hours: str | None
    email: str | None
    phone: str | None
    active: bool
    created_at: datetime
    last_confirmed_at: datetime | None
    verified_at: datetime | None
    competences: tuple[str, ...]
    identities: tuple[IdentityView, ...]
    search_key: str
    away_until: datetime | None = None
    away_delegate_id: int | None = None

    @property
    def rank(self) -> tuple[int, str, int]:
        return (FUNCTION_RANK.get(self.function, _UNRANKED), self.display_name, self.id)


@dataclass(frozen=True)
class WhoisResult:
    members: list[EntryView]
    total: int  # active contacts of the state
    matching: int  # of which handle the topic (0 when no topic)


@dataclass(frozen=True)
class StateSummary:
    state: StateView
    contacts: int
    last_confirmed: datetime | None


@dataclass
class DirectoryView:
    states: dict[str, StateView]
    by_id: dict[int, EntryView]
    by_identity: dict[tuple[str, str], EntryView]
    chats: dict[tuple[str, str], str] = field(default_factory=dict)  # (platform, user id) → their private chat
    by_state: dict[str, list[EntryView]] = field(default_factory=dict)  # active only, in listing order
    state_names: Vocabulary = field(default_factory=lambda: Vocabulary({}))

    def __post_init__(self) -> None:
        grouped: defaultdict[str, list[EntryView]] = defaultdict(list)
        for entry in self.by_id.values():
            if entry.active and entry.state_code:
                grouped[entry.state_code].append(entry)
        self.by_state = {code: sorted(entries, key=lambda e: e.rank) for code, entries in grouped.items()}
        self.state_names = state_vocabulary(self.states.values())
        self._active = sorted((e for e in self.by_id.values() if e.active), key=lambda e: e.rank)
        self._keys = [(e.search_key, e.id) for e in self._active]
        self._by_competence: defaultdict[str, set[int]] = defaultdict(set)
        self._by_function: defaultdict[str, set[int]] = defaultdict(set)
        for e in self._active:
            self._by_function[e.function].add(e.id)
            for code in e.competences:
                self._by_competence[code].add(e.id)

    def whois(self, state_code: str, competence: str | None, *, limit: int = 10) -> WhoisResult:
        """A state's contacts, those handling ``competence`` first, then by function and name."""
        everyone = self.by_state.get(state_code, [])
        if not competence:
            return WhoisResult(everyone[:limit], len(everyone), 0)
        matching = [e for e in everyone if competence in e.competences]
        others = [e for e in everyone if competence not in e.competences]
        return WhoisResult((matching + others)[:limit], len(everyone), len(matching))

    def find(self, words: list[str], *, limit: int = 20) -> list[EntryView]:
        """People matching every part of ``words``. A run of words that names a topic, a function or a state
        (``money laundering``, ``trata de personas``, ``Estados Unidos``) is one part: the people who handle
        that topic, hold that function or are in that state. Any other word is one part: the people whose name
        or institution contains it, or who handle the topic (hold the function) it starts. Only the first
        ``MAX_WORDS`` distinct words count."""
        words = list(dict.fromkeys(words))[:MAX_WORDS]
        found: set[int] | None = None
        at = 0
        while at < len(words):
            ids, used = self._phrase(words[at:])
            at += used
            if ids is None:
                continue
            found = ids if found is None else found & ids
            if not found:
                return []
        entries = [self.by_id[i] for i in found or ()]
        return sorted(entries, key=lambda e: (e.state_code or "", e.rank))[:limit]

    def _phrase(self, words: list[str]) -> tuple[set[int] | None, int]:
        """The people the leading words name, and how many words that took (None: words to ignore)."""
        for cut in range(min(len(words), MAX_WORDS), 1, -1):  # several words naming one thing, longest first
            text = " ".join(words[:cut])
            topic = TOPICS.named(text)
            if topic is not None:
                return set(self._by_competence.get(topic, set())), cut
            function = FUNCTION_NAMES.named(text)
            if function is not None:
                return set(self._by_function.get(function, set())), cut
            state = self.state_names.named(text)
            if state is not None:
                return {e.id for e in self.by_state.get(state, [])}, cut
        word = words[0]
        key = fold(word)
        if not key:  # punctuation or a script folding cannot read: it would match everyone
            return None, 1
        ids = {member_id for search_key, member_id in self._keys if key in search_key}
        topic_found = TOPICS.exact(word)
        if topic_found is not None and topic_found.code:
            ids |= self._by_competence.get(topic_found.code, set())
        function_found = FUNCTION_NAMES.exact(word)
        if function_found is not None and function_found.code:
            ids |= self._by_function.get(function_found.code, set())
        state = self.state_names.named(word) if len(key) >= 3 else None
        if state is not None:
            ids |= {e.id for e in self.by_state.get(state, [])}
        return ids, 1

    def find_by_name(self, text: str, *, limit: int = 10) -> list[EntryView]:
        key = fold(text)
        if not key:
            return []
        found = [self.by_id[member_id] for search_key, member_id in self._keys if key in search_key]
        return sorted(found, key=lambda e: (e.display_name, e.id))[:limit]

    def get_active(self, member_id: int) -> EntryView | None:
        entry = self.by_id.get(member_id)
        return entry if entry is not None and entry.active else None

    def active_names(self) -> dict[int, str]:
        return {e.id: e.display_name for e in self._active}

    def summary(self) -> list[StateSummary]:
        rows = []
        for code in sorted(self.states):
            entries = self.by_state.get(code, [])
            confirmed = [e.last_confirmed_at for e in entries if e.last_confirmed_at]
            rows.append(StateSummary(self.states[code], len(entries), max(confirmed) if confirmed else None))
        return rows


async def load(session: AsyncSession) -> DirectoryView:
    states = {
        s.code: StateView(s.code, s.name_en, s.name_es, s.name_pt, s.name_fr, s.default_timezone, tuple(s.aliases))
        for s in await session.scalars(select(State))
    }
    competences: defaultdict[int, list[str]] = defaultdict(list)
    for member_id, code in await session.execute(
        select(MemberCompetence.member_id, MemberCompetence.competence).order_by(MemberCompetence.competence)
    ):
        competences[member_id].append(code)
    identities: defaultdict[int, list[IdentityView]] = defaultdict(list)
    identity_rows = (
        await session.execute(select(Identity.member_id, Identity.platform, Identity.user_id, Identity.chat_id))
    ).all()
    for member_id, platform, user_id, _chat in identity_rows:
        identities[member_id].append(IdentityView(platform, user_id))
    by_id: dict[int, EntryView] = {}
    for m in (await session.execute(select(Member.__table__))).all():  # plain rows: no ORM bookkeeping
        by_id[m.id] = _entry(m, states, competences[m.id], identities[m.id])
    by_identity = {(platform, user_id): by_id[member_id] for member_id, platform, user_id, _chat in identity_rows}
    chats = {(platform, user_id): chat for _member, platform, user_id, chat in identity_rows}
    return DirectoryView(states, by_id, by_identity, chats=chats)


def _entry(m: Any, states: dict[str, StateView], competences: list[str], identities: list[Any]) -> EntryView:
    return EntryView(
        id=m.id, display_name=m.display_name, role=m.role, function=m.function, state_code=m.state_code,
        state=states.get(m.state_code) if m.state_code else None, institution=m.institution, language=m.language,
        languages=tuple(m.languages or ()), timezone=m.timezone, office_hours=m.office_hours, email=m.email,
        phone=m.phone, active=m.active, created_at=m.created_at, last_confirmed_at=m.last_confirmed_at,
        verified_at=m.verified_at, competences=tuple(competences), identities=tuple(identities),
        search_key=m.search_key, away_until=m.away_until, away_delegate_id=m.away_delegate_id,
    )  # fmt: skip


class ReadModel:
    """Hands out the current snapshot for one database, rebuilding it when something changed."""

    def __init__(self, sessions: Any) -> None:
        self._sessions = sessions
        self._view: DirectoryView | None = None
        self._seen: tuple[int, int] = (-1, -1)  # (local changes, highest audit id) the view reflects
        self._checked = 0.0
        self._refreshing: asyncio.Task[DirectoryView] | None = None

    def last(self) -> DirectoryView | None:
        """The snapshot as last loaded, without asking the database (None before the first load)."""
        return self._view

    async def current(self) -> DirectoryView:
        """The snapshot, refreshed first if the directory changed. A refresh that has not finished within
        CHECK_SECONDS goes on in the background while this answers with the last snapshot, and so does a
        refresh the database refuses: lookups keep working through an outage or a slow database."""
        if (
            self._view is not None
            and self._seen[0] == _local_changes
            and time.monotonic() - self._checked < POLL_SECONDS
        ):
            return self._view
        if self._refreshing is None:
            self._refreshing = asyncio.create_task(self._refresh())
        task = self._refreshing
        if self._view is None:  # nothing to fall back on: wait, and let an error reach the caller
            return await asyncio.shield(task)
        done, _ = await asyncio.wait({task}, timeout=CHECK_SECONDS)
        return task.result() if task in done else self._view

    async def _refresh(self) -> DirectoryView:
        try:
            async with self._sessions() as session:
                newest = select(func.max(AuditEvent.id)).where(AuditEvent.subject_type.not_in(NOT_DIRECTORY))
                latest = (_local_changes, await session.scalar(newest) or 0)
                if self._view is None or latest != self._seen:
                    self._view = await load(session)
                    self._seen = latest
                self._checked = time.monotonic()
                return self._view
        except Exception as exc:
            if self._view is None:
                raise
            self._checked = time.monotonic()  # try again in POLL_SECONDS, not at every message
            if unavailable(exc):
                log.warning("directory snapshot not refreshed: database unavailable",
                            extra={"reason": type(exc).__name__})  # fmt: skip
            else:
                log.exception("directory snapshot not refreshed")
            return self._view
        finally:
            self._refreshing = None
