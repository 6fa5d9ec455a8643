"""`omniroute serve` where it cannot listen: one line naming the address, not a traceback."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from core.app.cli import main


@pytest.fixture
def env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    monkeypatch.setenv("OMNIROUTE_TEMPORAL", "off")
    monkeypatch.setenv("OMNIROUTE_ENV", "dev")
    # set on purpose: production refuses the unset in-process defaults
    monkeypatch.setenv("OMNIROUTE_SESSION_URL", "memory://")
    monkeypatch.setenv("OMNIROUTE_EVENTS_URL", "memory://")


def test_serve_on_a_port_already_taken_says_so_in_one_line(
    env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    # said at once: no gateway was started on the database first (its embedded Temporal and
    # background loops, some 20 s of a second `make run` before it said the port was taken)
    assert err.splitlines() == [
        f"omniroute serve: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


def test_serve_on_a_host_that_is_no_address_says_so_in_one_line(
    env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--host", "999.1.1.1", "--port", "8080"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("omniroute serve: cannot listen on 999.1.1.1:8080: ")
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        # production with a mounted channel's secret missing
        ("OMNIROUTE_ENV", "production", "OMNIROUTE_AFRICASTALKING_CALLBACK_TOKEN"),
        # a scheme the store does not speak
        ("OMNIROUTE_SESSION_URL", "valkey://cache:6379/0", "OMNIROUTE_SESSION_URL"),
        ("OMNIROUTE_EVENTS_URL", "redpanda://broker:9092", "OMNIROUTE_EVENTS_URL"),
        ("OMNIROUTE_OBJECT_STORE_URL", "minio://bucket", "OMNIROUTE_OBJECT_STORE_URL"),
        # the URL a managed PostgreSQL hands out, without the async driver
        ("OMNIROUTE_DATABASE_URL", "postgres://u:pw@db:5432/omniroute", "OMNIROUTE_DATABASE_URL"),
        ("OMNIROUTE_DATABASE_URL", "postgresql://u:pw@db:5432/omniroute", "OMNIROUTE_DATABASE_URL"),
        # a value the setting does not take
        ("OMNIROUTE_ENV", "prod", "OMNIROUTE_ENV"),
        ("OMNIROUTE_USSD_SESSION_TTL_SECONDS", "3m", "OMNIROUTE_USSD_SESSION_TTL_SECONDS"),
        # no scheme: callback URLs built on it are no URLs, Twilio's signatures never match
        ("OMNIROUTE_PUBLIC_URL", "gateway.omniroute.example", "OMNIROUTE_PUBLIC_URL"),
        # an HS256 key shorter than the hash
        ("OMNIROUTE_JWT_SECRET", "hunter2", "OMNIROUTE_JWT_SECRET"),
    ],
)
def test_serve_with_a_setting_that_cannot_work_names_it_in_one_line(
    env: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    setting: str,
    value: str,
    named: str,
) -> None:
    monkeypatch.setenv(setting, value)
    assert main(["serve", "--port", "8080"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    last = err.splitlines()[-1]
    assert last.startswith("omniroute serve: ")
    assert named in last
    assert "pw@" not in err  # the database password is not printed


@pytest.mark.parametrize("command", ["migrate", "worker"])
def test_migrate_and_worker_name_a_setting_that_cannot_work_in_one_line(
    env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", "postgres://u:pw@db:5432/omniroute")
    monkeypatch.setenv("OMNIROUTE_TEMPORAL", "on")
    monkeypatch.setenv("OMNIROUTE_TEMPORAL_ADDRESS", "temporal:7233")
    monkeypatch.setenv("OMNIROUTE_ENV", "Production")
    assert main([command]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.splitlines()[-1].startswith(f"omniroute {command}: ")
    assert "OMNIROUTE_ENV" in err
    assert "OMNIROUTE_DATABASE_URL" in err


def test_serve_with_a_bad_allowed_address_names_it_in_one_line(
    env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OMNIROUTE_AFRICASTALKING_ALLOWED_IPS", "196.201.214.0/24, at-proxy")
    assert main(["serve", "--port", "8080"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.splitlines()[-1] == (
        "omniroute serve: OMNIROUTE_AFRICASTALKING_ALLOWED_IPS: 'at-proxy' is not an IP address "
        "or network"
    )


def test_serve_warns_of_a_misspelt_variable_naming_the_setting_meant(
    env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A typo is no setting: the gateway would run on the embedded default without a word."""
    monkeypatch.setenv("OMNIROUTE_SESION_URL", "redis://valkey:6379/0")
    # read by the routing benchmark and its tests, not a setting: no warning (CI exports it)
    monkeypatch.setenv("OMNIROUTE_SOLOMON_DIR", "/work/shared/data/solomon")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert main(["serve", "--port", str(taken.getsockname()[1])]) == 2
    warnings = [
        line for line in capsys.readouterr().err.splitlines() if "settings.unknown_variable" in line
    ]
    assert len(warnings) == 1
    assert "OMNIROUTE_SESION_URL" in warnings[0]
    assert "OMNIROUTE_SESSION_URL" in warnings[0]
    assert "valkey" not in warnings[0]  # the value may be a secret: never logged


