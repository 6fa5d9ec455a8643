"""`omniroute`: serve, migrate, seed, simulate, worker, routes, customers, deliveries — the command
line of interfaces.md."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

from aiohttp import web

from core.app import credentials, customer_cli, deliveries_cli, payout_cli, stock_cli
from core.app.bootstrap import build_services
from core.app.demo import load_demo, load_distribution_demo
from core.app.dispatch_plan import plan_day_command
from core.app.eventloop import loop_factory, running_loop_name
from core.app.heap import freeze_after_startup
from core.app.ledger_cli import add_ledger_command, run_ledger
from core.app.logs import configure_logging
from core.app.objects import MissingObjectStoreSettingError
from core.app.routes import FORMATS as ROUTE_FORMATS
from core.app.routes import OBJECTIVES as ROUTE_OBJECTIVES
from core.app.routes import print_plan
from core.app.routes import solve_file as solve_route_file
from core.app.server import create_app
from core.app.simulate import CHANNELS as SIMULATED_CHANNELS
from core.app.simulate import simulate
from core.app.temporal_dev import TemporalUnavailableError, embedded_temporal
from core.app.waves import plan_command
from core.app.worker import run_worker
from core.clock import SystemClock
from core.config import Settings
from core.db import Database
from core.db.migrate import upgrade
from core.region import RegionCode
from engines.routing import RoutingError
from engines.wms import WavePolicy


class _Parser(argparse.ArgumentParser):
    """A bad argument prints one line with the reason and exits 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message}\n")


# Operator commands on customer and delivery records: `omniroute <command> …` runs its module.
RECORDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "customers": customer_cli.run,
    "deliveries": deliveries_cli.run,
    "stock": stock_cli.run,
}


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

    payments = commands.add_parser("payments", help="payment operations")
    payment_commands = payments.add_subparsers(
        dest="payments_command", required=True, parser_class=_Parser
    )
    payment_commands.add_parser(
        "requery", help="ask the providers about payments stuck in pending/unknown/processing"
    )
    add_ledger_command(commands)
    commands.add_parser("worker", help="the Temporal worker for OMNIROUTE_TEMPORAL_ADDRESS")
    waves = commands.add_parser("waves", help="pick waves in the warehouse")
    wave_commands = waves.add_subparsers(dest="waves_command", required=True, parser_class=_Parser)
    plan = wave_commands.add_parser(
        "plan", help="batch orders into pick waves by departure, cut-off and picker capacity"
    )
    plan.add_argument("file", help='JSON {"orders": [{"reference", "route", "departure"}]}')
    plan.add_argument("--pickers", type=_positive, default=4)
    plan.add_argument("--lines-per-picker", type=_positive, default=40)
    plan.add_argument("--cutoff-minutes", type=_positive, default=120)
    _add_routes_parser(commands)
    credentials.add_commands(commands)
    payout_cli.add_commands(commands, _Parser, _day)
    customer_cli.add_commands(commands, _Parser)
    deliveries_cli.add_commands(commands, _Parser)
    stock_cli.add_commands(commands, _Parser)
    return parser


def _positive(raw: str) -> int:
    if not raw.isdigit() or int(raw) <= 0:
        raise argparse.ArgumentTypeError(f"not a positive whole number: {raw!r}")
    return int(raw)


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
        case "payments":
            return _requery()
        case "ledger" | "settle" | "credit" | "reconcile":
            return run_ledger(args)
        case "worker":
            return _worker()
        case "waves":
            policy = WavePolicy(args.cutoff_minutes, args.pickers, args.lines_per_picker)
            return plan_command(args.file, policy)
        case "routes":
            return _routes_solve(args)
        case "apikey" | "client" | "token":
            return credentials.run(args)
        case "drivers" | "agents":
            return payout_cli.run(args)
        case "customers" | "deliveries" | "stock":
            return RECORDS[args.command](args)
    return 2


def _serve(host: str, port: int) -> int:
    settings = Settings()
    configure_logging(settings)
    try:
        with embedded_temporal(settings) as running:
            web.run_app(
                freeze_after_startup(create_app(running)),
                host=host,
                port=port,
                print=_announce(host, port),
                loop=loop_factory(settings.event_loop)(),
            )
    except (TemporalUnavailableError, MissingObjectStoreSettingError) as error:
        # a production setting that cannot work: one line naming it, not a traceback
        print(f"omniroute: {error}", file=sys.stderr)
        return 1
    return 0


def _worker() -> int:
    settings = Settings()
    configure_logging(settings)
    if settings.temporal == "off" or not settings.temporal_address:
        print(
            "omniroute worker: set OMNIROUTE_TEMPORAL_ADDRESS to the Temporal cluster (host:7233);"
            " without it `omniroute serve` runs the worker itself",
            file=sys.stderr,
        )
        return 2
    asyncio.run(run_worker(settings))
    return 0


def _announce(host: str, port: int) -> Callable[[str], None]:
    def show(_message: str) -> None:
        loop = running_loop_name()
        print(f"OmniRoute serving on http://{host}:{port} on {loop}  (Ctrl+C to stop)", flush=True)

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
            now = SystemClock().now()
            return await load_demo(db, now) + await load_distribution_demo(db, now)
        finally:
            await db.dispose()

    inserted = asyncio.run(run())
    print(f"demo data loaded ({inserted} new rows)")
    return 0


def _requery() -> int:
    """One requery pass, for cron or an operator; the gateway also runs it every minute."""

    async def run() -> int:
        services = build_services(Settings())
        try:
            assert services.payments is not None
            report = await services.payments.requery()
        finally:
            await services.close()
        print(
            f"checked {report.checked} payments: {report.settled} settled, "
            f"{report.still_open} still open"
        )
        return 0

    return asyncio.run(run())


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
    plan = actions.add_parser(
        "plan", help="plan a region's delivery day: routes, pick waves, gig tasks, offers (JSON)"
    )
    plan.add_argument("--region", required=True, choices=[r.value for r in RegionCode])
    plan.add_argument(
        "--date", type=_day, default=None, help="YYYY-MM-DD (default: tomorrow, region time)"
    )
    plan.add_argument("--time-limit", type=_positive_float, default=5.0, metavar="S")


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
    if args.routes_command == "plan":
        return plan_day_command(RegionCode(args.region), args.date, args.time_limit)
    try:
        plan = solve_route_file(
            args.file, time_limit=args.time_limit, vehicles=args.vehicles, objective=args.objective
        )
    except (OSError, RoutingError) as exc:
        print(f"omniroute routes solve: {exc}", file=sys.stderr)
        return 2
    print_plan(plan)
    return 0


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


if __name__ == "__main__":
    raise SystemExit(main())
