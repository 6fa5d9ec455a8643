"""Africa's Talking callback bodies, validated at the edge."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.phone import InvalidPhoneError, Phone


class UssdForm(BaseModel):
    """The USSD callback: `text` is every input so far joined by '*' ('' on the first dial)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    sessionId: str = Field(min_length=1, max_length=200)  # noqa: N815 - provider's field name
    serviceCode: str = Field(min_length=1, max_length=64)  # noqa: N815
    phoneNumber: str = Field(min_length=1, max_length=32)  # noqa: N815
    networkCode: str | None = Field(default=None, max_length=16)  # noqa: N815
    text: str = Field(default="", max_length=4000)

    @field_validator("phoneNumber")
    @classmethod
    def _valid_phone(cls, value: str) -> str:
        try:
            return Phone.parse(value).e164
        except InvalidPhoneError as exc:
            raise ValueError(str(exc)) from exc

    @property
    def phone(self) -> Phone:
        return Phone(self.phoneNumber)


class UssdEventForm(BaseModel):
    """The end-of-session notification (status, cost, duration...)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    sessionId: str = Field(min_length=1, max_length=200)  # noqa: N815
    status: str | None = None
