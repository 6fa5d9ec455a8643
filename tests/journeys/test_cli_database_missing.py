"""An operator's command on a database that is not migrated, or not running, says what to do in
one line instead of a SQLAlchemy traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.app.cli import main
from tests.support.ports import free_port

COMMANDS = [
    ["deliveries", "escalated"],
    ["stock", "check", "WH-LAGOS"],
    ["routes", "plan", "--region", "lagos"],
    ["drivers", "pay", "--region", "lagos"],
    ["payments", "requery"],
    ["apikey", "create", "--role", "operator"],
    ["customers", "locate", "--phone", "+2348030000001", "--lat", "6.5", "--lon", "3.3"],
    ["seed", "--demo"],
]


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda argv: " ".join(argv[:2]))
def test_a_command_on_an_unmigrated_database_says_to_migrate(
    argv: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", url)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"omniroute {argv[0]}: the database at {url} is not migrated (no such ")
    assert err.endswith("): run `omniroute migrate` first\n")
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize("argv", [["migrate"], ["deliveries", "escalated"]], ids=str)
def test_a_command_with_the_database_down_names_it_without_the_password(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()  # nothing listens there
    monkeypatch.setenv(
        "OMNIROUTE_DATABASE_URL",
        f"postgresql+asyncpg://omniroute:s3cret@127.0.0.1:{port}/omniroute",
    )
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        f"omniroute {argv[0]}: cannot reach the database at "
        f"postgresql+asyncpg://omniroute:***@127.0.0.1:{port}/omniroute ("
    )
    assert err.endswith("): start it, or set OMNIROUTE_DATABASE_URL to where it runs\n")
    assert "s3cret" not in err
    assert len(err.splitlines()) == 1
