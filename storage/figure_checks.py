"""The checks a reported figure passes before anything is stored.

Two kinds of problem:

- *refusals* (:func:`validate`): the value is not a whole number within the indicator's bounds ("1.5",
  "-3", "1e3", a 20-digit number), the indicator is not asked in the round, sentences were given for an
  indicator that has none, a text is too long or not plain. They are corrected, never overridden.
- *warnings* (:func:`warnings`): the figure changed more than ``[figures] change_factor`` times since the
  state's previous round, or a catalogue relation fails (``at_least_sum``: a total below the sum of its
  parts, counting the figures already stored and the new ones together). The member may keep the figure
  by explaining it in a comment, which is stored with it.

A problem is a message marked for translation and its parameters; ``code`` names the indicator, whose name
is filled in the reader's language when the problem is shown (:func:`render`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage import figures
from storage.catalogue import Catalogue, Indicator
from storage.errors import N_, InvalidInput
from storage.figure_entry import Item
from storage.figures import Entry
from storage.models import Round
from storage.text import check_line, excerpt

SENTENCES_LENGTH = 200  # the column's size (Figure.sentences)
COMMENT_LENGTH = 500

NOT_WHOLE = N_(
    "{name}: “{value}” is not a whole number. Write digits only, e.g. 14 (no decimals, signs or separators)."
)
OUT_OF_BOUNDS = N_("{name}: {value} is outside the accepted range ({min} to {max}).")
NOT_IN_ROUND = N_("{name} is not asked in the {period} round.")
NO_SENTENCES = N_("{name} does not take sentences; only conviction figures do.")
SENTENCES_TEXT = N_("{name}: the sentences must be one line of plain text of at most {limit} characters.")
COMMENT_TEXT = N_("The comment must be one line of plain text of at most {limit} characters.")
CHANGED = N_("{name}: {value} is more than {factor} times different from {previous} reported for {period}.")
BELOW_SUM = N_("{name}: {value} is below the sum of its parts ({parts}: {total} together).")


@dataclass(frozen=True)
class Problem:
    message: str  # marked with N_
    params: Mapping[str, Any] = field(default_factory=dict)
    code: str | None = None  # the indicator it is about


def render(problem: Problem, gettext: Callable[[str], str], catalogue: Catalogue, language: str) -> str:
    indicator = catalogue.get(problem.code) if problem.code else None
    name = indicator.name.get(language) if indicator is not None else (problem.code or "")
    return gettext(problem.message).format(name=name, **problem.params)


def count(raw: str, indicator: Indicator) -> int | Problem:
    """The whole number ``raw`` writes, within the indicator's bounds; else the problem with it."""
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        if text.isascii() and text.isdigit():  # a long run of digits: say it is out of range, briefly
            return Problem(OUT_OF_BOUNDS, {"value": text[:12] + "…", "min": indicator.min, "max": indicator.max},
                           indicator.code)  # fmt: skip
        return Problem(NOT_WHOLE, {"value": excerpt(text)}, indicator.code)  # what was typed, as plain text
    number = int(text)
    if not indicator.min <= number <= indicator.max:
        return Problem(OUT_OF_BOUNDS, {"value": number, "min": indicator.min, "max": indicator.max}, indicator.code)
    return number


def _plain(text: str | None, limit: int) -> bool:
    if text is None:
        return True
    try:
        check_line(text, limit)
    except InvalidInput:
        return False
    return True


def validate(
    catalogue: Catalogue, row: Round, items: tuple[Item, ...] | list[Item], comment: str | None = None
) -> tuple[list[Entry], list[Problem]]:
    """The entries the items make, and every refusal among them (all of them, not just the first)."""
    entries: list[Entry] = []
    problems: list[Problem] = []
    asked = set(row.indicators)
    if not _plain(comment, COMMENT_LENGTH):
        problems.append(Problem(COMMENT_TEXT, {"limit": COMMENT_LENGTH}))
    by_code = {i.code: i for i in catalogue.indicators}  # one dict: each catalogue lookup hashes the catalogue
    for item in items:
        indicator = by_code.get(item.code)
        if indicator is None or item.code not in asked:
            problems.append(Problem(NOT_IN_ROUND, {"period": row.period}, item.code))
            continue
        value: int | None = None
        if not item.not_available:
            counted = count(item.raw, indicator)
            if isinstance(counted, Problem):
                problems.append(counted)
                continue
            value = counted
        if item.sentences is not None and not indicator.has_sentences:
            problems.append(Problem(NO_SENTENCES, {}, item.code))
            continue
        if not _plain(item.sentences, SENTENCES_LENGTH):
            problems.append(Problem(SENTENCES_TEXT, {"limit": SENTENCES_LENGTH}, item.code))
            continue
        if not _plain(item.comment, COMMENT_LENGTH):
            problems.append(Problem(COMMENT_TEXT, {"limit": COMMENT_LENGTH}, item.code))
            continue
        entries.append(
            Entry(item.code, value, estimate=item.estimate and value is not None,
                  provisional=item.provisional and value is not None, sentences=item.sentences,
                  comment=item.comment or comment)
        )  # fmt: skip
    return entries, problems


def changed_too_much(previous: int, value: int, factor: float) -> bool:
    """More than ``factor`` times up or down (0 counts as 1, so 0 → 2 is no change worth asking about at 3,
    0 → 5 is)."""
    low, high = sorted((max(previous, 1), max(value, 1)))
    return high > factor * low


async def warnings(
    session: AsyncSession, catalogue: Catalogue, row: Round, state_code: str, entries: list[Entry], factor: float
) -> list[Problem]:
    """What asks for a comment before ``entries`` are stored for the state."""
    problems: list[Problem] = []
    before = await figures.previous_round(session, row)
    previous = await figures.previous_values(session, row, state_code) if before is not None else {}
    for entry in entries:
        old = previous.get(entry.code)
        if entry.value is not None and old is not None and changed_too_much(old, entry.value, factor):
            assert before is not None
            problems.append(Problem(CHANGED, {"value": entry.value, "factor": f"{factor:g}", "previous": old,
                                              "period": before.period}, entry.code))  # fmt: skip
    stored = await figures.current(session, row.id, state_code)
    values: dict[str, int | None] = {code: f.value for code, f in stored.items()}
    values.update({e.code: e.value for e in entries})
    problems += cross_checks(catalogue, values, {e.code for e in entries})
    return problems


def cross_checks(catalogue: Catalogue, values: Mapping[str, int | None], touched: set[str]) -> list[Problem]:
    """The catalogue's relations over a state's figures (stored and new together); only those involving a
    figure being reported now are raised. Parts not available or not reported count as unknown."""
    problems = []
    for check in catalogue.checks:
        if not touched & {check.total, *check.parts}:
            continue
        total = values.get(check.total)
        parts = [(code, values.get(code)) for code in check.parts]
        known = [value for _, value in parts if value is not None]
        if check.kind == "at_least_sum" and total is not None and total < sum(known):
            problems.append(Problem(BELOW_SUM, {"value": total, "parts": ", ".join(c for c, v in parts if v is not None),
                                                "total": sum(known)}, check.total))  # fmt: skip
    return problems
