"""Benchmarks must keep running; a tiny run checks that they do and print their RESULT line.
(Their figures are measured by running them, never asserted here.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow  # each starts a benchmark process; .ci/run runs them after the default run


def test_directory_benchmark_runs_and_reports() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.directory", "--contacts", "300", "--queries", "30"],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert "bare indexed SQL (baseline)" in result.stdout and "/whois" in result.stdout
    name, value = lines[-1].split()[1:]
    assert lines[-1].startswith("RESULT ") and name == "directory_whois_p99_ms" and float(value) > 0


def _result(args: list[str], name: str) -> float:
    result = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    last = result.stdout.strip().splitlines()[-1].split()
    assert last[0] == "RESULT" and last[1] == name
    return float(last[2])


def test_telegram_throughput_benchmark_runs_and_reports() -> None:
    assert (
        _result(
            ["benchmarks.telegram_throughput", "--users", "5", "--messages", "2", "--rounds", "1"],
            "telegram_throughput_ratio",
        )
        > 0
    )


def test_matrix_latency_benchmark_runs_and_reports() -> None:
    _result(["benchmarks.matrix_latency", "--rounds", "3"], "matrix_added_p50_ms")  # a difference: any sign


def test_delivery_benchmark_runs_and_reports() -> None:
    args = ["benchmarks.delivery", "--chats", "60", "--private", "3", "--group", "3", "--baseline-chats", "30"]
    assert _result(args, "delivery_rate_fraction") > 0


def test_reminders_benchmark_runs_and_reports() -> None:
    assert _result(["benchmarks.reminders", "--members", "300", "--rounds", "1"], "reminders_rebuild_s") > 0
