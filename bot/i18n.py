"""Translations. Catalogues are gettext .po files under bot/locale/<lang>/LC_MESSAGES/pocnet.po, compiled
in memory on first use (no build step). English is the source language.

Mark strings with ``_()`` / ``ctx._()`` where they are shown, or ``N_()`` where they are only declared
(command help, error classes); ``ngettext`` for plurals. After adding strings: see README, "Translations".
"""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from storage.errors import N_

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "pocnet"
LANGUAGES = ("en", "es", "pt", "fr")
DEFAULT_LANGUAGE = "en"

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "N_", "Translator", "language_name", "parse_language", "translator"]


class Translator:
    """gettext for one language, plus the language code for formatting dates and names."""

    def __init__(self, language: str, translations: gettext.NullTranslations) -> None:
        self.language = language
        self._t = translations

    def gettext(self, message: str) -> str:
        return self._t.gettext(message)

    __call__ = gettext

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._t.ngettext(singular, plural, n)


def _load(language: str) -> gettext.NullTranslations:
    po = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@cache
def translator(language: str | None) -> Translator:
    lang = language if language in LANGUAGES else DEFAULT_LANGUAGE
    return Translator(lang, _load(lang))


def best_language(*candidates: str | None) -> str:
    """The first candidate we support (``pt-BR`` counts as ``pt``), else the default."""
    for candidate in candidates:
        if candidate:
            base = candidate.replace("_", "-").split("-")[0].lower()
            if base in LANGUAGES:
                return base
    return DEFAULT_LANGUAGE


@cache
def language_name(code: str, in_language: str | None = None, *, capitalize: bool = True) -> str:
    """The language's own name ("Español"), or its name in ``in_language``; from the CLDR.
    ``capitalize=False`` keeps CLDR's in-sentence form ("español", but "English")."""
    name = Locale(code).get_display_name(in_language or code) or code
    return name[:1].upper() + name[1:] if capitalize else name


def parse_language(text: str) -> str | None:
    """Accept a code (``es``, ``pt-BR``) or the language's name in any of our languages."""
    wanted = text.strip().lower()
    if not wanted:
        return None
    code = wanted.replace("_", "-").split("-")[0]
    if code in LANGUAGES:
        return code
    for lang in LANGUAGES:
        for shown_in in LANGUAGES:
            if language_name(lang, shown_in).lower() == wanted:
                return lang
    return None
