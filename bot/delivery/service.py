"""The delivery service: the only way a message leaves pocnet (design note §2b).

    handler ── ctx.reply(...) ─────────► interactive lane (memory; key = incoming message + part)
           └─ outbox rows (same tx) ───► durable lane (table ``outbox``, see durable.py)
                                                 │
                            PlatformSender per platform (sender.py): a queue per chat,
                            interactive before bulk, hard windows, per-chat pauses
                                                 ▼
                                   transport.send(to, message, idempotency_key)

``submit`` never waits for a platform: a command is finished when its replies are queued.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.delivery.clock import Clock, SystemClock
from bot.delivery.sender import BULK, INTERACTIVE, OnDone, Outcome, PlatformSender

if TYPE_CHECKING:
    from bot.metrics import Metrics
    from bot.transports.base import Address, Incoming, Outgoing, Transport

log = logging.getLogger("pocnet.delivery")


def reply_key(msg: Incoming, number: int) -> str:
    """The idempotency key of the ``number``-th reply to ``msg``: the same after a crash and a re-read,
    so a platform that deduplicates (Matrix transaction ids) shows the reply once."""
    address = msg.address
    version = f"~{msg.edit}" if msg.edit is not None else ""  # an edit is answered apart from its original
    return f"r:{address.platform}:{address.chat_id}:{msg.message_id}{version}:{number}"


class DeliveryService:
    def __init__(self, transports: Sequence[Transport], *, clock: Clock | None = None, metrics: Metrics | None = None):
        self.clock = clock or SystemClock()
        self.senders = {t.platform: PlatformSender(t, t.limits, self.clock, metrics) for t in transports}

    def submit(
        self,
        to: Address,
        message: Outgoing,
        *,
        key: str,
        bulk: bool = False,
        on_done: OnDone | None = None,
    ) -> bool:
        """Queue one message; False (and a WARNING) when no transport serves its platform."""
        sender = self.senders.get(to.platform)
        if sender is None:
            log.warning("no transport for platform", extra={"platform": to.platform})
            return False
        sender.submit(to, message, key=key, priority=BULK if bulk else INTERACTIVE, on_done=on_done)
        return True

    def reply(self, msg: Incoming, replies: Sequence[tuple[Address | None, Outgoing]]) -> None:
        """Queue a handler's answers to ``msg`` on the interactive lane."""
        for number, (to, outgoing) in enumerate(replies):
            self.submit(to or msg.address, outgoing, key=reply_key(msg, number))

    async def idle(self) -> None:
        for sender in self.senders.values():
            await sender.idle()

    def start(self) -> None:
        for sender in self.senders.values():
            sender.start()

    async def stop(self, *, drain: float = 5.0) -> None:
        for sender in self.senders.values():
            await sender.stop(drain=drain)


__all__ = ["BULK", "INTERACTIVE", "DeliveryService", "Outcome", "reply_key"]