@pytest.mark.parametrize("command", [["serve", "--port", "8080"], ["worker"]])
def test_serve_and_worker_name_a_temporal_address_nothing_answers_at(
    env: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{closed.getsockname()[1]}"
    monkeypatch.setenv("OMNIROUTE_TEMPORAL", "on")
    monkeypatch.setenv("OMNIROUTE_TEMPORAL_ADDRESS", address)
    assert main(command) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    last = err.splitlines()[-1]
    assert last.startswith(f"omniroute {command[0]}: cannot reach Temporal at {address}")
    assert "OMNIROUTE_TEMPORAL_ADDRESS" in last


@pytest.mark.parametrize(
    "command",
    [
        ["migrate"],
        ["serve", "--port", "8080"],
        ["worker"],
        # the operator's commands read and write the same orders, ledger and credentials
        ["ledger", "check"],
        ["settle", "--day", "2026-01-05"],
        ["credit", "daily"],
        ["apikey", "create", "--role", "operator", "--name", "warehouse"],
        ["client", "create", "--role", "agent"],
        ["deliveries", "escalated"],
        ["stock", "check", "WH-NG"],
    ],
)
def test_production_without_a_database_url_refuses_to_start(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    """Left unset, production would keep its orders in a SQLite file inside its container,
    lost with the container (or one per replica)."""
    for name in list(os.environ):
        if name.startswith("OMNIROUTE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    monkeypatch.setenv("OMNIROUTE_ENV", "production")
    monkeypatch.setenv("OMNIROUTE_CHANNELS", "web")
    monkeypatch.setenv("OMNIROUTE_TEMPORAL_ADDRESS", "temporal:7233")
    assert main(command) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.splitlines()[-1].startswith(f"omniroute {command[0]}: OMNIROUTE_DATABASE_URL")
    assert not (tmp_path / "var").exists()


@pytest.mark.parametrize("command", [["serve", "--port", "8080"], ["worker"]])
@pytest.mark.parametrize(
    ("unset", "kept"),
    [
        ("OMNIROUTE_SESSION_URL", "OMNIROUTE_EVENTS_URL"),
        ("OMNIROUTE_EVENTS_URL", "OMNIROUTE_SESSION_URL"),
    ],
)
def test_production_without_shared_sessions_or_events_refuses_to_start(
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    unset: str,
    kept: str,
) -> None:
    """Left at the in-process default, each replica keeps its own USSD sessions (a callback
    on another pod starts the menu over) and events never leave the pod that published them."""
    for name in list(os.environ):
        if name.startswith("OMNIROUTE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    monkeypatch.setenv("OMNIROUTE_ENV", "production")
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    monkeypatch.setenv("OMNIROUTE_CHANNELS", "web")
    monkeypatch.setenv("OMNIROUTE_TEMPORAL_ADDRESS", "temporal:7233")
    monkeypatch.setenv(kept, "memory://")
    assert main(command) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.splitlines()[-1].startswith(f"omniroute {command[0]}: {unset} must be set")


def test_production_takes_in_process_sessions_and_events_set_on_purpose(
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A single-replica deployment that names `memory://` gets it."""
    for name in list(os.environ):
        if name.startswith("OMNIROUTE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "OMNIROUTE_ENV": "production",
        "OMNIROUTE_DATABASE_URL": database_url,
        "OMNIROUTE_CHANNELS": "web",
        "OMNIROUTE_TEMPORAL": "off",
        "OMNIROUTE_SESSION_URL": "memory://",
        "OMNIROUTE_EVENTS_URL": "memory://",
    }.items():
        monkeypatch.setenv(name, value)
    # it got as far as listening (a taken port now stops it before it starts)
    assert main(["serve", "--host", "999.1.1.1", "--port", "8080"]) == 2
    assert "cannot listen" in capsys.readouterr().err.splitlines()[-1]


def test_serve_warns_when_the_sms_provider_can_send_nothing(
    env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without its API key every order confirmation and receipt SMS fails quietly in the
    outbox; the operator is told at start which variable is missing."""
    monkeypatch.setenv("OMNIROUTE_SMS_PROVIDER", "africastalking")
    monkeypatch.delenv("OMNIROUTE_AFRICASTALKING_API_KEY", raising=False)
    # started, then stopped where it would listen (a taken port now stops it before it starts)
    assert main(["serve", "--host", "999.1.1.1", "--port", "8080"]) == 2
    warnings = [line for line in capsys.readouterr().err.splitlines() if "sms.no_sender" in line]
    assert len(warnings) == 1
    assert "OMNIROUTE_AFRICASTALKING_API_KEY" in warnings[0]
