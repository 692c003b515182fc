"""The submission-status chart of a reporting round, as a PNG: one horizontal bar per state showing the
share of the round's indicators it has reported, coloured complete / partial / nothing yet.

Rendering is CPU work (about half a second for 35 states): callers on the event loop run :func:`status_png`
in a thread (``asyncio.to_thread``). It uses matplotlib's object API with the Agg canvas only — no pyplot, no
global figure state, no display; charts asked for at the same moment are drawn one after the other, so they
never keep more than one core busy.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass

from storage.figure_status import STATUSES, RoundProgress
from storage.text import fold

COLOURS = {"complete": "#2e7d32", "partial": "#f9a825", "none": "#c62828"}
TRACK = "#e6e6e6"  # the whole bar (100 %) behind each state's share
DPI = 100
_ONE_AT_A_TIME = threading.Lock()  # charts asked together are drawn in turn: at most one core busy with them
WIDTH = 8.5  # inches; the height grows with the number of states


@dataclass(frozen=True)
class ChartTexts:
    """Every word on the chart, already translated into the reader's language."""

    title: str
    subtitle: str
    axis: str
    legend: dict[str, str]  # status → label, e.g. "Complete (3)"


def status_png(progress: RoundProgress, names: dict[str, str], texts: ChartTexts) -> bytes:
    """The chart; ``names`` maps state codes to the names shown (in the reader's language)."""
    with _ONE_AT_A_TIME:
        return _draw(progress, names, texts)


def _draw(progress: RoundProgress, names: dict[str, str], texts: ChartTexts) -> bytes:
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch
    from matplotlib.ticker import PercentFormatter

    states = sorted(progress.states, key=lambda s: fold(names.get(s.state, s.state)))  # as the reader reads names
    height = max(3.0, 1.85 + 0.27 * len(states))
    figure = Figure(figsize=(WIDTH, height), dpi=DPI)
    axes = figure.add_subplot()
    rows = range(len(states))
    labels = [f"{names.get(s.state, s.state)} ({s.state})" for s in states]
    axes.barh(rows, [1.0] * len(states), color=TRACK, height=0.7)
    axes.barh(
        rows,
        [max(s.share, 0.012) for s in states],  # a sliver even at 0 %, in the "nothing" colour
        color=[COLOURS[s.status] for s in states],
        height=0.7,
    )
    for row, state in zip(rows, states, strict=True):
        axes.text(1.01, row, f"{state.reported}/{state.total}", va="center", fontsize=8, color="#333333")
    axes.set_yticks(list(rows), labels=labels, fontsize=8)
    axes.set_ylim(len(states) - 0.5, -0.5)  # the first state at the top, no empty rows
    axes.set_xlim(0, 1.0)
    axes.xaxis.set_major_formatter(PercentFormatter(1.0))
    axes.set_xlabel(texts.axis, fontsize=9)
    axes.tick_params(axis="x", labelsize=8)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.set_title(texts.subtitle, fontsize=9, color="#444444")
    figure.suptitle(texts.title, fontsize=12, fontweight="bold", y=1 - 0.2 / height, va="top")
    figure.legend(
        handles=[Patch(color=COLOURS[s], label=texts.legend[s]) for s in STATUSES],
        loc="lower center",
        ncol=3,
        fontsize=9,
        frameon=False,
    )
    longest = max((len(label) for label in labels), default=10)  # margins in inches, without tight_layout,
    left = min(3.4, 0.35 + 0.065 * longest)  # which would draw everything twice to measure it
    figure.subplots_adjust(left=left / WIDTH, right=1 - 0.55 / WIDTH, top=1 - 0.8 / height, bottom=1.05 / height)
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()
