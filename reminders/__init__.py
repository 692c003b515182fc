"""Reminders before reporting deadlines and meetings (APScheduler, rebuilt from our own tables at start).

``reminder`` rows are the source of truth; reminders/scheduler.py fires the due ones by kind through the
functions registered in reminders/registry.py and runs the planners. Importing a module of ``MODULES``
registers its kinds and planners (``load()``, called by the scheduler)."""

from __future__ import annotations

import importlib

MODULES = ("plan", "rounds", "meetings", "reconfirm", "digest", "announcements")


def load() -> None:
    for name in MODULES:
        importlib.import_module(f"reminders.{name}")
