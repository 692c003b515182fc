"""Thousands of random /report lines through the parser and the checks (storage.figure_entry,
storage.figure_checks): nothing but InvalidInput ever escapes, nothing a check should refuse is accepted,
and a well-formed line always reads back as what it says."""

from __future__ import annotations

import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage import figure_checks
from storage.catalogue import LANGUAGES, cached
from storage.errors import InvalidInput
from storage.figure_entry import ESTIMATE, NOT_AVAILABLE, PROVISIONAL, Report, parse
from storage.models import Round
from storage.text import fold
from tests.conftest import examples

CATALOGUE = cached(None)
CODES = CATALOGUE.codes
ROUND = Round(period="2025", indicators=list(CODES[:-2]))  # the last two are not asked in this round
NAMES = sorted(
    {
        text
        for ind in CATALOGUE.indicators
        for lang in LANGUAGES
        for text in (ind.code, ind.name.get(lang), *getattr(ind.aliases, lang))
    }
)
STATES = {"MX": "MX", "CO": "CO", "mexico": "MX", "colombia": "CO"}
MANY = settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def state_named(word: str) -> str | None:
    return STATES.get(word.casefold())


def read(line: str) -> Report:
    return parse(line, CATALOGUE, language="es", state_named=state_named, periods=["2025", "2024-h1"])


# --- random lines -------------------------------------------------------------------------------------------

values = st.one_of(
    st.integers(-(10**15), 10**15).map(str),
    st.sampled_from(
        [
            "1.5",
            "1,5",
            "1e3",
            "0x10",
            "+5",
            "−3",
            "٣",
            "１２",
            "²",
            "~",
            "~14",
            "≈3",
            "",
            "14est",
            "nan",
            "inf",
            "1_000",
            "007",
            "0",
            "100000",
            "100001",
            "99999999999999999999",
        ]
    ),
    st.sampled_from(sorted(NOT_AVAILABLE)),
    st.sampled_from(["n/a", "N/A", "s/d", "n.d.", "não disponível", "No Disponible"]),
    st.text(max_size=8),
)
names = st.one_of(
    st.sampled_from(NAMES),
    st.sampled_from(NAMES).map(str.upper),
    st.sampled_from(NAMES).map(lambda n: unicodedata.normalize("NFD", n)),
    st.text(min_size=1, max_size=12),
)
marks = st.sampled_from(
    [
        "est",
        "prov",
        "~",
        'sentences:"3-15y"',
        "penas: 2y",
        'comment:"why"',
        "sentences:",
        "comment",
        "peines «2 ans»",
        *sorted(ESTIMATE | PROVISIONAL),
    ]
)
pieces = st.one_of(
    names,
    values,
    marks,
    st.sampled_from(
        [
            "=",
            ":",
            " = ",
            ",",
            ";",
            '"',
            "“",
            "«",
            "»",
            "”",
            "2025",
            "2024-h1",
            "MX",
            "colombia",
            "discard",
            "continue",
            "\n",
            "\t",
            "\x00",
            "\u202e",
        ]
    ),
    st.tuples(names, st.sampled_from(["=", ":", " ", " = "]), values).map("".join),
    st.tuples(names, st.sampled_from(["=", ":", " ", " = "]), values).map(lambda t: f'"{t[0]}"{t[1]}{t[2]}'),
)
lines = st.lists(pieces, max_size=40).flatmap(
    lambda parts: st.lists(st.sampled_from([" ", ",", "; ", "  "]), min_size=len(parts), max_size=len(parts)).map(
        lambda seps: "".join(p + s for p, s in zip(parts, seps, strict=True))
    )
)

plausible_item = st.tuples(
    st.sampled_from(NAMES).map(lambda n: f'"{n}"' if " " in n else n),
    st.sampled_from(["=", ":", " = ", " ", "="]),
    values.filter(lambda v: '"' not in v),
    st.sampled_from(["", " est", " prov", ' sentences:"3-15y"', ' comment:"c"', " ~", " penas:2y", " est prov"]),
).map(lambda t: "".join(t))
plausible_lines = st.lists(plausible_item, max_size=10).flatmap(
    lambda items: st.sampled_from([" ", ", ", "; "]).map(lambda sep: sep.join(items))
)


def _accepted_value_is_sound(item_raw: str, not_available: bool, value: int | None, code: str) -> None:
    indicator = CATALOGUE.get(code)
    assert indicator is not None and code in ROUND.indicators
    if not_available:
        assert value is None
        return
    assert value is not None
    assert item_raw.isascii() and item_raw.isdigit(), item_raw  # only plain digits are ever read as a number
    assert int(item_raw) == value and indicator.min <= value <= indicator.max


