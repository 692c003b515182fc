"""Announcements from the Secretariat: who they go to, in which language, and queuing them.

    to:all            to:CO,PE           topic:tip          role:contact       ack
    en: Meeting on Friday | es: Reunión el viernes

Audience words combine (``to:CO,PE role:contact``: the contacts of Colombia and Peru). The text may be
given in several languages; each member receives theirs, else the first one given. Copies are queued in
one statement per table, so thousands of them take a fraction of a second.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit, outbox
from storage.access import Actor, role_named
from storage.errors import N_, InvalidInput
from storage.models import Identity, Member, OutboxItem, Relay, RelayCopy, StoredFile
from storage.readmodel import DirectoryView
from storage.relays import AUDIENCE, reference
from storage.text import fold
from storage.vocabularies import TOPICS

KIND = "announcement"
LANGUAGES = ("en", "es", "pt", "fr")
MAX_LENGTH = 4000
_LANG = re.compile(r"\s*(en|es|pt|fr)\s*:\s*", re.I)
_SPLIT = re.compile(r"\|(?=\s*(?:en|es|pt|fr)\s*:)", re.I)
_ACK = {"ack", "acuse", "confirmar", "accuse"}


@dataclass
class Audience:
    everyone: bool = False
    states: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.everyone or self.states or self.topics or self.roles)

    def describe(self) -> str:
        words = ["to:all"] if self.everyone else []
        if self.states:
            words.append("to:" + ",".join(self.states))
        words += [f"topic:{t}" for t in self.topics] + [f"role:{r}" for r in self.roles]
        return " ".join(words)

    def member_ids(self, view: DirectoryView, author_id: int) -> list[int]:
        """Active members it selects (the author left out), by state then as /whois lists them."""
        people = [e for e in view.by_id.values() if e.active and e.id != author_id]
        if self.states:
            people = [e for e in people if e.state_code in self.states]
        if self.topics:
            people = [e for e in people if any(t in e.competences for t in self.topics)]
        if self.roles:
            people = [e for e in people if e.role in self.roles]
        return [e.id for e in sorted(people, key=lambda e: (e.state_code or "", e.rank))]


@dataclass
class Draft:
    audience: Audience
    texts: dict[str, str]  # language ("" when given once for everyone) → text
    ack: bool = False


def _states(view: DirectoryView, value: str) -> list[str]:
    codes: list[str] = []
    for name in value.split(",")[:40]:
        if not name.strip():
            continue
        found = view.state_names.exact(name)
        code = found.code if found is not None else None
        if code is None:
            raise InvalidInput(N_("There is no state called “{typed}”. Send /states for the list."), typed=name[:40])
        codes.append(code)
    return codes


def parse_audience_words(view: DirectoryView, words: list[str]) -> tuple[Audience, bool, int]:
    """Leading ``to:`` / ``topic:`` / ``role:`` words and ``ack``; returns the audience, ack, words used."""
    audience, ack, used = Audience(), False, 0
    for word in words[:40]:
        key, sep, value = word.partition(":")
        key = fold(key)
        if fold(word) in _ACK:
            ack = True
        elif sep and key in ("to", "a", "para") and value:
            if fold(value) in ("all", "todos", "tous"):
                audience.everyone = True
            else:
                audience.states += _states(view, value)
        elif sep and key in ("topic", "tema", "sujet") and value:
            topic = TOPICS.resolve(value)
            if topic.code is None:
                raise InvalidInput(
                    N_("I do not know the topic “{topic}”. Send /topics for the list."), topic=value[:40]
                )
            audience.topics.append(topic.code)
        elif sep and key in ("role", "rol", "papel") and value:
            named = role_named(value)
            if named is None:
                raise InvalidInput(N_("Roles are contact, official or secretariat."))
            audience.roles.append(named.value)
        else:
            break
        used += 1
    return audience, ack, used


def split_texts(text: str) -> dict[str, str]:
    """``en: Hello | es: Hola`` → {"en": "Hello", "es": "Hola"}; a text without prefixes is for everyone."""
    text = text.strip()
    if not _LANG.match(text):
        return {"": text} if text else {}
    texts: dict[str, str] = {}
    for part in _SPLIT.split(text):
        match = _LANG.match(part)
        if match is None:
            continue
        language = match.group(1).lower()
        texts.setdefault(language, part[match.end() :].strip())
    return {lang: body for lang, body in texts.items() if body}


def check(draft: Draft, limit: int = MAX_LENGTH) -> None:
    if draft.audience.empty:
        raise InvalidInput(
            N_(
                "Say who it is for: to:all, to:<states>, topic:<topic> or role:<contact|official>, e.g. to:CO,PE role:contact."
            )
        )
    if not draft.texts:
        raise InvalidInput(N_("The announcement has no text. Write it after the audience."))
    for body in draft.texts.values():
        if len(body) > limit:
            raise InvalidInput(
                N_("The text is {length} characters long; an announcement holds at most {limit}."),
                length=len(body), limit=limit,
            )  # fmt: skip


def text_for(texts: dict[str, str], language: str) -> str:
    return texts.get(language) or texts.get("") or next(iter(texts.values()))


@dataclass(frozen=True, slots=True)
class Person:
    """A recipient as queuing needs them: plain values, no ORM bookkeeping (thousands are loaded at once)."""

    id: int
    language: str | None
    platform: str | None  # their first linked account; None: no chat account
    chat_id: str | None
    user_id: str | None


def language_of(person: Person, default: str) -> str:
    return person.language if person.language in LANGUAGES else default


async def recipients(session: AsyncSession, ids: list[int]) -> list[Person]:
    """The members with these ids, each with their first linked account, in the order of ``ids``."""
    if not ids:
        return []
    query = (
        select(Member.id, Member.language, Identity.platform, Identity.chat_id, Identity.user_id)
        .outerjoin(Identity, Identity.member_id == Member.id)
        .where(Member.id.in_(ids))
        .order_by(Member.id, Identity.id)
    )
    first: dict[int, Person] = {}
    for row in (await session.execute(query)).all():
        first.setdefault(row[0], Person(*row))
    return [first[i] for i in ids if i in first]


@dataclass
class Plan:
    """What "send to N members?" says: who can be reached, on which platform, in which language."""

    reachable: list[Person]
    unreachable: list[Person]
    platforms: Counter[str]
    languages: Counter[str]


def plan(people: list[Person], texts: dict[str, str], default_language: str) -> Plan:
    reachable = [p for p in people if p.platform is not None]
    platforms = Counter(str(p.platform) for p in reachable)
    given = [lang for lang in texts if lang]
    languages: Counter[str] = Counter()
    for p in reachable:
        wanted = language_of(p, default_language)
        languages[wanted if wanted in texts else (given[0] if given else wanted)] += 1
    return Plan(reachable, [p for p in people if p.platform is None], platforms, languages)


async def queue(
    session: AsyncSession,
    author: Member,
    draft: Draft,
    target: Plan,
    *,
    now: datetime,
    default_language: str,
    file: StoredFile | None = None,
) -> Relay:
    """The announcement and a copy (an outbox row) for each reachable member, in one transaction."""
    relay = await create(session, author, draft, now=now, default_language=default_language, file=file)
    await queue_copies(session, relay, author, target.reachable, now=now, default_language=default_language)
    return relay


async def create(
    session: AsyncSession,
    author: Member,
    draft: Draft,
    *,
    now: datetime,
    default_language: str,
    file: StoredFile | None = None,
) -> Relay:
    """The announcement itself, without copies yet (a scheduled one gets them when it comes due)."""
    relay = Relay(
        mode="announce", sender_id=author.id, tlp="CLEAR", urgent=False, audience=draft.audience.describe(),
        body=text_for(draft.texts, default_language), texts=draft.texts, ack=draft.ack,
        file_id=file.id if file else None, created_at=now,
    )  # fmt: skip
    session.add(relay)
    await session.flush()
    return relay


async def queue_copies(
    session: AsyncSession, relay: Relay, author: Member, people: list[Person], *, now: datetime, default_language: str
) -> None:
    """A copy for each of ``people`` (reachable ones): one multi-row INSERT per table, without the ORM
    (5,000 copies in well under a second)."""
    rows: list[dict[str, Any]] = []
    texts: dict[str, str] = dict(relay.texts or {"": relay.body})
    for person in people:
        if person.platform is None:
            continue
        language = language_of(person, default_language)
        params = {"number": relay.id, "sender": author.display_name, "text": text_for(texts, language),
                  "ack": relay.ack}  # fmt: skip
        rows.append({
            "platform": person.platform, "chat_id": person.chat_id, "user_id": person.user_id,
            "member_id": person.id, "kind": KIND, "template": "", "params": params, "language": language,
            "priority": outbox.BULK, "reference": reference(relay.id), "status": outbox.QUEUED, "attempts": 0,
            "file_id": relay.file_id, "created_at": now,
        })  # fmt: skip
    if rows:  # the copies, then their rows in relay_copy straight from the database (nothing comes back)
        await session.execute(insert(cast(Table, OutboxItem.__table__)), rows)
        copies = select(literal(relay.id), OutboxItem.member_id, OutboxItem.id, literal(AUDIENCE)).where(
            OutboxItem.reference == reference(relay.id),
            OutboxItem.id.not_in(
                select(RelayCopy.outbox_id).where(RelayCopy.relay_id == relay.id, RelayCopy.outbox_id.is_not(None))
            ),
        )  # copies queued earlier (a scheduled announcement goes out in batches) already have theirs
        await session.execute(
            insert(cast(Table, RelayCopy.__table__)).from_select(
                ["relay_id", "member_id", "outbox_id", "reason"], copies
            )
        )
        session.info[outbox.WRITTEN] = True


async def send(
    session: AsyncSession,
    actor: Actor,
    author: Member,
    draft: Draft,
    view: DirectoryView,
    *,
    now: datetime,
    default_language: str,
    file: StoredFile | None = None,
) -> tuple[Relay, Plan]:
    """Check, queue and audit an announcement (the chat's "yes" and ``pocnet broadcast send`` both)."""
    check(draft)
    people = await recipients(session, draft.audience.member_ids(view, author.id))
    target = plan(people, draft.texts, default_language)
    if not target.reachable:
        raise InvalidInput(N_("No active member with a linked chat account matches that audience."))
    relay = await queue(session, author, draft, target, now=now, default_language=default_language, file=file)
    after = {"audience": relay.audience, "copies": len(target.reachable), "unreachable": len(target.unreachable),
             "languages": dict(target.languages), "platforms": dict(target.platforms), "ack": relay.ack,
             "file": relay.file_id is not None}  # fmt: skip
    audit.record(session, actor, "announce.send", relay, after=after, directory=False)
    return relay, target
