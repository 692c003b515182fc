"""What pocnet adds to a Matrix round trip, measured against a real Synapse.

    python -m benchmarks.matrix_latency [--rounds 100]

Starts its own Synapse (matrix-synapse from PyPI) on 127.0.0.1. Baseline, in the same run against the
same homeserver: the round trip of a message between two plain matrix-nio clients (A sends, B's sync sees
it and answers at once, A's sync sees the answer). Then the same A sends ``/whoami`` to pocnet in a
direct chat and waits for its answer. Prints p50/p99 of both and their difference; last line
``RESULT matrix_added_p50_ms <value>``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from nio import RoomMessageText

try:
    from benchmarks.stats import percentile
except ModuleNotFoundError:  # run as a script, python benchmarks/<name>.py: its folder is on the path
    from stats import percentile
from storage.db import Database
from tests.e2e.matrix_helpers import MatrixUser, matrix_bot
from tests.servers.synapse import Synapse


async def round_trips(person: MatrixUser, room: str, text: str, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        answers = person.notices[room]  # both bob's pong and pocnet's answer are m.notice
        expected = len(answers) + 1
        start = time.perf_counter()
        await person.send(room, text)
        await person.wait(lambda answers=answers, expected=expected: len(answers) >= expected)
        times.append((time.perf_counter() - start) * 1000)
    return times


async def main(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        server = Synapse(tmp / "synapse")
        server.start()
        try:
            db = Database.from_url(f"sqlite+aiosqlite:///{tmp / 'pocnet.sqlite'}")
            await db.upgrade()
            async with (
                MatrixUser(server, tmp / "a", "alice") as alice,
                MatrixUser(server, tmp / "b", "bob") as bob,
                matrix_bot(server, db, tmp / "bot", limits={"commands_per_minute": 1_000_000}) as bot,
            ):
                # baseline: bob answers every text at once
                async def echo(room, event) -> None:  # type: ignore[no-untyped-def]
                    if isinstance(event, RoomMessageText) and event.sender == alice.user_id:
                        await bob.client.room_send(room.room_id, "m.room.message",
                                                   {"msgtype": "m.notice", "body": "pong"})  # fmt: skip

                bob.client.add_event_callback(echo, RoomMessageText)  # type: ignore[arg-type]
                plain = (await alice.client.room_create(is_direct=True, invite=[bob.user_id])).room_id  # type: ignore[union-attr]
                await bob.wait(lambda: plain in bob.client.invited_rooms or plain in bob.client.rooms)
                await bob.client.join(plain)
                await alice.wait(lambda: bob.user_id in alice.client.rooms[plain].users)
                dm = await alice.dm(bot.user_id)
                await alice.say(dm, f"/start {await bot.invite_code()}")

                await round_trips(alice, plain, "ping", 10)  # warm-up
                await round_trips(alice, dm, "/whoami", 10)
                raw = await round_trips(alice, plain, "ping", rounds)
                ours = await round_trips(alice, dm, "/whoami", rounds)
            await db.dispose()
        finally:
            server.stop()

    print(f"matrix round trips: {rounds} each, same Synapse on 127.0.0.1, same run")
    print(f"{'what':44} {'p50 ms':>8} {'p99 ms':>8}")
    print(f"{'two plain matrix-nio clients (baseline)':44} {statistics.median(raw):8.1f} {percentile(raw, 0.99):8.1f}")
    print(f"{'command to pocnet and its answer':44} {statistics.median(ours):8.1f} {percentile(ours, 0.99):8.1f}")
    added = statistics.median(ours) - statistics.median(raw)
    print(f"pocnet adds {added:.1f} ms at p50, {percentile(ours, 0.99) - percentile(raw, 0.99):.1f} ms at p99 "
          f"(target ≤ 50 ms at p50 — {'met' if added <= 50 else 'NOT met'})")  # fmt: skip
    print(f"RESULT matrix_added_p50_ms {added:.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100)
    asyncio.run(main(parser.parse_args().rounds))
