"""``pocnet`` commands for tests, each in a process of its own, without paying Python's imports each time.

A command-line test starts ``pocnet`` dozens of times; most of each start (1.5 s of 2–4) is importing
SQLAlchemy, Alembic, pydantic and pocnet. This module, run as ``python -m tests.servers.pocnet_forks``,
imports them once and then forks a child per command: the child gets its own stdin, stdout and stderr
(files the test reads), environment, working directory and argv, runs ``bot.cli.main`` exactly as the
``pocnet`` script does, and exits with its code. It is still a separate process with real file
descriptors: what the test sees is what an operator would see. Commands that a test signals or reads
while they run still use a plain subprocess.

The parent process holds no threads and no event loop, so forking it is safe; it reaps its children
itself (SIGCHLD ignored), and each child writes its exit code to a file just before it exits.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PRELOAD = ("bot.cli", "bot.app", "handlers", "bot.transports.console")


def _child(request: dict[str, Any]) -> None:  # pragma: no cover - runs in the forked child
    """Become the command: its files on fd 0–2, its environment, directory and argv; then run it."""
    import io
    import logging
    import signal
    import traceback

    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the command may wait for its own children (pg_dump)
    os.setpgid(0, 0)
    for fd, (name, mode) in enumerate([("stdin", os.O_RDONLY), ("stdout", os.O_WRONLY), ("stderr", os.O_WRONLY)]):
        opened = os.open(request[name], mode)
        os.dup2(opened, fd)
        os.close(opened)
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8")
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8", line_buffering=True)
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    sys.argv = ["pocnet", *request["argv"]]
    code = 1
    try:
        from bot.cli import main

        logging.basicConfig()  # as `python -m bot.cli` does
        code = main(request["argv"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
    finally:
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        Path(request["status"]).write_text(str(code))
        os._exit(code)


def serve() -> None:  # pragma: no cover - runs in the launcher process
    import importlib
    import signal

    for module in PRELOAD:
        importlib.import_module(module)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    print("ready", flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request)
        print(pid, flush=True)


class Forks:
    """The client: one launcher per test process, started at first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None

    def _launcher(self) -> subprocess.Popen[str]:
        if self._process is None or self._process.poll() is not None:
            env = {k: v for k, v in os.environ.items() if not k.startswith("POCNET_")} | {"PYTHONPATH": str(ROOT)}
            self._process = subprocess.Popen(
                [sys.executable, "-m", "tests.servers.pocnet_forks"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env,
            )  # fmt: skip
            assert self._process.stdout is not None
            if self._process.stdout.readline().strip() != "ready":
                raise RuntimeError("the pocnet launcher did not start")
        return self._process

    def run(
        self, argv: list[str], *, stdin: str | None, cwd: Path, env: dict[str, str], timeout: float
    ) -> subprocess.CompletedProcess[str]:
        with tempfile.TemporaryDirectory(prefix="pocnet-run-") as scratch:
            files = {name: Path(scratch) / name for name in ("stdin", "stdout", "stderr", "status")}
            files["stdin"].write_text(stdin or "", encoding="utf-8")
            files["stdout"].touch()
            files["stderr"].touch()
            request = {"argv": argv, "env": env, "cwd": str(cwd)} | {k: str(v) for k, v in files.items()}
            with self._lock:
                launcher = self._launcher()
                assert launcher.stdin is not None and launcher.stdout is not None
                launcher.stdin.write(json.dumps(request) + "\n")
                launcher.stdin.flush()
                pid = int(launcher.stdout.readline())
            code = self._wait(pid, files["status"], timeout, argv)
            return subprocess.CompletedProcess(
                ["pocnet", *argv], code,
                files["stdout"].read_text(encoding="utf-8"), files["stderr"].read_text(encoding="utf-8"),
            )  # fmt: skip

    @staticmethod
    def _wait(pid: int, status: Path, timeout: float, argv: list[str]) -> int:
        deadline = time.monotonic() + timeout
        while True:
            if status.exists() and (text := status.read_text()):
                break
            try:
                os.kill(pid, 0)
            except ProcessLookupError:  # gone without a word: killed by a signal
                if status.exists() and (text := status.read_text()):
                    break
                return -1
            if time.monotonic() > deadline:
                os.killpg(pid, 9)
                raise subprocess.TimeoutExpired(["pocnet", *argv], timeout)
            time.sleep(0.01)
        while True:  # the code is written just before the exit: wait for the exit itself
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return int(text)
            time.sleep(0.005)


FORKS = Forks()

if __name__ == "__main__":
    serve()
