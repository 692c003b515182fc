"""Reading /report lines (storage.figure_entry): each form, by example."""

from __future__ import annotations

import pytest

from storage.catalogue import cached
from storage.errors import InvalidInput
from storage.figure_entry import MAX_LINE, Item, parse, read_value

CATALOGUE = cached(None)


def read(line: str):  # type: ignore[no-untyped-def]
    states = {"mx": "MX", "co": "CO", "costa rica": "CR"}
    return parse(line, CATALOGUE, state_named=lambda w: states.get(w.casefold()), periods=["2025", "2024-H1"])


def values(line: str) -> dict[str, tuple[str, bool, bool, bool]]:
    return {i.code: (i.raw, i.not_available, i.estimate, i.provisional) for i in read(line).items}


def test_the_head_state_period_and_draft_actions() -> None:
    assert read("MX 2025 mla=3").state == "MX"
    assert read("MX 2025 mla=3").period == "2025"
    assert read('"Costa Rica" mla=3').state == "CR"
    assert read("2024-h1 mla=3").period == "2024-H1"  # as the round writes it
    assert read("2023").period == "2023"  # a year without a round: storage.figures says there is none
    assert read("discard").action == "discard"
    assert read("MX 2025 continue").action == "continue"
    assert read("2025 recommencer").action == "restart"
    assert read("").items == ()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("mla=14", {"mla": ("14", False, False, False)}),
        (
            "mla = 14, extradition: 3; jit 2",
            {
                "mla": ("14", False, False, False),
                "extradition": ("3", False, False, False),
                "jit": ("2", False, False, False),
            },
        ),
        ("extradiciones=3", {"extradition": ("3", False, False, False)}),
        ("EXTRADIÇÕES=3", {"extradition": ("3", False, False, False)}),
        ('"trata de personas"=4', {"conv_tip": ("4", False, False, False)}),
        ("trata de personas 4", {"conv_tip": ("4", False, False, False)}),
        ("asistencia judicial reciproca: 5", {"mla": ("5", False, False, False)}),
        ("«traite des personnes» = 6", {"conv_tip": ("6", False, False, False)}),
        ("mla=~14", {"mla": ("14", False, True, False)}),
        ("mla ~ 14", {"mla": ("14", False, True, False)}),
        ("mla=14 est", {"mla": ("14", False, True, False)}),
        ("mla=14 estimado prov", {"mla": ("14", False, True, True)}),
        ("mla=14 provisoire", {"mla": ("14", False, False, True)}),
        ('mla="14 est"', {"mla": ("14", False, True, False)}),
        ("mla=n/a", {"mla": ("n/a", True, False, False)}),
        ("mla n/a jit N/D", {"mla": ("n/a", True, False, False), "jit": ("N/D", True, False, False)}),
        ("mla=s/d", {"mla": ("s/d", True, False, False)}),
        ("mla = não disponível", {"mla": ("não disponível", True, False, False)}),
        (
            "mla no disponible, jit=non disponible",
            {"mla": ("no disponible", True, False, False), "jit": ("non disponible", True, False, False)},
        ),
        ("mla=not available", {"mla": ("not available", True, False, False)}),
        ("mla=0", {"mla": ("0", False, False, False)}),
        ("mla=1.5", {"mla": ("1.5", False, False, False)}),  # read as typed; the checks refuse it
    ],
)
def test_figure_forms(line: str, expected: dict[str, tuple[str, bool, bool, bool]]) -> None:
    assert values(line) == expected


def test_sentences_and_comments() -> None:
    (item,) = read('conv_tip=12 sentences:"3-15y"').items
    assert item == Item("conv_tip", "conv_tip", "12", sentences="3-15y")
    assert read('"trata de personas"=2 penas: "2-8 años"').items[0].sentences == "2-8 años"
    report = read('comment:"new law" mla=40 jit=3 comment:"own"')
    assert report.comment == "new law"
    assert [i.comment for i in report.items] == [None, "own"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("mla=3 asistencia=4", "is given twice"),
        ("mla=", "is missing"),
        ("mla= jit=3", "is missing"),
        ("mla", "is missing"),
        ("14", "where an indicator's name should be"),
        ("= 3", "where an indicator's name should be"),
        ('"trata de personas=4', "quotation mark is not closed"),
        ("extradtion=3", "Did you mean {choices}?"),
        ("qqqq=3", "/report alone lists the indicators"),
        ('sentences:"3y"', "Sentences belong to a conviction figure"),
        ("conv_tip=3 sentences:", "needs a text after it"),
        ("x" * (MAX_LINE + 1), "too long"),
        ("= " * 700, "too many figures"),
    ],
)
def test_mistakes(line: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        read(line)
    assert message in caught.value.message


def test_the_suggestion_names_the_closest_indicator_in_the_readers_language() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse("extradtion=3", CATALOGUE, language="es")
    assert caught.value.params["choices"] == "extradition (Extradición)"


def test_answers_of_the_guided_entry() -> None:
    assert read_value("14") == ("14", False, False, False)
    assert read_value("~14") == ("14", False, True, False)
    assert read_value("14 prov") == ("14", False, False, True)
    assert read_value("14 est prov") == ("14", False, True, True)
    assert read_value("n/a") == ("n/a", True, False, False)
    assert read_value("Não disponível") == ("Não disponível", True, False, False)


def test_the_worst_lines_are_refused_or_read_within_the_caps() -> None:
    """Longest lines of the worst shapes: each is read or refused with a message, never more than the caps
    (how fast is for benchmarks, not tests: a shared machine's timings are noise)."""
    worst = [
        "x" * MAX_LINE,
        ("a " * (MAX_LINE // 2))[:MAX_LINE],
        ("trata de personas de " * 200)[:MAX_LINE],
        ('"' + "y" * (MAX_LINE - 4) + '"=1'),
        " ".join(f"{code}=~{n} est prov" for n, code in enumerate(CATALOGUE.codes)),
    ]
    outcomes = []
    for line in worst:
        try:
            outcomes.append(len(read(line).items))
        except InvalidInput as exc:
            outcomes.append(exc.message)
    assert outcomes[-1] == len(CATALOGUE.codes)
    assert all(isinstance(o, str) for o in outcomes[:-1])
    with pytest.raises(InvalidInput):
        read("mla=1 " + "x" * MAX_LINE)
