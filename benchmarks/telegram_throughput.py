"""Updates per second through a bare python-telegram-bot echo bot and through full pocnet.

    python -m benchmarks.telegram_throughput [--users 100] [--messages 10]

One process pair: the test Bot API server (tests/fakes/telegram_api.py) runs in a child process; the
bots run here, one after the other, against that same server in the same run. Each bot, once started,
gets the same load — ``users × messages`` updates queued at once — and is timed until every update has
been answered; the bots take turns for ``--rounds`` rounds and each one's median rate counts. The bare bot echoes the text; pocnet resolves the sender, opens a transaction, runs a directory
lookup (/whois <state> <topic> over 1,000 contacts on SQLite), formats and sends the answer. The bare
bot runs twice — with PTB's defaults (one update at a time, as in its echo example) and with 64 at a
time — and the faster of the two is the baseline. pocnet's pacing is switched off (a local server has no
limits to respect). Prints both rates and their ratio; last line ``RESULT telegram_throughput_ratio <value>``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot.app import App
from bot.config import Settings, TelegramSection
from bot.transports.telegram import TelegramTransport
from storage import exchange, members
from storage.access import Actor, Role
from storage.db import Database
from storage.reference import OAS_MEMBERS
from storage.sample import synthetic_csv

TOKEN = "424242:BENCHMARK-TOKEN"
TOPICS = ["firearms", "TIP", "AML", "cyber", "MLA", "drogas", ""]


def _http(port: int, path: str, payload: object | None = None) -> dict:  # type: ignore[type-arg]
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method="POST" if data else "GET")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


async def control(port: int, path: str, payload: object | None = None) -> dict:  # type: ignore[type-arg]
    return await asyncio.to_thread(_http, port, path, payload)


async def run_load(port: int, load: list[dict[str, object]], start: object, stop: object) -> float:
    """Start the bot, then queue the whole load at once and time until every update is answered;
    returns updates/second. Start-up (connecting, registering commands) is not part of the figure."""
    await start()  # type: ignore[operator]
    before = (await control(port, "/control/sent"))["sent"]
    began = time.perf_counter()
    await control(port, "/control/enqueue", load)
    while (await control(port, "/control/sent"))["sent"] - before < len(load):  # noqa: ASYNC110 - another process
        await asyncio.sleep(0.02)
    elapsed = time.perf_counter() - began
    await stop()  # type: ignore[operator]
    return len(load) / elapsed


async def bare_echo(port: int, load: list[dict[str, object]], concurrency: int | None) -> float:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None and update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, update.effective_message.text or "")

    builder = Application.builder().token(TOKEN).base_url(f"http://127.0.0.1:{port}/bot").job_queue(None)
    if concurrency:
        builder = builder.concurrent_updates(concurrency).connection_pool_size(concurrency)
    app = builder.build()
    app.add_handler(MessageHandler(filters.TEXT, echo))

    async def start() -> None:
        await app.initialize()
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=1)

    async def stop() -> None:
        assert app.updater is not None
        await app.updater.stop()
        await app.stop()
        await app.shutdown()

    return await run_load(port, load, start, stop)


async def pocnet_database(users: list[int], tmp: Path) -> str:
    """1,000 synthetic contacts plus one member per simulated Telegram user; returns the database URL."""
    url = f"sqlite+aiosqlite:///{tmp / 'bench.sqlite'}"
    db = Database.from_url(url)
    await db.upgrade()
    actor = Actor.system("bench")
    async with db.transaction() as session:
        await exchange.import_csv(session, actor, synthetic_csv(1000))
        for user in users:
            member = await members.create(
                session, actor, display_name=f"User {user}", role=Role.CONTACT, state_code="MX"
            )
            await members.link_identity(
                session, actor, member, platform="telegram", user_id=str(user), chat_id=str(user)
            )
    await db.dispose()
    return url


async def pocnet(port: int, load: list[dict[str, object]], url: str) -> float:
    section = TelegramSection(token=TOKEN, base_url=f"http://127.0.0.1:{port}/bot", poll_timeout=1,  # type: ignore[arg-type]
                              messages_per_second=0, per_chat_interval=0, group_messages_per_minute=0)  # fmt: skip
    settings = Settings(database={"url": url}, limits={"commands_per_minute": 1_000_000})  # type: ignore[arg-type]
    app = App(settings, Database.from_url(url), [TelegramTransport(section)])
    return await run_load(port, load, app.start, app.stop)


async def main(n_users: int, per_user: int, rounds: int) -> None:
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.telegram_api", TOKEN, stdout=asyncio.subprocess.PIPE
    )
    assert server.stdout is not None
    port = int((await server.stdout.readline()).decode())
    rng = random.Random(3)
    users = [10_000 + n for n in range(n_users)]
    codes = list(OAS_MEMBERS)
    try:
        with tempfile.TemporaryDirectory() as tmp:

            def load() -> list[dict[str, object]]:
                return [
                    {"user_id": u, "text": f"/whois {rng.choice(codes)} {rng.choice(TOPICS)}".strip()}
                    for _ in range(per_user)
                    for u in users
                ]

            url = await pocnet_database(users, Path(tmp))
            await bare_echo(port, load()[: len(users)], None)  # warm-up: imports, connections
            await pocnet(port, load()[: len(users)], url)
            runs: dict[str, list[float]] = {"sequential": [], "concurrent": [], "pocnet": []}
            for _ in range(rounds):  # interleaved, so a busy moment of the machine hits all three alike
                runs["sequential"].append(await bare_echo(port, load(), None))  # PTB's defaults (its echo example)
                runs["concurrent"].append(await bare_echo(port, load(), 64))
                runs["pocnet"].append(await pocnet(port, load(), url))
            sequential, concurrent, ours = (statistics.median(runs[k]) for k in ("sequential", "concurrent", "pocnet"))
            bare = max(sequential, concurrent)  # compare with the faster of the two
    finally:
        server.terminate()
        await server.wait()
    updates = n_users * per_user
    print(f"telegram throughput: {updates} updates from {n_users} users, same local Bot API server, same run;")
    print(f"median of {rounds} interleaved rounds")
    print(f"{'bot':40} {'updates/s':>10}")
    print(f"{'bare echo, PTB defaults (sequential)':40} {sequential:10.1f}")
    print(f"{'bare echo, 64 updates at a time':40} {concurrent:10.1f}")
    print(f"{'baseline: the faster bare echo':40} {bare:10.1f}")
    print(f"{'pocnet (router, identity, /whois lookup)':40} {ours:10.1f}")
    ratio = ours / bare
    print(f"ratio pocnet / bare echo: {ratio:.2f} (target ≥ 0.70 — {'met' if ratio >= 0.7 else 'NOT met'})")
    print(f"RESULT telegram_throughput_ratio {ratio:.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    asyncio.run(main(options.users, options.messages, options.rounds))
