"""`omniroute`: serve, migrate, seed, simulate, worker, routes, customers, deliveries, orders —
the command line of interfaces.md.

Parsing imports no service (core.app.cli_parser); the module that runs the chosen command is
imported after, so `--help`, a bad argument or the terminal phone answer in a blink, and only
the commands that use the engines pay for importing them.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import re
import sys
from collections.abc import Sequence
from typing import Protocol, cast

from core.app.cli_parser import build_parser

# command -> the module whose `run(args)` carries it out
RUNNERS: dict[str, str] = {
    "serve": "core.app.gateway_cli",
    "migrate": "core.app.database_cli",
    "seed": "core.app.database_cli",
    "worker": "core.app.gateway_cli",
    "payments": "core.app.gateway_cli",
    "refunds": "core.app.gateway_cli",
    "simulate": "core.app.simulate",
    "ledger": "core.app.ledger_cli",
    "settle": "core.app.ledger_cli",
    "credit": "core.app.ledger_cli",
    "reconcile": "core.app.ledger_cli",
    "invoices": "core.app.invoice_cli",
    "waves": "core.app.planning_cli",
    "routes": "core.app.planning_cli",
    "apikey": "core.app.credentials",
    "apikeys": "core.app.credentials",  # `apikeys list`, as operators also say it
    "client": "core.app.credentials",
    "clients": "core.app.credentials",
    "token": "core.app.credentials",
    "drivers": "core.app.payout_cli",
    "agents": "core.app.payout_cli",
    "customers": "core.app.customer_cli",
    "deliveries": "core.app.deliveries_cli",
    "orders": "core.app.orders_cli",
    "stock": "core.app.stock_cli",
    "picks": "core.app.picks_cli",
    "warehouses": "core.app.warehouses_cli",
    "services": "core.app.services_cli",
}
# Light commands, which log nothing of their own: configuring logging would import the server.
UNLOGGED = frozenset({"simulate", "migrate", "seed"})
DATABASE_DRIVERS = ("sqlalchemy", "asyncpg", "aiosqlite")
# How SQLite and PostgreSQL say that a table or column of the schema is not there.
MISSING_SCHEMA = re.compile(r"no such (table|column)|(relation|column) .* does not exist")


class CommandModule(Protocol):
    def run(self, args: argparse.Namespace) -> int: ...


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    module = cast(CommandModule, importlib.import_module(RUNNERS[args.command]))
    try:
        if args.command not in UNLOGGED:
            # Logs go to stderr, as the gateway's do: structlog's default wrote its lines to
            # stdout, into the JSON and CSV that scripts read from `drivers pay` or `stock
            # count`. A command says what it did itself, so only warnings are logged (serve and
            # worker log all). In the try: settings that cannot work are named in one line.
            from core.app.logs import configure_logging  # noqa: PLC0415
            from core.config import Settings  # noqa: PLC0415

            configure_logging(Settings(), level=logging.WARNING)
        return module.run(args)
    except Exception as exc:
        setting = setting_trouble(exc)
        if setting is not None:
            print(f"omniroute {args.command}: {setting}", file=sys.stderr)
            return 1
        reason = database_trouble(exc)
        if reason is None:
            raise
        print(f"omniroute {args.command}: {reason}", file=sys.stderr)
        return 2


def setting_trouble(exc: BaseException) -> str | None:
    """The settings that cannot work, each by its variable (None: another failure)."""
    from pydantic import ValidationError  # noqa: PLC0415

    from core.config import SettingError  # noqa: PLC0415

    if isinstance(exc, SettingError):
        return str(exc)
    if not (isinstance(exc, ValidationError) and exc.title == "Settings"):
        return None
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        name = str(error["loc"][0]) if error["loc"] else "?"
        variable = name if name.isupper() else f"OMNIROUTE_{name.upper()}"
        problems.append(f"{variable}: {error['msg'].removeprefix('Value error, ')}")
    return "; ".join(problems)


def database_trouble(exc: BaseException) -> str | None:
    """What an operator must do when the database is not there or not migrated (None: another
    failure, left to its traceback)."""
    # Here, not at the top: `--help` and a bad argument answer without importing SQLAlchemy.
    from sqlalchemy.engine import make_url  # noqa: PLC0415
    from sqlalchemy.exc import DBAPIError  # noqa: PLC0415

    from core.config import Settings  # noqa: PLC0415

    url = make_url(Settings().database_url).render_as_string(hide_password=True)
    if isinstance(exc, DBAPIError):
        said = str(exc.orig)
        if MISSING_SCHEMA.search(said):
            return (
                f"the database at {url} is not migrated ({said.splitlines()[0]}): "
                "run `omniroute migrate` first"
            )
        exc = exc.orig if isinstance(exc.orig, OSError) else exc
    if isinstance(exc, OSError) and _raised_by_database_driver(exc):
        return (
            f"cannot reach the database at {url} ({exc}): start it, or set "
            "OMNIROUTE_DATABASE_URL to where it runs"
        )
    return None


def _raised_by_database_driver(exc: BaseException) -> bool:
    """Connecting to the database, not to a provider's API or a session store."""
    frame = exc.__traceback__
    while frame is not None:
        if str(frame.tb_frame.f_globals.get("__name__", "")).startswith(DATABASE_DRIVERS):
            return True
        frame = frame.tb_next
    return False


__all__ = ["RUNNERS", "build_parser", "main"]

if __name__ == "__main__":
    raise SystemExit(main())
