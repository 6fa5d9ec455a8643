"""A local NIBSS NIP gateway: name enquiry, funds transfer and transaction status query.

NIP's message fields as JSON (see engines/payments/rails/nibss.py), with `Authorization: Bearer
<api key>`. Session ids must be 30 digits starting with the source institution code; a funds
transfer must quote a name enquiry made for the same account (`nameEnquiryRef`) and the name it
returned. `timeout_next_transfer` makes the next transfer take effect at the beneficiary bank but
answer "97" (the classic NIP timeout), so only a TSQ can tell it was credited;
`tsq_unknown` makes every TSQ answer "97" too (the network never tells); `fail_next_transfer`
refuses the next transfer with a final code ("51": insufficient funds at the sender).
Amounts must be decimal strings with two places; a transfer quoting the same session twice is
refused "26" (duplicate), so a retried request can never credit twice.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support.providers.loopback import LoopbackFake, ReceivedRequest

INSTITUTION_CODE = "999058"
API_KEY = "nibss-api-key-77e1"
ACCOUNTS = {
    ("000013", "0123456789"): ("EMEKA OBI", "22212345678", "2"),
    ("000013", "0234567891"): ("ADAEZE NGOZI OKAFOR", "22298765432", "3"),
    ("000014", "0345678912"): ("TUNDE BAKARE", "22255512345", "2"),
}
AMOUNT = re.compile(r"^\d+\.\d{2}$")
TRANSFER_FIELDS = (
    "nameEnquiryRef",
    "destinationInstitutionCode",
    "channelCode",
    "beneficiaryAccountName",
    "beneficiaryAccountNumber",
    "beneficiaryBankVerificationNumber",
    "beneficiaryKYCLevel",
    "originatorAccountName",
    "originatorAccountNumber",
    "narration",
    "paymentReference",
    "amount",
)
SESSION = re.compile(r"^\d{30}$")


@dataclass
class FakeNibss(LoopbackFake):
    requests: list[ReceivedRequest] = field(default_factory=list)
    enquiries: dict[str, dict[str, Any]] = field(default_factory=dict)
    transfers: dict[str, dict[str, Any]] = field(default_factory=dict)
    timeout_next_transfer: bool = False
    tsq_unknown: bool = False
    fail_next_transfer: str | None = None

    def __hash__(self) -> int:
        return id(self)

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.requests.append(
            ReceivedRequest(request.method, request.path_qs, dict(request.headers), raw)
        )
        if request.headers.get("Authorization") != f"Bearer {API_KEY}":
            return web.json_response({"message": "invalid api key"}, status=401)
        body = json.loads(raw)
        session = str(body.get("sessionID", ""))
        if not SESSION.match(session) or not session.startswith(INSTITUTION_CODE):
            return web.json_response({"message": "invalid sessionID"}, status=400)
        if request.path == "/nip/nameenquiry":
            key = (body.get("destinationInstitutionCode"), body.get("accountNumber"))
            found = ACCOUNTS.get(key)
            if found is None:
                return web.json_response({**body, "responseCode": "07"})
            name, bvn, kyc = found
            answer = {
                **body,
                "accountName": name,
                "bankVerificationNumber": bvn,
                "kycLevel": kyc,
                "responseCode": "00",
            }
            self.enquiries[session] = answer
            return web.json_response(answer)
        if request.path == "/nip/fundstransfer":
            missing = [name for name in TRANSFER_FIELDS if name not in body]
            if missing or not AMOUNT.match(str(body.get("amount"))):
                return web.json_response({**body, "responseCode": "30"})  # format error
            enquiry = self.enquiries.get(str(body.get("nameEnquiryRef")))
            if (
                enquiry is None
                or enquiry["accountNumber"] != body.get("beneficiaryAccountNumber")
                or enquiry["accountName"] != body.get("beneficiaryAccountName")
            ):
                return web.json_response({**body, "responseCode": "12"})
            if session in self.transfers:
                return web.json_response({**body, "responseCode": "26"})  # duplicate
            if self.fail_next_transfer is not None:
                code, self.fail_next_transfer = self.fail_next_transfer, None
                return web.json_response({**body, "responseCode": code})
            self.transfers[session] = body
            if self.timeout_next_transfer:
                self.timeout_next_transfer = False
                return web.json_response({**body, "responseCode": "97"})
            return web.json_response({**body, "responseCode": "00"})
        if request.path == "/nip/tsq":
            if body.get("sourceInstitutionCode") != INSTITUTION_CODE:
                return web.json_response({**body, "responseCode": "12"})
            if self.tsq_unknown:
                return web.json_response({**body, "responseCode": "97"})
            code = "00" if session in self.transfers else "25"
            return web.json_response({**body, "responseCode": code})
        return web.json_response({"message": "not found"}, status=404)
