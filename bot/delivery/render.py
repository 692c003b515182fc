"""Turning an outbox row into a message in its recipient's language, at the moment it is sent.

A row holds an untranslated message id (``template``) and its parameters; ``kind`` picks the renderer.
Capabilities with richer messages (a relay with its TLP line, an announcement with a file) register their
own with ``@renderer("relay")``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from bot.i18n import Translator, translator
from bot.transports.base import Attachment, Outgoing
from storage.models import OutboxItem, StoredFile

Renderer = Callable[[OutboxItem, Translator], Outgoing]
RENDERERS: dict[str, Renderer] = {}


def renderer(kind: str) -> Callable[[Renderer], Renderer]:
    def register(func: Renderer) -> Renderer:
        RENDERERS[kind] = func
        return func

    return register


@renderer("text")
def _text(item: OutboxItem, tr: Translator) -> Outgoing:
    text = tr(item.template)
    return Outgoing(text.format(**item.params) if item.params else text)


def render(item: OutboxItem, language: str, file: StoredFile | None = None) -> Outgoing:
    """Raises LookupError (unknown kind) or KeyError/ValueError (parameters that do not fit)."""
    message = RENDERERS[item.kind](item, translator(language))
    if file is not None:
        message = dataclasses.replace(
            message, attachment=Attachment(file.filename, file.content, file.mime_type, digest=file.sha256)
        )
    return message
