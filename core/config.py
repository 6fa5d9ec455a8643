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

    chat_session_ttl_seconds: int = Field(default=1800, gt=0)
    sms_provider: Literal["africastalking", "twilio"] = "africastalking"
    # Which provider sub-apps to mount; in production each mounted one needs its secret.
    channels: str = "africastalking,twilio,meta,web"

    africastalking_base_url: str | None = None
    africastalking_username: str = "sandbox"
    africastalking_api_key: SecretStr | None = None
    africastalking_callback_token: SecretStr | None = None
    africastalking_sender_id: str | None = None
    africastalking_allowed_ips: str | None = None

    twilio_base_url: str | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_sms_from: str | None = None
    twilio_whatsapp_from: str | None = None

    meta_graph_base_url: str = "https://graph.facebook.com/v21.0"
    meta_app_secret: SecretStr | None = None
    meta_verify_token: SecretStr | None = None
    meta_access_token: SecretStr | None = None
    meta_phone_number_id: str | None = None

    @property
    def africastalking_api_url(self) -> str:
        """Africa's Talking's REST base: the sandbox host for the `sandbox` username."""
        if self.africastalking_base_url:
            return self.africastalking_base_url.rstrip("/")
        if self.africastalking_username == "sandbox":
            return "https://api.sandbox.africastalking.com"
        return "https://api.africastalking.com"

    @property
    def enabled_channels(self) -> frozenset[str]:
        return frozenset(c.strip() for c in self.channels.split(",") if c.strip())

    @property
    def production(self) -> bool:
        return self.env == "production"

    # GraphQL auth and limits. JWT bearer tokens: HS256 with a shared secret, or RS256 with a
    # PEM public key (plus the private key where this gateway issues tokens at /oauth/token).
    jwt_secret: SecretStr | None = None
    jwt_public_key: str | None = None
    jwt_private_key: SecretStr | None = None
    jwt_issuer: str = "omniroute"
    jwt_audience: str | None = None
    access_token_ttl_seconds: int = Field(default=3600, gt=0)
    graphql_max_depth: int = Field(default=10, gt=0)
    graphql_max_cost: int = Field(default=5000, gt=0)
    # Token buckets: refill `per_second` tokens up to `burst`; each request takes one.
    rate_limit_user_per_second: float = Field(default=10.0, gt=0)
    rate_limit_user_burst: int = Field(default=60, gt=0)
    rate_limit_ip_per_second: float = Field(default=30.0, gt=0)
    rate_limit_ip_burst: int = Field(default=200, gt=0)
    rate_limit_phone_per_second: float = Field(default=1.0, gt=0)
    rate_limit_phone_burst: int = Field(default=60, gt=0)
