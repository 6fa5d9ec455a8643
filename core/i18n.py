"""Every word a person reads comes from locales/<lang>/LC_MESSAGES/omniroute.po, through Babel."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path

from babel import Locale
from babel.core import UnknownLocaleError
from babel.messages.pofile import read_po

DEFAULT_LOCALE = "en"
DOMAIN = "omniroute"
# The order the Language menu lists the languages in. Which languages exist is decided by the
# catalogues under locales/ alone: a language listed here without one is not offered, and a
# catalogue not listed here is offered after these.
LANGUAGE_ORDER = ("en", "fr", "sw", "ha", "yo", "ig", "pcm")
# Each catalogue's name for its own language ("Kiswahili"), as the Language menu shows it.
LANGUAGE_NAME = "language.name"


def locales_dir() -> Path:
    """The checkout's locales/ (editable install) or the wheel's omniroute_locales/."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "locales", here / "omniroute_locales"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("locales/ not found beside the packages")


class MissingTranslationError(KeyError):
    """A message id with no text in the default locale: a bug, caught by the tests."""


class Translator:
    """Message ids are symbolic ('menu.shop'); each catalogue maps them to the locale's words.

    A message given a number may have plural variants, `<id>.<CLDR plural form>` such as
    'cart.body.one' ("1 item"), chosen by Babel's plural rules for the locale; the plain id is
    the form used for every other number. The number is the `count` value, else the message's
    only whole-number value ('{stops} stops', '{left} tries left').
    """

    def __init__(self, catalogues: Mapping[str, Mapping[str, str]]) -> None:
        if DEFAULT_LOCALE not in catalogues:
            raise ValueError(f"the {DEFAULT_LOCALE!r} catalogue is required")
        self._catalogues = {k: dict(v) for k, v in catalogues.items()}
        self._plural_forms = {locale: _plural_rule(locale) for locale in self._catalogues}

    @classmethod
    def load(cls, directory: Path | None = None) -> Translator:
        base = directory or locales_dir()
        catalogues: dict[str, Mapping[str, str]] = {}
        for po_path in sorted(base.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
            stat = po_path.stat()
            catalogues[po_path.parent.parent.name] = _read_catalogue(
                po_path, stat.st_mtime_ns, stat.st_size
            )
        return cls(catalogues)

    @property
    def locales(self) -> tuple[str, ...]:
        return tuple(sorted(self._catalogues))

    @property
    def languages(self) -> tuple[tuple[str, str], ...]:
        """(locale, its own name) for the Language menu, in LANGUAGE_ORDER. A catalogue that
        does not name its language is left out: under the English fallback it would be listed
        as "English"."""
        known = {code: i for i, code in enumerate(LANGUAGE_ORDER)}
        ordered = sorted(self._catalogues, key=lambda code: (known.get(code, len(known)), code))
        return tuple(
            (code, self._catalogues[code][LANGUAGE_NAME])
            for code in ordered
            if LANGUAGE_NAME in self._catalogues[code]
        )

    def message_ids(self, locale: str) -> frozenset[str]:
        return frozenset(self._catalogues[locale])

    def supports(self, locale: str) -> bool:
        return locale in self._catalogues

    def __call__(self, locale: str, msgid: str, /, **values: object) -> str:
        if not self.supports(locale):
            locale = DEFAULT_LOCALE
        count = _plural_count(values)
        text = self._text(locale, msgid, count)
        if text is None:
            # English's own plural variant: a message missing from a catalogue ("1 item")
            text = self._text(DEFAULT_LOCALE, msgid, count)
        if text is None:
            raise MissingTranslationError(msgid)
        return text.format(**values) if values else text

    def _text(self, locale: str, msgid: str, count: int | None) -> str | None:
        catalogue = self._catalogues[locale]
        if msgid not in catalogue:
            return None
        if count is not None:
            msgid = self._plural_variant(locale, msgid, count)
        return catalogue[msgid]

    def _plural_variant(self, locale: str, msgid: str, count: int) -> str:
        rule = self._plural_forms[locale]
        if rule is None:
            return msgid
        variant = f"{msgid}.{rule(count)}"
        return variant if variant in self._catalogues[locale] else msgid


@functools.lru_cache(maxsize=64)
def _read_catalogue(po_path: Path, mtime_ns: int, size: int) -> Mapping[str, str]:
    """One .po file's texts, parsed once per process while the file is unchanged (its
    modification time and size are part of the key): Babel's parser takes tens of
    milliseconds a catalogue, and every gateway, worker and command builds a Translator."""
    del mtime_ns, size  # the cache key only
    with po_path.open("rb") as handle:
        catalogue = read_po(handle)
    return {str(m.id): str(m.string) for m in catalogue if m.id and m.string}


def _plural_count(values: Mapping[str, object]) -> int | None:
    whole = [v for v in values.values() if isinstance(v, int) and not isinstance(v, bool)]
    count = values.get("count")
    if isinstance(count, int) and not isinstance(count, bool):
        return count
    return whole[0] if len(whole) == 1 else None


def _plural_rule(locale: str) -> Callable[[int], str] | None:
    try:
        return Locale.parse(locale).plural_form
    except (UnknownLocaleError, ValueError):
        return None
