"""Settings from the environment (and a .env file), named as interfaces.md lists them."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.bus.port import MAX_ATTEMPTS
from core.db.database import MAX_OVERFLOW, POOL_SIZE
from core.phone import Phone
from core.region import RegionCode

# What each backend URL may start with: the database layer's async drivers only (a managed
# PostgreSQL's `postgres://` or `postgresql://` would load a driver that is not installed).
URL_SCHEMES: dict[str, tuple[str, ...]] = {
    "database_url": ("sqlite+aiosqlite", "postgresql+asyncpg"),
    "session_url": ("memory", "redis", "rediss"),
    "events_url": ("memory", "kafka"),
    "object_store_url": ("file", "s3"),
    # callback URLs and Twilio's signature checks are built on it
    "public_url": ("http", "https"),
}


class SettingError(RuntimeError):
    """A setting that cannot work (a missing secret, an unknown scheme, an address nothing
    answers at), named in the message: `omniroute` says so in one line and exits 1 instead of
    starting something that would fail later, or a traceback."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="OMNIROUTE_", env_file=".env", extra="ignore", frozen=True
    )

    env: Literal["dev", "test", "production"] = "dev"
    database_url: str = "sqlite+aiosqlite:///var/omniroute.db"
    # Connections per process to PostgreSQL/YugabyteDB (SQLite has none): the pool, and how many
    # more a burst may open (each closed again after its statement). At least 2: requests share
    # the pool with the background loops (outbox relay, sweepers), and with 1 every request
    # would queue behind each of their passes.
    database_pool_size: int = Field(default=POOL_SIZE, ge=2)
    database_max_overflow: int = Field(default=MAX_OVERFLOW, ge=0)
    session_url: str = "memory://"
    events_url: str = "memory://"
    # How many times a subscriber is given one event before it goes to `<topic>.dlq`.
    events_max_attempts: int = Field(default=MAX_ATTEMPTS, ge=1)
    # How long the outbox keeps a quiet aggregate's event counter (nothing unsent) before the
    # relay drops it.
    outbox_sequence_retention_seconds: int = Field(default=7 * 86_400, gt=0)
    temporal_address: str | None = None
    object_store_url: str = "file://var/objects"
    # For an s3:// object store: S3 itself (endpoint unset) or MinIO and other S3-compatible
    # servers at their URL. The credentials are the standard AWS variables (a .env works too).
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = Field(
        default=None, validation_alias=AliasChoices("s3_access_key_id", "AWS_ACCESS_KEY_ID")
    )
    s3_secret_access_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("s3_secret_access_key", "AWS_SECRET_ACCESS_KEY"),
    )
    public_url: str | None = None
    # When set, GET /metrics needs `Authorization: Bearer <token>`; unset, it is open.
    metrics_token: SecretStr | None = None

    ussd_session_ttl_seconds: int = Field(default=180, gt=0)
    cart_ttl_seconds: int = Field(default=86_400, gt=0)
    reply_cache_ttl_seconds: int = Field(default=600, gt=0)
    max_body_bytes: int = Field(default=8 * 1024, gt=0)
    # `serve`'s event loop: uvloop (libuv, some 4 % less CPU per USSD turn) or asyncio's own.
    event_loop: Literal["uvloop", "asyncio"] = "uvloop"

    chat_session_ttl_seconds: int = Field(default=1800, gt=0)
    # Rasa NLU's server (`http://rasa:5005`): texts the built-in steps do not read are asked
    # there; unset, none is asked. Its intent counts from this confidence; a parse slower than
    # the timeout is given up (the built-in answer stands).
    rasa_url: str | None = None
    rasa_confidence: float = Field(default=0.7, ge=0, le=1)
    rasa_timeout_seconds: float = Field(default=1.0, gt=0)
    sms_provider: Literal["africastalking", "twilio"] = "africastalking"
    # Which provider sub-apps to mount; in production each mounted one needs its secret.
    channels: str = "africastalking,twilio,meta,web"
    # Browser apps served from these origins may call /graphql and web chat's POST (CORS);
    # comma-separated `https://shop.example.com`; empty: no CORS headers at all.
    cors_origins: str = ""

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

    # Workflows (issue 8). `off`: no workflow is started and `serve` starts no Temporal. With
    # `temporal_address` unset, `serve` starts a local dev server on `temporal_dev_port` (state
    # in var/temporal.db) and runs the worker in-process; `temporal_worker` runs one in the
    # gateway against any address (`omniroute worker` is the separate process).
    temporal: Literal["on", "off"] = "on"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "omniroute"
    temporal_worker: bool = False
    temporal_dev_port: int = Field(default=7233, gt=0, lt=65536)
    # Who is told by SMS when a driver needs help (three wrong codes, a reported problem).
    operator_phone: str | None = None
    gig_offer_ttl_seconds: int = Field(default=300, gt=0)
    # The voice number each region's drivers call for the IVR, named in the SMS of a route
    # offered while they are not on the line: {"nairobi": "+254709000000", ...}.
    driver_lines: dict[str, str] = Field(default_factory=dict)
    gig_sweep_seconds: float = Field(default=30.0, gt=0)
    # Credit reminders and late fees: a pass every so often on every gateway, each credit's
    # reminder once (see core/app/credit_daily.py); none before this local hour.
    credit_daily_every_seconds: float = Field(default=900.0, gt=0)
    credit_reminder_hour: int = Field(default=8, ge=0, le=23)

    @field_validator(*URL_SCHEMES)
    @classmethod
    def _known_scheme(cls, url: str | None, info: ValidationInfo) -> str | None:
        """A backend URL is refused at start-up, not when the first request needs it."""
        if url is None:
            return None
        schemes = URL_SCHEMES[str(info.field_name)]
        scheme, separator, _ = url.partition("://")
        if separator and scheme in schemes:
            return url
        said = f"{scheme}://" if separator else "no scheme"
        expected = " or ".join(f"{s}://" for s in schemes)
        raise ValueError(f"{said} is not supported: expected {expected}")

    @property
    def africastalking_api_url(self) -> str:
        """Africa's Talking's REST base: the sandbox host for the `sandbox` username."""
        if self.africastalking_base_url:
            return self.africastalking_base_url.rstrip("/")
        if self.africastalking_username == "sandbox":
            return "https://api.sandbox.africastalking.com"
        return "https://api.africastalking.com"

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, raw: str) -> str:
        """Each origin as a browser sends it (scheme://host[:port], no path), checked at start-up:
        a path or a missing scheme would silently match nothing."""
        found = []
        for origin in (o.strip().rstrip("/") for o in raw.split(",")):
            if not origin:
                continue
            scheme, separator, host = origin.partition("://")
            if scheme not in ("http", "https") or not separator or not host or "/" in host:
                raise ValueError(
                    f"{origin!r} is not an origin: expected scheme://host[:port], such as "
                    "https://shop.example.com"
                )
            found.append(origin.lower())
        return ",".join(found)

    @field_validator("driver_lines")
    @classmethod
    def _driver_lines(cls, lines: dict[str, str]) -> dict[str, str]:
        """Checked at start-up: a wrong number would be texted to every driver offered a route."""
        checked = {}
        for name, number in lines.items():
            if name not in {r.value for r in RegionCode}:
                known = ", ".join(r.value for r in RegionCode)
                raise ValueError(f"{name!r} is not a region: expected one of {known}")
            checked[name] = Phone.parse(number).e164  # refused unless E.164
        return checked

    @property
    def allowed_origins(self) -> tuple[str, ...]:
        return tuple(o for o in self.cors_origins.split(",") if o)

    @property
    def enabled_channels(self) -> frozenset[str]:
        return frozenset(c.strip() for c in self.channels.split(",") if c.strip())

    @property
    def production(self) -> bool:
        return self.env == "production"

    # Payments (issue 6): one block per rail; a rail is offered only when its credentials are set.
    payments_callback_secret: SecretStr | None = None  # signs the M-Pesa/MoMo callback URLs
    payments_requery_after_seconds: int = Field(default=120, gt=0)
    payments_expire_after_seconds: int = Field(default=86_400, gt=0)  # unpaid checkouts give up
    # Payouts to drivers and agents: a refused attempt is retried after 10 min, 20 min … at
    # most this many attempts; an attempt the rail never answers is given up after a day.
    payouts_max_attempts: int = Field(default=3, ge=1, le=10)
    payouts_retry_after_seconds: int = Field(default=600, gt=0)
    payouts_answer_within_seconds: int = Field(default=86_400, gt=0)
    # Cash a driver took at a door and has held longer than this is overdue at the depot.
    driver_cash_hold_hours: int = Field(default=24, gt=0)
    mpesa_base_url: str = "https://api.safaricom.co.ke"
    mpesa_consumer_key: str | None = None
    mpesa_consumer_secret: SecretStr | None = None
    mpesa_shortcode: str | None = None
    mpesa_passkey: SecretStr | None = None
    mpesa_transaction_type: Literal["CustomerPayBillOnline", "CustomerBuyGoodsOnline"] = (
        "CustomerPayBillOnline"
    )
    mpesa_initiator_name: str | None = None
    mpesa_security_credential: SecretStr | None = None
    mpesa_b2c_shortcode: str | None = None
    momo_base_url: str = "https://proxy.momoapi.mtn.com"
    momo_subscription_key: SecretStr | None = None
    momo_api_user: str | None = None
    momo_api_key: SecretStr | None = None
    momo_target_environment: str = "sandbox"
    momo_currency: str | None = None  # the sandbox only takes EUR
    paystack_base_url: str = "https://api.paystack.co"
    paystack_secret_key: SecretStr | None = None
    paystack_dva_bank: str = "wema-bank"
    paystack_ussd_type: str = "737"
    flutterwave_base_url: str = "https://api.flutterwave.com"
    flutterwave_secret_key: SecretStr | None = None
    flutterwave_secret_hash: SecretStr | None = None
    nibss_base_url: str = "https://api.nibss-plc.com.ng"
    nibss_institution_code: str | None = None
    nibss_api_key: SecretStr | None = None
    nibss_account_number: str | None = None  # the account payouts are sent from
    nibss_account_name: str = "OmniRoute"
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


