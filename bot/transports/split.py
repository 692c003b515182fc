"""Cutting a long text into messages a platform accepts, on line boundaries where it can.

Each platform measures a message its own way, so the cut takes the size of each character from the
transport: ``utf16_units`` from bot.transports.telegram, ``matrix_bytes`` from bot.transports.matrix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from bot.transports.base import Outgoing

Cost = Callable[[str], int]  # the size of one character


def measure(text: str, cost: Cost) -> int:
    return sum(map(cost, text))


def _fit(line: str, limit: int, cost: Cost) -> int:
    """How many leading characters of ``line`` fit in ``limit`` (at least one)."""
    used = 0
    for index, char in enumerate(line):
        used += cost(char)
        if used > limit:
            return max(index, 1)
    return len(line)


def split_text(text: str, limit: int, cost: Cost) -> list[str]:
    """Cut into pieces of at most ``limit`` (as ``cost`` counts) on line boundaries; a single longer line is
    cut at a space where it can, where it must otherwise. Never an empty piece: "…" stands for no text."""
    pieces: list[str] = []
    current, used = "", 0
    newline = cost("\n")
    for line in text.split("\n"):
        size = measure(line, cost)
        while size > limit:
            if current:
                pieces.append(current)
                current, used = "", 0
            fit = _fit(line, limit, cost)
            space = line.rfind(" ", 0, fit)
            cut = space if space > fit // 2 else fit
            head, rest = line[:cut], line[cut:]
            line = rest.lstrip(" ")
            size -= measure(head, cost) + (len(rest) - len(line)) * cost(" ")  # linear, however long the line
            pieces.append(head)
        if not current:
            current, used = line, size
        elif used + newline + size > limit:
            pieces.append(current)
            current, used = line, size
        else:
            current, used = f"{current}\n{line}", used + newline + size
    if current or not pieces:
        pieces.append(current)
    return [p for p in pieces if p.strip()] or ["…"]


def split_message(message: Outgoing, limit: int, cost: Cost) -> list[Outgoing]:
    """``message`` as one or more messages: the first keeps what it replies to, the last its buttons and file."""
    pieces = split_text(message.text, limit, cost)
    if len(pieces) == 1:
        return [message] if pieces[0] == message.text else [replace(message, text=pieces[0])]
    last = len(pieces) - 1
    return [
        replace(
            message,
            text=piece,
            buttons=message.buttons if n == last else (),
            attachment=message.attachment if n == last else None,
            reply_to=message.reply_to if n == 0 else None,
        )
        for n, piece in enumerate(pieces)
    ]
