"""The service registry: operators' published conversational services, by name and version."""

from engines.registry.model import (
    DefinitionShapeError,
    PublishedService,
    ServiceCodeTakenError,
    VersionTakenError,
    definition_from,
    document_of,
)
from engines.registry.service import ServiceRegistry

__all__ = [
    "DefinitionShapeError",
    "PublishedService",
    "ServiceCodeTakenError",
    "ServiceRegistry",
    "VersionTakenError",
    "definition_from",
    "document_of",
]
