"""Fixtures shared by the unit tests: the real message catalogues."""

from __future__ import annotations

import pytest

from core.i18n import Translator


@pytest.fixture(scope="session")
def translator() -> Translator:
    """The real catalogues under locales/, so unit tests show the words users read."""
    return Translator.load()
