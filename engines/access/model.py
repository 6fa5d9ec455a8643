"""Who may call the apps' API: roles, principals, API keys and OAuth clients (pure values)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    CUSTOMER = "customer"
    DRIVER = "driver"
    AGENT = "agent"
    OPERATOR = "operator"
    ADMIN = "admin"


# Roles that act for any customer (support agents, operators, admins); others act for themselves.
STAFF_ROLES = frozenset({Role.AGENT, Role.OPERATOR, Role.ADMIN})


class AccessError(Exception):
    """Base of the access context's domain errors."""


class InvalidRoleError(AccessError):
    def __init__(self, role: str) -> None:
        super().__init__(f"unknown role {role!r}; one of {', '.join(r.value for r in Role)}")
        self.role = role


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: `subject` is an E.164 phone for customers and drivers."""

    subject: str
    role: Role
    # The API key id or OAuth client id the call came through (None for a user's JWT).
    credential: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


@dataclass(frozen=True, slots=True)
class IssuedSecret:
    """A credential shown once: only its hash is stored, so it cannot be shown again."""

    id: str
    secret: str
    role: Role
    subject: str


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """An API key as operators see it: never its secret, which is not kept."""

    key_id: str
    role: Role
    subject: str
    name: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class ClientRecord:
    """An OAuth client as operators see it: never its secret, which is not kept."""

    client_id: str
    role: Role
    subject: str
    name: str
    created_at: datetime
    revoked_at: datetime | None


def secret_hash(secret: str) -> str:
    """SHA-256 of a random 256-bit secret: a slow password hash adds nothing to that entropy."""
    return hashlib.sha256(secret.encode()).hexdigest()
