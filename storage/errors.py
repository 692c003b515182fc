"""Domain errors. Each carries an untranslated message (marked for extraction) and its parameters;
the router translates it into the user's language, so storage never needs to know who reads it."""

from __future__ import annotations

from typing import Any


def N_(message: str) -> str:
    """Mark a string for translation without translating it now."""
    return message


class PocnetError(Exception):
    message: str = N_("That did not work.")

    def __init__(self, message: str | None = None, **params: Any) -> None:
        if message is not None:
            self.message = message
        self.params = params
        super().__init__(self.message.format(**params) if params else self.message)


class AccessDenied(PocnetError):
    message = N_("You are not allowed to do that.")


class NotFound(PocnetError):
    message = N_("Nothing found.")


class InvalidInput(PocnetError):
    message = N_("That input is not valid.")
