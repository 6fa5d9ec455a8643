"""Which source addresses may call the Africa's Talking callbacks (optional, on top of the token).

`OMNIROUTE_AFRICASTALKING_ALLOWED_IPS` is a comma-separated list of addresses and CIDR networks.
The check reads the TCP peer (`request.remote`): behind a reverse proxy that is the proxy, so
either allow the proxy's address or have the proxy itself filter by Africa's Talking's addresses.
"""

from __future__ import annotations

import ipaddress

from core.config import SettingError

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Networks = tuple[IPNetwork, ...]

VARIABLE = "OMNIROUTE_AFRICASTALKING_ALLOWED_IPS"


class InvalidAllowListError(SettingError, ValueError):
    """An entry that is neither an address nor a network: the gateway does not start."""


def parse_networks(raw: str | None) -> Networks | None:
    """None when no entry is given (no allow-list); a bad entry stops the gateway starting."""
    if raw is None:
        return None
    networks: list[IPNetwork] = []
    for entry in (part.strip() for part in raw.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise InvalidAllowListError(
                f"{VARIABLE}: {entry!r} is not an IP address or network"
            ) from exc
    return tuple(networks) or None


def is_allowed(remote: str | None, networks: Networks) -> bool:
    if remote is None:
        return False
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        # A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d.
        address = address.ipv4_mapped
    return any(address in network for network in networks)
