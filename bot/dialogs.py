"""Conversations that span messages (design note §2c), modelled on aiogram's FSM and PTB's
ConversationHandler.

A dialog is a row (storage.dialogs): kind, step, collected data, expiry. While one is open, the router
hands it every plain answer — text, a number, a button press — before treating anything as a command;
``/cancel`` ends it; a new command abandons it. Numbered choices map to the button data they stand for.

    @dialog("figures")                      # a guided entry: ctx.dialog.step says where it stands
    async def figures(msg: Incoming, ctx: Context) -> None: ...

    await ctx.confirm(ctx._("Send to 35 members?"), "broadcast.send", {"id": 7})

    @on_confirm("broadcast.send")           # runs on "yes" (or its button); "no" cancels
    async def send(msg: Incoming, ctx: Context, payload: dict) -> None: ...

A dialog whose answers are typed values (a figure: "2" is two cases, not the second button) sets
``WORDS: True`` in its data: its buttons then stand for words the dialog reads ("skip", "n/a"), sent as
they are when pressed and shown as "Skip: skip" where a platform has no buttons, and typed numbers reach
the dialog as text. ``@on_cancel(kind)`` says what /cancel tells the member (e.g. that a draft is kept),
``EXPIRED[kind]`` what an answer that comes after the dialog expired is told.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bot.context import NO, YES
from storage.errors import N_

if TYPE_CHECKING:
    from bot.context import Context
    from bot.transports.base import Incoming
    from storage.models import OutboxItem

DialogHandler = Callable[["Incoming", "Context"], Awaitable[None]]
ConfirmHandler = Callable[["Incoming", "Context", dict[str, Any]], Awaitable[None]]

ReplyHandler = Callable[["Incoming", "Context", "OutboxItem"], Awaitable[None]]

DIALOGS: dict[str, DialogHandler] = {}
CONFIRMED: dict[str, ConfirmHandler] = {}
REPLIES: dict[str, ReplyHandler] = {}  # outbox kind → what a reply to such a delivered message does
CANCELLED: dict[str, ConfirmHandler] = {}  # dialog kind → what /cancel says (given the dialog's data)
EXPIRED: dict[str, str] = {}  # dialog kind → what an answer after its expiry is told (marked with N_)

CHOICE = "choice"  # numbered choices offered by a command; the router re-runs the chosen command
STALE = object()  # a button of a choice that is no longer open
WORDS = "words"  # in a dialog's data: its answers are typed text, its buttons stand for words (see above)

_BUTTON = re.compile(r"([0-9a-f]{6})\.(\d{1,3})")
_NUMBER = re.compile(r"\d{1,3}")  # a choice typed as its number (longer digit strings are just text)
_YES = {"yes", "y", "si", "sí", "s", "sim", "oui", "o", "ok"}
_NO = {"no", "n", "não", "nao", "non"}


def dialog(kind: str) -> Callable[[DialogHandler], DialogHandler]:
    def register(func: DialogHandler) -> DialogHandler:
        if kind in DIALOGS:
            raise RuntimeError(f"dialog {kind!r} registered twice")
        DIALOGS[kind] = func
        return func

    return register


def on_confirm(action: str) -> Callable[[ConfirmHandler], ConfirmHandler]:
    def register(func: ConfirmHandler) -> ConfirmHandler:
        CONFIRMED[action] = func
        return func

    return register


def on_cancel(kind: str) -> Callable[[ConfirmHandler], ConfirmHandler]:
    """What /cancel says when it ends a dialog of ``kind`` (the dialog is already closed)."""

    def register(func: ConfirmHandler) -> ConfirmHandler:
        CANCELLED[kind] = func
        return func

    return register


def on_reply(kind: str) -> Callable[[ReplyHandler], ReplyHandler]:
    """A plain-text reply to a delivered message of ``kind`` (a Telegram reply, a Matrix ``m.in_reply_to``)."""

    def register(func: ReplyHandler) -> ReplyHandler:
        REPLIES[kind] = func
        return func

    return register


def looks_like_button(text: str) -> bool:
    return _BUTTON.fullmatch(text) is not None


def resolve_answer(data: dict[str, Any], text: str) -> str | object:
    """What an answer means: a number or a button of the open choice becomes the data it stands for;
    a button of an older choice is STALE; anything else is the text itself."""
    choices: list[str] = data.get("choices") or []
    button = _BUTTON.fullmatch(text)
    if button is not None:
        if button.group(1) != data.get("nonce"):
            return STALE
        number = int(button.group(2))
    elif _NUMBER.fullmatch(text) and choices:
        number = int(text)
    else:
        return text
    return choices[number - 1] if 0 < number <= len(choices) else text


@dialog("confirm")
async def _confirm(msg: Incoming, ctx: Context) -> None:
    assert ctx.dialog is not None
    answer = ctx.args.strip().lower()
    data = dict(ctx.dialog.data)
    if answer in _YES or answer == YES:
        await ctx.close_dialog()
        await CONFIRMED[str(data["action"])](msg, ctx, dict(data.get("payload") or {}))
    elif answer in _NO or answer == NO:
        await ctx.close_dialog()
        ctx.reply(ctx._(N_("Cancelled. Nothing was done.")))
    else:
        ctx.reply(
            ctx._(N_("Please answer yes or no (or send /cancel).")),
            buttons=((ctx._(N_("Yes")), YES), (ctx._(N_("No")), NO)),
        )
