"""Platform-neutral command handlers, one module per capability. Importing a module registers its
commands (see bot/commands.py); the order here is the order of /help."""

from __future__ import annotations

import importlib

MODULES = (
    "onboarding", "help", "directory", "relay", "relay_threads", "relay_status", "relay_messages", "away",
    "broadcast", "broadcast_messages", "figures", "rounds", "figures_status", "reminders",
    "entries", "account", "admin", "audit", "meetings",
)  # fmt: skip


def load() -> None:
    for name in MODULES:
        importlib.import_module(f"handlers.{name}")
