"""Which client sent a request, for rate limits: the peer, or what trusted proxies say.

`X-Forwarded-For` is believed only from the proxies named in TRUSTED_PROXIES: anyone can send
the header, so by default the connection's peer address is the client. Behind trusted proxies
the client is the right-most address of the header that is not itself a trusted proxy (each
proxy appends the address it saw, so the addresses left of it are the client's own claims),
reading all the header's lines as one list.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from hypercorn.typing import HTTPScope
from quart import request

from lib.scope_headers import header_lines

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
UNKNOWN = "unknown"
# Quart's address of a request whose scope names no client.
LOCAL_PEER = "<local>"
FORWARDED = b"x-forwarded-for"


def networks(values: Iterable[str]) -> tuple[Network, ...]:
    """The trusted proxies' networks (validated by the settings)."""
    return tuple(ipaddress.ip_network(value, strict=False) for value in values)


def _is_trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def client_address(trusted: tuple[Network, ...]) -> str:
    """The address this request came from, as far as we can believe it."""
    return address_from(
        request.remote_addr or UNKNOWN, request.headers.getlist("X-Forwarded-For"), trusted
    )


def scope_address(scope: HTTPScope, trusted: tuple[Network, ...]) -> str:
    """`client_address` of a request the framework has not made yet (lib/pipeline.py's
    lanes), from its scope: the peer as Quart reads it (`remote_addr`)."""
    peer = (scope.get("client") or (LOCAL_PEER,))[0] or UNKNOWN
    return address_from(peer, header_lines(scope, FORWARDED), trusted)


def address_from(peer: str, forwarded: list[str], trusted: tuple[Network, ...]) -> str:
    """`client_address` of a request from `peer` with these lines of X-Forwarded-For."""
    if not trusted or not _is_trusted(peer, trusted):
        return peer
    # Every line of the header, in order: a proxy such as HAProxy adds a line of its own after
    # the ones the client sent, rather than appending to them.
    lines = ",".join(forwarded)
    hops = [hop.strip() for hop in lines.split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        if not _is_trusted(hop, trusted):
            return hop[:64]
    return peer
