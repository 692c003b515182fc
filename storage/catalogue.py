"""The reporting catalogue: which figures states report (storage/data/indicators.toml by default).

The Secretariat edits a TOML file, not code. :func:`load` validates it completely when pocnet starts and
names the line of the first mistake (``indicators.toml:41: indicator "mla": max: must be ≥ min``), so a
typo never reaches a member. Lookups accept the code, the name or an alias in any of the four languages,
with accents and case ignored (``extradiciones`` → ``extradition``).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from storage.text import fold

DEFAULT = Path(__file__).parent / "data" / "indicators.toml"
LANGUAGES = ("en", "es", "pt", "fr")
MAX_FILE_BYTES = 1024 * 1024
_CODE = r"^[a-z][a-z0-9_]{0,31}$"


class CatalogueError(Exception):
    """A mistake in the catalogue file, phrased for the operator with the file and line."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Texts(_Strict):
    en: str = Field(min_length=1, max_length=600)
    es: str = Field(min_length=1, max_length=600)
    pt: str = Field(min_length=1, max_length=600)
    fr: str = Field(min_length=1, max_length=600)

    def get(self, language: str) -> str:
        return str(getattr(self, language, None) or self.en)


class Aliases(_Strict):
    en: tuple[str, ...] = ()
    es: tuple[str, ...] = ()
    pt: tuple[str, ...] = ()
    fr: tuple[str, ...] = ()


class Indicator(_Strict):
    code: str = Field(pattern=_CODE)
    kind: Literal["count", "count_sentences"] = "count"
    min: int = Field(0, ge=0)
    max: int = Field(100000, ge=0, le=10**9)
    name: Texts
    help: Texts
    aliases: Aliases = Aliases()

    @model_validator(mode="after")
    def _bounds(self) -> Indicator:
        if self.max < self.min:
            raise ValueError("max must not be below min")
        return self

    @property
    def has_sentences(self) -> bool:
        return self.kind == "count_sentences"


class Check(_Strict):
    """A relation between indicators; ``at_least_sum``: ``total`` ≥ the sum of ``parts``."""

    kind: Literal["at_least_sum"]
    total: str = Field(pattern=_CODE)
    parts: tuple[str, ...] = Field(min_length=1)


class _File(_Strict):
    indicator: tuple[Indicator, ...] = Field(min_length=1)
    check: tuple[Check, ...] = ()


@dataclass(frozen=True)
class Catalogue:
    indicators: tuple[Indicator, ...]
    checks: tuple[Check, ...]
    source: str

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(i.code for i in self.indicators)

    def get(self, code: str) -> Indicator | None:
        return self._by_code().get(code)

    def find(self, word: str) -> Indicator | None:
        """The indicator ``word`` names: its code, its name or an alias in any language (folded)."""
        folded = fold(word)
        code = self._by_word().get(folded) or self._by_word().get(folded.replace(" ", "_"))
        return self.get(code) if code else None

    def words(self) -> dict[str, str]:
        """Every accepted word (folded) → code; for suggesting the closest to an unknown one."""
        return dict(self._by_word())

    def _by_code(self) -> dict[str, Indicator]:
        return self._codes

    def _by_word(self) -> dict[str, str]:
        return self._words

    @cached_property
    def _codes(self) -> dict[str, Indicator]:  # built once per catalogue (hashing it per lookup would cost more)
        return {i.code: i for i in self.indicators}

    @cached_property
    def _words(self) -> dict[str, str]:
        words: dict[str, str] = {}
        for ind in self.indicators:
            words[ind.code] = ind.code
            for language in LANGUAGES:
                for word in (ind.name.get(language), *getattr(ind.aliases, language)):
                    words.setdefault(fold(word), ind.code)
        return words


def load(path: Path | None = None) -> Catalogue:
    """Read and validate a catalogue file (the default one when ``path`` is None)."""
    path = path or DEFAULT
    try:
        raw = path.read_bytes()[: MAX_FILE_BYTES + 1]
    except OSError as exc:
        raise CatalogueError(f"{path}: {exc.strerror}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise CatalogueError(f"{path}: larger than {MAX_FILE_BYTES // 1024} KB")
    text = raw.decode("utf-8", errors="replace")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{path}: {exc}") from None
    try:
        parsed = _File.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()  # a misspelt key first: "hlep" explains the missing "help" that follows
        error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        raise CatalogueError(f"{path}:{_line_of(text, error['loc'])}: {_describe(data, error)}") from None
    _check_relations(parsed, text, path)
    return Catalogue(parsed.indicator, parsed.check, str(path))


@lru_cache(maxsize=4)
def cached(path: str | None = None) -> Catalogue:
    """The catalogue configured as ``[figures] catalogue`` (None: the built-in one), read once."""
    return load(Path(path) if path else DEFAULT)


def _check_relations(parsed: _File, text: str, path: Path) -> None:
    seen: dict[str, str] = {}
    for number, ind in enumerate(parsed.indicator):
        if ind.code in seen:
            raise CatalogueError(f"{path}:{_line_of(text, ('indicator', number))}: code {ind.code!r} appears twice")
        seen[ind.code] = ind.code
    words: dict[str, str] = {}
    for number, ind in enumerate(parsed.indicator):
        own = {fold(ind.code)}
        for language in LANGUAGES:
            own.update(fold(w) for w in (ind.name.get(language), *getattr(ind.aliases, language)))
        for word in own:
            other = words.setdefault(word, ind.code)
            if other != ind.code and (word in seen or word.replace(" ", "_") in seen):
                line = _line_of(text, ("indicator", number))
                raise CatalogueError(f"{path}:{line}: {word!r} of {ind.code!r} is the code of {other!r}")
    for number, check in enumerate(parsed.check):
        for code in (check.total, *check.parts):
            if code not in seen:
                raise CatalogueError(f"{path}:{_line_of(text, ('check', number))}: unknown indicator {code!r}")


def _describe(data: dict[str, Any], error: Any) -> str:
    loc = tuple(error["loc"])
    where = ".".join(str(part) for part in loc[2:])
    subject = ""
    if len(loc) >= 2 and loc[0] == "indicator" and isinstance(loc[1], int):
        items = data.get("indicator") or []
        code = items[loc[1]].get("code") if loc[1] < len(items) and isinstance(items[loc[1]], dict) else None
        subject = f"indicator {code!r}" if code else f"indicator {loc[1] + 1}"
    elif loc and loc[0] == "check" and len(loc) >= 2:
        subject = f"check {loc[1] + 1}" if isinstance(loc[1], int) else "check"
    message = str(error["msg"]).removeprefix("Value error, ")
    return ": ".join(part for part in (subject, where, message) if part)


def _line_of(text: str, loc: tuple[Any, ...]) -> int:
    """The line a validation error points at: the ``[[table]]`` it is in, and the key within it."""
    if not loc or not isinstance(loc[0], str):
        return 1
    lines = text.splitlines()
    header = re.compile(r"^\s*\[\[\s*" + re.escape(loc[0]) + r"\s*\]\]")
    starts = [n for n, line in enumerate(lines) if header.match(line)]
    if len(loc) < 2 or not isinstance(loc[1], int) or loc[1] >= len(starts):
        return starts[0] + 1 if starts else 1
    start = starts[loc[1]]
    end = next((n for n in range(start + 1, len(lines)) if lines[n].lstrip().startswith("[")), len(lines))
    if len(loc) >= 3 and isinstance(loc[2], str):
        key = re.compile(r"^\s*" + re.escape(loc[2]) + r"\s*[.=]")
        for n in range(start + 1, end):
            if key.match(lines[n]):
                return n + 1
    return start + 1
