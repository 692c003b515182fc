"""Text normalisation for matching: accents, case and punctuation do not matter (México = MEXICO)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_NON_WORD = re.compile(r"[^0-9a-z]+")


@lru_cache(maxsize=65536)  # the same names and topics are typed over and over
def fold(text: str) -> str:
    """``"  Saint-Kitts & Névis "`` → ``"saint kitts nevis"``."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", stripped.casefold()).strip()
