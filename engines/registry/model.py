"""A service definition as an operator writes it (JSON) and as the registry keeps it.

Pure: the definition types are the fulfilment model's (what the ServiceCreation workflow
carries); this module reads and writes them as JSON documents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from engines.fulfilment.model import ServiceDefinition

_DEFINITION = TypeAdapter(ServiceDefinition)


class DefinitionShapeError(ValueError):
    """A document that is not shaped like a service definition; the message says where."""


class VersionTakenError(Exception):
    """This name and version were published already, with another definition."""

    def __init__(self, name: str, version: int) -> None:
        super().__init__(f"{name} v{version} is already published with a different definition")
        self.name = name
        self.version = version


class ServiceCodeTakenError(Exception):
    """Another service answers on this service code."""

    def __init__(self, code: str, holder: str) -> None:
        super().__init__(f"service code {code} is already answered by {holder}")
        self.code = code
        self.holder = holder


class UnknownServiceError(LookupError):
    """No service of this name was ever published."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no service named {name} is published")
        self.name = name


@dataclass(frozen=True, slots=True)
class PublishedService:
    definition: ServiceDefinition
    published_at: datetime
    published_by: str | None = None
    # When the service was taken off the air (its code answers the shopping dialog again).
    retired_at: datetime | None = None
    # When it was last put on the air (None: never, or read without its claim).
    on_air_since: datetime | None = None

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def version(self) -> int:
        return self.definition.version


def definition_from(document: object) -> ServiceDefinition:
    """The definition a parsed JSON document describes, or DefinitionShapeError naming the
    first field that is wrong (`states.0.prompts: Field required`)."""
    try:
        return _DEFINITION.validate_python(document, strict=False)
    except ValidationError as error:
        first = error.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "the document"
        more = error.error_count() - 1
        also = f" (and {more} more)" if more else ""
        raise DefinitionShapeError(f"{where}: {first['msg']}{also}") from None


def document_of(definition: ServiceDefinition) -> dict[str, Any]:
    document: dict[str, Any] = _DEFINITION.dump_python(definition, mode="json")
    return document
