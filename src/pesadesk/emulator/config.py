"""How an emulator presents itself: its shortcodes, passkey, initiator and timings.

The defaults are the public sandbox's values, so a client written for Safaricom's sandbox
works unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

__all__ = [
    "DEFAULT_INITIATOR_PASSWORD",
    "SANDBOX_PASSKEY",
    "EmulatorConfig",
]

SANDBOX_PASSKEY: Final = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
# Public and printed by `pesadesk emulator --help`: it protects nothing real.
DEFAULT_INITIATOR_PASSWORD: Final = "Safaricom999!*!"  # noqa: S105 - documented test value

DEFAULT_WALLET_CENTS: Final = 100_000_00
DEFAULT_UTILITY_CENTS: Final = 500_000_00
DEFAULT_WORKING_CENTS: Final = 100_000_00


@dataclass(frozen=True)
class EmulatorConfig:
    """How the emulator presents itself; defaults are the public sandbox values."""

    stk_shortcode: str = "174379"
    passkey: str = field(default=SANDBOX_PASSKEY, repr=False)
    b2c_shortcode: str = "600000"
    c2b_shortcodes: tuple[str, ...] = ("600000",)
    initiator_name: str = "testapi"
    initiator_password: str = field(default=DEFAULT_INITIATOR_PASSWORD, repr=False)
    token_ttl_seconds: int = 3599
    expires_in_as_string: bool = False
    callback_delay_seconds: float = 0.3
    # An STK Timestamp in any zone is accepted when the Password was built from it; one
    # further than this from Nairobi time is logged as a clock skew (never refused).
    timestamp_tolerance_seconds: float | None = 600.0
    lock_subscriber: bool = False
    stk_balance_item: bool = True  # the valueless `Balance` metadata item of older payloads
    wallet_cents: int = DEFAULT_WALLET_CENTS
    utility_cents: int = DEFAULT_UTILITY_CENTS
    working_cents: int = DEFAULT_WORKING_CENTS
    callback_timeout_seconds: float = 10.0

    def shortcodes(self) -> set[str]:
        """Every shortcode that starts with accounts (STK, B2C, C2B)."""
        return {self.stk_shortcode, self.b2c_shortcode, *self.c2b_shortcodes}
