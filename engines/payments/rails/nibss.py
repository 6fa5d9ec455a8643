"""NIBSS Instant Payment (NIP): name enquiry, funds transfer, and the status requery (TSQ).

NIP's messages (NESingleRequest, FTSingleCreditRequest, TSQuerySingleRequest) with their field
names, sent as JSON to the gateway at OMNIROUTE_NIBSS_BASE_URL with the institution's API key:
- `POST /nip/nameenquiry` `{sessionID, destinationInstitutionCode, channelCode, accountNumber}`
  → `accountName`, `bankVerificationNumber`, `kycLevel`, `responseCode`;
- `POST /nip/fundstransfer` with the name enquiry's session id as `nameEnquiryRef`;
- `POST /nip/tsq` `{sessionID, sourceInstitutionCode, channelCode}`.
The session id (30 digits: our institution code, yyMMddHHmmss, 12 digits) is derived from the
intent, so a transfer that timed out — or whose answer was lost in a crash — can be requeried
by the same id; NIP's answer "97"/"91" or no answer leaves it unknown until the TSQ says
"00" (credited), "25" (never received) or a final failure.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from engines.payments.model import (
    CallbackAnswer,
    CallbackMalformedError,
    CallbackRequest,
    Observation,
    PaymentIntent,
    ProviderStatus,
    RailRejectedError,
    RailUnavailableError,
)
from engines.payments.rails.http import RailHttp

CHANNEL_CODE = "1"  # internet banking / third-party API
PENDING_CODES = frozenset({"09", "01"})  # in progress; ask again later
UNKNOWN_CODES = frozenset({"91", "96", "97", "06"})  # the network cannot tell yet
NOT_FOUND = "25"


def session_id(institution_code: str, intent: PaymentIntent) -> str:
    stamp = intent.created_at.strftime("%y%m%d%H%M%S")
    return f"{institution_code:0>6}{stamp}{intent.id.int % 10**12:012d}"


class NibssRail:
    name = "nibss"

    def __init__(
        self,
        *,
        base_url: str,
        institution_code: str,
        api_key: str,
        account_number: str,
        account_name: str,
    ) -> None:
        self._http = RailHttp(base_url)
        self._code = institution_code
        self._key = api_key
        self._account = account_number
        self._account_name = account_name

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key}"}

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = await self._http.request("POST", path, headers=self._auth, json_body=body)
        if answer.status >= 500 or not isinstance(answer.body, dict):
            raise RailUnavailableError(f"NIP {path}: HTTP {answer.status}")
        if not answer.ok:
            raise RailRejectedError(f"NIP {path}: {answer.field('message', answer.status)}")
        return answer.body

    async def name_enquiry(self, bank_code: str, account_number: str) -> str:
        """The name the account is held in (NIP name enquiry), before a payout is sent to it;
        RailRejectedError when the bank says there is no such account."""
        stamp = datetime.now(UTC).strftime("%y%m%d%H%M%S")
        session = f"{self._code:0>6}{stamp}{secrets.randbelow(10**12):012d}"
        enquiry = await self._post(
            "/nip/nameenquiry",
            {
                "sessionID": session,
                "destinationInstitutionCode": bank_code,
                "channelCode": CHANNEL_CODE,
                "accountNumber": account_number,
            },
        )
        code = str(enquiry.get("responseCode"))
        if code in UNKNOWN_CODES:
            raise RailUnavailableError(f"NIP name enquiry: {code}")
        if code != "00" or not enquiry.get("accountName"):
            raise RailRejectedError(f"name enquiry: {code} (no such account)")
        return str(enquiry["accountName"])

    async def submit(self, intent: PaymentIntent) -> Observation:
        if not intent.bank_account or not intent.bank_code:
            raise RailRejectedError("a NIP transfer needs the beneficiary account and bank code")
        session = session_id(self._code, intent)
        enquiry_session = f"{session[:-1]}{(int(session[-1]) + 1) % 10}"
        enquiry = await self._post(
            "/nip/nameenquiry",
            {
                "sessionID": enquiry_session,
                "destinationInstitutionCode": intent.bank_code,
                "channelCode": CHANNEL_CODE,
                "accountNumber": intent.bank_account,
            },
        )
        if enquiry.get("responseCode") != "00":
            raise RailRejectedError(f"name enquiry: {enquiry.get('responseCode')}")
        transfer = await self._post(
            "/nip/fundstransfer",
            {
                "sessionID": session,
                "nameEnquiryRef": enquiry_session,
                "destinationInstitutionCode": intent.bank_code,
                "channelCode": CHANNEL_CODE,
                "beneficiaryAccountName": enquiry.get("accountName", ""),
                "beneficiaryAccountNumber": intent.bank_account,
                "beneficiaryBankVerificationNumber": enquiry.get("bankVerificationNumber", ""),
                "beneficiaryKYCLevel": enquiry.get("kycLevel", ""),
                "originatorAccountName": self._account_name,
                "originatorAccountNumber": self._account,
                "originatorBankVerificationNumber": "",
                "originatorKYCLevel": "3",
                "transactionLocation": "",
                "narration": (intent.description or "OmniRoute payout")[:100],
                "paymentReference": intent.reference,
                "amount": f"{intent.amount.amount:.2f}",
            },
        )
        return _outcome(str(transfer.get("responseCode")), session, str(enquiry.get("accountName")))

    async def query(self, intent: PaymentIntent) -> Observation | None:
        session = session_id(self._code, intent)
        answer = await self._post(
            "/nip/tsq",
            {
                "sessionID": session,
                "sourceInstitutionCode": self._code,
                "channelCode": CHANNEL_CODE,
            },
        )
        code = str(answer.get("responseCode"))
        if code == NOT_FOUND:
            return Observation(ProviderStatus.NOT_FOUND, provider_reference=session)
        if code in UNKNOWN_CODES:
            raise RailUnavailableError(f"NIP TSQ: {code}")
        return _outcome(code, session, None)

    async def callback(self, request: CallbackRequest) -> CallbackAnswer:
        raise CallbackMalformedError("NIP does not call back; transfers are settled by TSQ")

    async def close(self) -> None:
        await self._http.close()


def _outcome(code: str, session: str, account_name: str | None) -> Observation:
    details = {"account_name": account_name} if account_name else {}
    if code == "00":
        return Observation(
            ProviderStatus.SUCCEEDED, provider_reference=session, receipt=session, details=details
        )
    if code in PENDING_CODES:
        return Observation(ProviderStatus.PENDING, provider_reference=session, details=details)
    if code in UNKNOWN_CODES:
        raise RailUnavailableError(f"NIP transfer: {code}")
    return Observation(
        ProviderStatus.FAILED, provider_reference=session, reason=f"NIP {code}", details=details
    )
