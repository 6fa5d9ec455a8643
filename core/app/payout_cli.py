"""`omniroute drivers …` and `omniroute agents …`: where payouts go, and paying them.

Bank accounts are set from the terminal (an operator with the payee's details in front of
them); they are checked here, at the edge, for the payee's region, and a bad one exits 2 with
the reason, like every bad argument.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from core.app.driver_payouts import pay_command
from core.bank import BankAccount, InvalidBankAccountError
from core.config import Settings
from core.phone import InvalidPhoneError, Phone
from core.region import RegionCode
from core.region import region as region_of
from engines.atc import Agent, UnknownAgentError
from engines.gig import InvalidWorkerError, UnknownWorkerError


def run(args: argparse.Namespace) -> int:
    role = "driver" if args.command == "drivers" else "agent"
    action = args.drivers_command if role == "driver" else args.agents_command
    command = f"{args.command} {action}"  # named in its refusals, as the other commands are
    if action == "pay":
        return pay_command(role, RegionCode(args.region), args.date)
    if action in ("cash", "cash-in"):
        from core.app import cash_cli  # noqa: PLC0415 - it builds the services it needs

        return cash_cli.run(args)
    if action == "shift":
        from core.app import shift_cli  # noqa: PLC0415 - it builds the services it needs

        return shift_cli.run(args)
    try:
        phone = Phone.parse(args.phone)
    except InvalidPhoneError as exc:
        return _bad(command, f"--phone: {exc}")
    if action == "add" and (mismatch := _outside(phone, RegionCode(args.region))) is not None:
        return _bad(command, mismatch)
    try:
        answer = asyncio.run(_record(role, action, phone, args))
    except (InvalidBankAccountError, InvalidWorkerError) as exc:
        return _bad(command, str(exc))
    except (UnknownWorkerError, UnknownAgentError):
        return _bad(command, f"no {role} with phone {phone.e164}")
    except ValueError as exc:
        return _bad(command, str(exc))
    print(json.dumps(answer, indent=2))
    return 0


async def _record(
    role: str, action: str, phone: Phone, args: argparse.Namespace
) -> dict[str, str | None]:
    from core.app.bootstrap import build_services  # noqa: PLC0415 - bootstrap wires this module

    services = build_services(Settings())
    try:
        assert services.money is not None
        atc = services.money.atc
        if role == "driver":
            worker = await services.gig.set_bank_account(phone, args.bank_code, args.account)
            bank = worker.bank
            region = worker.region
            name = worker.name
        elif action == "add":
            region = RegionCode(args.region)
            bank = None
            if args.bank_code or args.account:
                bank = BankAccount.parse(region, args.bank_code or "", args.account or "")
            agent = await atc.register(Agent(phone, args.name, region, bank))
            bank, name = agent.bank, agent.name
        else:
            found = await atc.agent(phone)
            if found is None:
                raise UnknownAgentError(phone.e164)
            agent = await atc.set_bank_account(
                phone, BankAccount.parse(found.region, args.bank_code, args.account)
            )
            bank, region, name = agent.bank, agent.region, agent.name
        return {
            "role": role,
            "phone": phone.e164,
            "name": name,
            "region": region.value,
            "bank_code": bank.bank_code if bank else None,
            "account": bank.number if bank else None,
        }
    finally:
        await services.close()


def _outside(phone: Phone, region: RegionCode) -> str | None:
    """Why an agent with this phone cannot be recorded in `region` (None: it can). It is paid
    on the region's rail (M-Pesa at its phone in Kenya), in the region's currency."""
    country = region_of(region).country
    if phone.country == country:
        return None
    return (
        f"--phone {phone.e164} is a {phone.country} number: an agent in {region} needs a"
        f" {country} one"
    )


def _bad(command: str, reason: str) -> int:
    print(f"omniroute {command}: {reason}", file=sys.stderr)
    return 2
