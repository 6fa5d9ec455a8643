"""`omniroute services publish|list`: operators' conversational services, without a deploy.

`publish FILE [--operator PHONE]` runs the ServiceCreation workflow (on Temporal when
OMNIROUTE_TEMPORAL_ADDRESS is set, else the same steps here) and prints `published NAME vN`
(`NAME vN recorded; …` when an older version was published: what stays on the air, or that the
service is retired), or
each problem on its own line and exits 2; a file that is not JSON, or not shaped like a
definition, is one line and exit 2 too. `list` prints CSV `name,version,published_at,
service_code,retired_at`, the newest version of each service. `retire NAME` takes a service off
the air (its code gets the shopping dialog again; publishing it again puts it back). The gateway
serves what is published or retired at once: nothing restarts.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from pathlib import Path

from core.app.bootstrap import Services, build_services
from core.app.service_creation import (
    NoWorkerError,
    RegistryPublisher,
    create_in_process,
    create_on_temporal,
)
from core.app.workflows import SmsNotifier, connect
from core.config import Settings
from core.phone import InvalidPhoneError, Phone
from engines.fulfilment.model import (
    ServiceCreationInput,
    ServiceCreationResult,
    ServiceDefinition,
)
from engines.registry import (
    DefinitionShapeError,
    PublishedService,
    ServiceRegistry,
    UnknownServiceError,
    definition_from,
)

COLUMNS = ("name", "version", "published_at", "service_code", "retired_at")


class DefinitionFileError(Exception):
    """The file cannot be read as a definition; the message is the operator's one line."""


def run(args: argparse.Namespace) -> int:
    if args.services_command == "list":
        return _list()
    if args.services_command == "retire":
        return _retire(args.name)
    prog = "omniroute services publish"
    try:
        definition = read_definition(Path(args.file))
        operator = Phone.parse(args.operator).e164 if args.operator else None
    except DefinitionFileError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    except InvalidPhoneError as exc:
        print(f"{prog}: --operator {args.operator}: {exc}", file=sys.stderr)
        return 2
    try:
        result = asyncio.run(_publish(ServiceCreationInput(definition, operator)))
    except NoWorkerError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    if not result.published:
        for problem in result.problems:
            print(problem, file=sys.stderr)
        return 2
    print(_published_line(result.name, result.version, asyncio.run(_newest(result.name))))
    return 0


def _published_line(name: str, version: int, newest: PublishedService | None) -> str:
    """What the publish changed on the air: an older version is kept, but the service answers
    on its newest version's claim, or on none once retired (a rollback is a newer version)."""
    if newest is not None and newest.retired_at is not None:
        return (
            f"{name} v{version} recorded; {name} is retired — publish v{newest.version} or a "
            "newer version to put it back on the air"
        )
    if newest is not None and newest.version > version:
        return f"{name} v{version} recorded; {name} v{newest.version} stays on the air"
    return f"published {name} v{version}"


async def _newest(name: str) -> PublishedService | None:
    services = build_services(Settings())
    try:
        latest = await ServiceRegistry(services.db, services.clock).latest()
    finally:
        await services.close()
    return next((service for service in latest if service.name == name), None)


def read_definition(path: Path) -> ServiceDefinition:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise DefinitionFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise DefinitionFileError(f"{path} is not valid JSON (not UTF-8 text)") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DefinitionFileError(
            f"{path} is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    if not isinstance(document, dict):
        raise DefinitionFileError(f"{path} is not a service definition (not a JSON object)")
    try:
        return definition_from(document)
    except DefinitionShapeError as exc:
        raise DefinitionFileError(f"{path} is not a service definition: {exc}") from None


async def _publish(creation: ServiceCreationInput) -> ServiceCreationResult:
    settings = Settings()
    if settings.temporal == "on" and settings.temporal_address:
        client = await connect(settings)
        return await create_on_temporal(client, settings.temporal_task_queue, creation)
    services = build_services(settings)
    try:
        return await create_in_process(
            creation,
            RegistryPublisher(ServiceRegistry(services.db, services.clock)),
            _notifier(services),
        )
    finally:
        await services.close()


def _notifier(services: Services) -> SmsNotifier:
    return SmsNotifier(
        services.notifications,
        services.customers,
        services.orders,
        services.translate,
        services.settings.sms_provider,
        registry=ServiceRegistry(services.db, services.clock),
    )


def _list() -> int:
    async def latest() -> list[PublishedService]:
        services = build_services(Settings())
        try:
            return await ServiceRegistry(services.db, services.clock).latest()
        finally:
            await services.close()

    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(COLUMNS)
    for service in asyncio.run(latest()):
        # A retired service's code is free (another service may hold it now): shown on the air only.
        on_air = service.retired_at is None
        out.writerow(
            (
                service.name,
                service.version,
                service.published_at.isoformat(timespec="seconds"),
                (service.definition.service_code or "") if on_air else "",
                service.retired_at.isoformat(timespec="seconds") if service.retired_at else "",
            )
        )
    return 0


def _retire(name: str) -> int:
    async def retire() -> tuple[PublishedService, PublishedService | None]:
        services = build_services(Settings())
        try:
            registry = ServiceRegistry(services.db, services.clock)
            retired = await registry.retire(name)
            code = retired.definition.service_code
            return retired, await registry.answering(code) if code else None
        finally:
            await services.close()

    try:
        retired, holder = asyncio.run(retire())
    except UnknownServiceError as exc:
        print(f"omniroute services retire: {exc}", file=sys.stderr)
        return 2
    code = retired.definition.service_code
    # Retired again after another service took its code: that code is the other's, not shopping's.
    freed = f": {code} gets the shopping dialog" if code and holder is None else ""
    print(f"retired {retired.name}{freed}")
    return 0
