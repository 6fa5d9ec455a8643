"""Meta signs every webhook POST: `X-Hub-Signature-256: sha256=<hex>`, an HMAC-SHA256 of the raw
body keyed by the app secret. The check runs on the bytes as received, before any parsing."""

from __future__ import annotations

import hashlib
import hmac

from pydantic import SecretStr

from core.config import SettingError, Settings

SIGNATURE_HEADER = "X-Hub-Signature-256"
APP_SECRET_VARIABLE = "OMNIROUTE_META_APP_SECRET"  # noqa: S105 - its name, not its value
PREFIX = "sha256="


class MissingAppSecretError(SettingError):
    """Production without the app secret would act on any body shaped like Meta's."""


def app_secret(settings: Settings) -> SecretStr | None:
    """The secret webhooks are checked with; None (unchecked) only outside production."""
    secret = settings.meta_app_secret
    if secret is not None and secret.get_secret_value():
        return secret
    if settings.production:
        raise MissingAppSecretError(
            f"{APP_SECRET_VARIABLE} is not set: in production every WhatsApp webhook must carry a "
            f"valid {SIGNATURE_HEADER}, which is checked with the Meta app's secret (App "
            f"Dashboard > App settings > Basic). Set {APP_SECRET_VARIABLE}."
        )
    return None


def sign(secret: SecretStr, body: bytes) -> str:
    """The header value Meta sends for `body`."""
    digest = hmac.new(secret.get_secret_value().encode(), body, hashlib.sha256).hexdigest()
    return PREFIX + digest


def signature_valid(secret: SecretStr, body: bytes, header: str | None) -> bool:
    if not header:
        return False
    return hmac.compare_digest(header.strip().lower().encode(), sign(secret, body).encode())
