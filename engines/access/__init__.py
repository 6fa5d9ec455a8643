"""Access: roles, API keys and OAuth clients for the apps' API (credentials stored hashed)."""

from engines.access.model import (
    STAFF_ROLES,
    AccessError,
    ApiKeyRecord,
    InvalidRoleError,
    IssuedSecret,
    Principal,
    Role,
)
from engines.access.service import API_KEY_PREFIX, AccessService

__all__ = [
    "API_KEY_PREFIX",
    "STAFF_ROLES",
    "AccessError",
    "AccessService",
    "ApiKeyRecord",
    "InvalidRoleError",
    "IssuedSecret",
    "Principal",
    "Role",
]
