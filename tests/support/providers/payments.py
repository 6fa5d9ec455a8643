"""Every payment provider's fake, started together, and settings that point the rails at them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr
from sqlalchemy import select

from core.app.bootstrap import Services
from core.bus.tables import outbox
from core.config import Settings
from core.ids import RandomIds
from engines.payments import (
    CallbackAnswer,
    CallbackRequest,
    Observation,
    PaymentIntent,
    PaymentRail,
    PaymentService,
)
from tests.support.providers import flutterwave, momo, mpesa, nibss, paystack
from tests.support.providers.africastalking import FakeAfricasTalking

PUBLIC_URL = "https://gateway.omniroute.test"
CALLBACK_SECRET = "test-callback-secret-2b7e"


@dataclass
class PaymentFakes:
    daraja: mpesa.FakeDaraja
    paystack: paystack.FakePaystack
    momo: momo.FakeMomo
    flutterwave: flutterwave.FakeFlutterwave
    nibss: nibss.FakeNibss
    sms: FakeAfricasTalking

    def settings(self, database_url: str, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "public_url": PUBLIC_URL,
            "payments_callback_secret": SecretStr(CALLBACK_SECRET),
            "mpesa_base_url": self.daraja.url,
            "mpesa_consumer_key": mpesa.CONSUMER_KEY,
            "mpesa_consumer_secret": SecretStr(mpesa.CONSUMER_SECRET),
            "mpesa_shortcode": mpesa.SHORTCODE,
            "mpesa_passkey": SecretStr(mpesa.PASSKEY),
            "mpesa_initiator_name": mpesa.INITIATOR,
            "mpesa_security_credential": SecretStr(mpesa.SECURITY_CREDENTIAL),
            "paystack_base_url": self.paystack.url,
            "paystack_secret_key": SecretStr(paystack.SECRET_KEY),
            "momo_base_url": self.momo.url,
            "momo_subscription_key": SecretStr(momo.SUBSCRIPTION_KEY),
            "momo_api_user": momo.API_USER,
            "momo_api_key": SecretStr(momo.API_KEY),
            "momo_target_environment": momo.ENVIRONMENT,
            "flutterwave_base_url": self.flutterwave.url,
            "flutterwave_secret_key": SecretStr(flutterwave.SECRET_KEY),
            "flutterwave_secret_hash": SecretStr(flutterwave.SECRET_HASH),
            "nibss_base_url": self.nibss.url,
            "nibss_institution_code": nibss.INSTITUTION_CODE,
            "nibss_api_key": SecretStr(nibss.API_KEY),
            "nibss_account_number": "1234567890",
            **overrides,
        }
        return self.sms.settings(database_url, **values)


@asynccontextmanager
async def running_fakes() -> AsyncIterator[PaymentFakes]:
    fakes = PaymentFakes(
        mpesa.FakeDaraja(),
        paystack.FakePaystack(),
        momo.FakeMomo(),
        flutterwave.FakeFlutterwave(),
        nibss.FakeNibss(),
        FakeAfricasTalking(),
    )
    started = [fakes.daraja, fakes.paystack, fakes.momo, fakes.flutterwave, fakes.nibss, fakes.sms]
    for fake in started:
        await fake.start()
    try:
        yield fakes
    finally:
        for fake in started:
            await fake.close()


async def events(services: Services, event_type: str) -> list[dict[str, Any]]:
    """The data of every outbox event of this type, oldest first."""
    async with services.db.transaction() as s:
        rows = await s.execute(
            select(outbox.c.envelope).where(outbox.c.event_type == event_type).order_by(outbox.c.id)
        )
        return [dict(r.envelope["data"]) for r in rows]


class ProcessKilledError(BaseException):
    """The gateway process dies (a BaseException, so no `except Exception` swallows it)."""


class DiesAfterTheCall:
    """A real rail whose process is killed right after the provider answered a submit.

    Wraps only the timing of the crash: the request really reaches the provider's fake.
    """

    def __init__(self, rail: PaymentRail) -> None:
        self._rail = rail
        self.name = rail.name

    async def submit(self, intent: PaymentIntent) -> Observation:
        await self._rail.submit(intent)
        raise ProcessKilledError

    async def query(self, intent: PaymentIntent) -> Observation | None:
        return await self._rail.query(intent)

    async def callback(self, request: CallbackRequest) -> CallbackAnswer:
        return await self._rail.callback(request)

    async def close(self) -> None:
        await self._rail.close()


def crashing_service(services: Services, provider: str) -> PaymentService:
    """The same database and rails, with `provider`'s process killed after each submit."""
    assert services.payments is not None
    rails: dict[str, PaymentRail] = {}
    for name in ("mpesa", "paystack", "momo", "flutterwave", "nibss"):
        rail = services.payments.rail(name)
        if rail is not None:
            rails[name] = DiesAfterTheCall(rail) if name == provider else rail
    return PaymentService(services.db, services.clock, RandomIds(), rails)
