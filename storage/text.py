"""Text normalisation for matching (accents, case and punctuation do not matter: México = MEXICO), and the
rules for single-line fields (names, institutions…): plain text of bounded length."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from storage.errors import N_, InvalidInput

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


# --- single-line fields -------------------------------------------------------------------------------

# Text-direction controls: they make a name display as something else ("\u202eevil" shows reversed).
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})  # controls (NUL, CR, ESC…), lone surrogates, line breaks
TOO_LONG = N_("That is too long (at most {limit} characters).")
UNSAFE = N_("Please use plain text: no line breaks, control characters or text-direction marks.")


def unsafe(ch: str) -> bool:
    return ch in BIDI_CONTROLS or unicodedata.category(ch) in _UNSAFE_CATEGORIES


def check_line(text: str, limit: int) -> str:
    """``text`` when it is one line of at most ``limit`` characters of plain text; else InvalidInput.
    Every single-line field of a member goes through this, whoever writes it (chat, CLI, CSV import)."""
    if len(text) > limit:
        raise InvalidInput(TOO_LONG, limit=limit)
    if any(unsafe(ch) for ch in text):
        raise InvalidInput(UNSAFE)
    return text


def clean_line(text: str, limit: int) -> str:
    """What others sent us (a platform display name): unsafe characters dropped, blanks collapsed, cut to
    ``limit`` characters."""
    kept = "".join(" " if unsafe(ch) else ch for ch in text[: limit * 4])
    return " ".join(kept.split())[:limit].strip()


# --- numbers -----------------------------------------------------------------------------------------

MAX_ID = 2**31 - 1  # ids live in the database's INTEGER range


def whole_number(text: str, maximum: int = MAX_ID) -> int | None:
    """The number ``text`` writes in ASCII digits, from 1 to ``maximum``; None for anything else ("²",
    Arabic-Indic digits, a 20-digit number, "0")."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(maximum)):
        return None
    number = int(text)
    return number if 0 < number <= maximum else None


def excerpt(text: str, limit: int = 40) -> str:
    """What someone typed, as a reply may quote it: plain text, at most ``limit`` characters."""
    cleaned = clean_line(text[: limit * 4], limit * 4)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1].rstrip() + "…"
