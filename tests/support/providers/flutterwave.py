"""A local Flutterwave v3 API: hosted payment links, verify by reference, verif-hash webhooks.

(docs: developer.flutterwave.com, "Flutterwave Standard", "Transaction verification",
"Webhooks".) Every call needs `Authorization: Bearer <secret key>`; `POST /v3/payments` needs
`tx_ref`, `amount`, `currency`, `redirect_url` and `customer.email`; `GET
/v3/transactions/verify_by_reference?tx_ref=` answers the transaction or 404 "No transaction was
found for this id". `complete` plays the customer and builds the webhook with `verif-hash`.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support.providers.loopback import LoopbackFake, ReceivedRequest

SECRET_KEY = "FLWSECK_TEST-8f1e2d3c4b5a69788796a5b4c3d2e1f0-X"
SECRET_HASH = "omniroute-flw-hash-5521"


@dataclass
class FakeFlutterwave(LoopbackFake):
    requests: list[ReceivedRequest] = field(default_factory=list)
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(288200108))

    def __hash__(self) -> int:
        return id(self)

    def complete(self, tx_ref: str, *, status: str = "successful") -> tuple[bytes, dict[str, str]]:
        payment = self.payments[tx_ref]
        payment["status"] = status
        body = json.dumps({"event": "charge.completed", "data": payment}).encode()
        return body, {"verif-hash": SECRET_HASH, "Content-Type": "application/json"}

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.requests.append(
            ReceivedRequest(request.method, request.path_qs, dict(request.headers), raw)
        )
        if request.headers.get("Authorization") != f"Bearer {SECRET_KEY}":
            return _error(401, "Invalid authorization key")
        if request.path == "/v3/payments" and request.method == "POST":
            body = json.loads(raw)
            missing = [
                k for k in ("tx_ref", "amount", "currency", "redirect_url") if not body.get(k)
            ]
            if missing or not (body.get("customer") or {}).get("email"):
                return _error(400, f"{(missing or ['customer.email'])[0]} is required")
            n = next(self._ids)
            self.payments[body["tx_ref"]] = {
                "id": n,
                "tx_ref": body["tx_ref"],
                "flw_ref": f"FLW-MOCK-{n}",
                "amount": float(body["amount"]),
                "currency": body["currency"],
                "charged_amount": float(body["amount"]),
                "status": "pending",
                "customer": body["customer"],
            }
            return web.json_response(
                {
                    "status": "success",
                    "message": "Hosted Link",
                    "data": {"link": f"https://checkout.flutterwave.com/v3/hosted/pay/{n:x}"},
                }
            )
        if request.path == "/v3/transactions/verify_by_reference" and request.method == "GET":
            payment = self.payments.get(request.query.get("tx_ref", ""))
            if payment is None:
                return _error(404, "No transaction was found for this id")
            return web.json_response(
                {
                    "status": "success",
                    "message": "Transaction fetched successfully",
                    "data": payment,
                }
            )
        return _error(404, "Not found")


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"status": "error", "message": message, "data": None}, status=status)