@MANY
@given(st.one_of(lines, plausible_lines))
def test_random_lines_raise_only_invalid_input_and_accept_only_sound_values(line: str) -> None:
    try:
        report = read(line)
    except InvalidInput as exc:
        assert exc.message  # a message for the member, translated by the router
        return
    assert report.state in (None, "MX", "CO")
    assert len({item.code for item in report.items}) == len(report.items)  # no indicator twice
    entries, problems = figure_checks.validate(CATALOGUE, ROUND, report.items, report.comment)
    refused = {p.code for p in problems}
    by_code = {item.code: item for item in report.items}
    for entry in entries:
        item = by_code[entry.code]
        assert entry.code not in refused
        _accepted_value_is_sound(item.raw, item.not_available, entry.value, entry.code)
        assert entry.sentences is None or (CATALOGUE.get(entry.code).has_sentences and len(entry.sentences) <= 200)  # type: ignore[union-attr]
    for item in report.items:  # every item is either an entry or refused, never lost
        assert item.code in {e.code for e in entries} or item.code in refused
    for problem in problems:  # every problem renders in every language
        for language in LANGUAGES:
            assert figure_checks.render(problem, lambda m: m, CATALOGUE, language)


@MANY
@given(st.text(max_size=300))
def test_any_text_at_all(line: str) -> None:
    try:
        report = read(line)
    except InvalidInput:
        return
    entries, _problems = figure_checks.validate(CATALOGUE, ROUND, report.items, report.comment)
    for entry in entries:
        item = next(i for i in report.items if i.code == entry.code)
        _accepted_value_is_sound(item.raw, item.not_available, entry.value, entry.code)


# --- well-formed lines read back as written ----------------------------------------------------------------

figure = st.tuples(
    st.sampled_from(ROUND.indicators),
    st.one_of(st.none(), st.integers(0, 100000)),
    st.booleans(),  # estimate
    st.booleans(),  # provisional
    st.integers(0, 4),  # how the name is written
    st.sampled_from(["=", ":", " = ", " "]),
)


def _name(code: str, form: int) -> str:
    indicator = CATALOGUE.get(code)
    assert indicator is not None
    if form == 0:
        return code
    name = indicator.name.get(LANGUAGES[form - 1])
    return f'"{name}"'


@MANY
@given(st.lists(figure, max_size=12, unique_by=lambda f: f[0]), st.sampled_from([" ", ", ", "; ", " ,  "]))
def test_well_formed_lines_read_back_as_written(figures: list[tuple], separator: str) -> None:  # type: ignore[type-arg]
    parts = []
    for code, value, estimate, provisional, form, op in figures:
        written = "n/a" if value is None else ("~" if estimate else "") + str(value)
        flag = " prov" if provisional and value is not None else ""
        parts.append(f"{_name(code, form)}{op}{written}{flag}")
    report = read("2025 " + separator.join(parts))
    assert report.period == "2025"
    entries, problems = figure_checks.validate(CATALOGUE, ROUND, report.items)
    assert problems == []
    assert [(e.code, e.value, e.estimate, e.provisional) for e in entries] == [
        (code, value, estimate and value is not None, provisional and value is not None)
        for code, value, estimate, provisional, *_ in figures
    ]


def _oracle(text: str, maximum: int) -> int | None:
    """What a quoted value should read as, worked out independently: marks at the end and a leading ~
    set aside, the rest must be plain ASCII digits within bounds."""
    words = text.split()
    while words and fold(words[-1]) in ESTIMATE | PROVISIONAL:
        words.pop()
    rest = " ".join(words)
    rest = rest[1:].strip() if rest[:1] in ("~", "≈") else rest
    return int(rest) if rest.isascii() and rest.isdigit() and int(rest) <= maximum else None


@MANY
@given(st.sampled_from(ROUND.indicators), st.text(min_size=1, max_size=20).map(lambda t: t.replace('"', "")))
def test_a_quoted_value_is_read_only_when_plain_digits_in_bounds(code: str, raw: str) -> None:
    indicator = CATALOGUE.get(code)
    assert indicator is not None
    try:
        report = read(f'{code}="{raw}"')
    except InvalidInput:
        return
    entries, problems = figure_checks.validate(CATALOGUE, ROUND, report.items)
    expected = _oracle(" ".join(raw.split()), indicator.max)
    if report.items[0].not_available:
        assert [e.value for e in entries] == [None]
    elif expected is None:
        assert entries == [] and [p.code for p in problems] == [code]
    else:
        assert [e.value for e in entries] == [expected]
