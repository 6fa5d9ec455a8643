"""Twilio's webhook forms, validated at the edge.

Twilio adds parameters without notice, so every model keeps unknown fields (`extra="allow"`);
field names stay Twilio's (`MessageSid`, `From`) as aliases, so a 400 names the field Twilio sent.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.phone import InvalidPhoneError, Phone

WHATSAPP_PREFIX = "whatsapp:"
SID_MAX = 64


def _phone(value: str) -> Phone:
    try:
        return Phone.parse(value)
    except InvalidPhoneError as exc:
        raise ValueError(str(exc)) from exc


class MessageForm(BaseModel):
    """An incoming SMS or WhatsApp message (Twilio's Messaging webhook)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    message_sid: str = Field(alias="MessageSid", min_length=1, max_length=SID_MAX)
    account_sid: str | None = Field(default=None, alias="AccountSid", max_length=SID_MAX)
    sender: str = Field(alias="From", min_length=1, max_length=64)
    to: str | None = Field(default=None, alias="To", max_length=64)
    body: str = Field(default="", alias="Body", max_length=1600)
    num_media: int = Field(default=0, alias="NumMedia", ge=0, le=10)
    button_text: str | None = Field(default=None, alias="ButtonText", max_length=1024)
    button_payload: str | None = Field(default=None, alias="ButtonPayload", max_length=1024)
    latitude: float | None = Field(default=None, alias="Latitude", ge=-90, le=90)
    longitude: float | None = Field(default=None, alias="Longitude", ge=-180, le=180)
    address: str | None = Field(default=None, alias="Address", max_length=1024)
    label: str | None = Field(default=None, alias="Label", max_length=1024)
    # Advanced Opt-Out (a Messaging Service's): STOP, START or HELP when Body was one of its
    # keywords, after Twilio itself blocked or unblocked the sender.
    opt_out_type: str | None = Field(default=None, alias="OptOutType", max_length=16)

    @property
    def phone(self) -> Phone:
        return Phone.parse(self.sender.removeprefix(WHATSAPP_PREFIX))

    @property
    def opt_out(self) -> bool | None:
        """True once Twilio blocks messages to the sender (OptOutType STOP), False once it lets
        them through again (START); None for HELP, or when Twilio does not say."""
        kind = (self.opt_out_type or "").strip().upper()
        return {"STOP": True, "START": False}.get(kind)

    @property
    def location(self) -> tuple[float, float] | None:
        if self.latitude is None or self.longitude is None:
            return None
        return self.latitude, self.longitude


class SmsForm(MessageForm):
    """POST /channels/twilio/sms: `From` is the customer's number."""

    @field_validator("sender")
    @classmethod
    def _sms_address(cls, value: str) -> str:
        if value.startswith(WHATSAPP_PREFIX):
            raise ValueError("a whatsapp: address belongs on /channels/twilio/whatsapp")
        return _phone(value).e164


class WhatsAppForm(MessageForm):
    """POST /channels/twilio/whatsapp: `From` is `whatsapp:+<number>`."""

    @field_validator("sender")
    @classmethod
    def _whatsapp_address(cls, value: str) -> str:
        if not value.startswith(WHATSAPP_PREFIX):
            raise ValueError("expected a whatsapp:+<number> address")
        return WHATSAPP_PREFIX + _phone(value.removeprefix(WHATSAPP_PREFIX)).e164


class VoiceForm(BaseModel):
    """A Voice webhook: the incoming call, or a `<Gather>` answer (`Digits`/`SpeechResult`)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    call_sid: str = Field(alias="CallSid", min_length=1, max_length=SID_MAX)
    account_sid: str | None = Field(default=None, alias="AccountSid", max_length=SID_MAX)
    caller: str = Field(alias="From", min_length=1, max_length=64)
    to: str | None = Field(default=None, alias="To", max_length=64)
    call_status: str | None = Field(default=None, alias="CallStatus", max_length=32)
    digits: str = Field(default="", alias="Digits", max_length=64)
    speech_result: str = Field(default="", alias="SpeechResult", max_length=2000)

    @field_validator("caller")
    @classmethod
    def _valid_caller(cls, value: str) -> str:
        return _phone(value).e164

    @property
    def phone(self) -> Phone:
        return Phone(self.caller)


class StatusForm(BaseModel):
    """A message status callback (queued, sent, delivered, undelivered, failed, read)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    message_sid: str = Field(alias="MessageSid", min_length=1, max_length=SID_MAX)
    message_status: str = Field(alias="MessageStatus", min_length=1, max_length=32)
    error_code: str | None = Field(default=None, alias="ErrorCode", max_length=16)
