"""The ``[reminders]`` settings the planners and firings read: they are called with a session and a time
only (reminders/registry.py), so the app hands them the section once, at start (``configure``)."""

from __future__ import annotations

from bot.config import RemindersSection

_current = RemindersSection()


def configure(section: RemindersSection) -> None:
    global _current
    _current = section


def current() -> RemindersSection:
    return _current
