"""Settings: the TOML file, overridden by ``POCNET_*`` environment variables (``POCNET_DATABASE__URL``
sets ``[database] url``). Secrets such as tokens normally come from the environment. Any problem —
missing file, unknown key, wrong type, bad database URL — raises ConfigError with one line naming the key.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, SettingsError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.i18n import LANGUAGES
from storage.db import BadDatabaseURL, normalize_url

DEFAULT_CONFIG = "config.toml"


class ConfigError(Exception):
    """A configuration problem, already phrased for the operator."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BotSection(Section):
    name: str = "pocnet"
    default_language: Literal["en", "es", "pt", "fr"] = "en"


class DatabaseSection(Section):
    url: str = "sqlite+aiosqlite:///pocnet.sqlite"
    echo: bool = False
    statement_timeout: float = Field(10.0, gt=0, le=300)  # seconds; PostgreSQL cancels longer statements

    @field_validator("url")
    @classmethod
    def _valid_url(cls, value: str) -> str:
        try:
            normalize_url(value)
        except BadDatabaseURL as exc:
            raise ValueError(str(exc)) from None
        return value


class LimitsSection(Section):
    commands_per_minute: int = Field(30, ge=1)
    invite_failures: int = Field(5, ge=1)
    invite_lockout_minutes: int = Field(15, ge=1)
    invite_failures_total: int = Field(100, ge=1)  # from all accounts together, per lockout period


