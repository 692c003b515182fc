"""The figures of one or more reporting rounds as a table: one row per state × indicator of the round.

``value`` is the number, ``n/a`` when the state said the figure is not available, and empty when it has
not reported it. CSV goes through the formula-safe writer (storage/spreadsheet.py) like every CSV pocnet
writes; in XLSX every text cell is stored as text, so a comment such as ``=HYPERLINK(…)`` is shown, never
run. Taking a copy is audited (``figures.export``), as the directory's export is.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import figures, spreadsheet
from storage.access import Actor
from storage.catalogue import Catalogue
from storage.errors import AccessDenied
from storage.models import AuditEvent, Figure, Member, Round, State

COLUMNS = (
    "round", "state", "state_name", "indicator", "indicator_name", "value", "estimate", "provisional",
    "sentences", "comment", "version", "submitted_by", "on_behalf", "submitted_at",
)  # fmt: skip
NOT_AVAILABLE = "n/a"
YES = "yes"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # not allowed in XLSX cells (openpyxl refuses them)
_WIDTHS = {"state_name": 24, "indicator_name": 40, "comment": 40, "submitted_by": 22, "submitted_at": 22}

Cell = str | int


@dataclass(frozen=True)
class Sheet:
    period: str
    rows: list[tuple[Cell, ...]]


async def sheets(session: AsyncSession, actor: Actor, catalogue: Catalogue, rounds: Sequence[Round]) -> list[Sheet]:
    """The table of each round, states by code and indicators in the round's order."""
    if not actor.is_secretariat:
        raise AccessDenied()
    names = {s.code: s.name_en for s in await session.scalars(select(State))}
    out = []
    for row in rounds:
        query = (
            select(Figure, Member.display_name)
            .outerjoin(Member, Member.id == Figure.submitted_by)
            .where(Figure.round_id == row.id, Figure.current.is_(True))
        )
        found = {(f.state_code, f.indicator): (f, who) for f, who in await session.execute(query)}
        table: list[tuple[Cell, ...]] = []
        for state in sorted(await figures.audience(session, row)):
            for code in row.indicators:
                indicator = catalogue.get(code)
                head: tuple[Cell, ...] = (row.period, state, names.get(state, ""), code,
                                          indicator.name.en if indicator else "")  # fmt: skip
                pair = found.get((state, code))
                if pair is None:
                    table.append((*head, *([""] * (len(COLUMNS) - len(head)))))
                    continue
                figure, who = pair
                table.append(
                    (
                        *head,
                        NOT_AVAILABLE if figure.value is None else figure.value,
                        YES if figure.estimate else "",
                        YES if figure.provisional else "",
                        figure.sentences or "",
                        figure.comment or "",
                        figure.version,
                        who or figure.submitted_by_label,
                        YES if figure.on_behalf else "",
                        figure.submitted_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    )
                )
        out.append(Sheet(row.period, table))
    session.add(AuditEvent(actor=actor.name, actor_member_id=actor.member_id, action="figures.export",
                           subject_type="round", subject_id=out[0].period if len(out) == 1 else "*",
                           note=f"{', '.join(s.period for s in out)}: {sum(len(s.rows) for s in out)} rows"))  # fmt: skip
    return out


def to_csv(found: Sequence[Sheet]) -> bytes:
    """UTF-8 with a byte-order mark (so spreadsheet programs read the accents), one header row."""
    out = io.StringIO()
    writer = spreadsheet.writer(out)  # no cell can run as a formula
    writer.writerow(COLUMNS)
    for sheet in found:
        for row in sheet.rows:
            writer.writerow(row)
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(found: Sequence[Sheet]) -> bytes:
    """One sheet per round (named by its period), a header row, the panes frozen below it."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    for sheet in found or [Sheet("figures", [])]:
        ws = book.create_sheet(title=sheet.period[:31])
        ws.append(list(COLUMNS))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for number, row in enumerate(sheet.rows, start=2):
            for column, value in enumerate(row, start=1):
                cell = ws.cell(row=number, column=column)
                if isinstance(value, int):
                    cell.value = value
                else:
                    cell.value = _CONTROL.sub("", value)
                    cell.data_type = "s"  # text, even when it looks like a formula ("=…")
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{max(1, len(sheet.rows) + 1)}"
        for column, name in enumerate(COLUMNS, start=1):
            ws.column_dimensions[get_column_letter(column)].width = _WIDTHS.get(name, max(10, len(name) + 2))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