def database_url(settings: Settings) -> str:
    """The database to open. Production must name it: the embedded default would keep orders
    and payments in a SQLite file inside the container (lost with it, and one per replica)."""
    if settings.production and "database_url" not in settings.model_fields_set:
        raise SettingError(
            "OMNIROUTE_DATABASE_URL must be set in production (postgresql+asyncpg://…): "
            "left unset, orders would be kept in a SQLite file inside the container"
        )
    return settings.database_url


# What each shared backend left at `memory://` would cost a production deployment.
SHARED_BACKENDS = {
    "session_url": (
        "redis://…): left unset, each replica keeps its own USSD sessions and a conversation "
        "breaks when a callback lands on another pod"
    ),
    "events_url": (
        "kafka://…): left unset, events stay in the pod that published them and no other "
        "replica or the worker ever sees them"
    ),
}


def shared_backends(settings: Settings) -> None:
    """`serve` and `worker` in production share sessions and events across replicas: the
    in-process `memory://` default is refused unless it was set on purpose (one replica)."""
    if not settings.production:
        return
    for name, cost in SHARED_BACKENDS.items():
        if name not in settings.model_fields_set:
            raise SettingError(f"OMNIROUTE_{name.upper()} must be set in production ({cost}")


# OMNIROUTE_* variables the project reads outside the settings: the Solomon instances
# directory of the routing benchmark and its tests (CI exports it for every command).
READ_ELSEWHERE = frozenset({"SOLOMON_DIR"})


def unknown_variables(names: Iterable[str]) -> dict[str, str | None]:
    """The OMNIROUTE_* names no setting reads, each with the setting it most resembles (or None).

    Settings ignore them, so a typo (OMNIROUTE_SESION_URL) would otherwise leave the embedded
    default in force without a word.
    """
    prefix = "OMNIROUTE_"
    known = [name.upper() for name in Settings.model_fields]
    unknown = sorted(
        {
            n
            for n in names
            if n.upper().startswith(prefix)
            and n.upper()[len(prefix) :] not in known
            and n.upper()[len(prefix) :] not in READ_ELSEWHERE
        }
    )
    return {
        name: next(
            (prefix + m for m in difflib.get_close_matches(name.upper()[len(prefix) :], known, 1)),
            None,
        )
        for name in unknown
    }
