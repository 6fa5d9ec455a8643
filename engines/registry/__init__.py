"""The service registry: operators' published conversational services, by name and version."""

from engines.fulfilment.model import (
    CATALOGUE_BROWSE,
    ORDERS_PLACE,
    ORDERS_STATUS,
    PRICING_QUOTE,
    QUANTITY_INPUT,
    REFERENCE_INPUT,
    ServiceDefinition,
    ServiceState,
    choice_keys,
)
from engines.registry.model import (
    DefinitionShapeError,
    PublishedService,
    ServiceCodeTakenError,
    UnknownServiceError,
    VersionTakenError,
    definition_from,
    document_of,
)
from engines.registry.service import ServiceRegistry

__all__ = [
    "CATALOGUE_BROWSE",
    "ORDERS_PLACE",
    "ORDERS_STATUS",
    "PRICING_QUOTE",
    "QUANTITY_INPUT",
    "REFERENCE_INPUT",
    "DefinitionShapeError",
    "PublishedService",
    "ServiceCodeTakenError",
    "ServiceDefinition",
    "ServiceRegistry",
    "ServiceState",
    "UnknownServiceError",
    "VersionTakenError",
    "choice_keys",
    "definition_from",
    "document_of",
]
