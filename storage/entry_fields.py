"""The editable fields of a directory entry: how each is parsed from what a person types (or a CSV cell),
how it is written back out, and who may change it. Chat edits, the CLI and CSV import all use this.

Every field has a maximum length, checked before any other parsing (so no pattern ever sees long text)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from babel import Locale

from storage import hours
from storage.errors import N_, InvalidInput
from storage.lookup import Vocabulary
from storage.text import TOO_LONG, check_line, fold
from storage.vocabularies import FUNCTION_NAMES, TOPICS

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()./-]{5,30}$")
CLEAR = {"-", "none", "ninguno", "nenhum", "aucun"}


@cache
def _zones() -> dict[str, str]:
    return {zone.lower(): zone for zone in available_timezones()}


@cache
def _language_names() -> dict[str, str]:
    """Folded language name in any UI language, or ISO 639-1 code → code."""
    names: dict[str, str] = {}
    codes = {str(code) for code in Locale("en").languages if len(str(code)) == 2}
    for ui in ("en", "es", "pt", "fr"):
        for code, name in Locale(ui).languages.items():
            if code in codes and isinstance(name, str):
                names.setdefault(fold(name), code)
    names.update({code: code for code in codes})
    return names


def _text(limit: int, *, required: bool = False) -> Callable[[str, Vocabulary], str]:
    def parse(value: str, _states: Vocabulary) -> str:
        value = " ".join(value.split())
        if not value:
            raise InvalidInput(N_("This field cannot be empty."))
        if required and value.lower() in CLEAR:
            raise InvalidInput(N_("This field is required: it cannot be cleared, only changed."))
        if len(value) > limit:
            raise InvalidInput(TOO_LONG, limit=limit)
        return value

    return parse


def _optional(parse: Callable[[str, Vocabulary], Any]) -> Callable[[str, Vocabulary], Any]:
    def wrapped(value: str, states: Vocabulary) -> Any:
        return None if value.strip().lower() in CLEAR or not value.strip() else parse(value, states)

    return wrapped


def _items(value: str) -> list[str]:
    return [item.strip() for item in re.split(r"[;,]", value) if item.strip()]


def parse_languages(value: str, _states: Vocabulary) -> list[str]:
    if value.strip().lower() in CLEAR:
        return []
    known = _language_names()
    codes: list[str] = []
    for item in _items(value):
        code = known.get(fold(item))
        if code is None:
            raise InvalidInput(N_("Unknown language “{item}”. Use codes such as es, en, pt, fr."), item=item)
        if code not in codes:
            codes.append(code)
    return codes


def parse_timezone(value: str, _states: Vocabulary) -> str:
    zone = _zones().get(value.strip().lower().replace(" ", "_"))
    if zone is None:
        raise InvalidInput(N_("Unknown time zone “{value}”. Use a name such as America/Bogota."), value=value)
    return zone


def parse_hours(value: str, _states: Vocabulary) -> str:
    return hours.parse(value).canonical()


def parse_competences(value: str, _states: Vocabulary) -> list[str]:
    if value.strip().lower() in CLEAR:
        return []
    codes: list[str] = []
    for item in _items(value):
        found = TOPICS.exact(item)
        if found is None or found.code is None:
            raise InvalidInput(N_("Unknown topic “{item}”. Send /topics for the list."), item=item)
        if found.code not in codes:
            codes.append(found.code)
    return sorted(codes)


def parse_email(value: str, _states: Vocabulary) -> str:
    value = value.strip()
    if len(value) > 254 or not _EMAIL.match(value):
        raise InvalidInput(N_("“{value}” is not an e-mail address."), value=value)
    return value


def parse_phone(value: str, _states: Vocabulary) -> str:
    value = " ".join(value.split())
    if not _PHONE.match(value):
        raise InvalidInput(
            N_("“{value}” is not a phone number. Write it with the country code: +52 55 1234 5678."), value=value
        )
    return value


def parse_function(value: str, _states: Vocabulary) -> str:
    found = FUNCTION_NAMES.exact(value)
    if found is None or found.code is None:
        raise InvalidInput(N_("Unknown function “{value}”. Send /functions for the list."), value=value)
    return found.code


def parse_state(value: str, states: Vocabulary) -> str:
    found = states.exact(value)
    if found is None or found.code is None:
        raise InvalidInput(N_("Unknown state “{value}”."), value=value)
    return found.code


@dataclass(frozen=True)
class Field:
    name: str  # what people type: /myentry set <name> <value>
    attr: str  # Member attribute ("competences" is the association)
    parse: Callable[[str, Vocabulary], Any]
    limit: int  # characters, leading and trailing blanks aside
    secretariat_only: bool = False

    def read(self, value: str, states: Vocabulary) -> Any:
        """The value ``value`` stands for, or InvalidInput; too long a value, or one that is not plain
        single-line text, is refused before parsing."""
        return self.parse(check_line(value.strip(), self.limit), states)

    def show(self, value: Any) -> str:
        """The CSV/canonical text form; ``parse(show(v)) == v``."""
        if value is None:
            return ""
        if isinstance(value, list):
            return ";".join(value)
        return str(value)


FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        Field("name", "display_name", _text(200, required=True), 200),
        Field("institution", "institution", _optional(_text(300)), 300),
        Field("languages", "languages", parse_languages, 200),
        Field("timezone", "timezone", _optional(parse_timezone), 64),
        Field("hours", "office_hours", _optional(parse_hours), hours.MAX_LENGTH),
        Field("competences", "competences", parse_competences, 500),
        Field("email", "email", _optional(parse_email), 254),
        Field("phone", "phone", _optional(parse_phone), 40),
        Field("function", "function", parse_function, 100, secretariat_only=True),
        Field("state", "state_code", parse_state, 100, secretariat_only=True),
    )
}


# What people call each field in the four languages: the first name of each language is the one shown.
FIELD_NAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "name": {"es": ("nombre",), "pt": ("nome",), "fr": ("nom",)},
    "institution": {"es": ("institución",), "pt": ("instituição",), "fr": ("institution",)},
    "languages": {"es": ("idiomas", "lenguas"), "pt": ("idiomas", "línguas"), "fr": ("langues",)},
    "timezone": {"en": ("timezone", "zone", "tz"), "es": ("zona",), "pt": ("fuso",), "fr": ("fuseau",)},
    "hours": {"en": ("hours",), "es": ("horario",), "pt": ("horário",), "fr": ("horaires", "heures")},
    "competences": {
        "en": ("competences", "topics"),
        "es": ("competencias", "temas"),
        "pt": ("competências", "temas"),
        "fr": ("compétences", "sujets"),
    },
    "email": {"en": ("email", "e-mail", "mail"), "es": ("correo",), "pt": ("email", "e-mail"), "fr": ("courriel",)},
    "phone": {"es": ("teléfono",), "pt": ("telefone",), "fr": ("téléphone",)},
    "function": {"es": ("función",), "pt": ("função",), "fr": ("fonction",)},
    "state": {"es": ("estado", "país"), "pt": ("estado", "país"), "fr": ("état", "pays")},
}
_FIELD_BY_WORD: dict[str, Field] = {}
for _name, _field in FIELDS.items():
    for _words in ({"en": (_name,)} | FIELD_NAMES.get(_name, {})).values():
        for _word in _words:
            _FIELD_BY_WORD.setdefault(fold(_word), _field)


def field_named(word: str) -> Field | None:
    """The field ``word`` names, in any of the four languages (``horario`` → hours)."""
    return _FIELD_BY_WORD.get(fold(word))


def field_label(field: Field, language: str) -> str:
    """The field's name in ``language`` (what the member can type)."""
    return FIELD_NAMES.get(field.name, {}).get(language, (field.name,))[0]


def field_list(language: str, *, secretariat: bool = True) -> str:
    return ", ".join(field_label(f, language) for f in FIELDS.values() if secretariat or not f.secretariat_only)
