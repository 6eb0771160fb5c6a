"""Which webhook targets are allowed: public addresses, or what the operator's allow-list names."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(ValueError):
    """A webhook URL that must not be called (bad scheme, private address, not allowed)."""


def split_target(url: str) -> tuple[str, int]:
    """Host and port of an http(s) URL; anything else is refused."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("a webhook URL is http:// or https:// with a host")
    if parts.username or parts.password:
        raise TargetRefused("a webhook URL carries no credentials")
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


def is_internal(address: IpAddress) -> bool:
    """Private, loopback, link-local, multicast, reserved or unspecified: never reachable from outside."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_internal(address.ipv4_mapped)
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def allowed(host: str, address: IpAddress, allow_list: list[str]) -> bool:
    """The host name, the address, or a network containing it is on the allow-list."""
    for entry in allow_list:
        if entry.lower() == host.lower():
            return True
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def check_addresses(host: str, addresses: list[str], allow_list: list[str]) -> None:
    """Every resolved address must be public or allowed; one internal address refuses the target."""
    if not addresses:
        raise TargetRefused(f"{host} does not resolve")
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if is_internal(address) and not allowed(host, address, allow_list):
            raise TargetRefused(f"{host} resolves to {address}, an internal address that is not on the allow-list")