class LoggingSection(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"


class ConsoleSection(Section):
    enabled: bool = False
    user: str = "console"
    journal: str | None = None  # file of what was shown, so that a restart never shows a message twice


class TelegramSection(Section):
    token: SecretStr | None = None

    @field_validator("token")
    @classmethod
    def _not_empty(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("is empty (leave it out to run without Telegram)")
        return value

    base_url: str = "https://api.telegram.org/bot"
    mode: Literal["polling", "webhook"] = "polling"
    poll_timeout: int = Field(30, ge=0, le=50)
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(8443, ge=1, le=65535)
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    messages_per_second: float = Field(30.0, ge=0)
    per_chat_interval: float = Field(1.0, ge=0)
    group_messages_per_minute: int = Field(20, ge=0)
    limit_margin: float = Field(0.04, ge=0, le=1)
    send_retries: int = Field(5, ge=0, le=20)

    @model_validator(mode="after")
    def _webhook_complete(self) -> TelegramSection:
        if self.mode == "webhook":
            if not self.webhook_url:
                raise ValueError("webhook mode needs webhook_url (the public https address)")
            if not self.webhook_secret or len(self.webhook_secret.get_secret_value()) < 16:
                raise ValueError("webhook mode needs webhook_secret (16 characters or more)")
        return self


class MatrixSection(Section):
    homeserver: str | None = None
    user_id: str | None = None
    password: SecretStr | None = None
    access_token: SecretStr | None = None
    device_id: str | None = None
    device_name: str = "pocnet"
    store_path: str = "matrix-store"
    store_key: SecretStr = SecretStr("pocnet-default-store-key")
    sync_timeout_ms: int = Field(30_000, ge=0, le=120_000)
    messages_per_second: float = Field(10.0, ge=0)
    send_retries: int = Field(5, ge=0, le=20)

    @model_validator(mode="after")
    def _complete(self) -> MatrixSection:
        if self.homeserver or self.user_id:
            if not (self.homeserver and self.user_id):
                raise ValueError("Matrix needs both homeserver and user_id")
            if self.password is None and self.access_token is None:
                raise ValueError("Matrix needs a password or an access_token")
        return self

    @property
    def enabled(self) -> bool:
        return bool(self.homeserver and self.user_id)


class DeliverySection(Section):
    poll_seconds: float = Field(1.0, gt=0, le=60)
    batch: int = Field(200, ge=1, le=10_000)
    standby_seconds: float = Field(3.0, gt=0, le=60)
    drain_seconds: float = Field(5.0, ge=0, le=300)


class DialogsSection(Section):
    timeout_minutes: int = Field(15, ge=1, le=24 * 60)


class RelaySection(Section):
    max_per_hour: int = Field(20, ge=1, le=10_000)  # relays and forwards one member may start per hour
    max_length: int = Field(4000, ge=1, le=4000)  # characters of text (a Telegram message holds 4096)
    escalate_after_minutes: int = Field(120, ge=1, le=7 * 24 * 60)  # working time before an urgent escalates
    check_seconds: float = Field(60.0, gt=0, le=3600)  # how often unacknowledged urgent relays are checked
    max_file_mb: int = Field(20, ge=1, le=20)  # Telegram bots download at most 20 MB


class FiguresSection(Section):
    catalogue: str | None = None  # a TOML file (storage/data/indicators.toml's format); None: the built-in one
    change_factor: float = Field(3.0, gt=1, le=1000)  # a figure this many times the last round's asks a comment


class RemindersSection(Section):
    """Meeting reminders, directory re-confirmation and the Secretariat's weekly digest (reminders/)."""

    local_hour: int = Field(9, ge=0, le=23)  # reminders reach people at this hour of their own day
    meeting_days: list[int] = Field(default_factory=lambda: [7, 1])  # days before a meeting
    registration_days: list[int] = Field(default_factory=lambda: [7, 1])  # days before registration closes
    reconfirm_days: int = Field(180, ge=7, le=3650)  # an entry not confirmed for this long is asked again
    digest_weekday: int = Field(0, ge=0, le=6)  # 0 Monday … 6 Sunday
    digest_hour: int = Field(9, ge=0, le=23)

    @field_validator("meeting_days", "registration_days")
    @classmethod
    def _days(cls, value: list[int]) -> list[int]:
        if len(value) > 10 or any(not 0 <= d <= 365 for d in value):
            raise ValueError("at most 10 offsets, each 0 to 365 days")
        return sorted(set(value), reverse=True)


class MetricsSection(Section):
    enabled: bool = False
    listen: str = "127.0.0.1"
    port: int = Field(9464, ge=1, le=65535)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POCNET_", env_nested_delimiter="__", extra="forbid")

    bot: BotSection = BotSection()
    database: DatabaseSection = DatabaseSection()
    limits: LimitsSection = LimitsSection()
    logging: LoggingSection = LoggingSection()
    console: ConsoleSection = ConsoleSection()
    telegram: TelegramSection = TelegramSection()
    matrix: MatrixSection = MatrixSection()
    metrics: MetricsSection = MetricsSection()
    delivery: DeliverySection = DeliverySection()
    dialogs: DialogsSection = DialogsSection()
    relay: RelaySection = RelaySection()
    figures: FiguresSection = FiguresSection()
    reminders: RemindersSection = RemindersSection()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment wins over the file (handed in as init values), the file over defaults.
        return (env_settings, init_settings)

    def secrets(self) -> list[str]:
        """Values that must never appear in a log line."""
        values = [
            self.telegram.token,
            self.telegram.webhook_secret,
            self.matrix.password,
            self.matrix.access_token,
            self.matrix.store_key,
        ]
        found = [v.get_secret_value() for v in values if v is not None]
        try:
            password = make_url(self.database.url).password
        except ArgumentError:
            password = None
        return [*found, str(password)] if password else found


def _describe(error: dict[str, Any]) -> str:
    key = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        return f"unknown key {key}"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{key}: {message}"


def _variable(error: dict[str, Any]) -> str | None:
    """The environment variable that set the value an error is about, if one did."""
    parts = [str(part) for part in error["loc"]]
    name = "POCNET_" + "__".join(parts).upper()
    return name if name in os.environ else None


def load(path: str | os.PathLike[str] | None = None, *, required: bool = True) -> Settings:
    """Read the file (``--config``, else $POCNET_CONFIG, else ./config.toml) and the environment."""
    explicit = path or os.environ.get("POCNET_CONFIG")
    file = Path(explicit or DEFAULT_CONFIG)
    data: dict[str, Any] = {}
    if file.exists():
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{file}: not valid TOML ({exc})") from None
        except OSError as exc:  # a directory, no permission …
            raise ConfigError(f"{file}: cannot be read ({exc.strerror or exc})") from None
    elif required or explicit:
        raise ConfigError(f"config file not found: {file} (copy config.example.toml to start)")
    _check_environment()
    try:
        return Settings(**data)
    except ValidationError as exc:
        errors = [dict(error) for error in exc.errors()]
        variables = [_variable(error) for error in errors]
        if all(variables):  # every problem came from the environment: name the variables, not the file
            raise ConfigError(
                "; ".join(f"{v} → {_describe(e)}" for v, e in zip(variables, errors, strict=True))
            ) from None
        problems = "; ".join(
            f"{v} → {_describe(e)}" if v else _describe(e) for v, e in zip(variables, errors, strict=True)
        )
        raise ConfigError(f"{file}: {problems}") from None
    except SettingsError as exc:  # e.g. POCNET_BOT='notjson'
        cause = f" ({exc.__cause__})" if exc.__cause__ else ""
        raise ConfigError(f"environment: {exc}{cause}") from None


ENVIRONMENT_ONLY = {"POCNET_CONFIG", "POCNET_TEST_PG_URL"}  # read elsewhere, not settings


def _check_environment() -> None:
    """A misspelt POCNET_* variable is an error that names it, not silently ignored."""
    for name in sorted(os.environ):
        if not name.startswith("POCNET_") or name in ENVIRONMENT_ONLY:
            continue
        section, _, key = name.removeprefix("POCNET_").lower().partition("__")
        field = Settings.model_fields.get(section)
        known = field is not None and (not key or key in getattr(field.annotation, "model_fields", {}))
        if not known:
            raise ConfigError(f"unknown environment variable {name} (see config.example.toml for the keys)")


assert set(LANGUAGES) == {"en", "es", "pt", "fr"}  # keep BotSection.default_language in step
