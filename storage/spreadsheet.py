"""CSV that spreadsheet programs show as text and never run (CSV or formula injection).

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a formula by
Excel, LibreOffice and Google Sheets (``=HYPERLINK(...)``, ``@SUM(...)``, DDE). Every CSV pocnet writes
goes through ``writer``, which puts an apostrophe before such a cell — the spreadsheet convention for
"this is text" — and before a cell that already starts with an apostrophe, so that ``read_cell`` (used by
every CSV pocnet reads) gives back exactly what was written.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, Protocol

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def safe_cell(value: object) -> str:
    """``value`` as a cell no spreadsheet will evaluate."""
    text = str(value)
    return ESCAPE + text if text.startswith((*FORMULA_STARTS, ESCAPE)) else text


def read_cell(text: str) -> str:
    """The value a ``safe_cell`` stands for."""
    return text[1:] if text.startswith(ESCAPE) else text


class SafeWriter:
    """``csv.writer`` whose every cell goes through ``safe_cell``."""

    def __init__(self, out: _Writable) -> None:
        self._writer = csv.writer(out, lineterminator="\r\n")

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([safe_cell(value) for value in row])


def writer(out: _Writable) -> SafeWriter:
    return SafeWriter(out)
