"""Fuzzy, accent- and language-insensitive lookup of states and topics (rapidfuzz does the scoring).

A ``Vocabulary`` maps many names to a code. Resolving tries, in order: the exact folded name, a
unique prefix of a name or of a word in it (3+ letters), then similarity (typos). It answers with one
code, or the candidates when the input is ambiguous, or suggestions when nothing matched well.

Cost is bounded whatever is typed: a query longer than any name can neither equal nor start one, and
is too long to be similar to one (so it is not scored), and at most ``MAX_WORDS`` words are considered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from storage.text import fold

FOUND_SCORE = 80.0  # similarity that counts as a match (e.g. "mexcio" → "mexico" scores 83)
SUGGEST_SCORE = 70.0  # similarity worth offering as "did you mean"
MIN_PREFIX = 3  # shortest name scored by similarity
MIN_WORD_PREFIX = 2  # shortest start of a name or word that offers candidates ("st" → the three Saints)
MAX_WORDS = 12  # words of a lookup considered; the longest state name has 5 ("saint vincent and the grenadines")


@dataclass(frozen=True)
class Resolution:
    code: str | None = None
    candidates: tuple[str, ...] = ()  # several equally good matches (ambiguous)
    suggestions: tuple[str, ...] = field(default=())  # nothing matched; these come closest
    fuzzy: bool = False  # found by similarity rather than by name or prefix


class Vocabulary:
    def __init__(self, names: Mapping[str, Iterable[str]]) -> None:
        self._by_key: dict[str, set[str]] = {}
        for code, variants in names.items():
            for variant in (code, *variants):
                key = fold(variant)
                if key:
                    self._by_key.setdefault(key, set()).add(code)
        self._order = {code: n for n, code in enumerate(names)}
        self._fuzzy_keys = [k for k in self._by_key if len(k) > MIN_PREFIX]
        self._longest = max((len(k) for k in self._by_key), default=0)
        self.max_words = max((len(k.split()) for k in self._by_key), default=0)

    def _sorted(self, codes: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted(set(codes), key=self._order.__getitem__))

    def named(self, text: str) -> str | None:
        """The code whose name (folded) is exactly ``text``, when only one code has that name."""
        codes = self._by_key.get(fold(text))
        return next(iter(codes)) if codes is not None and len(codes) == 1 else None

    def exact(self, text: str) -> Resolution | None:
        """Exact name or unique prefix; None when neither applies."""
        query = fold(text)
        if not query or len(query) > self._longest:
            return None
        if query in self._by_key:
            codes = self._sorted(self._by_key[query])
            return Resolution(code=codes[0]) if len(codes) == 1 else Resolution(candidates=codes)
        if len(query) >= MIN_WORD_PREFIX:
            hits = self._sorted(
                code
                for key, codes in self._by_key.items()
                if f" {key}".find(f" {query}") >= 0  # the query starts the name or one of its words
                for code in codes
            )
            if len(hits) == 1 and len(query) >= MIN_PREFIX:
                return Resolution(code=hits[0])
            if hits:
                return Resolution(candidates=hits)
        return None

    def similar(self, text: str) -> Resolution:
        query = fold(text)
        # fuzz.ratio is 2·matches/(len(a)+len(b)); against a name of n letters it stays under SUGGEST_SCORE
        # once the query is longer than n·(200/SUGGEST_SCORE - 1) < 2n, so longer queries are not scored.
        if not query or len(query) > 2 * self._longest:
            return Resolution()
        scored: dict[str, float] = {}
        for key, score, _ in process.extract(
            query, self._fuzzy_keys, scorer=fuzz.ratio, limit=10, score_cutoff=SUGGEST_SCORE
        ):
            for code in self._by_key[key]:
                scored[code] = max(scored.get(code, 0.0), score)
        if not scored:
            return Resolution()
        ranked = sorted(scored, key=lambda c: (-scored[c], self._order[c]))
        best = scored[ranked[0]]
        if best >= FOUND_SCORE and (len(ranked) == 1 or scored[ranked[1]] < best - 5):
            return Resolution(code=ranked[0], fuzzy=True)
        close = [c for c in ranked if scored[c] >= best - 5] if best >= FOUND_SCORE else ranked[:3]
        if best >= FOUND_SCORE:
            return Resolution(candidates=tuple(close))
        return Resolution(suggestions=tuple(ranked[:3]))

    def resolve(self, text: str) -> Resolution:
        return self.exact(text) or self.similar(text)


@dataclass(frozen=True)
class Split:
    """``/whois trinidad and tobago cyber`` → state part and topic part."""

    state: Resolution
    topic_text: str


def split_state_and_topic(states: Vocabulary, words: list[str]) -> Split:
    """The longest leading run of words that names a state; the rest is the topic. Only the first
    ``MAX_WORDS`` words count, and a state name is looked for in at most as many words as the longest has."""
    words = words[:MAX_WORDS]
    longest = min(len(words), states.max_words)
    for cut in range(longest, 0, -1):  # whole names first: a dictionary look-up each
        code = states.named(" ".join(words[:cut]))
        if code is not None:
            return Split(Resolution(code=code), " ".join(words[cut:]))
    for cut in range(longest, 0, -1):
        found = states.exact(" ".join(words[:cut]))
        if found is not None and found.code:
            return Split(found, " ".join(words[cut:]))
    for cut in range(longest, 0, -1):
        found = states.similar(" ".join(words[:cut]))
        if found.code:
            return Split(found, " ".join(words[cut:]))
    first = states.exact(words[0]) if words else None
    if first is not None:  # ambiguous, e.g. "saint"
        return Split(first, " ".join(words[1:]))
    return Split(states.similar(words[0]) if words else Resolution(), " ".join(words[1:]))


def leading_name(vocabulary: Vocabulary, words: list[str]) -> tuple[str | None, int]:
    """The code named (exactly, or by a unique prefix) by the longest leading run of ``words``, and how many
    words that run has; ``(None, 0)`` when no leading run names one. ``Saint Vincent and the Grenadines cyber``
    → ``("VC", 5)``."""
    longest = min(len(words), vocabulary.max_words, MAX_WORDS)
    for cut in range(longest, 0, -1):
        code = vocabulary.named(" ".join(words[:cut]))
        if code is not None:
            return code, cut
    for cut in range(longest, 0, -1):
        found = vocabulary.exact(" ".join(words[:cut]))
        if found is not None and found.code:
            return found.code, cut
    return None, 0
