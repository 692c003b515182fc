"""Cutting long texts to what each platform accepts (bot/transports/split.py)."""

from __future__ import annotations

import json

from bot.transports.base import Attachment, Outgoing
from bot.transports.matrix import TEXT_BYTES, matrix_bytes, to_html
from bot.transports.split import measure, split_message, split_text
from bot.transports.telegram import utf16_units

TELEGRAM = 4096


def test_edge_cases() -> None:
    assert split_text("a & b", TELEGRAM, utf16_units) == ["a & b"]
    assert split_text("", TELEGRAM, utf16_units) == ["…"]  # Telegram refuses empty messages
    one_line = "word " * 2000
    pieces = split_text(one_line, TELEGRAM, utf16_units)
    assert all(len(p) <= TELEGRAM for p in pieces) and " ".join(pieces).split() == one_line.split()
    no_spaces = "x" * 9000
    pieces = split_text(no_spaces, TELEGRAM, utf16_units)
    assert [len(p) for p in pieces] == [4096, 4096, 808] and "".join(pieces) == no_spaces


def test_telegram_counts_utf16_code_units() -> None:
    """An emoji is one character to Python and two UTF-16 code units: a piece of 4,096 emoji would be 8,192
    units, more than an implementation counting units accepts."""
    assert utf16_units("a") == utf16_units("é") == utf16_units("中") == 1 and utf16_units("\U0001f600") == 2
    text = "Hola 😀 " * 1000  # 8,000 characters, 9,000 units
    pieces = split_text(text, TELEGRAM, utf16_units)
    assert all(len(p.encode("utf-16-le")) // 2 <= TELEGRAM for p in pieces)
    assert " ".join(pieces).split() == text.split()
    assert not any("\ud83d" in p for p in pieces)  # never half a surrogate pair: Python cuts characters


def _event_content(text: str) -> int:
    """What matrix-nio encrypts: the content as JSON with ensure_ascii (nio's Api.to_json)."""
    return len(json.dumps({"body": text, "formatted_body": to_html(text)}, separators=(",", ":")))


def test_matrix_counts_the_text_as_the_event_carries_it() -> None:
    for text in ("plain words", "a & b < c > d", 'quote " and \\ back', "línea\nnueva", "😀😀", "\x01 bell"):
        overhead = _event_content("")
        assert measure(text, matrix_bytes) == _event_content(text) - overhead, text


def test_a_matrix_message_fits_an_event_and_keeps_its_parts_in_place() -> None:
    heavy = "\n".join("Confidencial: envío & <ruta> 😀" * 40 for _ in range(60))
    assert _event_content(heavy) > 65_536
    file = Attachment("report.csv", b"a,b\n", "text/csv")
    message = Outgoing(heavy, buttons=(("Acknowledge", "/ack 7"),), reply_to="$event", attachment=file)
    parts = split_message(message, TEXT_BYTES, matrix_bytes)
    assert len(parts) > 1 and all(_event_content(p.text) <= TEXT_BYTES + _event_content("") for p in parts)
    assert "\n".join(p.text for p in parts) == heavy  # cut on line boundaries, nothing lost
    assert parts[0].reply_to == "$event" and all(p.reply_to is None for p in parts[1:])
    assert parts[-1].buttons and parts[-1].attachment is file
    assert not any(p.buttons or p.attachment for p in parts[:-1])
    short = Outgoing("short", buttons=(("OK", "ok"),))
    assert split_message(short, TEXT_BYTES, matrix_bytes) == [short]


def test_a_very_long_line_is_measured_a_bounded_number_of_times() -> None:
    """Each character is measured a fixed number of times, however long the line (no quadratic path)."""
    calls = 0

    def counting(char: str) -> int:
        nonlocal calls
        calls += 1
        return 1

    line = ("palabra " * 25_000).strip()  # 200,000 characters, 49 pieces
    pieces = split_text(line, TELEGRAM, counting)
    assert " ".join(pieces) == line and all(len(p) <= TELEGRAM for p in pieces)
    assert calls <= 4 * len(line)  # measured whole, once more as each piece is fitted and cut off
