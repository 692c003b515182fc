"""Fuzzy lookup of states and topics, and office hours — without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from storage import hours
from storage.errors import InvalidInput
from storage.lookup import Resolution, Vocabulary, split_state_and_topic
from storage.reference import state_rows
from storage.vocabularies import FUNCTION_NAMES, TOPICS

STATES = Vocabulary(
    {r["code"]: (r["name_en"], r["name_es"], r["name_pt"], r["name_fr"], *r["aliases"]) for r in state_rows()}
)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("typed", "code", "alias_class"),
    [
        ("MX", "MX", "code"), ("mx", "MX", "code"), ("MEX", "MX", "alpha-3"),
        ("Mexico", "MX", "English"), ("México", "MX", "Spanish/Portuguese"), ("Mexique", "MX", "French"),
        ("MEXICO", "MX", "accentless upper case"), ("méxico", "MX", "lower case"), ("Méjico", "MX", "old spelling"),
        ("mexi", "MX", "prefix"), ("Mexcio", "MX", "typo"), ("Brasil", "BR", "Portuguese"), ("Brésil", "BR", "French"),
        ("EEUU", "US", "alias"), ("EUA", "US", "alias"), ("USA", "US", "alias"), ("Estados Unidos", "US", "Spanish"),
        ("Saint Kitts and Nevis", "KN", "long form"), ("St Kitts", "KN", "short form"),
        ("Trinidad and Tobago", "TT", "and/&"), ("Haïti", "HT", "French"), ("Jamaca", "JM", "typo"),
        ("Perú", "PE", "Spanish"), ("pe", "PE", "code"), ("República Dominicana", "DO", "Spanish"),
    ],
)  # fmt: skip
def test_state_aliases(typed: str, code: str, alias_class: str) -> None:
    assert STATES.resolve(typed).code == code, alias_class


@pytest.mark.parametrize("typed", ["atlantis", "narnia", "xyz", "germany", "france", "spain", "qq"])
def test_no_absurd_matches(typed: str) -> None:
    found = STATES.resolve(typed)
    assert found.code is None and not found.candidates and not found.suggestions


def test_ambiguous_input_offers_the_candidates() -> None:
    assert STATES.resolve("saint").candidates == ("KN", "LC", "VC")
    assert set(STATES.resolve("domin").candidates) == {"DM", "DO"}
    assert STATES.resolve("dominica").code == "DM"  # an exact name wins over a longer one it starts


def test_near_misses_are_suggested_not_taken() -> None:
    assert STATES.resolve("Kolumbien") == Resolution(suggestions=("CO",))
    assert STATES.resolve("nicaraguense") == Resolution(suggestions=("NI",))
    assert STATES.resolve("Barbadoss") == Resolution(code="BB", fuzzy=True)


@pytest.mark.parametrize(
    ("words", "state", "topic"),
    [
        ("mexico firearms", "MX", "firearms"),
        ("Mexique armas", "MX", "armas"),
        ("trinidad and tobago cyber crime", "TT", "cyber crime"),
        ("united states aml", "US", "aml"),
        ("el salvador", "SV", ""),
        ("mexcio tip", "MX", "tip"),
    ],
)
def test_split_state_from_topic(words: str, state: str, topic: str) -> None:
    split = split_state_and_topic(STATES, words.split())
    assert (split.state.code, split.topic_text) == (state, topic)


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("TIP", "tip"), ("trata de personas", "tip"), ("traite des personnes", "tip"), ("SOM", "som"),
        ("AML", "aml"), ("lavado", "aml"), ("blanchiment", "aml"), ("lavagem de dinheiro", "aml"),
        ("MLA", "mla"), ("extradición", "mla"), ("armas", "firearms"), ("armes à feu", "firearms"),
        ("cybercrime", "cyber"), ("ciberdelincuencia", "cyber"), ("drogas", "drugs"), ("corrupção", "corruption"),
        ("decomiso", "assets"), ("firearm", "firearms"),
    ],
)  # fmt: skip
def test_topics_in_any_language_and_abbreviation(typed: str, code: str) -> None:
    assert TOPICS.resolve(typed).code == code


def test_functions_by_abbreviation() -> None:
    assert FUNCTION_NAMES.resolve("UIF").code == "fiu"
    assert FUNCTION_NAMES.resolve("aduanas").code == "customs"
    assert TOPICS.resolve("trafficking").candidates == ("tip", "firearms", "drugs")


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("Mon-Fri 09:00-17:00", "mon-fri 09:00-17:00"),
        ("lun-vie 8:30-16:30", "mon-fri 08:30-16:30"),
        ("seg-sex 9h-18h", "mon-fri 09:00-18:00"),
        ("Lundi-Vendredi 9h00-17h00", "mon-fri 09:00-17:00"),
        ("09:00 – 17:00", "mon-fri 09:00-17:00"),
        ("lun., mer., ven. 10:00-12:00", "mon,wed,fri 10:00-12:00"),
        ("mié-sáb 9-17", "wed-sat 09:00-17:00"),
    ],
)
def test_office_hours_in_any_language(typed: str, canonical: str) -> None:
    parsed = hours.parse(typed)
    assert parsed.canonical() == canonical
    assert hours.parse(parsed.canonical()) == parsed


@pytest.mark.parametrize("typed", ["whenever", "mon-fri 17:00-17:00", "25:00-26:00", "xyz 9-17", ""])
def test_bad_office_hours(typed: str) -> None:
    with pytest.raises(InvalidInput):
        hours.parse(typed)


def test_office_hours_are_judged_in_the_persons_time_zone() -> None:
    office = hours.parse("mon-fri 09:00-17:00")
    # Wednesday 2026-11-25 15:00 UTC is 09:00 in Mexico City and 10:00 in Bogotá, but 04:00 next day in Tokyo
    moment = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    assert office.is_open(moment, ZoneInfo("America/Mexico_City"))
    assert office.is_open(moment, ZoneInfo("America/Bogota"))
    assert not office.is_open(moment, ZoneInfo("Asia/Tokyo"))
    assert not office.is_open(datetime(2026, 11, 28, 15, 0, tzinfo=UTC), ZoneInfo("America/Bogota"))  # Saturday
    assert office.shown("es") == "lun-vie 09:00–17:00" and office.shown("fr") == "lun-ven 09:00–17:00"


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("Mon-Fri 17:00-09:00", "mon-fri 17:00-09:00"),
        ("Mon 9-17, Tue 10-12", "mon 09:00-17:00, tue 10:00-12:00"),
        ("lun-vie 9-13, 15-19", "mon-fri 09:00-13:00, mon-fri 15:00-19:00"),
        ("24/7", "24/7"),
        ("24 x 7", "24/7"),
        ("lun-dom 0-24", "24/7"),
    ],
)
def test_night_shifts_split_hours_and_round_the_clock(typed: str, canonical: str) -> None:
    parsed = hours.parse(typed)
    assert parsed.canonical() == canonical
    assert hours.parse(parsed.canonical()) == parsed


def test_night_shift_is_open_across_midnight_and_counts_for_deadlines() -> None:
    zone = ZoneInfo("America/Bogota")
    night = hours.parse("mon-fri 17:00-09:00")
    assert night.is_open(datetime(2026, 11, 25, 23, 30, tzinfo=zone), zone)  # Wednesday night
    assert night.is_open(datetime(2026, 11, 26, 3, 0, tzinfo=zone), zone)  # early Thursday
    assert night.is_open(datetime(2026, 11, 28, 8, 0, tzinfo=zone), zone)  # Saturday morning: Friday's shift
    assert not night.is_open(datetime(2026, 11, 26, 12, 0, tzinfo=zone), zone)
    assert not night.is_open(datetime(2026, 11, 29, 3, 0, tzinfo=zone), zone)  # Sunday
    start = datetime(2026, 11, 25, 23, 0, tzinfo=zone)  # Wednesday 23:00, 10 h of shift left
    assert hours.working_deadline(start, timedelta(hours=12), "mon-fri 17:00-09:00", zone) == datetime(
        2026, 11, 26, 19, 0, tzinfo=zone
    )  # 10 h to Thursday 09:00, then 2 h from 17:00
    assert hours.working_deadline(start, timedelta(hours=12), "24/7", zone) == start + timedelta(hours=12)
    split = hours.parse("Mon 9-17, Tue 10-12")
    assert split.is_open(datetime(2026, 11, 24, 11, 0, tzinfo=zone), zone)  # Tuesday 11:00
    assert not split.is_open(datetime(2026, 11, 24, 13, 0, tzinfo=zone), zone)
    monday = datetime(2026, 11, 23, 16, 0, tzinfo=zone)
    assert hours.working_deadline(monday, timedelta(hours=2), "Mon 9-17, Tue 10-12", zone) == datetime(
        2026, 11, 24, 11, 0, tzinfo=zone
    )
    assert hours.parse("24/7").is_open(monday, zone) and hours.parse("24/7").shown("es") == "24/7"
