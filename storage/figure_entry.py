"""Reading a ``/report`` line: which figures a member gives, as they typed them.

    /report 2025 mla=14 extradition=3 conv_tip=12 sentences:"3-15y"
    /report MX 2025 extradiciones=3, "trata de personas"=4 est; jit n/a
    /report mutual legal assistance: 14 prov, otra = ~2 comment:"two cases merged"

The line starts with an optional state (the Secretariat reports for a state) and an optional period (left
out when exactly one round is open), then figures: a name (the code, or a name or alias in English,
Spanish, Portuguese or French; accents and case do not matter; quote names of several words when an ``=``
does not follow them), an optional ``=`` or ``:``, the value, then its marks: ``est`` (or a leading ``~``)
for an estimate, ``prov`` for a provisional figure, ``sentences:"…"`` for the sentences of a conviction
figure, ``comment:"…"``. ``n/a`` (``nd``, ``s/d``, ``não disponível``…) says the figure is not available,
which is not 0. Figures are separated by spaces, commas or semicolons.

This module only reads: whether a value is a whole number within the indicator's bounds is for
storage.figure_checks. Every mistake raises InvalidInput (the router translates it); nothing else escapes,
whatever is typed, and the cost is bounded by ``MAX_LINE``, ``MAX_TOKENS`` and ``MAX_ITEMS``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from storage.catalogue import Catalogue
from storage.errors import N_, InvalidInput
from storage.text import fold

MAX_LINE = 4096  # characters read; a full report of every indicator with comments is well under 2000
MAX_TOKENS = 600
MAX_ITEMS = 60  # figures in one line (a duplicate is an error, so at most the catalogue's size anyway)
MAX_NAME_WORDS = 10  # words of an unquoted name ("asistencia judicial reciproca" has 3)
MAX_SUGGEST = 60  # characters of an unknown word that are compared with the known ones

# Words in the four languages, folded (storage.text.fold: "n/a" → "n a", "não disponível" → "nao disponivel").
NOT_AVAILABLE = frozenset({
    "n a", "na", "nd", "n d", "s d", "sd", "nr", "n r", "not available", "unavailable", "no data",
    "no disponible", "sin datos", "sin dato", "nao disponivel", "indisponivel", "sem dados",
    "non disponible", "indisponible", "pas de donnees",
})  # fmt: skip
ESTIMATE = frozenset({
    "est", "estimate", "estimated", "approx", "estimado", "estimada", "estimacion", "aprox", "estimativa",
    "estimativo", "estime", "estimee", "estimation",
})  # fmt: skip
PROVISIONAL = frozenset({
    "prov", "provisional", "preliminary", "provisorio", "provisoria", "preliminar", "provisoire", "preliminaire",
})  # fmt: skip
SENTENCES = frozenset({
    "sentences", "sentence", "sentencias", "sentencia", "penas", "pena", "sentencas", "sentenca", "peines", "peine",
})  # fmt: skip
COMMENT = frozenset({
    "comment", "comments", "note", "comentario", "comentarios", "nota", "observacion", "observacao",
    "commentaire", "remarque",
})  # fmt: skip
ACTIONS = {
    **dict.fromkeys(("discard", "descartar", "borrar", "apagar", "supprimer", "effacer"), "discard"),
    **dict.fromkeys(("continue", "resume", "continuar", "retomar", "continuer", "reprendre"), "continue"),
    **dict.fromkeys(("restart", "reiniciar", "recomecar", "recommencer"), "restart"),
}
_NA_WORDS = max(len(p.split()) for p in NOT_AVAILABLE)
_YEAR = re.compile(r"\d{4}")
_TOKEN = re.compile(
    r"""\s+
    | "(?P<q1>[^"]*)" | “(?P<q2>[^”“]*)[”“] | «(?P<q3>[^»]*)» | „(?P<q4>[^“”]*)[“”]
    | (?P<sep>[,;])
    | (?P<op>[=:])
    | (?P<word>[^\s,;=:"“”«»„]+)""",
    re.X,
)
_QUOTES = ("q1", "q2", "q3", "q4")

TOO_LONG = N_("That report is too long: I read at most {limit} characters. Send it in several parts.")
TOO_MANY = N_("That is too many figures for one message (at most {limit}). Send them in several parts.")
UNCLOSED = N_("A quotation mark is not closed. Put names and texts of several words between quotes.")
UNKNOWN = N_("I do not know the indicator “{word}”. Did you mean {choices}? /report alone lists them one by one.")
UNKNOWN_NO_HINT = N_("I do not know the indicator “{word}”. /report alone lists the indicators one by one.")
NUMBER_FIRST = N_(
    "I read “{word}” where an indicator's name should be. Write the name, then the value (mla=14), and "
    "numbers without separators (1234)."
)
MISSING = N_("The value for “{word}” is missing: write it after the name, e.g. {code}=14 or {code}=n/a.")
TWICE = N_("“{word}” is given twice in this message: give each figure once.")
SENTENCES_ALONE = N_(
    'Sentences belong to a conviction figure: write them after it, e.g. conv_tip=12 sentences:"3-15y".'
)
MARK_EMPTY = N_('“{word}” needs a text after it, e.g. {word}:"…".')


@dataclass(frozen=True)
class Item:
    """One figure as typed: ``raw`` is the value's text ("14", "1.5", "n/a"), read by storage.figure_checks."""

    code: str
    word: str  # the name as typed, for messages
    raw: str
    not_available: bool = False
    estimate: bool = False
    provisional: bool = False
    sentences: str | None = None
    comment: str | None = None


@dataclass(frozen=True)
class Report:
    state: str | None  # a state named first (the Secretariat reporting for it)
    period: str | None
    items: tuple[Item, ...]
    action: str | None = None  # discard | continue | restart (of the guided entry's draft)
    comment: str | None = None  # a comment for the whole message (given before the figures)


@dataclass(frozen=True)
class _Token:
    kind: str  # word | quoted | sep | op
    text: str


def lex(line: str) -> list[_Token]:
    if len(line) > MAX_LINE:
        raise InvalidInput(TOO_LONG, limit=MAX_LINE)
    tokens: list[_Token] = []
    pos = 0
    while pos < len(line):
        match = _TOKEN.match(line, pos)
        if match is None:  # an opening quote without its closing one
            raise InvalidInput(UNCLOSED)
        pos = match.end()
        if match.group("sep"):
            tokens.append(_Token("sep", match.group("sep")))
        elif match.group("op"):
            tokens.append(_Token("op", match.group("op")))
        elif match.group("word"):
            tokens.append(_Token("word", match.group("word")))
        else:
            quoted = next((match.group(q) for q in _QUOTES if match.group(q) is not None), None)
            if quoted is None:
                continue  # blanks
            tokens.append(_Token("quoted", " ".join(quoted.split())))
        if len(tokens) > MAX_TOKENS:
            raise InvalidInput(TOO_MANY, limit=MAX_ITEMS)
    return tokens


def not_available(text: str) -> bool:
    return fold(text) in NOT_AVAILABLE


def read_value(text: str) -> tuple[str, bool, bool, bool]:
    """An answer in the guided entry ("14", "~14", "14 est prov", "n/a"): (raw, n/a, estimate, provisional)."""
    words = text.split()
    estimate = provisional = False
    while words and fold(words[-1]) in ESTIMATE | PROVISIONAL:
        mark = fold(words.pop())
        estimate = estimate or mark in ESTIMATE
        provisional = provisional or mark in PROVISIONAL
    raw = " ".join(words)
    if not_available(raw):
        return raw, True, estimate, provisional
    if raw[:1] in "~≈":
        raw, estimate = raw[1:].strip(), True
    return raw, False, estimate, provisional


def suggest(catalogue: Catalogue, word: str, language: str) -> str | None:
    """The closest indicator to an unknown word, as "code (name)"; None when nothing is close."""
    folded = fold(word[:MAX_SUGGEST])
    if not folded:
        return None
    best = process.extractOne(folded, list(catalogue.words()), scorer=fuzz.WRatio, score_cutoff=70)
    if best is None:
        return None
    indicator = catalogue.find(best[0])
    assert indicator is not None
    return f"{indicator.code} ({indicator.name.get(language)})"


class _Reader:
    def __init__(self, tokens: list[_Token], catalogue: Catalogue, language: str) -> None:
        self.tokens = tokens
        self.pos = 0
        self.catalogue = catalogue
        self.language = language
        self.words = catalogue.words()  # once: each catalogue lookup hashes the whole catalogue

    def find(self, word: str) -> str | None:
        """The code ``word`` names (as Catalogue.find, without a catalogue lookup per word)."""
        folded = fold(word)
        return self.words.get(folded) or self.words.get(folded.replace(" ", "_"))

    def peek(self, offset: int = 0) -> _Token | None:
        at = self.pos + offset
        return self.tokens[at] if at < len(self.tokens) else None

    def is_(self, kind: str, offset: int = 0) -> bool:
        token = self.peek(offset)
        return token is not None and token.kind == kind

    def na_length(self, offset: int = 0) -> int:
        """How many words from here spell "not available" (0: they do not)."""
        words: list[str] = []
        for n in range(_NA_WORDS):
            token = self.peek(offset + n)
            if token is None or token.kind != "word":
                break
            words.append(token.text)
        for size in range(len(words), 0, -1):
            if not_available(" ".join(words[:size])):
                return size
        return 0

    def value_like(self, offset: int = 0) -> bool:
        token = self.peek(offset)
        if token is None or token.kind != "word":
            return False
        first = token.text[0]
        return first.isdigit() or first in "~≈+-−." or self.na_length(offset) > 0

    def unknown(self, word: str) -> InvalidInput:
        if self.value_like_text(word):
            return InvalidInput(NUMBER_FIRST, word=word)
        hint = suggest(self.catalogue, word, self.language)
        return InvalidInput(UNKNOWN, word=word, choices=hint) if hint else InvalidInput(UNKNOWN_NO_HINT, word=word)

    @staticmethod
    def value_like_text(word: str) -> bool:
        return bool(word) and (word[0].isdigit() or word[0] in "~≈+-−.")

    def text_after_mark(self, word: str) -> str:
        """The text of ``sentences:"…"`` / ``comment:"…"``: the mark is at the current position."""
        self.pos += 1
        if self.is_("op"):
            self.pos += 1
        token = self.peek()
        if token is None or token.kind not in ("quoted", "word") or not token.text:
            raise InvalidInput(MARK_EMPTY, word=word)
        self.pos += 1
        return token.text

    def item(self) -> Item:
        token = self.peek()
        assert token is not None
        if token.kind == "quoted":
            word = token.text
            self.pos += 1
        elif token.kind == "op":
            raise InvalidInput(NUMBER_FIRST, word=token.text)
        else:
            if self.value_like():
                raise InvalidInput(NUMBER_FIRST, word=token.text)
            words: list[str] = []
            while self.is_("word") and not self.value_like() and len(words) < MAX_NAME_WORDS:
                words.append(self.tokens[self.pos].text)
                self.pos += 1
            word = " ".join(words)
        found = self.find(word)
        if found is None:
            raise self.unknown(word)
        code = found
        had_op = self.is_("op")
        if had_op:
            self.pos += 1
        value = self.peek()
        if (
            value is None
            or value.kind in ("sep", "op")
            or (value.kind == "word" and not had_op and not self.value_like())
            or (value.kind == "word" and self.is_("op", 1))  # "mla= extradition=3": the next figure's name
        ):
            raise InvalidInput(MISSING, word=word, code=code)
        na = self.na_length() if value.kind == "word" else 0
        if na:
            raw = " ".join(t.text for t in self.tokens[self.pos : self.pos + na])
            self.pos += na
        else:
            raw = value.text
            self.pos += 1
            if raw in ("~", "≈") and self.is_("word"):  # "~ 14"
                raw += self.tokens[self.pos].text
                self.pos += 1
        raw, is_na, estimate, provisional = read_value(raw) if not na else (raw, True, False, False)
        sentences = comment = None
        while self.is_("word"):
            mark = fold(self.tokens[self.pos].text)
            marked_text = self.is_("op", 1) or self.is_("quoted", 1)
            if mark in SENTENCES and marked_text:
                sentences = self.text_after_mark(self.tokens[self.pos].text)
            elif mark in COMMENT and marked_text:
                comment = self.text_after_mark(self.tokens[self.pos].text)
            elif mark in ESTIMATE and not self.is_("op", 1):
                estimate = True
                self.pos += 1
            elif mark in PROVISIONAL and not self.is_("op", 1):
                provisional = True
                self.pos += 1
            else:
                break
        return Item(code, word, raw, is_na, estimate, provisional, sentences, comment)


def parse(
    line: str,
    catalogue: Catalogue,
    *,
    language: str = "en",
    state_named: Callable[[str], str | None] = lambda word: None,
    periods: Collection[str] = (),
) -> Report:
    """Read a /report line. ``state_named`` resolves a state's code or name (None: not a state);
    ``periods`` are the rounds' periods (a four-digit year is read as a period whether or not it has one)."""
    reader = _Reader(lex(line), catalogue, language)
    known = {p.casefold(): p for p in periods}
    state = period = action = comment = None
    while (token := reader.peek()) is not None and token.kind in ("word", "quoted") and not reader.is_("op", 1):
        text = token.text
        if state is None and period is None and reader.find(text) is None and (code := state_named(text)):
            state = code
        elif period is None and token.kind == "word" and (text.casefold() in known or _YEAR.fullmatch(text)):
            period = known.get(text.casefold(), text)
        elif fold(text) in ACTIONS and reader.peek(1) is None:
            action = ACTIONS[fold(text)]
        else:
            break
        reader.pos += 1
    items: list[Item] = []
    seen: set[str] = set()
    while (token := reader.peek()) is not None:
        if token.kind == "sep":
            reader.pos += 1
            continue
        mark = fold(token.text) if token.kind == "word" and reader.find(token.text) is None else ""
        if mark in COMMENT and (reader.is_("op", 1) or reader.is_("quoted", 1)):
            comment = reader.text_after_mark(token.text)
            continue
        if mark in SENTENCES and (reader.is_("op", 1) or reader.is_("quoted", 1)):
            raise InvalidInput(SENTENCES_ALONE)
        item = reader.item()
        if item.code in seen:
            raise InvalidInput(TWICE, word=item.word)
        seen.add(item.code)
        items.append(item)
        if len(items) > MAX_ITEMS:
            raise InvalidInput(TOO_MANY, limit=MAX_ITEMS)
    return Report(state, period, tuple(items), action, comment)
