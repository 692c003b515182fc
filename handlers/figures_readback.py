"""What every way of reporting figures ends with: the checks' warnings (a comment is asked for), the
figures read back in the member's language, and on "yes" the figures stored (storage.figures.record)."""

from __future__ import annotations

import dataclasses
from typing import Any

from bot.context import Context
from bot.dialogs import WORDS, dialog, on_cancel, on_confirm
from bot.transports.base import Incoming
from reminders import plan as reminder_plan
from storage import figure_checks, figure_drafts, figures
from storage.catalogue import Catalogue, cached
from storage.errors import N_, InvalidInput, NotFound
from storage.figure_checks import Problem
from storage.figures import Entry
from storage.models import Figure, Round
from storage.text import check_line, fold

DIALOG = "figures"  # the guided entry, its comment question included (handlers/figures_guided.py)
COMMENT_DIALOG = "figures.comment"  # the comment question of a one-line report
ACTION = "figures.record"
CANCEL = N_("Cancel")
CANCEL_WORDS = frozenset({"cancel", "cancelar", "annuler", "stop"})  # typed instead of /cancel (folded)


def catalogue_of(ctx: Context) -> Catalogue:
    return cached(ctx.settings.figures.catalogue)


async def state_name(ctx: Context, code: str) -> str:
    state = (await ctx.snapshot()).states.get(code)
    return f"{state.name(ctx.language)} ({code})" if state is not None else code


async def ensure_reportable(ctx: Context, row: Round, state_code: str) -> None:
    """The round takes figures from the state now (storage.figures.record checks it again when storing)."""
    ctx.as_actor.ensure_state(state_code)
    if not row.is_open:
        raise InvalidInput(N_("The round for {period} is closed."), period=row.period)
    if state_code not in await figures.audience(ctx.session, row):
        raise InvalidInput(N_("The round for {period} does not ask figures of {state}."), period=row.period,
                           state=state_code)  # fmt: skip


def value_text(ctx: Context, value: int | None, estimate: bool = False, provisional: bool = False) -> str:
    text = str(value) if value is not None else ctx._(N_("not available"))
    marks = [ctx._(N_("estimate"))] * estimate + [ctx._(N_("provisional"))] * provisional
    return f"{text} ({', '.join(marks)})" if marks else text


def figure_text(ctx: Context, figure: Figure) -> str:
    return value_text(ctx, figure.value, figure.estimate, figure.provisional)


def entry_line(ctx: Context, catalogue: Catalogue, entry: Entry, stored: Figure | None) -> str:
    indicator = catalogue.get(entry.code)
    name = indicator.name.get(ctx.language) if indicator is not None else entry.code
    line = f"• {name}: {value_text(ctx, entry.value, entry.estimate, entry.provisional)}"
    if entry.sentences:
        line += "; " + ctx._(N_("sentences: {text}")).format(text=entry.sentences)
    if stored is not None:
        line += " " + ctx._(N_("(was {value})")).format(value=figure_text(ctx, stored))
    if entry.comment:
        line += "\n  " + ctx._(N_("comment: {text}")).format(text=entry.comment)
    return line


def problem_lines(ctx: Context, problems: list[Problem]) -> list[str]:
    catalogue = catalogue_of(ctx)
    return [f"• {figure_checks.render(p, ctx._, catalogue, ctx.language)}" for p in problems]


def refuse(ctx: Context, problems: list[Problem]) -> None:
    """Say every refusal at once; nothing is stored."""
    head = ctx.ngettext(
        "Nothing was stored; please correct this figure and send the report again:",
        "Nothing was stored; please correct these figures and send the report again:",
        len(problems),
    )
    ctx.reply("\n".join([head, *problem_lines(ctx, problems)]))


def pack(entries: list[Entry]) -> list[dict[str, Any]]:
    return [dataclasses.asdict(e) for e in entries]


def unpack(data: list[dict[str, Any]]) -> list[Entry]:
    return [Entry(**item) for item in data]


