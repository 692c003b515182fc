"""The ``pocnet`` command as an operator uses it: exit codes, one-line errors, the scripted demo."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.transports.base import Incoming
from storage.db import Database
from tests.conftest import make_settings
from tests.fakes.chat import ChatPlatform
from tests.servers.pocnet_forks import FORKS

POCNET = [sys.executable, "-m", "bot.cli"]
ROOT = Path(__file__).resolve().parents[2]


def pocnet(*args: str, stdin: str | None = None, cwd: Path | None = None, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """Run ``pocnet ARGS`` in a process of its own (forked from a launcher that has the imports done)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("POCNET_")}
    environment.update(env or {})
    environment["PYTHONPATH"] = str(ROOT)
    return FORKS.run(list(args), stdin=stdin, cwd=cwd or ROOT, env=environment, timeout=120)


def config(tmp_path: Path, db: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{db}"\n[console]\nenabled = true\n')
    return path


def test_scripted_demo_prints_help_record_and_spanish_help() -> None:
    result = pocnet("demo", "--as", "MX", stdin="/help\n/whoami\n/language es\n/help\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    first_help = out.index("Commands you can use:")
    record = out.index("State: Mexico (MX)")
    spanish_help = out.index("Comandos que puede usar:")
    assert first_help < record < spanish_help
    assert "Role: national point of contact" in out
    assert "Traceback" not in out + result.stderr


def test_demo_takes_state_names_and_says_the_default() -> None:
    for name in ["Mexico", "méxico", "Estados Unidos"]:
        result = pocnet("demo", "--as", name, stdin="/whoami\n")
        assert result.returncode == 0 and "Role: national point of contact" in result.stdout, (name, result.stderr)
    unknown = pocnet("demo", "--as", "Atlantis", stdin="/whoami\n")
    assert unknown.returncode != 0 and "no state called 'Atlantis'" in unknown.stderr
    assert "the Secretariat (the default)" in " ".join(pocnet("demo", "--help").stdout.split())


def test_a_scripted_demo_is_not_rate_limited() -> None:
    result = pocnet("demo", stdin="/whoami\n" * 40 + "/language es\n")
    assert result.returncode == 0 and "too fast" not in result.stdout
    assert result.stdout.count("Role: OAS Secretariat") == 40 and "español" in result.stdout


def test_demo_handles_bad_input_and_switching_identity() -> None:
    script = "/nonsense\n/\nhello there\n/as AR\n/whoami\n/as secretariat\n/help\n/as ZZ\n/help\n/language\n3\n/help\n"
    result = pocnet("demo", stdin=script)
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "Unknown command /nonsense" in out
    assert "not a command I can read" in out
    assert "only understand commands" in out
    assert "State: Argentina (AR)" in out
    assert "/invite" in out and "/deactivate" in out
    assert "Access is by invitation only" in out  # ZZ is nobody
    assert "Traceback" not in out + result.stderr


def test_numbered_choices_answer_buttons() -> None:
    result = pocnet("demo", "--as", "PE", stdin="/language\n3\n/help\n")
    assert "  3) Português" in result.stdout
    assert "Comandos que você pode usar:" in result.stdout


def test_run_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.sqlite"
    cfg = config(tmp_path, fresh)
    result = pocnet("--config", str(cfg), "run")
    assert result.returncode == 2
    assert f"no database at {fresh}" in result.stderr and "pocnet db upgrade" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not fresh.exists()  # nothing left behind
    for args in (["directory", "export"], ["invite", "create", "--role", "contact", "--state", "MX"]):
        assert "no database at" in pocnet("--config", str(cfg), *args).stderr
        assert not fresh.exists()
    fresh.write_bytes(b"")  # a file, but not migrated
    result = pocnet("--config", str(cfg), "run")
    assert result.returncode == 2 and "not migrated" in result.stderr


def test_run_speaks_of_the_database_before_the_transports(tmp_path: Path) -> None:
    cfg = tmp_path / "bare.toml"
    cfg.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "none.sqlite"}"\n')
    result = pocnet("--config", str(cfg), "run")
    assert result.returncode == 2 and "no database at" in result.stderr and "transport" not in result.stderr
    assert pocnet("--config", str(cfg), "db", "upgrade").returncode == 0
    result = pocnet("--config", str(cfg), "run")
    assert result.returncode == 2 and "no transport is enabled" in result.stderr


def test_run_with_only_the_console_ends_with_its_input(tmp_path: Path) -> None:
    cfg = config(tmp_path, tmp_path / "pocnet.sqlite")
    assert pocnet("--config", str(cfg), "db", "upgrade").returncode == 0
    result = pocnet("--config", str(cfg), "run", stdin="/help\n/whoami\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("invitation") >= 2  # a stranger on the console: the onboarding text, twice


def test_an_environment_variable_in_error_is_named(tmp_path: Path) -> None:
    cfg = config(tmp_path, tmp_path / "pocnet.sqlite")
    result = pocnet("--config", str(cfg), "db", "current", env={"POCNET_TELEGRAM__PER_CHAT_INTERVAL": "soon"})
    assert result.returncode == 2
    assert "POCNET_TELEGRAM__PER_CHAT_INTERVAL → telegram.per_chat_interval: " in result.stderr
    assert str(cfg) not in result.stderr


def test_bad_config_exits_2_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[database]\nurl = 'oracle://x'\n")
    for args in (["--config", str(bad), "run"], ["--config", str(tmp_path / "missing.toml"), "db", "upgrade"]):
        result = pocnet(*args)
        assert result.returncode == 2
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr
    assert "database.url" in pocnet("--config", str(bad), "run").stderr


def test_unreachable_database_exits_2(tmp_path: Path) -> None:
    cfg = tmp_path / "pg.toml"
    cfg.write_text('[database]\nurl = "postgresql+asyncpg://nobody@127.0.0.1:1/none"\n')
    result = pocnet("--config", str(cfg), "db", "upgrade")
    assert result.returncode == 2
    assert result.stderr.startswith("pocnet: error: database") and "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [["invite", "create", "--role", "contact"], ["invite", "create", "--role", "x"]])
def test_invite_create_argument_errors(tmp_path: Path, args: list[str]) -> None:
    cfg = config(tmp_path, tmp_path / "db.sqlite")
    result = pocnet("--config", str(cfg), *args)
    assert result.returncode == 2


async def test_cli_invite_code_onboards_a_person(tmp_path: Path) -> None:
    db_file = tmp_path / "pocnet.sqlite"
    cfg = config(tmp_path, db_file)
    assert pocnet("--config", str(cfg), "invite", "create", "--role", "contact", "--state", "MX").returncode == 2
    upgrade = pocnet("--config", str(cfg), "db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    assert "up to date" in pocnet("--config", str(cfg), "db", "current").stdout
    made = pocnet("--config", str(cfg), "invite", "create", "--role", "contact", "--state", "mx", "--name", "Rosa Díaz")
    assert made.returncode == 0, made.stderr
    code = made.stdout.strip()
    assert len(code) == 9 and code[4] == "-"
    assert "valid until" in made.stderr

    from bot.app import App

    db = Database.from_url(f"sqlite+aiosqlite:///{db_file}")
    platform = ChatPlatform("telegram")
    app = App(make_settings(f"sqlite+aiosqlite:///{db_file}"), db, [platform])
    await app.start()
    platform.idle = app.delivery.idle
    assert "Welcome to pocnet, Rosa Díaz" in await platform.say(f"/start {code}", user="555")
    assert "Mexico (MX)" in await platform.say("/whoami", user="555")
    assert "already been used" in await platform.say(f"/start {code}", user="556")
    await app.stop()


async def test_console_transport_reads_lines_and_prints_replies(sqlite_db: Database) -> None:
    import io

    from bot.app import App
    from bot.transports.console import ConsoleTransport
    from storage import sample

    async with sqlite_db.transaction() as session:
        await sample.seed(session)
    lines = iter(["/whoami\n", "\n", "/as CA\n", "/whoami\n", ""])
    out = io.StringIO()

    async def read() -> str:
        return next(lines)

    console = ConsoleTransport("BR", read_line=read, out=out, interactive=False)
    seen: list[Incoming] = []
    app = App(make_settings(str(sqlite_db.engine.url)), sqlite_db, [console])
    original = app.router.handle

    async def spy(msg: Incoming) -> None:
        seen.append(msg)
        await original(msg)

    app.delivery.start()
    await console.start(spy)
    await console.finished.wait()
    text = out.getvalue()
    assert text.index("Brazil (BR)") < text.index("you are now CA") < text.index("Canada (CA)")
    assert [m.address.user_id for m in seen] == ["BR", "CA"]  # blank lines are skipped


def test_demo_stops_quietly_when_its_reader_goes_away() -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("POCNET_")} | {"PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [*POCNET, "demo", "--as", "MX"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        cwd=ROOT, env=environment,
    )  # fmt: skip
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    process.stdin.write(b"/help\n" * 50)
    process.stdin.close()
    assert process.stdout.readline()  # like `| head -1`: read a line, then stop reading
    process.stdout.close()
    assert process.wait(timeout=60) == 0
    assert b"Traceback" not in process.stderr.read()


@pytest.mark.parametrize("how", [["benchmarks/directory.py"], ["-m", "benchmarks.directory"]])
def test_benchmarks_run_as_a_script_and_as_a_module(how: list[str]) -> None:
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, *how, "--help"], cwd=root, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "usage:" in result.stdout, result.stderr
