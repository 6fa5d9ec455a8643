"""Who may do what over GraphQL: tokens, API keys, OAuth clients, roles per field and object."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import text

from core.app.bootstrap import Services
from core.clock import SteppedClock
from core.config import Settings
from core.ids import RandomIds
from engines.access import AccessService, Role
from engines.orders import UnknownOrderError
from tests.support.graphql import bearer, gateway, place_for, post_graphql

NGOZI = "+2348030000001"
EMEKA = "+2348030000002"

ORDER = "query($r: String!) { order(reference: $r) { ... on Order { reference customer } } }"
ORDERS = "query($c: String) { orders(customer: $c) { edges { node { reference customer } } } }"
STOCK = "{ products(first: 2) { edges { node { sku stock } } } }"
PRODUCTS = "{ products(first: 2) { edges { node { sku } } } }"


def code_of(body: dict[str, Any]) -> str:
    return str(body["errors"][0]["extensions"]["code"])


async def test_reading_an_order_without_a_token_is_unauthenticated_with_no_data(
    client: TestClient[Any, Any], services: Services
) -> None:
    reference = await place_for(services, NGOZI, "k-anon-0001")
    status, body = await post_graphql(client, ORDER, {"r": reference})
    assert status == 200
    assert body["data"] is None
    assert code_of(body) == "UNAUTHENTICATED"


async def test_a_customer_sees_their_own_order_and_not_someone_elses(
    client: TestClient[Any, Any], services: Services
) -> None:
    mine = await place_for(services, NGOZI, "k-mine-0001")
    theirs = await place_for(services, EMEKA, "k-theirs-001")
    headers = bearer(services.settings, NGOZI, "customer")
    _, own = await post_graphql(client, ORDER, {"r": mine}, headers)
    assert own["data"]["order"] == {"reference": mine, "customer": NGOZI}
    _, other = await post_graphql(client, NOT_FOUND, {"r": theirs}, headers)
    assert "errors" not in other
    assert other["data"]["order"] == {
        "__typename": "NotFound",
        "message": f"no order {theirs}",
        "reference": theirs,
    }


NOT_FOUND = """query($r: String!) { order(reference: $r) {
  __typename ... on NotFound { message reference } ... on Order { customer } } }"""


def as_guessed(body: dict[str, Any], reference: str) -> str:
    """The answer with the reference asked for blanked, to compare answers to two guesses."""
    return json.dumps(body, sort_keys=True).replace(reference, "<reference>")


async def test_someone_elses_order_answers_exactly_as_a_missing_one(
    client: TestClient[Any, Any], services: Services
) -> None:
    """A stranger guessing references learns nothing: Emeka's real order and a reference
    nobody has get the same answer, for a customer and for a driver with no task for it."""
    theirs = await place_for(services, EMEKA, "k-guess-0001")
    missing = "222222"
    with pytest.raises(UnknownOrderError):
        await services.orders.get(missing)
    for headers in (
        bearer(services.settings, NGOZI, "customer"),
        bearer(services.settings, "+2348035550001", "driver"),
    ):
        _, real = await post_graphql(client, NOT_FOUND, {"r": theirs}, headers)
        _, guessed = await post_graphql(client, NOT_FOUND, {"r": missing}, headers)
        assert real["data"]["order"]["__typename"] == "NotFound"
        assert as_guessed(real, theirs) == as_guessed(guessed, missing)
    agent = bearer(services.settings, "agent-7", "agent")
    _, seen = await post_graphql(client, NOT_FOUND, {"r": theirs}, agent)
    assert seen["data"]["order"] == {"__typename": "Order", "customer": EMEKA}


async def test_a_customer_lists_only_their_own_orders(
    client: TestClient[Any, Any], services: Services
) -> None:
    await place_for(services, NGOZI, "k-list-0001")
    await place_for(services, EMEKA, "k-list-0002")
    headers = bearer(services.settings, NGOZI, "customer")
    _, own = await post_graphql(client, ORDERS, {}, headers)
    customers = {e["node"]["customer"] for e in own["data"]["orders"]["edges"]}
    assert customers == {NGOZI}
    _, other = await post_graphql(client, ORDERS, {"c": EMEKA}, headers)
    assert other["data"] is None
    assert code_of(other) == "FORBIDDEN"


async def test_an_agent_reads_any_customers_orders(
    client: TestClient[Any, Any], services: Services
) -> None:
    reference = await place_for(services, EMEKA, "k-agent-0001")
    headers = bearer(services.settings, "agent-7", "agent")
    _, body = await post_graphql(client, ORDER, {"r": reference}, headers)
    assert body["data"]["order"]["customer"] == EMEKA


async def test_a_driver_may_not_place_orders(
    client: TestClient[Any, Any], services: Services
) -> None:
    mutation = (
        """mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { order { reference } } }"""
    )
    order_input = {
        "customer": NGOZI,
        "lines": [{"sku": "X", "quantity": 1}],
        "payment": {"method": "ON_DELIVERY"},
        "idempotencyKey": "driver-attempt-1",
    }
    headers = bearer(services.settings, EMEKA, "driver")
    _, body = await post_graphql(client, mutation, {"i": order_input}, headers)
    assert body["data"] is None
    assert code_of(body) == "FORBIDDEN"


async def test_stock_counts_are_for_staff_only(
    client: TestClient[Any, Any], services: Services
) -> None:
    _, customer = await post_graphql(
        client, STOCK, headers=bearer(services.settings, NGOZI, "customer")
    )
    assert customer["data"] is None
    assert code_of(customer) == "FORBIDDEN"
    _, operator = await post_graphql(
        client, STOCK, headers=bearer(services.settings, "ops-1", "operator")
    )
    assert all(e["node"]["stock"] > 0 for e in operator["data"]["products"]["edges"])


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        jwt.encode({"sub": NGOZI, "role": "customer", "exp": 1}, "x" * 32, algorithm="HS256"),
        jwt.encode({"sub": NGOZI, "role": "customer", "exp": 4_000_000_000}, None, "none"),
    ],
    ids=["garbage", "wrong-key-and-expired", "alg-none"],
)
async def test_a_bad_token_is_refused_even_for_the_public_catalogue(
    client: TestClient[Any, Any], token: str
) -> None:
    _, body = await post_graphql(client, PRODUCTS, headers={"Authorization": f"Bearer {token}"})
    assert body["data"] is None
    assert code_of(body) == "UNAUTHENTICATED"


async def test_a_token_that_is_no_jwt_is_refused_in_plain_words(
    client: TestClient[Any, Any],
) -> None:
    """The app's error said "invalid credentials: Not enough segments" (PyJWT's words)."""
    _, body = await post_graphql(client, PRODUCTS, headers={"Authorization": "Bearer nope"})
    assert code_of(body) == "UNAUTHENTICATED"
    assert body["errors"][0]["message"] == "invalid credentials: the token is not a valid JWT"


async def test_an_expired_token_is_unauthenticated(
    client: TestClient[Any, Any], services: Services
) -> None:
    secret = services.settings.jwt_secret
    key = secret.get_secret_value() if secret else "omniroute-dev-secret-not-for-production"
    claims = {"sub": NGOZI, "role": "customer", "iss": "omniroute", "exp": int(time.time()) - 300}
    token = jwt.encode(claims, key, algorithm="HS256")
    _, body = await post_graphql(client, ORDERS, headers={"Authorization": f"Bearer {token}"})
    assert code_of(body) == "UNAUTHENTICATED"
    assert body["errors"][0]["message"] == "invalid credentials: the token has expired"


@pytest.fixture
def rsa_keys() -> tuple[str, str]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


@pytest.fixture
async def rs256_gateway(
    database_url: str, clock: SteppedClock, rsa_keys: tuple[str, str]
) -> AsyncIterator[tuple[TestClient[Any, Any], Services]]:
    settings = Settings(
        env="test",
        database_url=database_url,
        jwt_public_key=rsa_keys[1],
        _env_file=None,
    )
    async with gateway(settings, clock) as pair:
        yield pair


async def test_rs256_tokens_from_the_identity_provider_are_accepted(
    rs256_gateway: tuple[TestClient[Any, Any], Services], rsa_keys: tuple[str, str]
) -> None:
    client, services = rs256_gateway
    reference = await place_for(services, NGOZI, "k-rs256-0001")
    claims = {"sub": NGOZI, "role": "customer", "iss": "omniroute", "exp": 4_000_000_000}
    token = jwt.encode(claims, rsa_keys[0], algorithm="RS256")
    _, body = await post_graphql(
        client, ORDER, {"r": reference}, {"Authorization": f"Bearer {token}"}
    )
    assert body["data"]["order"]["reference"] == reference
    # With only a public key configured, an HS256 token (even one signed with the public key
    # text as its secret, the classic confusion attack) is refused.
    forged = jwt.encode(claims, "a-shared-secret-guess-that-is-long-enough", algorithm="HS256")
    _, refused = await post_graphql(
        client, ORDER, {"r": reference}, {"Authorization": f"Bearer {forged}"}
    )
    assert code_of(refused) == "UNAUTHENTICATED"


async def test_an_api_key_works_until_it_is_wrong(
    client: TestClient[Any, Any], services: Services
) -> None:
    reference = await place_for(services, NGOZI, "k-apikey-0001")
    access = _access(services)
    issued = await access.create_api_key(Role.OPERATOR, name="warehouse screen")
    for headers in ({"X-API-Key": issued.secret}, {"Authorization": f"Bearer {issued.secret}"}):
        _, body = await post_graphql(client, ORDER, {"r": reference}, headers)
        assert body["data"]["order"]["reference"] == reference
    _, wrong = await post_graphql(
        client, ORDER, {"r": reference}, {"X-API-Key": issued.secret[:-2] + "xx"}
    )
    assert code_of(wrong) == "UNAUTHENTICATED"


async def test_api_keys_are_stored_only_as_hashes(services: Services) -> None:
    issued = await _access(services).create_api_key(Role.AGENT)
    async with services.db.transaction() as s:
        rows = (await s.execute(text("SELECT * FROM api_keys"))).all()
    stored = " ".join(str(v) for row in rows for v in row)
    assert issued.secret not in stored
    assert issued.secret.split("_")[-1] not in stored


def _access(services: Services) -> AccessService:
    return AccessService(services.db, services.clock, RandomIds())


async def _token(
    client: TestClient[Any, Any],
    form: dict[str, str],
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any], Any]:
    response = await client.post("/oauth/token", data=form, headers=headers or {})
    return response.status, await response.json(), response.headers


async def test_a_partner_gets_a_token_by_client_credentials_and_uses_it(
    client: TestClient[Any, Any], services: Services
) -> None:
    reference = await place_for(services, EMEKA, "k-oauth-0001")
    issued = await _access(services).create_client(Role.AGENT, name="partner")
    basic = base64.b64encode(f"{issued.id}:{issued.secret}".encode()).decode()
    status, body, headers = await _token(
        client, {"grant_type": "client_credentials"}, {"Authorization": f"Basic {basic}"}
    )
    assert status == 200
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == services.settings.access_token_ttl_seconds
    assert headers["Cache-Control"] == "no-store"
    _, order = await post_graphql(
        client, ORDER, {"r": reference}, {"Authorization": f"Bearer {body['access_token']}"}
    )
    assert order["data"]["order"]["customer"] == EMEKA
    status, posted, _ = await _token(
        client,
        {
            "grant_type": "client_credentials",
            "client_id": issued.id,
            "client_secret": issued.secret,
        },
    )
    assert status == 200
    assert posted["access_token"]


async def test_token_endpoint_errors_follow_rfc_6749(
    client: TestClient[Any, Any], services: Services
) -> None:
    issued = await _access(services).create_client(Role.AGENT)
    good = {"client_id": issued.id, "client_secret": issued.secret}
    status, body, headers = await _token(
        client, {"grant_type": "client_credentials", **good, "client_secret": "wrong"}
    )
    assert (status, body["error"]) == (401, "invalid_client")
    assert headers["WWW-Authenticate"].startswith("Basic")
    status, body, _ = await _token(client, {"grant_type": "password", **good})
    assert (status, body["error"]) == (400, "unsupported_grant_type")
    status, body, _ = await _token(client, good)
    assert (status, body["error"]) == (400, "invalid_request")
    basic = base64.b64encode(f"{issued.id}:{issued.secret}".encode()).decode()
    status, body, _ = await _token(
        client,
        {"grant_type": "client_credentials", **good},
        {"Authorization": f"Basic {basic}"},
    )
    assert (status, body["error"]) == (400, "invalid_request")
    status, body, _ = await _token(
        client, {"grant_type": "client_credentials", **good, "scope": "admin"}
    )
    assert (status, body["error"]) == (400, "invalid_scope")


PROFILE = "query($p: String!) { customer(phone: $p) { phone name region currency locale } }"


async def test_customers_see_their_own_profile_and_staff_see_anyones(
    client: TestClient[Any, Any], services: Services
) -> None:
    ngozi = bearer(services.settings, NGOZI, "customer")
    me_query = "{ me { phone name region currency locale } }"
    _, me = await post_graphql(client, me_query, headers=ngozi)
    assert me["data"]["me"] == {
        "phone": NGOZI,
        "name": "Ngozi Okafor",
        "region": "LAGOS",
        "currency": "NGN",
        "locale": "en",
    }
    _, other = await post_graphql(client, PROFILE, {"p": EMEKA}, ngozi)
    assert other["data"] is None
    assert code_of(other) == "FORBIDDEN"
    agent = bearer(services.settings, "agent-7", "agent")
    _, seen = await post_graphql(client, PROFILE, {"p": EMEKA}, agent)
    assert seen["data"]["customer"]["phone"] == EMEKA
    _, anonymous = await post_graphql(client, "{ me { phone } }")
    assert anonymous["data"] is None
    assert code_of(anonymous) == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    "forged",
    [
        "order:2026-01-01T00:00:00|00000000-0000-0000-0000-000000000000",
        "order:9999-12-31T23:59:59-23:59|00000000-0000-0000-0000-000000000000",
        "order:2026-01-01T00:00:00+00:00|not-a-uuid",
        "product:NDL-INDO-CHK",
    ],
)
async def test_a_forged_orders_cursor_is_bad_user_input_not_a_database_error(
    client: TestClient[Any, Any], services: Services, forged: str
) -> None:
    cursor = base64.urlsafe_b64encode(forged.encode()).decode()
    status, body = await post_graphql(
        client,
        "query($after: String) { orders(after: $after) { edges { node { reference } } } }",
        {"after": cursor},
        bearer(services.settings, NGOZI, "customer"),
    )
    assert status == 200
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "SQL" not in error["message"]


async def test_an_unexpected_failure_is_an_internal_error_without_its_sql(
    client: TestClient[Any, Any], services: Services
) -> None:
    """The database failing under a read: the app gets a coded internal error; the SQL and
    the driver's words stay in the log."""
    async with services.db.transaction() as s:
        await s.execute(text("ALTER TABLE orders RENAME TO orders_elsewhere"))
    status, body = await post_graphql(
        client,
        '{ order(reference: "ABC123") { ... on Order { reference } } }',
        headers=bearer(services.settings, NGOZI, "customer"),
    )
    assert status == 200
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["message"] == "internal error"
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert error["path"] == ["order"]


async def test_a_customer_lists_their_orders_by_their_number_however_it_is_spaced(
    client: TestClient[Any, Any], services: Services
) -> None:
    """`customer(phone:)` takes "+234 803 000 0001" as Ngozi's own number; so does `orders`."""
    reference = await place_for(services, NGOZI, "k-spaced-0001")
    headers = bearer(services.settings, NGOZI, "customer")
    status, body = await post_graphql(client, ORDERS, {"c": "+234 803 000 0001"}, headers)
    assert status == 200
    assert [e["node"]["reference"] for e in body["data"]["orders"]["edges"]] == [reference]
