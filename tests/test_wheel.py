"""The wheel, not the working tree: built, unpacked and imported from outside the checkout.

The flat layout tests the checkout (house style, "the card's top-level folders" §4); this is the
step that notices a package, `locales/` or the simulator page missing from what gets installed.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(ROOT)],
        check=True,
        timeout=300,
    )
    (wheel,) = out.glob("omniroute-*.whl")
    target = out / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    return target


def test_wheel_ships_the_packages_the_locales_and_the_page_but_no_tests(unpacked: Path) -> None:
    for package in ("channels", "core", "dialogs", "engines", "sessions"):
        assert (unpacked / package / "__init__.py").exists(), package
    assert (unpacked / "omniroute_locales" / "sw" / "LC_MESSAGES" / "omniroute.po").exists()
    assert (unpacked / "channels" / "web" / "static" / "simulator.html").exists()
    assert (unpacked / "core" / "db" / "migrations" / "env.py").exists()
    for absent in ("tests", "bench", "deploy", "locales"):
        assert not (unpacked / absent).exists(), absent


def test_installed_code_runs_from_outside_the_checkout(unpacked: Path, tmp_path: Path) -> None:
    script = (
        "import core, channels.web.simulator as page\n"
        "from core.i18n import Translator\n"
        "t = Translator.load()\n"
        f"assert core.__file__.startswith({str(unpacked)!r}), core.__file__\n"
        "assert t('sw', 'main.title') == 'Karibu OmniRoute', t('sw', 'main.title')\n"
        "assert 'OmniRoute simulator' in page.PAGE.read_text()\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env={"PYTHONPATH": str(unpacked), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
