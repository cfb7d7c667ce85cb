"""How an emulator presents itself: its shortcodes, passkeys, initiator and timings.

The defaults are the public sandbox's values, so a client written for Safaricom's sandbox
works unchanged. `merchants` adds shortcodes of one's own (several collection accounts),
each with its passkey, its kind and the C2B register versions its app has.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

__all__ = [
    "DEFAULT_INITIATOR_PASSWORD",
    "SANDBOX_PASSKEY",
    "EmulatorConfig",
    "Merchant",
    "MerchantKind",
    "merchant_from_mapping",
    "parse_merchant_spec",
]

SANDBOX_PASSKEY: Final = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
# Public and printed by `pesadesk emulator --help`: it protects nothing real.
DEFAULT_INITIATOR_PASSWORD: Final = "Safaricom999!*!"  # noqa: S105 - documented test value

DEFAULT_WALLET_CENTS: Final = 100_000_00
DEFAULT_UTILITY_CENTS: Final = 500_000_00
DEFAULT_WORKING_CENTS: Final = 100_000_00

# `both` is what the sandbox's 174379 does: Pay Bill to itself, or Buy Goods to any till.
MerchantKind = Literal["paybill", "till", "both"]
C2BVersion = Literal["v1", "v2"]
KINDS: Final = ("paybill", "till", "both")
_NUMBER: Final = re.compile(r"\d{4,10}")


@dataclass(frozen=True)
class Merchant:
    """A shortcode the emulator serves: STK Push with its passkey, C2B register/simulate.

    `kind` decides which STK TransactionType it takes (the other one ends in result 2028,
    as at Safaricom); a till may name the `till_number` that must come as PartyB.
    `c2b_register_version` "v1" means the app lacks the v2 product: v2 register and
    simulate answer Daraja's 401 "no apiproduct match found".
    """

    shortcode: str
    passkey: str = field(default=SANDBOX_PASSKEY, repr=False)
    kind: MerchantKind = "paybill"
    till_number: str | None = None
    c2b_register_version: C2BVersion = "v2"

    def takes(self, transaction_type: str, party_b: str) -> bool:
        """Whether an STK Push of this type to `party_b` is one this shortcode may receive."""
        if transaction_type == "CustomerPayBillOnline":
            return self.kind in ("paybill", "both") and party_b == self.shortcode
        if self.kind == "paybill":
            return False
        return self.till_number is None or party_b == self.till_number

    def accepts_c2b(self, version: str) -> bool:
        return version == "v1" or self.c2b_register_version == "v2"


@dataclass(frozen=True)
class EmulatorConfig:
    """How the emulator presents itself; defaults are the public sandbox values."""

    stk_shortcode: str = "174379"
    passkey: str = field(default=SANDBOX_PASSKEY, repr=False)
    b2c_shortcode: str = "600000"
    c2b_shortcodes: tuple[str, ...] = ("600000",)
    # Further shortcodes, each with its own passkey and kind (several collection accounts).
    merchants: tuple[Merchant, ...] = ()
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

    def default_merchant(self) -> Merchant:
        """The sandbox-like STK shortcode (174379 with the public passkey by default)."""
        return Merchant(self.stk_shortcode, self.passkey, kind="both")

    def configured_merchants(self) -> dict[str, Merchant]:
        """Every configured STK shortcode; a `merchants` entry wins over the default."""
        found = {self.stk_shortcode: self.default_merchant()}
        found.update((m.shortcode, m) for m in self.merchants)
        return found

    def shortcodes(self) -> set[str]:
        """Every shortcode that starts with accounts (STK, B2C, C2B, merchants)."""
        return {self.stk_shortcode, self.b2c_shortcode, *self.c2b_shortcodes} | {
            m.shortcode for m in self.merchants
        }


def merchant_from_mapping(values: Mapping[str, object]) -> Merchant:
    """A Merchant from `{"shortcode", "passkey", "kind"?, "till_number"?,
    "c2b_register_version"?}`; ValueError with one line saying what is wrong."""
    shortcode, passkey = values.get("shortcode"), values.get("passkey")
    kind = values.get("kind", "paybill")
    till = values.get("till_number")
    version = values.get("c2b_register_version", "v2")
    if not isinstance(shortcode, str) or not _NUMBER.fullmatch(shortcode):
        raise ValueError("shortcode must be 4 to 10 digits")
    if not isinstance(passkey, str) or not passkey.strip():
        raise ValueError("passkey must be a non-empty string")
    if kind not in KINDS:
        raise ValueError("kind must be paybill, till or both")
    if till is not None and not (isinstance(till, str) and _NUMBER.fullmatch(till)):
        raise ValueError("till_number must be 4 to 10 digits")
    if till is not None and kind == "paybill":
        raise ValueError("till_number is for a till")
    if version not in ("v1", "v2"):
        raise ValueError("c2b_register_version must be v1 or v2")
    return Merchant(
        shortcode=shortcode,
        passkey=passkey.strip(),
        kind=kind,
        till_number=till,
        c2b_register_version=version,
    )


def parse_merchant_spec(spec: str) -> Merchant:
    """`SHORTCODE:PASSKEY[:paybill|till|till=NUMBER|both][:v1|v2]`, as `--account` takes it.

    E.g. `600100:PASSKEY`, `600200:PASSKEY:till=5555555`, `600300:PASSKEY:paybill:v1`.
    """
    shortcode, _, rest = spec.strip().partition(":")
    passkey, _, options = rest.partition(":")
    values: dict[str, object] = {"shortcode": shortcode, "passkey": passkey}
    for option in filter(None, options.split(":")):
        kind, _, till = option.partition("=")
        if option in ("v1", "v2"):
            values["c2b_register_version"] = option
        elif kind in KINDS and (not till or kind == "till"):
            values["kind"] = kind
            if till:
                values["till_number"] = till
        else:
            known = "paybill, till, till=NUMBER, both, v1, v2"
            raise ValueError(f"unknown option {option!r} (known: {known})")
    return merchant_from_mapping(values)
