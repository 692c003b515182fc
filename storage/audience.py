"""Who a relay goes to: ``CO tip``, ``@12``, ``"Ana Pérez"``, or several of these separated by commas.

States and topics are understood as /whois understands them (any language, codes, abbreviations,
typos); a person is ``@id`` (or ``#id``) or a name as /contact takes it — in one line, a name is
written in quotes, since the message follows it. Parsing reads the directory snapshot only.

In one line (``/relay CO, PE tip tlp:amber urgent Text …``) the audience ends at the first word that
does not continue it; ``tlp:<label>`` and ``urgent`` may follow; the rest is the text. A line break also
ends the audience.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from storage.errors import N_, InvalidInput
from storage.lookup import split_state_and_topic
from storage.readmodel import DirectoryView, EntryView
from storage.text import fold
from storage.tlp import is_label
from storage.tlp import parse as parse_label
from storage.vocabularies import TOPICS

MAX_ITEMS = 20  # audience items in one relay
_WINDOW = 6  # words a state name and topic may take (the longest state name has five)
_TOKEN = re.compile(r'[“"][^”"\n]{1,200}[”"]|[^\s,]+|,|\n')
_MEMBER_ID = re.compile(r"[@#](\d{1,9})")
URGENT_WORDS = {"urgent", "urgente", "urgence", "!urgent"}


@dataclass(frozen=True)
class Item:
    text: str  # as written, for the sender's own record
    state_code: str | None = None
    topic: str | None = None
    member_id: int | None = None


@dataclass
class Audience:
    items: list[Item] = field(default_factory=list)

    @property
    def named_only(self) -> bool:
        return all(item.member_id is not None for item in self.items)

    def describe(self) -> str:
        return ", ".join(item.text for item in self.items)[:500]

    def members(self, view: DirectoryView, sender_id: int) -> list[EntryView]:
        """The people it reaches (active, the sender left out), each once, in the order named."""
        seen: dict[int, EntryView] = {}
        for item in self.items:
            if item.member_id is not None:
                entry = view.by_id.get(item.member_id)
                if entry is None:
                    raise InvalidInput(
                        N_("There is no member #{id}. Send /find to look someone up."), id=item.member_id
                    )
                if not entry.active:
                    raise InvalidInput(N_("{name} is no longer active in the network."), name=entry.display_name)
                found = [entry]
            else:
                assert item.state_code is not None
                found = [
                    e for e in view.by_state.get(item.state_code, []) if not item.topic or item.topic in e.competences
                ]
                if not found:
                    state = view.states[item.state_code]
                    if item.topic:
                        raise InvalidInput(
                            N_("No one in {state} handles that topic. Send /whois {code} to see its contacts."),
                            state=state.name_en, code=state.code,
                        )  # fmt: skip
                    raise InvalidInput(N_("{state} has no contacts in the directory yet."), state=state.name_en)
            for entry in found:
                if entry.id != sender_id:
                    seen.setdefault(entry.id, entry)
        return list(seen.values())


@dataclass
class Line:
    """A one-line relay, taken apart."""

    audience: Audience
    label: str | None
    urgent: bool
    text: str


def _state_item(view: DirectoryView, words: list[str]) -> tuple[Item, int]:
    """A state (and a topic) from the first of ``words``; returns the item and how many words it took."""
    split = split_state_and_topic(view.state_names, words)
    found = split.state
    if found.code is None:
        if found.candidates:
            names = ", ".join(f"{view.states[c].name_en} ({c})" for c in found.candidates[:6])
            raise InvalidInput(N_("“{typed}” could mean: {names}. Write the state in full or its code."),
                               typed=words[0][:40], names=names)  # fmt: skip
        raise InvalidInput(
            N_(
                "I could not read “{typed}” as a state or a person. Write a state (CO, Colombia), "
                "a person as @id or a name in quotes, then the text."
            ),
            typed=words[0][:40],
        )
    rest = split.topic_text.split()
    used = len(words) - len(rest)
    for size in range(min(len(rest), 4), 0, -1):
        phrase = " ".join(rest[:size])
        code = TOPICS.named(phrase)
        if code is None and size == 1 and len(fold(phrase)) >= 3:
            exact = TOPICS.exact(phrase)
            code = exact.code if exact is not None else None
        if code is not None:
            text = " ".join(words[: used + size])
            return Item(text, state_code=found.code, topic=code), used + size
    return Item(" ".join(words[:used]), state_code=found.code), used


def _person_item(view: DirectoryView, text: str) -> Item:
    match = _MEMBER_ID.fullmatch(text)
    if match:
        return Item(text, member_id=int(match.group(1)))
    name = text.strip('“”"').strip()
    key = fold(name)
    found = [e for e in view.find_by_name(name, limit=50) if e.active] if key else []
    people = [e for e in found if key in fold(e.display_name)][:7]  # by name, not by institution
    exact = [e for e in people if fold(e.display_name) == fold(name)]
    if len(exact) == 1 or len(people) == 1:
        person = (exact or people)[0]
        return Item(f"@{person.id}", member_id=person.id)
    if people:
        names = "; ".join(f"@{e.id} {e.display_name} ({e.state_code or 'OAS'})" for e in people[:6])
        raise InvalidInput(N_("Several people match “{name}”: {names}. Use their @id."), name=name[:60], names=names)
    raise InvalidInput(N_("No one in the directory is called “{name}”. Send /find to look someone up."), name=name[:60])


def parse_line(view: DirectoryView, args: str) -> Line:
    """``CO, @12 tlp:red urgent Text`` → audience, label, urgency, text."""
    matches = itertools.islice(_TOKEN.finditer(args), MAX_ITEMS * (_WINDOW + 1) + 8)  # bounded, however long
    tokens = [(m.group(), m.end()) for m in matches]
    audience = Audience()
    pos = 0  # index into tokens
    end = 0  # offset in args where the audience (and flags) end
    while pos < len(tokens) and len(audience.items) < MAX_ITEMS:
        token = tokens[pos][0]
        if token in (",", "\n"):
            pos += 1
            continue
        if token[0] in '“"@#':
            item, used = _person_item(view, token), 1
        else:
            words: list[str] = []
            for word, _end in tokens[pos : pos + _WINDOW]:
                if word in (",", "\n") or word[0] in '“"' or is_label(word):
                    break
                words.append(word)
            item, used = _state_item(view, words)
        audience.items.append(item)
        pos += used
        end = tokens[pos - 1][1]
        if pos < len(tokens) and tokens[pos][0] == ",":
            pos += 1
            continue
        break
    label: str | None = None
    urgent = False
    while pos < len(tokens):
        token = tokens[pos][0]
        if is_label(token):
            label = parse_label(token)
        elif fold(token) in URGENT_WORDS or token.lower() in URGENT_WORDS:
            urgent = True
        elif token != "\n":
            break
        end = tokens[pos][1]
        pos += 1
    return Line(audience, label, urgent, args[end:].strip())


def parse_audience(view: DirectoryView, text: str) -> Audience:
    """The whole of ``text`` is the audience (the dialog's question): names need no quotes."""
    audience = Audience()
    for part in text.replace("\n", ",").split(",")[: MAX_ITEMS + 1]:
        part = part.strip()
        if not part:
            continue
        if len(audience.items) == MAX_ITEMS:
            raise InvalidInput(N_("At most {n} names, states or topics in one audience."), n=MAX_ITEMS)
        if part[0] in '@#“"':
            audience.items.append(_person_item(view, part))
            continue
        words = part.split()[:_WINDOW]
        try:
            item, used = _state_item(view, words)
        except InvalidInput:
            audience.items.append(_person_item(view, part))
            continue
        if used < len(part.split()):
            audience.items.append(_person_item(view, part))
            continue
        audience.items.append(item)
    if not audience.items:
        raise InvalidInput(N_("Say who it is for: a state (CO), a state and topic (CO tip), or a person (@12)."))
    return audience