async def check_and_read_back(ctx: Context, row: Round, state_code: str, entries: list[Entry], *, draft: bool) -> None:
    """Warnings first (a comment is asked for those without one), then the read-back and "store?"."""
    warned = await figure_checks.warnings(
        ctx.session, catalogue_of(ctx), row, state_code, entries, ctx.settings.figures.change_factor
    )
    open_warnings = [p for p in warned if not any(e.code == p.code and e.comment for e in entries)]
    if open_warnings:
        data = {"round": row.id, "state": state_code, "entries": pack(entries), "draft": draft,
                "warned": sorted({p.code for p in open_warnings if p.code}), WORDS: True}  # fmt: skip
        await ctx.open_dialog(DIALOG if draft else COMMENT_DIALOG, step="comment", data=data)
        lines = [ctx._(N_("Please check:")), *problem_lines(ctx, open_warnings)]
        lines.append(ctx._(N_(
            "If the figures are right, send a comment that explains them (it is stored with them). "
            "To correct them, send /cancel and report again."
        )))  # fmt: skip
        ctx.reply("\n".join(lines), buttons=((ctx._(CANCEL), "/cancel"),))
        return
    await read_back(ctx, row, state_code, entries, draft=draft)


async def with_comment(ctx: Context, data: dict[str, Any], answer: str) -> None:
    """The answer to "send a comment": it goes with the figures that asked for it, then the read-back."""
    comment = check_line(" ".join(answer.split()), figure_checks.COMMENT_LENGTH)
    if not comment:
        raise InvalidInput(N_("Please send a comment, or /cancel."))
    warned = set(data["warned"])
    entries = [dataclasses.replace(e, comment=comment) if e.code in warned and not e.comment else e
               for e in unpack(data["entries"])]  # fmt: skip
    row = await round_by_id(ctx, int(data["round"]))
    await read_back(ctx, row, str(data["state"]), entries, draft=bool(data.get("draft")))


@dialog(COMMENT_DIALOG)
async def comment_answer(msg: Incoming, ctx: Context) -> None:
    assert ctx.dialog is not None
    if fold(ctx.args[:20]) in CANCEL_WORDS:
        await ctx.close_dialog()
        await comment_cancelled(msg, ctx, {})
        return
    await with_comment(ctx, dict(ctx.dialog.data), ctx.args)


@on_cancel(COMMENT_DIALOG)
async def comment_cancelled(msg: Incoming, ctx: Context, data: dict[str, Any]) -> None:
    ctx.reply(ctx._(N_("Cancelled. Nothing was stored.")))


async def round_by_id(ctx: Context, round_id: int) -> Round:
    row = await ctx.session.get(Round, round_id)
    if row is None:
        raise NotFound(N_("That reporting round no longer exists."))
    return row


async def read_back(ctx: Context, row: Round, state_code: str, entries: list[Entry], *, draft: bool) -> None:
    catalogue = catalogue_of(ctx)
    stored = await figures.current(ctx.session, row.id, state_code)
    order = {code: n for n, code in enumerate(row.indicators)}
    entries = sorted(entries, key=lambda e: order.get(e.code, len(order)))
    name = await state_name(ctx, state_code)
    lines = [ctx._(N_("Figures of {state} for {period}, as I read them:")).format(state=name, period=row.period)]
    lines += [entry_line(ctx, catalogue, e, stored.get(e.code)) for e in entries]
    if ctx.who.state_code != state_code:
        lines.append(ctx._(N_("You enter them on behalf of {state}; they will be marked so.")).format(state=name))
    if draft:
        lines.append(ctx._(N_("If you answer no, your draft is kept: /report continues it.")))
    lines.append(ctx.ngettext("Store this figure?", "Store these figures?", len(entries)))
    payload = {"round": row.id, "state": state_code, "entries": pack(entries), "draft": draft}
    await ctx.confirm("\n".join(lines), ACTION, payload)


def myreport_command(ctx: Context, state_code: str, period: str) -> str:
    own = ctx.who.state_code == state_code
    return f"/myreport {period}" if own else f"/myreport {state_code} {period}"


@on_confirm(ACTION)
async def store(msg: Incoming, ctx: Context, payload: dict[str, Any]) -> None:
    row = await round_by_id(ctx, int(payload["round"]))
    state_code = str(payload["state"])
    await ensure_reportable(ctx, row, state_code)
    entries = unpack(payload["entries"])
    stored = await figures.record(ctx.session, ctx.as_actor, row, state_code, entries)
    await reminder_plan.cancel_reported(ctx.session, row, state_code, ctx.now())  # owes nothing more: no reminders
    if payload.get("draft"):
        await figure_drafts.discard(ctx.session, ctx.who.id, row.id)
    ctx.reply(
        ctx.ngettext(
            "Stored {n} figure of {state} for {period}. {command} shows it.",
            "Stored {n} figures of {state} for {period}. {command} shows them.",
            len(stored),
        ).format(
            n=len(stored),
            state=await state_name(ctx, state_code),
            period=row.period,
            command=myreport_command(ctx, state_code, row.period),
        )
    )
