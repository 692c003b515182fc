"""The last Telegram update pocnet handled, kept in the database so a restart does not handle one twice.

Telegram keeps an update until a later ``getUpdates`` confirms it (python-telegram-bot confirms a batch with
its next call, and once more when it stops). After a crash — or a stop while Telegram cannot be reached —
the last batch comes again at the next start; handled again, a relay or an announcement would go out twice.
Matrix has the same problem solved by its sync token (``bot.transports.matrix``); here the position is the
highest ``update_id`` handled, saved after each update.

Telegram keeps unconfirmed updates for at most 24 hours, and after a week without updates it may start the
ids again from a random number. So a saved position only counts for ``REPLAY_SECONDS``: an older one cannot
describe anything Telegram would send again, and a lower id is then simply a new update.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from storage import transport_state
from storage.db import Database
from storage.handled_faults import HandledFault

log = logging.getLogger("pocnet.telegram")
KEY = "last_update_id"
REPLAY_SECONDS = 24 * 3600.0  # how long Telegram keeps an update nobody confirmed


# python-telegram-bot logs an ERROR when, stopping, it cannot confirm the last batch (Telegram unreachable);
# the saved position makes that harmless
UNCONFIRMED_AT_STOP = HandledFault(
    ("Error while calling `get_updates` one more time",),
    "last updates not confirmed at stop: offered again at start, then skipped",
)


class UpdatePosition:
    def __init__(self, db: Database | None, *, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock
        self.update_id = 0
        self.at = 0.0  # wall-clock seconds when ``update_id`` was handled

    async def load(self) -> None:
        if self.db is None:
            return
        async with self.db.transaction() as session:
            saved = await transport_state.get(session, "telegram", KEY)
        if saved:
            update_id, _, at = saved.partition("@")
            self.update_id, self.at = int(update_id), float(at or 0)

    def handled_before(self, update_id: int) -> bool:
        """Whether this update was handled already (it comes again after a crash)."""
        return update_id <= self.update_id and self.clock() - self.at < REPLAY_SECONDS

    async def handled(self, update_id: int) -> None:
        self.update_id, self.at = update_id, self.clock()
        if self.db is None:
            return
        try:
            async with self.db.transaction() as session:
                await transport_state.put(session, "telegram", KEY, f"{update_id}@{self.at:.0f}")
        except Exception as exc:  # the database is away: the update stays handled in memory
            log.warning("update position not saved", extra={"reason": repr(exc)[:200]})
