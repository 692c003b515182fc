"""The guided /report: the round's indicators one at a time (name and help text in the member's language),
each answer saved in a draft (storage.figure_drafts) as it comes.

    /report            → (1/15) Mutual legal assistance … Send the number …   [Skip] [Not available] [Cancel]
    14                 → (2/15) Extradition …                                  [Skip] [Not available] [Back] [Cancel]
    ~3 prov            → …
    n/a / skip / back  → not available / leave it as it is / the previous indicator
    (conviction figures ask next for the sentences imposed, which may be skipped)
    … at the end: the read-back and "Store these 12 figures?" (handlers/figures_readback.py)

Typed numbers are values here, never button numbers (the dialog sets ``WORDS``). When the dialog times
out, or another command interrupts it, or /cancel ends it, the draft stays: /report offers to continue it
or to start again; ``/report discard`` deletes it.
"""

from __future__ import annotations

from typing import Any

from bot.context import Context
from bot.dialogs import EXPIRED, WORDS, dialog, on_cancel
from bot.transports.base import Incoming
from handlers.figures_readback import (
    CANCEL,
    CANCEL_WORDS,
    DIALOG,
    catalogue_of,
    check_and_read_back,
    round_by_id,
    value_text,
    with_comment,
)
from storage import figure_checks, figure_drafts, figures
from storage.errors import N_
from storage.figure_entry import read_value
from storage.models import FigureDraft, Round
from storage.text import check_line, fold

SKIP_WORDS = frozenset({"skip", "next", "omitir", "saltar", "siguiente", "pular", "proximo", "passer", "suivant"})
BACK_WORDS = frozenset({"back", "previous", "atras", "anterior", "voltar", "retour", "precedent"})
ANSWER_LENGTH = 120  # characters of an answer read as a value


def _buttons(ctx: Context, *, first: bool, available: bool = True) -> tuple[tuple[str, str], ...]:
    buttons = [(ctx._(N_("Skip")), ctx._(N_("skip")))]
    if available:
        buttons.append((ctx._(N_("Not available")), "n/a"))
    if not first:
        buttons.append((ctx._(N_("Back")), ctx._(N_("back"))))
    buttons.append((ctx._(CANCEL), "/cancel"))
    return tuple(buttons)


async def begin(ctx: Context, row: Round, state_code: str) -> None:
    """A new draft, and the first question."""
    draft = await figure_drafts.start(ctx.session, ctx.who.id, row.id, state_code)
    await ask(ctx, row, draft, 0)


async def offer(ctx: Context, row: Round, draft: FigureDraft) -> None:
    """A draft is waiting: continue it, or start again (both run /report, so they work as typed commands too)."""
    state_code = str(draft.data["state"])
    n = len(figure_drafts.values(draft))
    ctx.reply(
        ctx.ngettext(
            "You have a draft for {state}, {period} with {n} figure. Continue it, or start again?",
            "You have a draft for {state}, {period} with {n} figures. Continue it, or start again?",
            n,
        ).format(state=state_code, period=row.period, n=n),
        buttons=(
            (ctx._(N_("Continue")), f"/report {state_code} {row.period} continue"),
            (ctx._(N_("Start again")), f"/report {state_code} {row.period} restart"),
        ),
    )


async def resume(ctx: Context, row: Round, draft: FigureDraft) -> None:
    position = min(int(draft.data.get("position") or 0), len(row.indicators) - 1)
    await ask(ctx, row, draft, position)


async def ask(ctx: Context, row: Round, draft: FigureDraft, position: int) -> None:
    """The question for indicator number ``position`` of the round."""
    catalogue = catalogue_of(ctx)
    code = row.indicators[position]
    indicator = catalogue.get(code)
    figure_drafts.save(draft, position=position)
    await ctx.open_dialog(DIALOG, step="value", data={"round": row.id, "position": position, WORDS: True,
                                                      "draft": True})  # fmt: skip
    state_code = str(draft.data["state"])
    name = indicator.name.get(ctx.language) if indicator is not None else code
    lines = [f"({position + 1}/{len(row.indicators)}) {name} [{code}]"]
    if indicator is not None:
        lines.append(indicator.help.get(ctx.language))
    answered = figure_drafts.values(draft).get(code)
    if answered is not None:
        lines.append(ctx._(N_("Your answer so far: {value}")).format(
            value=value_text(ctx, answered.get("value"), bool(answered.get("estimate")),
                             bool(answered.get("provisional")))))  # fmt: skip
    stored = (await figures.current(ctx.session, row.id, state_code)).get(code)
    if stored is not None:
        lines.append(ctx._(N_("Stored now: {value}")).format(
            value=value_text(ctx, stored.value, stored.estimate, stored.provisional)))  # fmt: skip
    lines.append(ctx._(N_(
        "Send the number of cases (e.g. 14; ~14 for an estimate; 14 prov if provisional), or n/a if the figure "
        "is not available."
    )))  # fmt: skip
    ctx.reply("\n".join(lines), buttons=_buttons(ctx, first=position == 0))


