"""The customer as GraphQL sees it: an E.164 phone that picks the region and currency."""

from __future__ import annotations

import strawberry

from channels.graphql.auth import ClientError, forbidden, may_act_for, require
from channels.graphql.context import GraphQLContext
from core.phone import InvalidPhoneError, Phone
from core.region import Region, RegionCode, UnsupportedRegionError, region_for_phone
from engines.access import Principal

Info = strawberry.Info[GraphQLContext, None]


class BadCustomerError(ValueError):
    """Not an E.164 number of a region OmniRoute serves."""


def customer_of(raw: str) -> tuple[Phone, Region]:
    if not raw.startswith("+"):
        raise BadCustomerError(f"{raw!r}: give the customer's phone in E.164 (+2348030000001)")
    try:
        phone = Phone.parse(raw)
        return phone, region_for_phone(phone)
    except InvalidPhoneError as exc:
        raise BadCustomerError(str(exc)) from exc
    except UnsupportedRegionError as exc:
        raise BadCustomerError(f"{raw}: OmniRoute does not serve this country yet") from exc


def home_region(principal: Principal | None) -> Region | None:
    """The signed-in customer's (or driver's) region, from their phone."""
    if principal is None or not principal.subject.startswith("+"):
        return None
    try:
        return customer_of(principal.subject)[1]
    except BadCustomerError:
        return None


@strawberry.type(name="Customer", description="A customer, known by their phone number")
class CustomerType:
    phone: str
    name: str | None
    locale: str = strawberry.field(description="The language they chose, or their region's")
    region: RegionCode
    currency: str


async def _profile(info: Info, raw: str) -> CustomerType:
    phone, market = customer_of(raw)
    found = await info.context.services.customers.get(phone)
    return CustomerType(
        phone=phone.e164,
        name=found.name if found else None,
        locale=(found.locale if found and found.locale else market.default_locale),
        region=market.code,
        currency=market.currency,
    )


@strawberry.type
class CustomersQuery:
    @strawberry.field(description="The signed-in customer or driver, by their token's phone")
    async def me(self, info: Info) -> CustomerType:
        principal = require(info.context.principal)
        if home_region(principal) is None:
            raise ClientError("BAD_USER_INPUT", "this token names no customer's phone")
        return await _profile(info, principal.subject)

    @strawberry.field(description="A customer by phone: yourself, or anyone for staff")
    async def customer(self, info: Info, phone: str) -> CustomerType:
        principal = require(info.context.principal)
        try:
            if not may_act_for(principal, customer_of(phone)[0].e164):
                raise forbidden("you may look up only yourself")
            return await _profile(info, phone)
        except BadCustomerError as exc:
            raise ClientError("BAD_USER_INPUT", str(exc)) from exc
