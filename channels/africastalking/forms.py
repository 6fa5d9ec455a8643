"""Africa's Talking callback bodies, validated at the edge."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.phone import InvalidPhoneError, Phone


def _e164(value: str) -> str:
    try:
        return Phone.parse(value).e164
    except InvalidPhoneError as exc:
        raise ValueError(str(exc)) from exc


# Africa's Talking's ids are about 38 characters ("ATUid_" and 32 hex digits). The session key
# `at-ussd:{sessionId}:{phone}` goes into the order's and payment's idempotency keys (with the
# turn's 40-character key and ":again:N"), each in a 200-character column: a 200-character id
# failed at confirm on PostgreSQL (a 500, no order). 100 keeps a checkout's keys within 180
# (a published service's key adds its state's id instead of the turn's key).
SESSION_ID_CHARS = 100


class UssdForm(BaseModel):
    """The USSD callback: `text` is every input so far joined by '*' ('' on the first dial)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    sessionId: str = Field(min_length=1, max_length=SESSION_ID_CHARS)  # noqa: N815 - provider's
    serviceCode: str = Field(min_length=1, max_length=64)  # noqa: N815
    phoneNumber: str = Field(min_length=1, max_length=32)  # noqa: N815
    networkCode: str | None = Field(default=None, max_length=16)  # noqa: N815
    text: str = Field(default="", max_length=4000)

    _valid_phone = field_validator("phoneNumber")(_e164)

    @property
    def phone(self) -> Phone:
        return Phone(self.phoneNumber)


class UssdEventForm(BaseModel):
    """The end-of-session notification (status, cost, duration...)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    sessionId: str = Field(min_length=1, max_length=SESSION_ID_CHARS)  # noqa: N815
    status: str | None = None


class SmsForm(BaseModel):
    """An incoming SMS: `from` is the customer, `to` our shortcode, `id` Africa's Talking's id.

    A callback that is retried carries the same `id`, which makes it idempotent.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    sender: str = Field(alias="from", min_length=1, max_length=32)
    to: str | None = Field(default=None, max_length=32)
    text: str = Field(max_length=4000)
    date: str | None = Field(default=None, max_length=64)
    id: str = Field(min_length=1, max_length=120)
    linkId: str | None = Field(default=None, max_length=120)  # noqa: N815
    networkCode: str | None = Field(default=None, max_length=16)  # noqa: N815

    _valid_phone = field_validator("sender")(_e164)

    @property
    def phone(self) -> Phone:
        return Phone(self.sender)


class DeliveryReportForm(BaseModel):
    """A delivery report: `id` is the messageId our send got back; `status` Africa's Talking's word
    (Sent, Submitted, Buffered, Rejected, Success, Failed)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    id: str = Field(min_length=1, max_length=120)
    status: str = Field(min_length=1, max_length=40)
    phoneNumber: str | None = Field(default=None, max_length=32)  # noqa: N815
    networkCode: str | None = Field(default=None, max_length=16)  # noqa: N815
    failureReason: str | None = Field(default=None, max_length=200)  # noqa: N815
    retryCount: str | None = Field(default=None, max_length=16)  # noqa: N815


class VoiceCallbackForm(BaseModel):
    """What every voice callback carries; `isActive=0` is the final one, after the call ended."""

    model_config = ConfigDict(extra="allow", frozen=True)

    isActive: Literal["0", "1"]  # noqa: N815
    sessionId: str = Field(min_length=1, max_length=200)  # noqa: N815

    @property
    def active(self) -> bool:
        return self.isActive == "1"


class VoiceForm(VoiceCallbackForm):
    """A callback during a call: the caller, and the keys they pressed for our last GetDigits."""

    callerNumber: str = Field(min_length=1, max_length=32)  # noqa: N815
    destinationNumber: str | None = Field(default=None, max_length=32)  # noqa: N815
    direction: str | None = Field(default=None, max_length=16)
    dtmfDigits: str = Field(default="", max_length=64, pattern=r"^[0-9*#]*$")  # noqa: N815

    _valid_phone = field_validator("callerNumber")(_e164)

    @property
    def phone(self) -> Phone:
        return Phone(self.callerNumber)
