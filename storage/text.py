"""Text normalisation for matching: accents, case and punctuation do not matter (México = MEXICO)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_NON_WORD = re.compile(r"[^0-9a-z]+")
CACHED_LENGTH = 128  # names and topics are short; longer text is folded but not remembered
CACHE_SIZE = 4096  # entries of at most CACHED_LENGTH characters: a bounded few MiB at most


def fold(text: str) -> str:
    """``"  Saint-Kitts & Névis "`` → ``"saint kitts nevis"``."""
    return _fold_cached(text) if len(text) <= CACHED_LENGTH else _fold(text)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", stripped.casefold()).strip()


_fold_cached = lru_cache(maxsize=CACHE_SIZE)(_fold)  # the same names and topics are typed over and over
