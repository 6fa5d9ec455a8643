"""A local Paystack API that checks requests as Paystack does, and the bank that pays into it.

Served on a free loopback port (docs: paystack.com/docs/api, "Charge", "Customers", "Dedicated
Virtual Accounts", "Transactions", and "Webhooks"): every call needs `Authorization: Bearer
<secret key>` (401 `{"status": false, "message": "Invalid key"}`); amounts are integers in
kobo; a reused reference is refused `Duplicate Transaction Reference`; `GET
/transaction/verify/<ref>` answers the transaction or 400 "Transaction reference not found".
`transfer_to_account` and `customer_dials` play the customer's bank: they build the signed
`charge.success` webhook Paystack would post (raw body + `x-paystack-signature`).

Transfers ("Transfer Recipients", "Transfers"): `POST /transferrecipient` needs `type` (basa
for South Africa), `name`, `account_number`, `bank_code` (a known branch code) and `currency`;
`POST /transfer` needs `source` "balance", an integer `amount`, a known `recipient`, and a
`reference` of 16 to 50 lowercase letters, digits, `-` or `_`, refused if used before ("Transfer
reference already exists" — so a retried request pays once); `GET /transfer/verify/<ref>`.
`transfer_result` builds the signed transfer.success / failed / reversed webhook.
Listing ("List Transactions", "Fetch Customer"): `GET /customer/<email or code>` answers the
customer with its integer `id`; `GET /transaction` takes only `customer` (that integer id),
`status`, `from`, `to` (ISO 8601), `perPage` (1..1000) and `page`, and answers the matching
transactions newest first with `meta` (total, skipped, perPage, page, pageCount) — any other
parameter or a malformed one is 400, so the rail must ask exactly.
Refunds ("Refunds"): `POST /refund` names a transaction by reference or id, an amount no more
than is left of it; `GET /refund/<id>`; `refund_result` builds refund.processed / failed;
`refund_needs_attention` holds a refund in Paystack's `needs-attention` status.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.support.providers.loopback import LoopbackFake, ReceivedRequest

SECRET_KEY = "sk_test_5f1c0a9e8d7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")
TRANSFER_REFERENCE = re.compile(r"^[a-z0-9_-]{16,50}$")
ZA_BANKS = {"632005": "ABSA", "250655": "First National Bank", "051001": "Standard Bank"}


@dataclass
class Charge:
    id: int
    reference: str
    amount: int
    currency: str
    email: str
    channel: str
    status: str = "pay_offline"
    ussd_code: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    paid_at: str = "2026-01-05T09:20:11.000Z"
    customer_code: str = ""
    listed: dict[str, Any] = field(default_factory=dict)  # as GET /transaction shows it


@dataclass
class Account:
    customer_code: str
    email: str
    phone: str
    account_number: str
    account_name: str


@dataclass
class Gate:
    """Holds the fake's answer to one request: `asked` once it came, `answer` lets it go."""

    asked: asyncio.Event = field(default_factory=asyncio.Event)
    answer: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class FakePaystack(LoopbackFake):
    secret_key: str = SECRET_KEY
    requests: list[ReceivedRequest] = field(default_factory=list)
    charges: dict[str, Charge] = field(default_factory=dict)
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    accounts: list[Account] = field(default_factory=list)
    recipients: dict[str, dict[str, Any]] = field(default_factory=dict)
    transfers: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[int, dict[str, Any]] = field(default_factory=dict)
    fail_next_transfer: str | None = None  # a message: the next transfer is refused with it
    account_gate: Gate | None = None  # the next POST /dedicated_account waits on it
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(4099260516))

    def __hash__(self) -> int:
        return id(self)

    # --- the customer's bank ----------------------------------------------------------------

    def sign(self, body: bytes) -> str:
        return hmac.new(self.secret_key.encode(), body, hashlib.sha512).hexdigest()

    def webhook(self, event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(event).encode()
        return body, {"x-paystack-signature": self.sign(body), "Content-Type": "application/json"}

    def transfer_to_account(
        self, account_number: str, amount_kobo: int, *, at: datetime | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """The customer sends a bank transfer to their virtual account: Paystack records it
        (listed by GET /transaction) and builds its webhook, which the test may never post."""
        account = next(a for a in self.accounts if a.account_number == account_number)
        n = next(self._ids)
        reference = f"1000{n}"
        paid_at = _iso(at) if at is not None else "2026-01-05T09:20:11.000Z"
        charge = Charge(
            n,
            reference,
            amount_kobo,
            "NGN",
            account.email,
            "dedicated_nuban",
            "success",
            paid_at=paid_at,
            customer_code=account.customer_code,
        )
        self.charges[reference] = charge
        customer = self.customers[account.customer_code]
        data = {
            "id": n,
            "domain": "test",
            "status": "success",
            "reference": reference,
            "amount": amount_kobo,
            "message": None,
            "gateway_response": "Approved",
            "paid_at": paid_at,
            "created_at": paid_at,
            "channel": "dedicated_nuban",
            "currency": "NGN",
            "metadata": {
                "receiver_account_number": account.account_number,
                "receiver_bank": "Wema Bank",
                "custom_fields": [],
            },
            "fees": 5000,
            "authorization": {
                "authorization_code": f"AUTH_{n}",
                "channel": "dedicated_nuban",
                "bank": "Guaranty Trust Bank",
                "country_code": "NG",
                "reusable": False,
                "sender_bank": "Guaranty Trust Bank",
                "sender_bank_account_number": "XXXXXX4821",
                "sender_name": "NGOZI OKAFOR",
                "receiver_bank_account_number": account.account_number,
                "receiver_bank": "Wema Bank",
            },
            "customer": {
                "id": customer["id"],
                "customer_code": account.customer_code,
                "email": account.email,
                "phone": account.phone,
            },
        }
        charge.listed = data
        return self.webhook({"event": "charge.success", "data": data})

    def customer_dials(self, reference: str, *, ok: bool = True) -> tuple[bytes, dict[str, str]]:
        """The customer dials the USSD code and approves: the charge completes."""
        charge = self.charges[reference]
        charge.status = "success" if ok else "failed"
        return self.webhook(
            {
                "event": "charge.success",
                "data": {
                    "id": charge.id,
                    "status": charge.status,
                    "reference": charge.reference,
                    "amount": charge.amount,
                    "currency": charge.currency,
                    "channel": "ussd",
                    "gateway_response": "Approved",
                    "metadata": charge.metadata,
                    "customer": {"email": charge.email},
                },
            }
        )

    def transfer_result(
        self, reference: str, event: str = "transfer.success"
    ) -> tuple[bytes, dict[str, str]]:
        """The bank credited (or refused) the recipient: the signed webhook Paystack posts."""
        transfer = self.transfers[reference]
        transfer["status"] = event.removeprefix("transfer.")
        return self.webhook({"event": event, "data": dict(transfer)})

    def refund_needs_attention(self, refund_id: int) -> None:
        """Paystack cannot complete the refund without someone (its dashboard asks for the
        customer's bank account): `GET /refund/<id>` says `needs-attention` until then."""
        self.refunds[refund_id]["status"] = "needs-attention"

    def refund_result(self, refund_id: int, *, ok: bool = True) -> tuple[bytes, dict[str, str]]:
        """The refund.processed / refund.failed webhook as Paystack documents it: it names the
        refunded transaction's reference and the amount, not the refund's id."""
        refund = self.refunds[refund_id]
        refund["status"] = "processed" if ok else "failed"
        event = "refund.processed" if ok else "refund.failed"
        return self.webhook(
            {
                "event": event,
                "data": {
                    "status": refund["status"],
                    "transaction_reference": refund["transaction_reference"],
                    "refund_reference": f"1320{refund_id}",
                    "amount": str(refund["amount"]),
                    "currency": refund["currency"],
                    "processor": "mpgs_zen",
                    "customer": {"first_name": "", "last_name": "", "email": refund["email"]},
                    "integration": 100032,
                    "domain": "test",
                },
            }
        )

    def delay_next_account(self) -> Gate:
        """The next account opened is answered only once the test says so (a slow bank)."""
        self.account_gate = Gate()
        return self.account_gate

    # --- the API ----------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.requests.append(
            ReceivedRequest(request.method, request.path_qs, dict(request.headers), raw)
        )
        if request.headers.get("Authorization") != f"Bearer {self.secret_key}":
            return _no(401, "Invalid key")
        body: dict[str, Any] = {}
        if request.method == "POST":
            if request.content_type != "application/json":
                return _no(400, "Content-Type must be application/json")
            try:
                body = json.loads(raw)
            except ValueError:
                return _no(400, "Invalid JSON")
        if request.method == "POST" and request.path == "/charge":
            return self._charge(body)
        if request.method == "POST" and request.path == "/customer":
            return self._customer(body)
        if request.method == "GET" and request.path.startswith("/customer/"):
            return self._fetch_customer(request.path.rsplit("/", 1)[-1])
        if request.method == "GET" and request.path == "/transaction":
            return self._list(dict(request.query))
        if request.method == "POST" and request.path == "/dedicated_account":
            gate, self.account_gate = self.account_gate, None
            if gate is not None:
                gate.asked.set()
                await gate.answer.wait()
            return self._dedicated_account(body)
        if request.method == "GET" and request.path.startswith("/transaction/verify/"):
            return self._verify(request.path.rsplit("/", 1)[-1])
        if request.method == "POST" and request.path == "/transferrecipient":
            return self._recipient(body)
        if request.method == "POST" and request.path == "/transfer":
            return self._transfer(body)
        if request.method == "GET" and request.path.startswith("/transfer/verify/"):
            found = self.transfers.get(request.path.rsplit("/", 1)[-1])
            if found is None:
                return _no(404, "Transfer not found")
            return web.json_response(
                {"status": True, "message": "Transfer retrieved", "data": found}
            )
        if request.method == "POST" and request.path == "/refund":
            return self._refund(body)
        if request.method == "GET" and request.path.startswith("/refund/"):
            tail = request.path.rsplit("/", 1)[-1]
            refund = self.refunds.get(int(tail)) if tail.isdigit() else None
            if refund is None:
                return _no(404, "Refund not found")
            return web.json_response(
                {"status": True, "message": "Refund retrieved", "data": refund}
            )
        return _no(404, "Not found")

    def _charge(self, body: dict[str, Any]) -> web.Response:
        if not EMAIL.match(str(body.get("email", ""))):
            return _no(400, "Invalid Email Address Passed")
        amount = str(body.get("amount", ""))
        if not amount.isdigit() or int(amount) < 100:
            return _no(400, "Invalid amount passed")
        reference = str(body.get("reference") or f"ref{next(self._ids)}")
        if reference in self.charges:
            return _no(400, "Duplicate Transaction Reference")
        ussd = body.get("ussd")
        if not isinstance(ussd, dict) or ussd.get("type") not in ("737", "919", "822", "966"):
            return _no(400, "Invalid ussd type")
        n = next(self._ids)
        code = f"*{ussd['type']}*33*4*{n % 100000}#"
        self.charges[reference] = Charge(
            n,
            reference,
            int(amount),
            str(body.get("currency", "NGN")),
            str(body["email"]),
            "ussd",
            ussd_code=code,
            metadata=dict(body.get("metadata") or {}),
        )
        return web.json_response(
            {
                "status": True,
                "message": "Charge attempted",
                "data": {
                    "reference": reference,
                    "status": "pay_offline",
                    "display_text": f"Please dial {code} on your mobile phone to complete"
                    " the transaction",
                    "ussd_code": code,
                },
            }
        )

    def _recipient(self, body: dict[str, Any]) -> web.Response:
        if body.get("type") not in ("nuban", "basa", "mobile_money", "ghipss"):
            return _no(400, "Invalid recipient type")
        for name in ("name", "account_number", "bank_code", "currency"):
            if not body.get(name):
                return _no(400, f"{name} is required")
        if body["type"] == "basa" and (
            body["currency"] != "ZAR" or body["bank_code"] not in ZA_BANKS
        ):
            return _no(400, "Cannot resolve account")
        key = f"{body['bank_code']}:{body['account_number']}"
        code = f"RCP_{hashlib.sha256(key.encode()).hexdigest()[:14]}"
        # Paystack answers an existing recipient again rather than duplicating it.
        self.recipients.setdefault(code, {**body, "recipient_code": code})
        return web.json_response(
            {
                "status": True,
                "message": "Transfer recipient created successfully",
                "data": {
                    "active": True,
                    "currency": body["currency"],
                    "name": body["name"],
                    "recipient_code": code,
                    "type": body["type"],
                    "details": {
                        "account_number": body["account_number"],
                        "bank_code": body["bank_code"],
                        "bank_name": ZA_BANKS.get(str(body["bank_code"]), ""),
                    },
                },
            }
        )

    def _transfer(self, body: dict[str, Any]) -> web.Response:
        if body.get("source") != "balance":
            return _no(400, "Invalid transfer source")
        amount = body.get("amount")
        if not isinstance(amount, int) or amount < 100:
            return _no(400, "Invalid amount passed")
        recipient = self.recipients.get(str(body.get("recipient")))
        if recipient is None:
            return _no(400, "Recipient specified is invalid")
        reference = str(body.get("reference", ""))
        if not TRANSFER_REFERENCE.match(reference):
            return _no(400, "Invalid reference")
        if reference in self.transfers:
            return _no(400, "Transfer reference already exists")
        if self.fail_next_transfer is not None:
            message, self.fail_next_transfer = self.fail_next_transfer, None
            return _no(400, message)
        n = next(self._ids)
        self.transfers[reference] = {
            "id": n,
            "reference": reference,
            "amount": amount,
            "currency": body.get("currency", "ZAR"),
            "reason": body.get("reason", ""),
            "source": "balance",
            "status": "pending",
            "transfer_code": f"TRF_{n:x}",
            "recipient": recipient,
        }
        return web.json_response(
            {
                "status": True,
                "message": "Transfer has been queued",
                "data": {k: v for k, v in self.transfers[reference].items() if k != "recipient"}
                | {"recipient": recipient["recipient_code"]},
            }
        )

    def _refund(self, body: dict[str, Any]) -> web.Response:
        wanted = str(body.get("transaction", ""))
        charge = self.charges.get(wanted) or next(
            (c for c in self.charges.values() if str(c.id) == wanted), None
        )
        if charge is None:
            return _no(404, "Transaction not found")
        if charge.status != "success":
            return _no(400, "Cannot refund a transaction that was not successful")
        given = sum(
            r["amount"]
            for r in self.refunds.values()
            if r["transaction_reference"] == charge.reference and r["status"] != "failed"
        )
        amount = body.get("amount", charge.amount - given)
        if not isinstance(amount, int) or not 0 < amount <= charge.amount - given:
            return _no(400, "Refund amount cannot be greater than the transaction amount")
        n = next(self._ids)
        self.refunds[n] = {
            "id": n,
            "transaction_reference": charge.reference,
            "amount": amount,
            "currency": charge.currency,
            "status": "pending",
            "email": charge.email,
            "merchant_note": body.get("merchant_note"),
        }
        return web.json_response(
            {
                "status": True,
                "message": "Refund has been queued for processing",
                "data": {
                    "transaction": {"id": charge.id, "reference": charge.reference},
                    "integration": 100032,
                    "deducted_amount": 0,
                    "channel": None,
                    "merchant_note": body.get("merchant_note"),
                    "customer_note": None,
                    "status": "pending",
                    "refunded_by": "api",
                    "currency": charge.currency,
                    "domain": "test",
                    "amount": amount,
                    "fully_deducted": False,
                    "id": n,
                },
            }
        )

    def _customer(self, body: dict[str, Any]) -> web.Response:
        if not EMAIL.match(str(body.get("email", ""))):
            return _no(400, "Invalid Email Address Passed")
        code = f"CUS_{hashlib.sha256(str(body['email']).encode()).hexdigest()[:15]}"
        known = self.customers.get(code)
        body = {**body, "id": known["id"] if known else 181_000 + len(self.customers)}
        self.customers[code] = body
        return web.json_response(
            {
                "status": True,
                "message": "Customer created",
                "data": {
                    "email": body["email"],
                    "first_name": body.get("first_name"),
                    "last_name": body.get("last_name"),
                    "phone": body.get("phone"),
                    "customer_code": code,
                    "id": body["id"],
                    "integration": 100032,
                    "domain": "test",
                    "identified": False,
                },
            }
        )

    def _dedicated_account(self, body: dict[str, Any]) -> web.Response:
        code = str(body.get("customer", ""))
        customer = self.customers.get(code)
        if customer is None:
            return _no(404, "Customer not found")
        # Nigerian DVAs need the customer's first name, last name and phone.
        if not (customer.get("first_name") and customer.get("last_name") and customer.get("phone")):
            return _no(400, "Customer does not have first name, last name and phone number")
        if body.get("preferred_bank") not in ("wema-bank", "titan-paystack", "test-bank"):
            return _no(400, "Invalid preferred bank")
        account = Account(
            code,
            str(customer["email"]),
            str(customer["phone"]),
            f"99{len(self.accounts) + 30000000:08d}",
            f"OMNIROUTE/{str(customer['first_name']).upper()} {str(customer['last_name']).upper()}",
        )
        self.accounts.append(account)
        return web.json_response(
            {
                "status": True,
                "message": "NUBAN successfully created",
                "data": {
                    "bank": {"name": "Wema Bank", "id": 20, "slug": "wema-bank"},
                    "account_name": account.account_name,
                    "account_number": account.account_number,
                    "assigned": True,
                    "currency": "NGN",
                    "active": True,
                    "id": len(self.accounts),
                    "customer": {"customer_code": code, "email": account.email},
                },
            }
        )

    def _fetch_customer(self, email_or_code: str) -> web.Response:
        for code, customer in self.customers.items():
            if email_or_code in (code, customer["email"]):
                return web.json_response(
                    {
                        "status": True,
                        "message": "Customer retrieved",
                        "data": {**customer, "customer_code": code, "integration": 100032},
                    }
                )
        return _no(404, "Customer not found")

    def _list(self, query: dict[str, str]) -> web.Response:
        allowed = {"customer", "status", "from", "to", "perPage", "page"}
        if set(query) - allowed:
            return _no(400, f"Invalid query parameter: {sorted(set(query) - allowed)[0]}")
        for name in ("customer", "perPage", "page"):
            if name in query and not query[name].isdigit():
                return _no(400, f"{name} must be an integer")
        per_page = int(query.get("perPage", "50"))
        page = int(query.get("page", "1"))
        if not 1 <= per_page <= 1000 or page < 1:
            return _no(400, "perPage must be between 1 and 1000")
        if query.get("status", "success") not in ("success", "failed", "abandoned"):
            return _no(400, "Invalid status")
        try:
            since = _parse(query["from"]) if "from" in query else None
            until = _parse(query["to"]) if "to" in query else None
        except ValueError:
            return _no(400, "Invalid date")
        rows = []
        for charge in self.charges.values():
            if not charge.listed:
                continue
            customer = self.customers.get(charge.customer_code, {})
            if "customer" in query and str(customer.get("id")) != query["customer"]:
                continue
            if "status" in query and charge.status != query["status"]:
                continue
            at = _parse(charge.paid_at)
            if (since and at < since) or (until and at > until):
                continue
            rows.append(charge.listed)
        rows.sort(key=lambda r: str(r["paid_at"]), reverse=True)
        shown = rows[(page - 1) * per_page : page * per_page]
        return web.json_response(
            {
                "status": True,
                "message": "Transactions retrieved",
                "data": shown,
                "meta": {
                    "total": len(rows),
                    "skipped": (page - 1) * per_page,
                    "perPage": per_page,
                    "page": page,
                    "pageCount": max(1, -(-len(rows) // per_page)),
                },
            }
        )

    def _verify(self, reference: str) -> web.Response:
        charge = self.charges.get(reference)
        if charge is None:
            return _no(400, "Transaction reference not found")
        status = "ongoing" if charge.status == "pay_offline" else charge.status
        return web.json_response(
            {
                "status": True,
                "message": "Verification successful",
                "data": {
                    "id": charge.id,
                    "status": status,
                    "reference": charge.reference,
                    "amount": charge.amount,
                    "currency": charge.currency,
                    "channel": charge.channel,
                    "gateway_response": "Approved" if status == "success" else "Declined",
                },
            }
        )


def _iso(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _parse(text: str) -> datetime:
    """Paystack takes 2016-09-24T00:00:05.000Z or a bare date 2016-09-21."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _no(status: int, message: str) -> web.Response:
    return web.json_response({"status": False, "message": message}, status=status)
