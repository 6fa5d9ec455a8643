"""`omniroute serve` where it cannot listen: one line naming the address, not a traceback."""

from __future__ import annotations

import socket

import pytest

from core.app.cli import main


@pytest.fixture
def env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    monkeypatch.setenv("OMNIROUTE_TEMPORAL", "off")
    monkeypatch.setenv("OMNIROUTE_ENV", "dev")


def test_serve_on_a_port_already_taken_says_so_in_one_line(
    env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == (
        f"omniroute serve: cannot listen on 127.0.0.1:{port}: Address already in use"
    )
    assert "Traceback" not in err


def test_serve_on_a_host_that_is_no_address_says_so_in_one_line(
    env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--host", "999.1.1.1", "--port", "8080"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("omniroute serve: cannot listen on 999.1.1.1:8080: ")
    assert "Traceback" not in err
