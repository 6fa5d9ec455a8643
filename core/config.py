"""Settings from the environment (and a .env file), named as interfaces.md lists them."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="OMNIROUTE_", env_file=".env", extra="ignore", frozen=True
    )

    env: Literal["dev", "test", "production"] = "dev"
    database_url: str = "sqlite+aiosqlite:///var/omniroute.db"
    session_url: str = "memory://"
    events_url: str = "memory://"
    temporal_address: str | None = None
    object_store_url: str = "file://var/objects"
    public_url: str | None = None

    ussd_session_ttl_seconds: int = Field(default=180, gt=0)
    cart_ttl_seconds: int = Field(default=86_400, gt=0)
    reply_cache_ttl_seconds: int = Field(default=600, gt=0)
    max_body_bytes: int = Field(default=8 * 1024, gt=0)

    africastalking_base_url: str | None = None
    africastalking_username: str = "sandbox"
    africastalking_api_key: SecretStr | None = None
    africastalking_callback_token: SecretStr | None = None

    @property
    def production(self) -> bool:
        return self.env == "production"
