"""Every argument of `omniroute`, and nothing else: building the parser imports no service.

`omniroute --help`, a bad argument and `simulate` answer at once because this module needs only
the standard library and `core.region`; the command that runs is imported after parsing
(`core.app.cli`). Choices that mirror an engine's values (roles, outcomes) are spelled here and
checked against the engine in tests/unit/core/test_cli_parser.py.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import date, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.money import InvalidMoneyError, Money
from core.region import RegionCode

REGIONS = [r.value for r in RegionCode]
# engines.access.Role
ROLES = ["customer", "driver", "agent", "operator", "admin"]
# core.app.simulate.CHANNELS
SIMULATED_CHANNELS = ("ussd", "sms", "whatsapp", "voice")
# core.app.routes.FORMATS and OBJECTIVES
ROUTE_FORMATS = ("solomon",)
ROUTE_OBJECTIVES = ("distance", "vehicles")
# core.app.deliveries_cli.OUTCOMES
DELIVERY_OUTCOMES = ("delivered", "returned")
# core.app.money.DISTRIBUTORS' names
DISTRIBUTORS = ("lagos", "nairobi", "cape_town")
# the ledger's rails (rail:<name>:<currency>): engines.payments.PROVIDER_OF's values and the
# distributors' payout rails
RAILS = ("bank", "flutterwave", "momo", "mpesa", "nibss", "paystack")

Commands = Any  # argparse's _SubParsersAction, private in typeshed's spelling


class Parser(argparse.ArgumentParser):
    """A bad argument prints one line with the reason and exits 2."""

    def error(self, message: str) -> NoReturn:
        if message.startswith(MISSING):
            # Name a missing command by its choices ("{requery}"), not by its internal dest
            # ("payments_command", "action"), which tells an operator nothing.
            missing = message.removeprefix(MISSING).split(", ")
            for action in self._actions:
                if not action.option_strings and action.choices and action.dest in missing:
                    named = "{" + ",".join(action.choices) + "}"
                    missing[missing.index(action.dest)] = named
            message = MISSING + ", ".join(missing)
        self.exit(2, f"{self.prog}: {message}\n")

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        """Words left over are refused by the (sub)command they were given to, which names
        itself ("omniroute services list: …"), not passed up for `omniroute` to refuse."""
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error("unrecognized arguments: " + " ".join(extras))
        return parsed, extras


MISSING = "the following arguments are required: "


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="omniroute", description="OmniRoute conversational commerce gateway")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    _gateway(commands)
    _money(commands)
    _planning(commands)
    _credentials(commands)
    _payouts(commands)
    _records(commands)
    _describe(parser)
    return parser


def _describe(parser: argparse.ArgumentParser) -> None:
    """Each command's `--help` opens with the line its group lists it with (what `drivers`
    does, and its subcommands; which escalations `deliveries resolve` settles)."""
    for action in parser._actions:  # argparse keeps its subcommands' help lines only here
        if isinstance(action, argparse._SubParsersAction):
            helps = {line.dest: line.help for line in action._choices_actions}
            for name, command in action.choices.items():
                if command.description is None:
                    command.description = helps.get(name) or helps.get(command.prog.split()[-1])
                _describe(command)


def _gateway(commands: Commands) -> None:
    serve = commands.add_parser("serve", help="run the gateway (HTTP + channels)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=port_number, default=8080, help="1 to 65535 (8080)")
    commands.add_parser("migrate", help="apply the database migrations (Alembic)")
    seed = commands.add_parser("seed", help="load the demo catalogue (idempotent)")
    seed.add_argument("--demo", action="store_true", help="load the demo data set")
    simulate = commands.add_parser("simulate", help="a phone in the terminal")
    simulate.add_argument("channel", choices=SIMULATED_CHANNELS)
    simulate.add_argument("--phone", default="+2348030000001", help="E.164 number")
    simulate.add_argument("--url", default="http://127.0.0.1:8080", help="the gateway")
    simulate.add_argument("--service-code", default="*384*123#")
    simulate.add_argument(
        "--dial",
        metavar="USSD",
        help="ussd: dial a shortcut, the service code with keys added ('*384*123*3#')",
    )
    worker = commands.add_parser(
        "worker", help="the Temporal worker for OMNIROUTE_TEMPORAL_ADDRESS"
    )
    worker.add_argument("--host", default="0.0.0.0", help="its /healthz (0.0.0.0)")  # noqa: S104
    worker.add_argument(
        "--port", type=port_number, help="answer GET /healthz on it (none: several on one host)"
    )


def _money(commands: Commands) -> None:
    payments = commands.add_parser("payments", help="payment operations: requery")
    actions = payments.add_subparsers(dest="payments_command", required=True, parser_class=Parser)
    actions.add_parser(
        "requery", help="ask the providers about payments stuck in pending/unknown/processing"
    )
    refunds = commands.add_parser("refunds", help="refunds the rails have not settled yet")
    refunds.add_argument(
        "action",
        choices=("pending",),
        help="pending: list them, oldest first, naming those waiting on someone "
        "(exit 1 when one is)",
    )
    ledger = commands.add_parser(
        "ledger", help="check the ledger's balances against its transfers (or rebuild them)"
    )
    ledger.add_argument(
        "action",
        choices=("check", "rebuild"),
        help="check: replay every transfer and compare (exit 1 on a mismatch); "
        "rebuild: overwrite the running balances with the replay",
    )
    settle = commands.add_parser(
        "settle", help="settle each distributor's day (default: yesterday, local time)"
    )
    settle.add_argument("--day", type=day, help="YYYY-MM-DD")
    outcome = settle.add_mutually_exclusive_group()
    outcome.add_argument(
        "--paid",
        choices=DISTRIBUTORS,
        metavar="DISTRIBUTOR",
        help="the bank confirmed --day's payout to DISTRIBUTOR: post the held payout",
    )
    outcome.add_argument(
        "--unpaid",
        choices=DISTRIBUTORS,
        metavar="DISTRIBUTOR",
        help="the bank refused --day's payout to DISTRIBUTOR: release the hold (still owed)",
    )
    credit = commands.add_parser("credit", help="retailer credit operations")
    credit.add_argument(
        "action", choices=("daily",), help="daily: due-soon/overdue reminders and late fees"
    )
    credit.add_argument(
        "--now",
        action="store_true",
        help="also retailers before the reminder hour (OMNIROUTE_CREDIT_REMINDER_HOUR, 08:00) "
        "where they are; without it they are left for a later run",
    )
    invoices = commands.add_parser("invoices", help="read the invoices customers were sent: show")
    invoice_actions = invoices.add_subparsers(
        dest="invoices_command", required=True, parser_class=Parser
    )
    show = invoice_actions.add_parser(
        "show", help="print an invoice and its credit notes (any customer's)"
    )
    show.add_argument(
        "reference", metavar="REF", help="the invoice's number (NG-2026-000123) or its order's"
    )
    show.add_argument("--json", action="store_true", help="as JSON, the fields GraphQL gives")
    reconcile = commands.add_parser(
        "reconcile", help="compare a provider's statement (CSV) with the payments we recorded"
    )
    # A mistyped rail is refused: it would list every row of the statement as missing on our
    # side, as if the provider's payments had never reached the books.
    reconcile.add_argument("rail", type=str.lower, choices=RAILS)
    reconcile.add_argument(
        "statement",
        type=Path,
        help="CSV with reference and amount columns, or the M-Pesa portal's as downloaded",
    )
    reconcile.add_argument("--day", type=day, required=True, help="YYYY-MM-DD")
    reconcile.add_argument("--currency", type=currency, required=True, help="ISO 4217, e.g. KES")
    reconcile.add_argument(
        "--timezone",
        type=time_zone,
        help="whose day (e.g. Africa/Nairobi; default: that of the distributor settled in the "
        "currency, as its settlement, else UTC)",
    )


def _planning(commands: Commands) -> None:
    waves = commands.add_parser("waves", help="pick waves in the warehouse: plan")
    wave_actions = waves.add_subparsers(dest="waves_command", required=True, parser_class=Parser)
    plan = wave_actions.add_parser(
        "plan", help="batch orders into pick waves by departure, cut-off and picker capacity"
    )
    plan.add_argument("file", help='JSON {"orders": [{"reference", "route", "departure"}]}')
    plan.add_argument("--pickers", type=positive_int, default=4)
    plan.add_argument("--lines-per-picker", type=positive_int, default=40)
    plan.add_argument(
        "--cutoff-minutes",
        type=whole_number,
        default=120,
        help="how long before its departure an order must be in (120; 0: every order so far)",
    )

    routes = commands.add_parser("routes", help="plan vehicle routes: solve, plan")
    actions = routes.add_subparsers(dest="routes_command", required=True, parser_class=Parser)
    solve = actions.add_parser("solve", help="solve one routing instance, print the plan as JSON")
    solve.add_argument("file", type=Path, help="the instance file")
    solve.add_argument("--format", choices=ROUTE_FORMATS, default="solomon", help="file format")
    solve.add_argument(
        "--time-limit",
        type=instance_seconds,
        default=10.0,
        metavar="S",
        help="seconds, 0.1 to 600 (10)",
    )
    solve.add_argument(
        "--vehicles", type=positive_int, default=None, metavar="N", help="fleet (the file's)"
    )
    solve.add_argument(
        "--objective",
        choices=ROUTE_OBJECTIVES,
        default="distance",
        help="least distance, or fewest vehicles then distance",
    )
    day_plan = actions.add_parser(
        "plan", help="plan a region's delivery day: routes, pick waves, gig tasks, offers (JSON)"
    )
    day_plan.add_argument("--region", required=True, choices=REGIONS)
    day_plan.add_argument(
        "--date", type=day, default=None, help="YYYY-MM-DD (default: tomorrow, region time)"
    )
    day_plan.add_argument(
        "--time-limit", type=solver_seconds, default=5.0, metavar="S", help="seconds, 1 to 600 (5)"
    )


def _credentials(commands: Commands) -> None:
    for name, what in (("apikey", "an API key"), ("client", "an OAuth 2.0 client")):
        aliases = [f"{name}s"]  # `apikeys list`, `clients list`, as operators also say it
        parser = commands.add_parser(
            name, aliases=aliases, help=f"manage {what} for the GraphQL API: create, list, revoke"
        )
        parser.set_defaults(command=name)
        actions = parser.add_subparsers(dest="action", required=True, parser_class=Parser)
        create = actions.add_parser("create", help=f"create {what}; the secret is printed once")
        create.add_argument("--role", required=True, choices=ROLES)
        create.add_argument("--subject", help="whom it acts as (a customer's E.164 phone)")
        create.add_argument("--name", default="", help="a label for operators")
        if name == "apikey":
            actions.add_parser(
                "list",
                help="every key as CSV key_id,role,subject,name,created_at,revoked_at"
                " (never the secret)",
            )
            revoke = actions.add_parser(
                "revoke", help="refuse a key from the next request on (the gateway's too)"
            )
            revoke.add_argument("key_id", metavar="KEY_ID", help="as `apikey list` shows it")
        else:
            actions.add_parser(
                "list",
                help="every client as CSV client_id,role,subject,name,created_at,revoked_at"
                " (never the secret)",
            )
            revoke = actions.add_parser(
                "revoke",
                help="refuse a client new tokens, and the tokens it holds from the next request",
            )
            revoke.add_argument(
                "client_id", metavar="CLIENT_ID", help="as `client list` shows it (omr-…)"
            )

    token = commands.add_parser("token", help="sign a JWT bearer token with the configured key")
    token.add_argument("--sub", required=True, help="the user's E.164 phone or an operator id")
    token.add_argument("--role", required=True, choices=ROLES)


def _payouts(commands: Commands) -> None:
    drivers = commands.add_parser(
        "drivers",
        help="drivers' payouts, bank accounts, door cash and shifts: pay, bank, cash, cash-in,"
        " shift",
    )
    driver_actions = drivers.add_subparsers(
        dest="drivers_command", required=True, parser_class=Parser
    )
    pay = driver_actions.add_parser(
        "pay",
        help="settle the region's drivers for the day and send their payouts (JSON: sent,"
        " pending, held with the reason, failed)",
    )
    pay.add_argument("--region", required=True, choices=REGIONS)
    pay.add_argument(
        "--date", type=day, default=None, help="YYYY-MM-DD (default: today, region time)"
    )
    bank = driver_actions.add_parser(
        "bank",
        help="set where a driver's payouts go (Lagos: NIP code + NUBAN; Cape Town:"
        " branch code + account)",
    )
    _bank_arguments(bank)
    cash = driver_actions.add_parser(
        "cash",
        help="the cash each driver took at pay-on-delivery doors and has not handed in at the"
        " depot (CSV: driver, name, region, cash, currency, held_since, overdue)",
    )
    cash.add_argument("--driver", default=None, metavar="PHONE", help="E.164: only this driver")
    cash.add_argument("--region", default=None, choices=REGIONS)
    cash_in = driver_actions.add_parser(
        "cash-in",
        help="a driver handed cash in at the depot: it leaves what he holds for the"
        " distributor's cash (never more than he holds)",
    )
    cash_in.add_argument("phone", metavar="PHONE", help="the driver's E.164 number")
    cash_in.add_argument(
        "amount",
        metavar="AMOUNT",
        type=cash_amount,
        help="whole cash in his currency (NGN 1, KES 1, ZAR 0.10), or all he holds, e.g. 26993",
    )
    cash_in.add_argument(
        "--key",
        default=None,
        help="the hand-over slip's number: run again with the same key, it is recorded once",
    )
    shift = driver_actions.add_parser(
        "shift",
        help="set a driver's shift in his region's time, or --list his next shifts (CSV:"
        " driver, name, region, date, day, from, to)",
    )
    shift.add_argument("phone", metavar="PHONE", help="the driver's E.164 number")
    shift.add_argument(
        "--from", dest="starts", type=clock_time, metavar="HH:MM", help="when it starts"
    )
    shift.add_argument(
        "--to",
        dest="ends",
        type=clock_time,
        metavar="HH:MM",
        help="when it ends (at or before --from: the next morning)",
    )
    shift.add_argument(
        "--days",
        type=weekdays,
        default=None,
        metavar="mon,tue,...|daily",
        help="on these weekdays of the four weeks from --date (default: that day only)",
    )
    shift.add_argument(
        "--date", type=day, default=None, help="YYYY-MM-DD (default: today, region time)"
    )
    shift.add_argument("--list", action="store_true", help="print his shifts not over yet")

    agents = commands.add_parser(
        "agents", help="ATC agents' records, bank accounts and commissions: add, bank, pay"
    )
    agent_actions = agents.add_subparsers(dest="agents_command", required=True, parser_class=Parser)
    add = agent_actions.add_parser("add", help="record an agent (name as on its ID)")
    add.add_argument("--phone", required=True, help="E.164 number")
    add.add_argument("--name", required=True)
    add.add_argument("--region", required=True, choices=REGIONS)
    add.add_argument("--bank-code", default=None)
    add.add_argument("--account", default=None)
    _bank_arguments(agent_actions.add_parser("bank", help="set where an agent's commissions go"))
    agent_pay = agent_actions.add_parser(
        "pay", help="pay the region's agents the commissions in their wallets (JSON)"
    )
    agent_pay.add_argument("--region", required=True, choices=REGIONS)
    agent_pay.add_argument(
        "--date", type=day, default=None, help="YYYY-MM-DD (default: today, region time)"
    )


def _bank_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--phone", required=True, help="E.164 number")
    parser.add_argument("--bank-code", required=True)
    parser.add_argument("--account", required=True)


def _records(commands: Commands) -> None:
    customers = commands.add_parser("customers", help="customer records: locate")
    customer_actions = customers.add_subparsers(
        dest="customers_command", required=True, parser_class=Parser
    )
    locate = customer_actions.add_parser("locate", help="set where a customer's deliveries go")
    locate.add_argument("--phone", required=True, help="E.164, e.g. +2348030000001")
    locate.add_argument("--lat", required=True, help="latitude, decimal degrees")
    locate.add_argument("--lon", required=True, help="longitude, decimal degrees")
    locate.add_argument("--address", default=None, help="what the driver reads (default: phone)")

    deliveries = commands.add_parser(
        "deliveries", help="deliveries an operator takes over: escalated, resolve"
    )
    delivery_actions = deliveries.add_subparsers(
        dest="deliveries_command", required=True, parser_class=Parser
    )
    delivery_actions.add_parser("escalated", help="list the deliveries waiting for an operator")
    resolve = delivery_actions.add_parser(
        "resolve",
        help="settle an escalated delivery (three wrong codes, a problem its driver reported at"
        " the door, or its route not finished on its day)",
    )
    resolve.add_argument("reference", metavar="ORDER_REF", help="the order's reference")
    resolve.add_argument("outcome", choices=DELIVERY_OUTCOMES, help="what became of the goods")

    orders = commands.add_parser("orders", help="orders an operator acts on: return")
    order_actions = orders.add_subparsers(dest="orders_command", required=True, parser_class=Parser)
    give_back = order_actions.add_parser(
        "return", help="a delivered order's goods came back: return it (refund or credit)"
    )
    give_back.add_argument("reference", metavar="REF", help="the order's reference")
    give_back.add_argument(
        "--reason", default=None, help="why they came back (carried by its status event)"
    )

    picks = commands.add_parser("picks", help="the warehouse's pick lists: list, confirm")
    pick_actions = picks.add_subparsers(dest="picks_command", required=True, parser_class=Parser)
    listing = pick_actions.add_parser("list", help="the open pick lists' lines (CSV)")
    listing.add_argument("--warehouse", required=True, metavar="W", help="e.g. WH-LAGOS")
    confirm = pick_actions.add_parser(
        "confirm", help="the pick list was picked: its order is packed (or left open, short)"
    )
    confirm.add_argument("pick_list", metavar="PICKLIST", help="its id, or its order's reference")
    confirm.add_argument(
        "--short",
        type=short_pick,
        action="append",
        default=[],
        metavar="SKU=QTY",
        help="QTY of SKU were not found in its bin (repeat for more SKUs)",
    )

    warehouses = commands.add_parser(
        "warehouses", help="the warehouses and where they stand: list, locate"
    )
    warehouse_actions = warehouses.add_subparsers(
        dest="warehouses_command", required=True, parser_class=Parser
    )
    warehouse_actions.add_parser("list", help="every warehouse as CSV id,region,name,lat,lon")
    place = warehouse_actions.add_parser(
        "locate", help="set where a warehouse stands (its region's routes start there)"
    )
    place.add_argument("warehouse", metavar="WAREHOUSE", help="its id, e.g. WH-LAGOS")
    place.add_argument("--lat", required=True, help="latitude, decimal degrees")
    place.add_argument("--lon", required=True, help="longitude, decimal degrees")

    services = commands.add_parser(
        "services", help="operators' conversational services: publish, list, retire"
    )
    service_actions = services.add_subparsers(
        dest="services_command", required=True, parser_class=Parser
    )
    publish = service_actions.add_parser(
        "publish", help="validate, simulate and publish a service definition (JSON)"
    )
    publish.add_argument("file", metavar="FILE", help="the definition, a JSON file")
    publish.add_argument("--operator", default=None, help="E.164 phone told by SMS when live")
    service_actions.add_parser(
        "list",
        help="each service as CSV name,version,published_at,service_code,retired_at "
        "(newest version)",
    )
    retire = service_actions.add_parser(
        "retire", help="take a service off the air: its code gets the shopping dialog again"
    )
    retire.add_argument("name", metavar="NAME", help="the service's name, as `list` shows it")

    stock = commands.add_parser(
        "stock", help="the warehouse's bins against the catalogue: check, count"
    )
    stock_actions = stock.add_subparsers(dest="stock_command", required=True, parser_class=Parser)
    check = stock_actions.add_parser("check", help="list the SKUs whose bins differ from on hand")
    check.add_argument("warehouse", metavar="WAREHOUSE", help="e.g. WH-NG")
    count = stock_actions.add_parser("count", help="record what a bin was counted to hold")
    count.add_argument("warehouse", metavar="WAREHOUSE", help="e.g. WH-NG")
    count.add_argument(
        "bin", metavar="BIN", help="the rack label (A01-B02-L1-1), the bin's id, or dock"
    )
    count.add_argument("sku", metavar="SKU")
    count.add_argument("quantity", metavar="QUANTITY", type=whole_number, help="what the bin holds")


# --- argument types: a bad value is one line saying why, and exit 2 ----------------------------


def cash_amount(raw: str) -> Decimal:
    """A positive amount of cash, as a decimal (its currency's places are checked later)."""
    try:
        amount = Decimal(raw.strip())
    except InvalidOperation:
        amount = Decimal(0)
    if not amount.is_finite() or amount <= 0:
        raise argparse.ArgumentTypeError(f"not an amount of cash: {raw!r}")
    return amount


def positive_int(raw: str) -> int:
    if not raw.isdigit() or int(raw) <= 0:
        raise argparse.ArgumentTypeError(f"not a positive whole number: {raw!r}")
    return int(raw)


def short_pick(raw: str) -> tuple[str, int]:
    sku, sep, quantity = raw.partition("=")
    if not sep or not sku.strip() or not quantity.isdigit() or int(quantity) <= 0:
        raise argparse.ArgumentTypeError(f"not SKU=QTY with QTY a positive whole number: {raw!r}")
    return sku.strip().upper(), int(quantity)


# The largest count a quantity column holds (INTEGER, 32 bits on PostgreSQL).
MAX_QUANTITY = 2**31 - 1


def whole_number(raw: str) -> int:
    if not raw.isdigit():
        raise argparse.ArgumentTypeError(f"not a whole number of 0 or more: {raw!r}")
    if int(raw) > MAX_QUANTITY:
        raise argparse.ArgumentTypeError(f"more than {MAX_QUANTITY:,} cannot be right: {raw!r}")
    return int(raw)


def port_number(raw: str) -> int:
    """A TCP port; the OS takes a larger number modulo 65536 and listens somewhere else."""
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PORT:
        raise argparse.ArgumentTypeError(f"not a port from 1 to {MAX_PORT}: {raw!r}")
    return int(raw)


MAX_PORT = 65535


MAX_SOLVER_SECONDS = 600  # the solver may use all it is given: 1e9 s would never answer
MIN_INSTANCE_SECONDS = 0.1  # `routes solve` of a small instance answers in a fraction of one


def solver_seconds(text: str) -> float:
    return _seconds(text, 1)


def instance_seconds(text: str) -> float:
    return _seconds(text, MIN_INSTANCE_SECONDS)


def _seconds(text: str, least: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not least <= value <= MAX_SOLVER_SECONDS:
        raise argparse.ArgumentTypeError(
            f"seconds from {least:g} to {MAX_SOLVER_SECONDS}: {text!r}"
        )
    return value


def day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def clock_time(text: str) -> time:
    """A time of day, HH:MM (24-hour)."""
    hours, _, minutes = text.strip().partition(":")
    if (
        not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2 and len(hours) <= 2)
        or int(hours) > 23
        or int(minutes) > 59
    ):
        raise argparse.ArgumentTypeError(f"not a time of day (HH:MM, 24-hour): {text!r}")
    return time(int(hours), int(minutes))


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def weekdays(text: str) -> frozenset[int]:
    """Days of the week, `mon,tue,...` (0 Monday ... 6 Sunday), or `daily`: every one."""
    names = [name.strip().lower() for name in text.split(",")]
    if names == ["daily"]:
        return frozenset(range(7))
    wrong = [name for name in names if name not in WEEKDAYS]
    if wrong or not names:
        raise argparse.ArgumentTypeError(
            f"not days of the week (mon,tue,wed,thu,fri,sat,sun or daily): {text!r}"
        )
    return frozenset(WEEKDAYS.index(name) for name in names)


def currency(text: str) -> str:
    try:
        Money.zero(text)
    except InvalidMoneyError:
        raise argparse.ArgumentTypeError(f"not an ISO 4217 currency (e.g. KES): {text!r}") from None
    return text


def time_zone(text: str) -> str:
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(
            f"not a time zone (e.g. Africa/Nairobi): {text!r}"
        ) from None
    return text
