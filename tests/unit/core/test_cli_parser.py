"""`omniroute` parses without importing the services, and every command it parses runs.

Help, a mistyped argument and the terminal phone used to wait over two seconds for the whole
service graph (engines, SQLAlchemy, GraphQL, Temporal, OR-Tools) to import; now only the command
that runs imports what it needs (bench/cli_startup.py measures it).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
from datetime import time
from pathlib import Path

import pytest

from core.app import cli_parser
from core.app.cli import RUNNERS, main

# What the service graph pulls in; none of it is needed to parse a command line.
HEAVY = ("sqlalchemy", "aiohttp", "pydantic", "strawberry", "temporalio", "ortools", "redis")

PROBE = """
import json, runpy, sys
heavy = json.loads(sys.argv[2])
sys.argv = ["omniroute", *json.loads(sys.argv[1])]
code = None
try:
    runpy.run_module("core.app.cli", run_name="__main__")
except SystemExit as stop:
    code = stop.code
print(json.dumps({"code": code, "loaded": [m for m in heavy if m in sys.modules]}))
"""


def _probe(
    *arguments: str, heavy: tuple[str, ...] = HEAVY, env: dict[str, str] | None = None
) -> tuple[dict[str, object], str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(arguments), json.dumps(heavy)],
        env=None if env is None else {**os.environ, **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    last = done.stdout.strip().splitlines()[-1]
    return json.loads(last), done.stdout + done.stderr


@pytest.mark.parametrize(
    "arguments",
    [
        ("--help",),
        ("deliveries", "--help"),
        ("routes", "solve", "--help"),
        ("drivers", "pay", "--region", "XX"),
        ("stock", "count", "WH-NG", "A01-B02-L1-1", "SKU", "lots"),
    ],
    ids=["help", "group help", "command help", "bad choice", "bad quantity"],
)
def test_help_and_bad_arguments_answer_without_importing_the_services(
    arguments: tuple[str, ...],
) -> None:
    answer, output = _probe(*arguments)
    assert answer["loaded"] == [], output
    if "--help" in arguments:
        assert answer["code"] == 0
        assert "usage: omniroute" in output
    else:
        assert answer["code"] == 2
        assert "invalid choice: 'XX'" in output or "not a whole number" in output


@pytest.mark.parametrize("port", ["99999", "65536", "0", "-1", "http"])
def test_serve_refuses_a_port_it_cannot_listen_on_in_one_line(
    port: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--port 99999` once announced http://127.0.0.1:99999 while listening on 34463."""
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--port", port])
    assert exited.value.code == 2
    assert capsys.readouterr().err == (
        f"omniroute serve: argument --port: not a port from 1 to 65535: {port!r}\n"
    )


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["payments"], "omniroute payments: the following arguments are required: {requery}"),
        (["routes"], "omniroute routes: the following arguments are required: {solve,plan}"),
        (
            ["deliveries"],
            "omniroute deliveries: the following arguments are required: {escalated,resolve}",
        ),
        (["ledger"], "omniroute ledger: the following arguments are required: {check,rebuild}"),
        (
            ["deliveries", "resolve"],
            "omniroute deliveries resolve: the following arguments are required: ORDER_REF, "
            "{delivered,returned}",
        ),
    ],
)
def test_a_missing_subcommand_is_named_by_its_choices(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """It once said 'the following arguments are required: payments_command'."""
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert capsys.readouterr().err == said + "\n"


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["services", "list", "extra"], "omniroute services list: unrecognized arguments: extra"),
        (["migrate", "now"], "omniroute migrate: unrecognized arguments: now"),
        (
            ["deliveries", "escalated", "--all"],
            "omniroute deliveries escalated: unrecognized arguments: --all",
        ),
        (
            ["services", "retire", "shop", "again"],
            "omniroute services retire: unrecognized arguments: again",
        ),
        (["payments", "requery", "x"], "omniroute payments requery: unrecognized arguments: x"),
    ],
)
def test_an_extra_argument_is_refused_by_the_subcommand_it_was_given_to(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`omniroute services list extra` once said 'omniroute: unrecognized arguments: extra',
    leaving the operator to guess which command would not take it."""
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert capsys.readouterr().err == said + "\n"


def test_the_terminal_phone_starts_without_the_services() -> None:
    # Nothing listens on port 9: the phone says so and ends, having imported no engine.
    answer, output = _probe("simulate", "ussd", "--url", "http://127.0.0.1:9")
    assert answer["loaded"] == [], output
    assert answer["code"] != 0


def test_migrate_before_serving_imports_no_server_graphql_or_workflows(tmp_path: Path) -> None:
    # `make run` migrates before every start; only SQLAlchemy and Alembic are needed for it.
    database = {"OMNIROUTE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.db"}
    server_side = ("aiohttp", "strawberry", "temporalio", "ortools", "redis", "aiokafka")
    answer, output = _probe("migrate", heavy=server_side, env=database)
    assert answer == {"code": 0, "loaded": []}, output
    assert "database is at the latest migration" in output
    assert (tmp_path / "cli.db").stat().st_size > 0


def _commands(parser: argparse.ArgumentParser) -> set[str]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(action.choices)


def test_every_parsed_command_has_a_module_that_runs_it() -> None:
    assert _commands(cli_parser.build_parser()) == set(RUNNERS)
    for module in set(RUNNERS.values()):
        assert callable(importlib.import_module(module).run), module


def test_the_parsers_choices_are_the_engines_values() -> None:
    from core.app import deliveries_cli, routes, simulate  # noqa: PLC0415 - the heavy side
    from core.app.money import DISTRIBUTORS  # noqa: PLC0415
    from engines.access import Role  # noqa: PLC0415
    from engines.payments import PROVIDER_OF  # noqa: PLC0415

    assert [role.value for role in Role] == cli_parser.ROLES
    assert cli_parser.SIMULATED_CHANNELS == simulate.CHANNELS
    assert cli_parser.ROUTE_FORMATS == routes.FORMATS
    assert cli_parser.ROUTE_OBJECTIVES == routes.OBJECTIVES
    assert tuple(sorted(deliveries_cli.OUTCOMES)) == cli_parser.DELIVERY_OUTCOMES
    rails = set(PROVIDER_OF.values()) | {d.payout_rail for d in DISTRIBUTORS}
    assert tuple(sorted(rails)) == cli_parser.RAILS


def test_a_role_the_engine_does_not_know_is_refused_at_parsing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["token", "--sub", "ops-1", "--role", "superuser"])
    assert stop.value.code == 2
    assert "invalid choice: 'superuser'" in capsys.readouterr().err


def test_a_mistyped_rail_is_refused_not_reconciled_as_all_missing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`reconcile mpsea` listed every row of the M-Pesa statement as missing on our side."""
    statement = tmp_path / "mpesa.csv"
    statement.write_text("Receipt,Amount\nQKA1,1000.00\n", encoding="utf-8")
    with pytest.raises(SystemExit) as stop:
        main(["reconcile", "mpsea", str(statement), "--day", "2026-01-05", "--currency", "KES"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("omniroute reconcile: argument rail: invalid choice: 'mpsea'")
    assert len(err.splitlines()) == 1


def _groups(parser: argparse.ArgumentParser) -> dict[str, tuple[str, argparse.ArgumentParser]]:
    """Each command of `parser` with its help line in `omniroute --help`, and its parser."""
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    lines = {line.dest: str(line.help) for line in commands._choices_actions}
    return {
        name: (lines[name], command) for name, command in commands.choices.items() if name in lines
    }


def test_every_subcommand_is_named_where_its_group_is_listed_and_in_its_help() -> None:
    """`drivers` was listed as "payouts and bank accounts", and `drivers --help` said nothing
    of it: an operator never learnt of `drivers cash` and `drivers cash-in`."""
    for name, (line, group) in _groups(cli_parser.build_parser()).items():
        actions = [a for a in group._actions if isinstance(a, argparse._SubParsersAction)]
        for subcommand in actions[0].choices if actions else ():
            assert f" {subcommand}," in f" {line.split(': ')[-1]},", (name, subcommand, line)
        opening = group.format_help().split("\n\n")[1]  # under its usage, however wrapped
        assert "".join(opening.split()) == "".join(line.split()), name


def test_resolve_help_names_every_kind_of_escalated_delivery() -> None:
    _line, deliveries = _groups(cli_parser.build_parser())["deliveries"]
    resolve = _groups(deliveries)["resolve"][1]
    assert "a problem its driver reported" in " ".join(resolve.format_help().split())


def test_make_help_lines_up_every_targets_description() -> None:
    root = Path(__file__).parents[3]
    listed = subprocess.run(
        ["make", "-s", "--no-print-directory", "help"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.splitlines()
    assert any(line.startswith("  make bench-routing ") for line in listed), listed
    columns = {len(line) - len(line.split(None, 2)[2]) for line in listed}
    assert len(columns) == 1, listed


def test_a_plans_time_limit_beyond_ten_minutes_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`routes plan --time-limit 1e9` was taken: the solver runs the whole time it is given."""
    for given in ("1e9", "0.5", "nan"):
        with pytest.raises(SystemExit) as stop:
            main(["routes", "plan", "--region", "lagos", "--time-limit", given])
        assert stop.value.code == 2
        assert capsys.readouterr().err.splitlines() == [
            f"omniroute routes plan: argument --time-limit: seconds from 1 to 600: {given!r}"
        ]


def test_a_solves_time_limit_beyond_ten_minutes_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`routes solve FILE --time-limit 1e9` was taken, and the solver ran the whole time."""
    for given in ("1e9", "0.05", "nan"):
        with pytest.raises(SystemExit) as stop:
            main(["routes", "solve", "x.txt", "--time-limit", given])
        assert stop.value.code == 2
        assert capsys.readouterr().err.splitlines() == [
            f"omniroute routes solve: argument --time-limit: seconds from 0.1 to 600: {given!r}"
        ]


def test_a_drivers_shift_with_a_bad_time_or_day_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`drivers shift` takes its times as HH:MM and its days as mon,tue,... or daily; anything
    else, or --list mixed with a shift to set, is one line and exit 2 before any database."""
    emeka = ["drivers", "shift", "+2348035550001"]
    refused = {
        ("--from", "25:00", "--to", "10:00"): "argument --from: not a time of day (HH:MM,"
        " 24-hour): '25:00'",
        ("--from", "06:00", "--to", "6pm"): "argument --to: not a time of day (HH:MM,"
        " 24-hour): '6pm'",
        ("--from", "06:00", "--to", "10:00", "--days", "mon,fir"): "argument --days: not days"
        " of the week (mon,tue,wed,thu,fri,sat,sun or daily): 'mon,fir'",
        ("--from", "06:00", "--to", "10:00", "--date", "2026-02-30"): "argument --date: not a"
        " date (YYYY-MM-DD): '2026-02-30'",
    }
    for argv, reason in refused.items():
        with pytest.raises(SystemExit) as stop:
            main([*emeka, *argv])
        assert stop.value.code == 2
        assert capsys.readouterr().err.splitlines() == [f"omniroute drivers shift: {reason}"]
    for argv, reason in {
        ("--list", "--from", "06:00"): "--list takes no --from, --to, --days or --date",
        ("--from", "06:00"): "--from and --to are required (or --list)",
    }.items():
        assert main([*emeka, *argv]) == 2
        assert capsys.readouterr().err.splitlines() == [f"omniroute drivers shift: {reason}"]
    assert main(["drivers", "shift", "0803555", "--list"]) == 2
    assert capsys.readouterr().err.startswith("omniroute drivers shift: PHONE: ")

    parsed = cli_parser.build_parser().parse_args(
        [*emeka, "--from", "6:00", "--to", "22:30", "--days", "daily"]
    )
    assert (parsed.starts, parsed.ends, parsed.days) == (time(6), time(22, 30), frozenset(range(7)))
    parsed = cli_parser.build_parser().parse_args(
        [*emeka, "--from", "22:00", "--to", "06:00", "--days", "Mon,wed"]
    )
    assert parsed.days == frozenset({0, 2})
