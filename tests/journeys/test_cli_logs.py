"""A command's log lines go to stderr, as the gateway's do: stdout is what scripts read."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import structlog

from core.app.cli import main
from tests.journeys.test_cli_stock import RICE, WH, demo_with_rice_received_outside_the_wms


@pytest.fixture
def unconfigured_logging() -> Iterator[None]:
    """As a fresh `omniroute` process starts: nothing configured yet."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    structlog.reset_defaults()
    yield
    root.handlers, root.level = handlers, level
    structlog.reset_defaults()


@pytest.mark.usefixtures("unconfigured_logging")
def test_a_commands_log_lines_go_to_stderr_not_into_its_output(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    shelf = demo_with_rice_received_outside_the_wms(database_url, 12)
    label = shelf.location_id.removeprefix(f"{WH}:")

    assert main(["stock", "count", WH, label, RICE, str(shelf.quantity + 12)]) == 0

    out, err = capsys.readouterr()
    assert out.splitlines() == [
        f"{shelf.location_id}: {shelf.quantity + 12} x {RICE} (+12 against the record of "
        f"{shelf.quantity}); on hand {shelf.quantity + 12}, 0 reserved"
    ]
    assert "wms.counted" not in err  # info: the answer says it; only warnings are logged
    logging.getLogger("core.app.cli").warning("a warning still reaches the operator")
    assert "a warning still reaches the operator" in capsys.readouterr().err