async def ask_sentences(ctx: Context, row: Round, position: int) -> None:
    await ctx.open_dialog(DIALOG, step="sentences", data={"round": row.id, "position": position, WORDS: True,
                                                          "draft": True})  # fmt: skip
    ctx.reply(
        ctx._(N_("The sentences imposed in these cases, as one line (e.g. 3-15y; 2 x 5y, 1 x 12y), or skip.")),
        buttons=_buttons(ctx, first=False, available=False),
    )


async def advance(ctx: Context, row: Round, draft: FigureDraft, position: int) -> None:
    """The next indicator, or the end: the draft's figures checked and read back."""
    if position + 1 < len(row.indicators):
        await ask(ctx, row, draft, position + 1)
        return
    figure_drafts.save(draft, position=position)
    entries = figure_drafts.entries(draft, list(row.indicators))
    if not entries:
        await ctx.close_dialog()
        await figure_drafts.discard(ctx.session, ctx.who.id, row.id)
        ctx.reply(ctx._(N_("You entered no figures, so there is nothing to store.")))
        return
    await check_and_read_back(ctx, row, str(draft.data["state"]), entries, draft=True)


@dialog(DIALOG)
async def guided(msg: Incoming, ctx: Context) -> None:
    assert ctx.dialog is not None
    data: dict[str, Any] = dict(ctx.dialog.data)
    step = ctx.dialog.step
    answer = ctx.args.strip()
    word = fold(answer[:ANSWER_LENGTH])
    if word in CANCEL_WORDS:
        await ctx.close_dialog()
        await cancelled(msg, ctx, data)
        return
    if step == "comment":
        await with_comment(ctx, data, answer)
        return
    row = await round_by_id(ctx, int(data["round"]))
    draft = await figure_drafts.get(ctx.session, ctx.who.id, row.id)
    if draft is None:  # discarded meanwhile (e.g. /report discard in another chat)
        await ctx.close_dialog()
        ctx.reply(ctx._(N_("That draft no longer exists. Send /report to start again.")))
        return
    position = int(data["position"])
    code = row.indicators[position]
    if word in BACK_WORDS:
        if step == "sentences":
            await ask(ctx, row, draft, position)
        elif position == 0:
            ctx.reply(ctx._(N_("This is the first figure; there is nothing before it.")),
                      buttons=_buttons(ctx, first=True))  # fmt: skip
        else:
            await ask(ctx, row, draft, position - 1)
        return
    if word in SKIP_WORDS:
        await advance(ctx, row, draft, position)
        return
    if step == "sentences":
        sentences = check_line(" ".join(answer.split()), figure_checks.SENTENCES_LENGTH)
        figure_drafts.save(draft, code=code, sentences=sentences or None)
        await advance(ctx, row, draft, position)
        return
    await value_answer(ctx, row, draft, position, answer)


async def value_answer(ctx: Context, row: Round, draft: FigureDraft, position: int, answer: str) -> None:
    catalogue = catalogue_of(ctx)
    code = row.indicators[position]
    indicator = catalogue.get(code)
    raw, not_available, estimate, provisional = read_value(answer[:ANSWER_LENGTH])
    value: int | None = None
    if indicator is None:
        problem: figure_checks.Problem | int = figure_checks.Problem(figure_checks.NOT_IN_ROUND,
                                                                     {"period": row.period}, code)  # fmt: skip
    elif not_available:
        problem = 0
    else:
        problem = figure_checks.count(raw, indicator)
    if isinstance(problem, figure_checks.Problem):  # asked again; the draft and the dialog stay as they are
        ctx.reply(
            "\n".join([figure_checks.render(problem, ctx._, catalogue, ctx.language),
                       ctx._(N_("Please send the number again, or skip, n/a, back, /cancel."))]),
            buttons=_buttons(ctx, first=position == 0),
        )  # fmt: skip
        return
    if not not_available:
        value = problem
    figure_drafts.save(draft, code=code, value=value, estimate=estimate and value is not None,
                       provisional=provisional and value is not None)  # fmt: skip
    if indicator is not None and indicator.has_sentences and value:
        figure_drafts.save(draft, position=position)
        await ask_sentences(ctx, row, position)
        return
    if indicator is not None and indicator.has_sentences:
        figure_drafts.save(draft, code=code, sentences=None)
    await advance(ctx, row, draft, position)


EXPIRED[DIALOG] = N_(
    "That question has expired. Your answers so far are kept as a draft: send /report to continue, or "
    "/report discard to delete them."
)


@on_cancel(DIALOG)
async def cancelled(msg: Incoming, ctx: Context, data: dict[str, Any]) -> None:
    draft = await figure_drafts.get(ctx.session, ctx.who.id, int(data["round"]))
    n = len(figure_drafts.values(draft)) if draft is not None else 0
    ctx.reply(
        ctx.ngettext(
            "Cancelled. Your draft with {n} figure is kept: /report continues it, /report discard deletes it.",
            "Cancelled. Your draft with {n} figures is kept: /report continues it, /report discard deletes it.",
            n,
        ).format(n=n)
    )
