"""The deployment files in deploy/ hold what README promises (no image is built here)."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from bot.config import load

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
ROOT = DEPLOY.parent


def unit(name: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)  # systemd repeats keys
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / name, encoding="utf-8")
    return parser


def test_systemd_unit_is_hardened_and_restarts() -> None:
    service = unit("pocnet.service")["Service"]
    assert service["User"] == "pocnet" and service["Group"] == "pocnet"
    assert service["ExecStart"].endswith("/pocnet run")
    assert service["Restart"] == "on-failure"
    assert service["RestartPreventExitStatus"] == "2"  # a config error is not fixed by restarting
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "PrivateTmp": "yes",
        "ProtectHome": "yes",
        "PrivateDevices": "yes",
        "RestrictSUIDSGID": "yes",
        "CapabilityBoundingSet": "",
    }.items():
        assert service[key] == value, key
    assert service["ReadWritePaths"] == "/var/lib/pocnet" == service["WorkingDirectory"]
    assert service["EnvironmentFile"].startswith("-/etc/pocnet/")  # secrets beside, not inside, the unit
    assert unit("pocnet.service")["Install"]["WantedBy"] == "multi-user.target"

    backup = unit("pocnet-backup.service")["Service"]
    assert "pocnet backup /var/lib/pocnet/backups/" in backup["ExecStart"].replace('"', "")
    assert backup["ProtectSystem"] == "strict" and backup["User"] == "pocnet"
    assert unit("pocnet-backup.timer")["Timer"]["Persistent"] == "true"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_accepts_the_units() -> None:
    result = subprocess.run(
        ["systemd-analyze", "verify", *(str(DEPLOY / n) for n in ("pocnet.service", "pocnet-backup.service", "pocnet-backup.timer"))],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    complaints = [line for line in result.stderr.splitlines() if "/opt/pocnet/bin/pocnet is not executable" not in line]
    assert complaints == []  # the only complaint allowed: pocnet is not installed on this machine


def test_compose_runs_pocnet_on_postgres() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert services["db"]["image"].split("/")[-1].startswith("postgres:")
    pocnet, migrate = services["pocnet"], services["migrate"]
    assert migrate["build"]["dockerfile"] == "deploy/Containerfile" and migrate["image"] == pocnet["image"]
    assert migrate["command"] == ["db", "upgrade"] and pocnet["command"] == ["run"]
    url = pocnet["environment"]["POCNET_DATABASE__URL"]
    assert url.startswith("postgresql+asyncpg://pocnet:${POCNET_DB_PASSWORD") and "@db:5432/pocnet" in url
    assert pocnet["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert pocnet["depends_on"]["db"]["condition"] == "service_healthy"
    assert all(port.startswith("127.0.0.1:") for port in pocnet["ports"])  # metrics stay internal
    assert any(volume.endswith(":/var/lib/pocnet") for volume in pocnet["volumes"])  # the key store survives
    assert set(compose["volumes"]) == {"pgdata", "pocnet-data"}
    # The container's pg_dump (Debian 12: PostgreSQL 15) must be at least the server's major version.
    server_major = int(services["db"]["image"].rsplit(":", 1)[1].split(".")[0])
    assert "bookworm" in (DEPLOY / "Containerfile").read_text() and server_major <= 15


def instructions(path: Path) -> list[tuple[str, str]]:
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def test_containerfile_copies_every_package_and_runs_unprivileged() -> None:
    steps = instructions(DEPLOY / "Containerfile")
    copied = {args.split()[0] for op, args in steps if op == "COPY" and not args.startswith("--from")}
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    assert {p.rstrip("*") for p in packages} <= copied
    users = [args for op, args in steps if op == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert ("ENTRYPOINT", '["pocnet"]') in steps and ("CMD", '["run"]') in steps
    assert any(op == "HEALTHCHECK" and "/healthz" in args for op, args in steps)
    assert any("postgresql-client" in args for op, args in steps if op == "RUN")  # for `pocnet backup`


def test_baked_in_config_and_env_example_are_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("POCNET_")]:
        monkeypatch.delenv(key)
    settings = load(DEPLOY / "pocnet.toml")
    assert settings.metrics.enabled and settings.matrix.store_path.startswith("/var/lib/pocnet/")
    example = (DEPLOY / "pocnet.env.example").read_text(encoding="utf-8")
    active = [line for line in example.splitlines() if line.strip() and not line.startswith("#")]
    assert active == []  # an empty POCNET_TELEGRAM__TOKEN= would switch Telegram on with no token
