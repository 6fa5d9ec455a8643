"""`omniroute`: serve, migrate, seed, simulate — the command line of interfaces.md."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from aiohttp import web

from core.app.demo import load_demo
from core.app.logs import configure_logging
from core.app.routes import FORMATS as ROUTE_FORMATS
from core.app.routes import OBJECTIVES as ROUTE_OBJECTIVES
from core.app.routes import print_plan
from core.app.routes import solve_file as solve_route_file
from core.app.server import create_app
from core.app.simulate import CHANNELS as SIMULATED_CHANNELS
from core.app.simulate import simulate
from core.clock import SystemClock
from core.config import Settings
from core.db import Database
from core.db.migrate import upgrade
from engines.routing import RoutingError


class _Parser(argparse.ArgumentParser):
    """A bad argument prints one line with the reason and exits 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="omniroute", description="OmniRoute conversational commerce gateway")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    serve = commands.add_parser("serve", help="run the gateway (HTTP + channels)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)

    commands.add_parser("migrate", help="apply the database migrations (Alembic)")

    seed = commands.add_parser("seed", help="load the demo catalogue (idempotent)")
    seed.add_argument("--demo", action="store_true", help="load the demo data set")

    simulate = commands.add_parser("simulate", help="a phone in the terminal")
    simulate.add_argument("channel", choices=SIMULATED_CHANNELS)
    simulate.add_argument("--phone", default="+2348030000001", help="E.164 number")
    simulate.add_argument("--url", default="http://127.0.0.1:8080", help="the gateway")
    simulate.add_argument("--service-code", default="*384*123#")
    _add_routes_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    match args.command:
        case "serve":
            return _serve(args.host, args.port)
        case "migrate":
            return _migrate()
        case "seed":
            return _seed(demo=args.demo)
        case "simulate":
            return simulate(args.channel, args.url, args.phone, args.service_code)
        case "routes":
            return _routes_solve(args)
    return 2


def _serve(host: str, port: int) -> int:
    settings = Settings()
    configure_logging(settings)
    web.run_app(create_app(settings), host=host, port=port, print=_announce(host, port))
    return 0


def _announce(host: str, port: int) -> Callable[[str], None]:
    def show(_message: str) -> None:
        print(f"OmniRoute serving on http://{host}:{port}  (Ctrl+C to stop)", flush=True)

    return show


def _migrate() -> int:
    settings = Settings()
    upgrade(settings.database_url)
    print("database is at the latest migration")
    return 0


def _seed(*, demo: bool) -> int:
    if not demo:
        print("omniroute: nothing to seed; pass --demo for the demo data set", file=sys.stderr)
        return 2

    async def run() -> int:
        db = Database(Settings().database_url)
        try:
            return await load_demo(db, SystemClock().now())
        finally:
            await db.dispose()

    inserted = asyncio.run(run())
    print(f"demo data loaded ({inserted} new rows)")
    return 0


def _add_routes_parser(commands: Any) -> None:
    routes = commands.add_parser("routes", help="plan vehicle routes")
    actions = routes.add_subparsers(dest="routes_command", required=True, parser_class=_Parser)
    solve = actions.add_parser("solve", help="solve one routing instance, print the plan as JSON")
    solve.add_argument("file", type=Path, help="the instance file")
    solve.add_argument("--format", choices=ROUTE_FORMATS, default="solomon", help="file format")
    solve.add_argument(
        "--time-limit", type=_positive_float, default=10.0, metavar="S", help="seconds (10)"
    )
    solve.add_argument(
        "--vehicles", type=_positive_int, default=None, metavar="N", help="fleet (the file's)"
    )
    solve.add_argument(
        "--objective",
        choices=ROUTE_OBJECTIVES,
        default="distance",
        help="least distance, or fewest vehicles then distance",
    )


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be > 0: {text!r}")
    return value


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1: {text!r}")
    return int(text)


def _routes_solve(args: argparse.Namespace) -> int:
    try:
        plan = solve_route_file(
            args.file, time_limit=args.time_limit, vehicles=args.vehicles, objective=args.objective
        )
    except (OSError, RoutingError) as exc:
        print(f"omniroute routes solve: {exc}", file=sys.stderr)
        return 2
    print_plan(plan)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
