"""Where a round stands and its export, on both backends: who may see the network's view, what one state
owes, and the export's rows (current versions only, names of who submitted, n/a apart from not reported)."""

from __future__ import annotations

from datetime import date

import pytest

from storage import catalogue, figure_export, figure_status, figures, members
from storage.access import Actor, Role
from storage.db import Database
from storage.errors import AccessDenied
from storage.figures import Entry

CLI = Actor.system("cli:test")


async def test_progress_owed_and_export_rows(db: Database) -> None:
    cat = catalogue.cached()
    async with db.transaction() as session:
        ana = await members.create(session, CLI, display_name="Ana Pérez", role=Role.CONTACT, state_code="MX")
        mx = Actor.of(ana)
        row = await figures.open_round(session, CLI, cat, "2025", date(2026, 3, 31), indicators=["mla", "jit", "conv_tip"],
                                       states=["MX", "CO", "PE"])  # fmt: skip
        await figures.record(session, mx, row, "MX", [Entry("mla", 14), Entry("jit", None), Entry("conv_tip", 2)])
        await figures.record(session, mx, row, "MX", [Entry("mla", 15, provisional=True, comment="@SUM(A1)")])
        await figures.record(session, CLI, row, "CO", [Entry("mla", 0)])

    async with db.transaction() as session:
        row = await figures.get_round(session, "2025")
        progress = await figure_status.progress(session, CLI, row)
        assert [(s.state, s.status, s.reported) for s in progress.states] == [
            ("CO", "partial", 1), ("MX", "complete", 3), ("PE", "none", 0)
        ]  # fmt: skip
        assert progress.counts() == {"complete": 1, "partial": 1, "none": 1} and progress.deadline_iso == "2026-03-31"
        with pytest.raises(AccessDenied):  # the network's view is the Secretariat's
            await figure_status.progress(session, mx, row)
        co = await figure_status.owed_by(session, CLI, row, "CO")
        assert co is not None and co.owed == ("jit", "conv_tip") and co.share == pytest.approx(1 / 3)
        with pytest.raises(AccessDenied):  # a contact of Mexico does not read what Colombia owes
            await figure_status.owed_by(session, mx, row, "CO")
        assert await figure_status.owed_by(session, CLI, row, "BR") is None  # not asked in this round

        with pytest.raises(AccessDenied):
            await figure_export.sheets(session, mx, cat, [row])
        (sheet,) = await figure_export.sheets(session, CLI, cat, [row])
    column = {name: n for n, name in enumerate(figure_export.COLUMNS)}
    table = {(r[column["state"]], r[column["indicator"]]): r for r in sheet.rows}
    assert len(sheet.rows) == 9  # 3 states × 3 indicators, reported or not
    mla = table[("MX", "mla")]
    assert (mla[column["value"]], mla[column["version"]], mla[column["provisional"]]) == (15, 2, "yes")
    assert mla[column["submitted_by"]] == "Ana Pérez" and mla[column["comment"]] == "@SUM(A1)"
    assert table[("MX", "jit")][column["value"]] == "n/a" and table[("PE", "jit")][column["value"]] == ""
    assert table[("CO", "mla")][column["value"]] == 0 and table[("CO", "mla")][column["submitted_by"]] == "cli:test"
    assert table[("CO", "mla")][column["on_behalf"]] == "yes" and table[("MX", "mla")][column["on_behalf"]] == ""
    csv_text = figure_export.to_csv([sheet]).decode("utf-8-sig")
    assert ",'@SUM(A1)," in csv_text  # the formula-safe writer
