"""Who may post callbacks: an optional shared token in the URL and an optional list of
allowed networks (Daraja signs nothing, so this is all there is)."""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass
from functools import cached_property

from starlette.requests import Request

from pesadesk.config import SecuritySettings

# Addresses Safaricom is widely reported to send callbacks from (not an official list).
SAFARICOM_CALLBACK_ADDRESSES = (
    "196.201.214.200", "196.201.214.206", "196.201.213.114", "196.201.214.207",
    "196.201.214.208", "196.201.213.44", "196.201.212.127", "196.201.212.138",
    "196.201.212.129", "196.201.212.136", "196.201.212.74", "196.201.212.69",
)  # fmt: skip


def client_address(request: Request, security: SecuritySettings) -> str | None:
    """The caller's address: the peer, or (behind a proxy one trusts) the right-most
    `X-Forwarded-For` entry, the one that proxy wrote."""
    if security.trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return request.client.host if request.client else None


@dataclass(frozen=True)
class WebhookGuard:
    security: SecuritySettings

    def __post_init__(self) -> None:
        self.networks  # noqa: B018 - a bad CIDR fails the app's start, not every callback

    @cached_property
    def networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(
            ipaddress.ip_network(cidr.strip(), strict=False)
            for cidr in self.security.webhook_ip_allowlist
        )

    @property
    def protects(self) -> bool:
        """A token or an allow-list is set: a callback that passes has a proven origin."""
        token = self.security.webhook_token
        return bool(token is not None and token.get_secret_value()) or bool(self.networks)

    def client_address(self, request: Request) -> str | None:
        return client_address(request, self.security)

    def refusal(self, request: Request) -> str | None:
        """Why this callback is refused, or None when it may pass."""
        token = self.security.webhook_token
        if token is not None and token.get_secret_value():
            given = request.query_params.get("token", "")
            if not hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
                return "refused: missing or wrong webhook token"
        if self.networks:
            address = self.client_address(request)
            try:
                ip = ipaddress.ip_address(address or "")
            except ValueError:
                return "refused: client address unknown"
            if not any(ip in network for network in self.networks):
                return f"refused: address {address} is not allowed"
        return None
