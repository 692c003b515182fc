"""Console transport: the terminal is one chat. Used by ``pocnet demo`` and for operators' checks.

Interactive (a terminal): prompts with ``> ``. Scripted (stdin is a pipe or file): reads one command per
line, handles each completely before the next, prints every reply, and finishes at end of input.
``/as XX`` switches who you are (the sample contact of state XX, or ``secretariat``); buttons are shown
as numbered choices and answered by typing the number (the router's open dialog reads it).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import os
import sys
import tempfile
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

from bot.i18n import translator
from bot.transports.base import Address, Attachment, Deliver, Incoming, LocalTransport, Outgoing, buttons_as_text

PLATFORM = "console"
JOURNAL_KEPT = 100_000  # delivery keys remembered from the journal


class StdinLines:
    """Lines of stdin read by a daemon thread, so a pending read never holds up shutdown."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[str] | None = None

    async def __call__(self) -> str:
        if self._queue is None:
            loop = asyncio.get_running_loop()
            queue: asyncio.Queue[str] = asyncio.Queue()
            self._queue = queue

            def pump() -> None:
                for line in iter(sys.stdin.readline, ""):
                    loop.call_soon_threadsafe(queue.put_nowait, line)
                loop.call_soon_threadsafe(queue.put_nowait, "")

            threading.Thread(target=pump, name="console-stdin", daemon=True).start()
        return await self._queue.get()


class ConsoleTransport(LocalTransport):
    platform = PLATFORM

    def __init__(
        self,
        user: str,
        *,
        read_line: Callable[[], Awaitable[str]] | None = None,
        out: TextIO | None = None,
        interactive: bool | None = None,
        language: str = "en",
        files_dir: Path | None = None,
        journal: Path | None = None,
    ) -> None:
        self.user = user
        self._read_line = read_line or StdinLines()
        self._out = out or sys.stdout
        self._interactive = sys.stdin.isatty() if interactive is None else interactive
        self._language = language
        self._files_dir = files_dir or Path(tempfile.gettempdir()) / "pocnet-files"
        self._ids = itertools.count(1)
        self._task: asyncio.Task[None] | None = None
        self.finished = asyncio.Event()
        self.flush: Callable[[], Awaitable[None]] | None = None  # set by the app: waits for the replies
        self._closed = False
        self._journal = journal
        self._shown: set[str] = set()  # delivery keys already shown (from the journal)
        if journal is not None and journal.exists():
            self._shown = set(journal.read_text(encoding="utf-8").split()[-JOURNAL_KEPT:])

    @property
    def address(self) -> Address:
        return Address(PLATFORM, chat_id=f"console:{self.user}", user_id=self.user)

    async def start(self, deliver: Deliver) -> None:
        self._task = asyncio.create_task(self._loop(deliver), name="console-input")

    async def _loop(self, deliver: Deliver) -> None:
        try:
            while True:
                if self._interactive:
                    self._write("> ", newline=False)
                line = await self._read_line()
                if not line:  # end of input
                    break
                text = line.strip()
                if not text:
                    continue
                if text.lower().startswith("/as ") or text.lower() == "/as":
                    self._switch(text[3:].strip())
                    continue
                await deliver(Incoming(self.address, text, message_id=str(next(self._ids))))
                if self.flush is not None:  # scripted or typed, each answer shows before the next prompt
                    await self.flush()
        finally:
            self.finished.set()

    def _switch(self, who: str) -> None:
        _ = translator(self._language)
        if not who:
            self._write(_("Usage: /as <state code> or /as secretariat"))
            return
        self.user = "secretariat" if who.lower() == "secretariat" else who.upper()
        self._write(_("— you are now {who} —").format(who=self.user))

    async def send(self, to: Address, message: Outgoing, *, idempotency_key: str) -> str:
        if idempotency_key in self._shown:  # shown before a restart: once is enough
            return f"console-{idempotency_key}"
        lines = [message.text]
        if message.buttons:
            lines += [f"  {line}" for line in buttons_as_text(message.buttons)]
        if message.attachment is not None:
            lines.append(f"[{self._save(message.attachment)}]")
        if to.user_id != self.user:
            lines.insert(0, f"[→ {to.user_id}]")
        self._write("\n".join(lines))
        if self._journal is not None:  # right after the text, with nothing in between to wait for
            with self._journal.open("a", encoding="utf-8") as journal:
                journal.write(idempotency_key + "\n")
            self._shown.add(idempotency_key)
        return f"console-{next(self._ids)}"

    def _save(self, attachment: Attachment) -> Path:
        """Files are written to disk; the chat shows where."""
        self._files_dir.mkdir(parents=True, exist_ok=True)
        path = self._files_dir / attachment.filename
        path.write_bytes(attachment.content)
        return path

    def _write(self, text: str, *, newline: bool = True) -> None:
        if self._closed:
            return
        try:
            self._out.write(text + ("\n" if newline else ""))
            self._out.flush()
        except BrokenPipeError:  # the reader went away (e.g. `pocnet demo | head`): finish quietly
            self._closed = True
            self.finished.set()
            with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
                os.dup2(os.open(os.devnull, os.O_WRONLY), self._out.fileno())  # no error at exit either

    async def stop(self) -> None:
        if self._task and not self._task.done():
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
