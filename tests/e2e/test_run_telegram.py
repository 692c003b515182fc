"""``pocnet run`` with Telegram configured: serves, never logs the token, stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.e2e.test_cli import ROOT, pocnet
from tests.fakes.telegram_api import FakeBotAPI


async def test_run_serves_telegram_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    server = FakeBotAPI(token="987654:VERY-SECRET-TOKEN-abcdef")
    await server.start()
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "run.sqlite"}"\n'
        f'[telegram]\nbase_url = "{server.base_url}"\npoll_timeout = 1\nper_chat_interval = 0\n'
        '[logging]\nlevel = "DEBUG"\n'
    )
    env = {"POCNET_TELEGRAM__TOKEN": server.token}
    assert (await asyncio.to_thread(pocnet, "--config", str(cfg), "db", "upgrade")).returncode == 0
    made = await asyncio.to_thread(
        pocnet, "--config", str(cfg), "invite", "create", "--role", "contact", "--state", "CL"
    )
    code = made.stdout.strip()

    environment = {k: v for k, v in os.environ.items() if not k.startswith("POCNET_")} | env | {"PYTHONPATH": str(ROOT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "--config", str(cfg), "run",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=environment, cwd=str(ROOT),
    )  # fmt: skip
    try:
        server.user_sends(9001, f"/start {code}")
        first = await server.wait_for_sent(1, chat_id=9001, within=30)
        assert "Welcome to pocnet" in first[0].text
        for _ in range(5):  # accepted just before the stop signal
            server.user_sends(9001, "/whoami")
        await server.wait_for_sent(2, chat_id=9001, within=30)
        process.send_signal(signal.SIGTERM)
        _out, err = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
        await server.stop()
    log = err.decode()
    assert process.returncode == 0, log[-2000:]
    answered = len(server.sent_to(9001)) - 1
    assert answered + server.pending_updates() == 5  # every /whoami answered, or still waiting at Telegram
    assert answered >= 1
    assert server.token not in log and "VERY-SECRET" not in log
    assert "telegram started" in log and "Traceback" not in log


async def test_run_with_telegram_unreachable_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "run.sqlite"}"\n'
        '[telegram]\nbase_url = "http://127.0.0.1:9/bot"\n'  # nothing listens on the discard port
    )
    assert (await asyncio.to_thread(pocnet, "--config", str(cfg), "db", "upgrade")).returncode == 0
    token = "424242:UNREACHABLE-SECRET"
    result = await asyncio.to_thread(pocnet, "--config", str(cfg), "run", env={"POCNET_TELEGRAM__TOKEN": token})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and token not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("pocnet: error:")]
    assert len(errors) == 1 and "telegram" in errors[0].lower(), result.stderr
