"""Configuration: file, environment overrides, and one clear line for every mistake."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, load

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_is_complete_and_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    example = ROOT / "config.example.toml"
    settings = load(example)
    documented: set[tuple[str, str]] = set()
    section = ""
    for line in example.read_text().splitlines():  # keys, including those shown commented out
        if match := re.match(r"^\[(\w+)\]", line):
            section = match.group(1)
        elif match := re.match(r"^#? ?(\w+) = ", line):
            documented.add((section, match.group(1)))
    known = {(name, key) for name, field in Settings.model_fields.items() for key in field.annotation.model_fields}  # type: ignore[union-attr]
    assert documented == known, "config.example.toml must show every key"
    assert settings.database.url.startswith("sqlite")


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, '[database]\nurl = "sqlite:///a.sqlite"\n[bot]\nname = "filebot"\n')
    monkeypatch.setenv("POCNET_DATABASE__URL", "postgresql://pocnet@127.0.0.1/pocnet")
    monkeypatch.setenv("POCNET_LIMITS__COMMANDS_PER_MINUTE", "7")
    settings = load(path)
    assert settings.database.url == "postgresql://pocnet@127.0.0.1/pocnet"
    assert settings.limits.commands_per_minute == 7
    assert settings.bot.name == "filebot"  # untouched keys keep the file's value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[bot]\ncolour = 'blue'\n", "unknown key bot.colour"),
        ("[telegraph]\nx = 1\n", "unknown key telegraph"),
        ("[limits]\ncommands_per_minute = 'lots'\n", "limits.commands_per_minute"),
        ("[limits]\ncommands_per_minute = 0\n", "limits.commands_per_minute"),
        ("[bot]\ndefault_language = 'de'\n", "bot.default_language"),
        ("[database]\nurl = 'mysql://x@y/z'\n", "database.url: unsupported database 'mysql'"),
        ("[database]\nurl = 'not a url'\n", "database.url: not a database URL"),
        ("[database]\nurl = 'sqlite+pysqlite:///x.db'\n", "database.url: unsupported driver"),
        ("[database\n", "not valid TOML"),
    ],
)
def test_mistakes_are_named(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(write(tmp_path, text))
    message = str(info.value)
    assert expected in message
    assert "\n" not in message


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load(tmp_path / "nope.toml")


def test_wrong_type_from_the_environment_names_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POCNET_LIMITS__INVITE_FAILURES", "many")
    with pytest.raises(ConfigError, match=r"limits\.invite_failures"):
        load(write(tmp_path, ""))


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("POCNET_BOT", "notjson", "environment: error parsing value for field"),
        ("POCNET_TELEGRAM__TOKEN", "", "telegram.token: is empty"),
        ("POCNET_FOO__BAR", "1", "unknown environment variable POCNET_FOO__BAR"),
        ("POCNET_DATABASE__URLL", "sqlite:///x", "unknown environment variable POCNET_DATABASE__URLL"),
    ],
)
def test_environment_mistakes_are_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    path = write(tmp_path, "[bot]\n")
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as error:
        load(path)
    assert expected in str(error.value) and "\n" not in str(error.value)


def test_a_config_path_that_is_a_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be read"):
        load(tmp_path)
