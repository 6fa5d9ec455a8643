"""Access: roles, API keys and OAuth clients for the apps' API (credentials stored hashed)."""

from engines.access.model import (
    STAFF_ROLES,
    AccessError,
    ApiKeyRecord,
    ClientRecord,
    InvalidRoleError,
    IssuedSecret,
    Principal,
    Role,
)
from engines.access.service import API_KEY_PREFIX, CLIENT_CREDENTIAL, AccessService

__all__ = [
    "API_KEY_PREFIX",
    "CLIENT_CREDENTIAL",
    "STAFF_ROLES",
    "AccessError",
    "AccessService",
    "ApiKeyRecord",
    "ClientRecord",
    "InvalidRoleError",
    "IssuedSecret",
    "Principal",
    "Role",
]
