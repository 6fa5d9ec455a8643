"""The card's generic top-level packages must be ours, and imported from this checkout.

`channels` is also Django Channels' import name, and `core`, `dialogs`, `engines`, `sessions`
and `locales` are names other distributions ship; two distributions installing the same
top-level directory overwrite each other without pip noticing. This fails the day a dependency
brings one of them in (see house-style.md, "The card's top-level folders").
"""

from __future__ import annotations

import importlib
import importlib.metadata
from pathlib import Path

import pytest

import channels

CHECKOUT = Path(__file__).resolve().parents[1]
OURS = ("channels", "core", "dialogs", "engines", "sessions", "locales")
PACKAGES = ("channels", "core", "dialogs", "engines", "sessions")


@pytest.mark.parametrize("name", OURS)
def test_no_other_distribution_provides_our_top_level_names(name: str) -> None:
    providers = importlib.metadata.packages_distributions().get(name, [])
    # An editable install names none; a wheel install names omniroute alone.
    assert set(providers) <= {"omniroute"}, f"{name!r} is also installed by {providers}"


@pytest.mark.parametrize("name", PACKAGES)
def test_our_packages_are_imported_from_this_checkout(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__file__ is not None
    assert Path(module.__file__).resolve().is_relative_to(CHECKOUT), module.__file__


def test_channels_is_ours_not_django_channels() -> None:
    assert channels.__file__ is not None
    assert Path(channels.__file__).resolve() == CHECKOUT / "channels" / "__init__.py"
    assert (CHECKOUT / "channels" / "africastalking").is_dir()
