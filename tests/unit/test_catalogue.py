"""The reporting catalogue: the built-in one is complete; a broken file is refused with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage import catalogue
from storage.catalogue import CatalogueError

AGREED_2024 = {
    "mla", "extradition", "jit", "other_coop", "conv_art5", "conv_art6", "conv_art8", "conv_art23", "conv_tip",
    "conv_firearms", "conv_som", "lp_criminal", "lp_civil", "lp_admin",
}  # fmt: skip


def test_default_catalogue_holds_the_2024_items_in_four_languages() -> None:
    cat = catalogue.cached()
    assert set(cat.codes) == AGREED_2024
    for ind in cat.indicators:
        for language in catalogue.LANGUAGES:
            assert ind.name.get(language) and ind.help.get(language)
        assert ("cases" in ind.help.en) and ind.min == 0
    sentenced = {i.code for i in cat.indicators if i.has_sentences}
    assert sentenced == {c for c in AGREED_2024 if c.startswith("conv_")}


@pytest.mark.parametrize(
    ("word", "code"),
    [
        ("extradiciones", "extradition"), ("Extradição", "extradition"), ("MLA", "mla"),
        ("entraide judiciaire", "mla"), ("Trata de personas", "conv_tip"), ("trafic de migrants", "conv_som"),
        ("lavagem de dinheiro", "conv_art6"), ("conv_tip", "conv_tip"), ("Enquêtes conjointes", "jit"),
    ],
)  # fmt: skip
def test_words_in_any_language_find_the_indicator(word: str, code: str) -> None:
    found = catalogue.cached().find(word)
    assert found is not None and found.code == code


def test_unknown_word_finds_nothing() -> None:
    assert catalogue.cached().find("bananas") is None


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "indicators.toml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """
[[indicator]]
code = "total"
name = { en = "Total", es = "Total", pt = "Total", fr = "Total" }
help = { en = "All cases", es = "Todos", pt = "Todos", fr = "Tous" }

[[indicator]]
code = "part"
min = 0
max = 10
name = { en = "Part", es = "Parte", pt = "Parte", fr = "Partie" }
help = { en = "Some cases", es = "Algunos", pt = "Alguns", fr = "Certains" }

[[check]]
kind = "at_least_sum"
total = "total"
parts = ["part"]
"""


def test_a_custom_catalogue_with_a_check_loads(tmp_path: Path) -> None:
    cat = catalogue.load(_write(tmp_path, GOOD))
    assert cat.codes == ("total", "part") and cat.checks[0].parts == ("part",)


@pytest.mark.parametrize(
    ("change", "line", "words"),
    [
        (("max = 10", "max = -1"), 10, "part"),
        (('code = "part"', 'code = "Part!"'), 8, "code"),
        (('help = { en = "Some cases"', 'hlep = { en = "Some cases"'), 12, "hlep"),
        (('parts = ["part"]', 'parts = ["nothing"]'), 14, "nothing"),
        (('code = "part"', 'code = "total"'), 7, "twice"),
        (("[[check]]", "[[check]\n"), 14, "indicators.toml"),
    ],
)
def test_a_mistake_is_named_with_its_line(tmp_path: Path, change: tuple[str, str], line: int, words: str) -> None:
    path = _write(tmp_path, GOOD.replace(*change))
    with pytest.raises(CatalogueError) as caught:
        catalogue.load(path)
    message = str(caught.value)
    assert words in message
    if "TOML" not in message and "Expected" not in message:
        assert f"indicators.toml:{line}:" in message, message


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="No such file"):
        catalogue.load(tmp_path / "absent.toml")
