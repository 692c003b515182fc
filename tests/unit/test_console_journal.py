"""The console's journal: a message being sent when pocnet was stopped is not shown again after a restart."""

from __future__ import annotations

import io
from pathlib import Path

from bot.transports.base import Address, Outgoing
from bot.transports.console import ConsoleTransport


async def test_a_message_shown_before_a_restart_is_not_shown_again(tmp_path: Path) -> None:
    journal = tmp_path / "journal.txt"
    to = Address("console", "console:CO", "CO")
    first = io.StringIO()
    console = ConsoleTransport("console", out=first, interactive=False, journal=journal)
    await console.send(to, Outgoing("Announcement #1"), idempotency_key="outbox-1")
    assert first.getvalue().count("Announcement #1") == 1
    again = io.StringIO()  # a new process: the outbox row was still "sending", so it is sent again
    restarted = ConsoleTransport("console", out=again, interactive=False, journal=journal)
    await restarted.send(to, Outgoing("Announcement #1"), idempotency_key="outbox-1")
    await restarted.send(to, Outgoing("Announcement #2"), idempotency_key="outbox-2")
    assert "Announcement #1" not in again.getvalue() and "Announcement #2" in again.getvalue()
    assert journal.read_text().split() == ["outbox-1", "outbox-2"]
    plain = io.StringIO()  # without a journal every send shows
    forgetful = ConsoleTransport("console", out=plain, interactive=False)
    for _ in range(2):
        await forgetful.send(to, Outgoing("Announcement #1"), idempotency_key="outbox-1")
    assert plain.getvalue().count("Announcement #1") == 2
