"""`omniroute`: serve, migrate, seed, simulate, worker, routes, customers, deliveries — the command
line of interfaces.md.

Parsing imports no service (core.app.cli_parser); the module that runs the chosen command is
imported after, so `--help`, a bad argument or the terminal phone answer in a blink, and only
the commands that use the engines pay for importing them.
"""

from __future__ import annotations

import argparse
import importlib
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
    "simulate": "core.app.simulate",
    "ledger": "core.app.ledger_cli",
    "settle": "core.app.ledger_cli",
    "credit": "core.app.ledger_cli",
    "reconcile": "core.app.ledger_cli",
    "waves": "core.app.planning_cli",
    "routes": "core.app.planning_cli",
    "apikey": "core.app.credentials",
    "client": "core.app.credentials",
    "token": "core.app.credentials",
    "drivers": "core.app.payout_cli",
    "agents": "core.app.payout_cli",
    "customers": "core.app.customer_cli",
    "deliveries": "core.app.deliveries_cli",
    "stock": "core.app.stock_cli",
}


class CommandModule(Protocol):
    def run(self, args: argparse.Namespace) -> int: ...


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    module = cast(CommandModule, importlib.import_module(RUNNERS[args.command]))
    return module.run(args)


__all__ = ["RUNNERS", "build_parser", "main"]

if __name__ == "__main__":
    raise SystemExit(main())
