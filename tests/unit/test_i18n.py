"""Every user-visible string is translated in every catalogue, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import LANGUAGES, LOCALE_DIR, best_language, parse_language, translator

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None}
PLACEHOLDER = re.compile(r"\{(\w*)\}")


def source_messages() -> set[str]:
    found: set[str] = set()
    for package in ("bot", "handlers", "storage", "reminders"):
        for _file, _line, message, _comments, _context in extract_from_dir(ROOT / package, keywords=KEYWORDS):
            found.add(message if isinstance(message, str) else message[0])
    return found


def catalogue(language: str):  # type: ignore[no-untyped-def]
    with (LOCALE_DIR / language / "LC_MESSAGES" / "pocnet.po").open("rb") as fh:
        return read_po(fh, locale=language)


def test_source_has_messages() -> None:
    assert len(source_messages()) > 40


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_catalogue_translates_every_message(language: str) -> None:
    cat = catalogue(language)
    missing, fuzzy, wrong = [], [], []
    for msgid in sorted(source_messages()):
        entry = cat.get(msgid)
        forms = entry.string if entry is not None and isinstance(entry.string, tuple) else (entry and entry.string,)
        if entry is None or not all(forms):
            missing.append(msgid)
        elif entry.fuzzy:
            fuzzy.append(msgid)
        elif any(set(PLACEHOLDER.findall(msgid)) != set(PLACEHOLDER.findall(str(form))) for form in forms):
            wrong.append(msgid)
    assert not missing, f"{language}: untranslated: {missing}"
    assert not fuzzy, f"{language}: fuzzy: {fuzzy}"
    assert not wrong, f"{language}: placeholders differ: {wrong}"


def test_translations_load_and_differ_from_english() -> None:
    msg = "Commands you can use:"
    shown = {lang: translator(lang)(msg) for lang in LANGUAGES}
    assert shown["en"] == msg
    assert len(set(shown.values())) == 4


def test_language_parsing_and_hints() -> None:
    assert parse_language("ES") == "es"
    assert parse_language("pt-BR") == "pt"
    assert parse_language("français") == "fr"
    assert parse_language("Spanish") == "es"
    assert parse_language("inglés") == "en"
    assert parse_language("klingon") is None
    assert best_language(None, "fr-CA", "en") == "fr"
    assert best_language("de", None) == "en"
