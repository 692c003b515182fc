"""The settings the planners and firings read: they are called with a session and a time only
(reminders/registry.py), so the app hands them over once, at start (``configure``)."""

from __future__ import annotations

from bot.config import RemindersSection

_current = RemindersSection()
_language = "en"


def configure(section: RemindersSection, default_language: str = "en") -> None:
    """``[reminders]``, and ``[bot] default_language`` (for recipients who chose no language)."""
    global _current, _language
    _current, _language = section, default_language


def current() -> RemindersSection:
    return _current


def default_language() -> str:
    return _language
