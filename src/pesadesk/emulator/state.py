"""The emulator's memory: tokens, transactions, virtual wallets and shortcode accounts.

Everything is in process and forgotten on restart, like a fresh sandbox. Money is integer
cents. A lock guards every change, because tests read and steer the state from their own
thread while the server runs in another.
"""

from __future__ import annotations

import secrets
import string
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from pesadesk.core.clock import Clock, SystemClock
from pesadesk.daraja.credentials import (
    certificate_pem,
    decrypt_security_credential,
    generate_self_signed,
)
from pesadesk.emulator.scenarios import Scenario, scenario_for_phone

__all__ = [
    "DEFAULT_INITIATOR_PASSWORD",
    "SANDBOX_PASSKEY",
    "EmulatorConfig",
    "EmulatorState",
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
    # STK Push passwords carry a Nairobi timestamp; one from another zone is refused.
    timestamp_tolerance_seconds: float | None = 600.0
    lock_subscriber: bool = False
    stk_balance_item: bool = True  # the valueless `Balance` metadata item of older payloads
    wallet_cents: int = DEFAULT_WALLET_CENTS
    utility_cents: int = DEFAULT_UTILITY_CENTS
    working_cents: int = DEFAULT_WORKING_CENTS
    callback_timeout_seconds: float = 10.0


@dataclass
class Account:
    """A shortcode's accounts, in cents."""

    working: int
    utility: int
    charges_paid: int = 0

    def balance_string(self) -> str:
        """Daraja's `Name|Currency|current|available|reserved|uncleared&...` form."""

        def amount(cents: int) -> str:
            sign = "-" if cents < 0 else ""
            whole, rest = divmod(abs(cents), 100)
            return f"{sign}{whole}.{rest:02d}"

        rows = (
            ("Working Account", self.working),
            ("Utility Account", self.utility),
            ("Charges Paid Account", self.charges_paid),
        )
        return "&".join(f"{name}|KES|{amount(c)}|{amount(c)}|0.00|0.00" for name, c in rows)


@dataclass
class StkTransaction:
    checkout_request_id: str
    merchant_request_id: str
    shortcode: str
    party_b: str
    phone: str
    amount_cents: int
    callback_url: str
    account_reference: str
    transaction_type: str
    scenario: Scenario
    created_at: datetime
    resolve_at: float  # monotonic
    result_code: str | None = None
    result_desc: str = ""
    query_desc: str = ""
    receipt: str | None = None
    completed_at: datetime | None = None

    @property
    def final(self) -> bool:
        return self.result_code is not None


@dataclass
class Receipt:
    """A money movement M-Pesa knows by receipt number (Transaction Status, Reversal)."""

    receipt: str
    kind: Literal["stk", "c2b", "b2c", "reversal"]
    amount_cents: int
    shortcode: str
    phone: str
    name: str
    at: datetime
    status: str = "Completed"
    originator_conversation_id: str = ""
    conversation_id: str = ""
    reversed: bool = False
    bill_ref: str = ""


@dataclass
class B2CTransaction:
    originator_conversation_id: str
    conversation_id: str
    shortcode: str
    phone: str
    amount_cents: int
    command_id: str
    result_url: str
    timeout_url: str
    occasion: str
    scenario: Scenario
    created_at: datetime
    credential_ok: bool = True
    result_code: str | None = None
    result_desc: str = ""
    transaction_id: str = ""
    completed_at: datetime | None = None


@dataclass(frozen=True)
class C2BRegistration:
    shortcode: str
    confirmation_url: str
    validation_url: str
    response_type: str
    version: str


@dataclass
class Delivery:
    """One callback the emulator sent (or tried to)."""

    kind: str
    url: str
    payload: dict[str, Any]
    at: datetime
    status_code: int | None = None
    response: Any = None
    error: str | None = None


_NAMES: Final = ("JOHN", "MARY", "PETER", "GRACE", "JAMES", "ACHIENG", "WANJIRU", "OTIENO")


class EmulatorState:
    """All the emulator remembers, plus its RSA key pair for SecurityCredentials."""

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        clock: Clock | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        key: tuple[rsa.RSAPrivateKey, x509.Certificate] | None = None,
    ) -> None:
        self.config = config or EmulatorConfig()
        self.clock: Clock = clock or SystemClock()
        self.monotonic = monotonic
        self.private_key, self.certificate = key or generate_self_signed()
        self.lock = threading.RLock()
        self.reset()

    # --- lifecycle -------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything but the configuration and the key pair."""
        with self.lock:
            cfg = self.config
            # Work scheduled before a reset checks this and stands down.
            self.generation: int = getattr(self, "generation", 0) + 1
            self.tokens: dict[str, float] = {}
            self.oauth_calls = 0
            self.request_counts: Counter[str] = Counter()
            self.outage_remaining = 0
            self.outage_status = 503
            self.phone_overrides: dict[str, Scenario] = {}
            self.default_scenario: Scenario | None = None
            self.stk: dict[str, StkTransaction] = {}
            self.b2c: dict[str, B2CTransaction] = {}
            self.b2c_by_conversation: dict[str, str] = {}
            self.receipts: dict[str, Receipt] = {}
            self.c2b_registrations: dict[str, C2BRegistration] = {}
            self.pull_registrations: dict[str, str] = {}
            self.wallets: dict[str, int] = {}
            self.accounts: dict[str, Account] = {}
            for shortcode in {cfg.stk_shortcode, cfg.b2c_shortcode, *cfg.c2b_shortcodes}:
                self.accounts[shortcode] = Account(
                    working=cfg.working_cents, utility=cfg.utility_cents
                )
            self.deliveries: list[Delivery] = []
            self.used_ids: set[str] = set()

    @property
    def certificate_pem(self) -> bytes:
        return certificate_pem(self.certificate)

    def now(self) -> datetime:
        return self.clock.now().astimezone(UTC)

    # --- tokens ------------------------------------------------------------------------------

    def issue_token(self) -> str:
        with self.lock:
            self.oauth_calls += 1
            token = self._unique(lambda: secrets.token_urlsafe(21)[:28])
            self.tokens[token] = self.monotonic() + self.config.token_ttl_seconds
            return token

    def token_valid(self, token: str) -> bool:
        with self.lock:
            expiry = self.tokens.get(token)
            return expiry is not None and self.monotonic() < expiry

    def expire_tokens(self) -> None:
        """Make every issued token invalid, as if an hour had passed."""
        with self.lock:
            self.tokens.clear()

    # --- scenarios ------------------------------------------------------------------------------

    def scenario_for(self, phone: str) -> Scenario:
        with self.lock:
            return scenario_for_phone(
                phone, overrides=self.phone_overrides, default=self.default_scenario
            )

    def set_scenario(self, scenario: Scenario, phone: str | None = None) -> None:
        """For one phone number, or (phone None) for every number not in the table."""
        with self.lock:
            if phone is None:
                self.default_scenario = scenario
            else:
                self.phone_overrides[phone] = scenario

    def clear_scenarios(self) -> None:
        with self.lock:
            self.phone_overrides.clear()
            self.default_scenario = None
            self.outage_remaining = 0

    def start_outage(self, requests: int, status: int = 503) -> None:
        """Answer the next `requests` API calls with a 5xx, as when Daraja is down."""
        with self.lock:
            self.outage_remaining = requests
            self.outage_status = status

    def take_outage(self) -> int | None:
        """The status to fail this request with, or None when Daraja is up."""
        with self.lock:
            if self.outage_remaining <= 0:
                return None
            self.outage_remaining -= 1
            return self.outage_status

    # --- money -----------------------------------------------------------------------------

    def wallet(self, phone: str) -> int:
        with self.lock:
            return self.wallets.setdefault(phone, self.config.wallet_cents)

    def set_wallet(self, phone: str, cents: int) -> None:
        with self.lock:
            self.wallets[phone] = cents

    def account(self, shortcode: str) -> Account | None:
        with self.lock:
            return self.accounts.get(shortcode)

    def set_utility(self, shortcode: str, cents: int) -> None:
        with self.lock:
            account = self.accounts.setdefault(
                shortcode, Account(working=self.config.working_cents, utility=cents)
            )
            account.utility = cents

    def check_credential(self, initiator: str, credential: str) -> bool:
        """True when the initiator is ours and the credential decrypts to its password."""
        if initiator != self.config.initiator_name:
            return False
        password = decrypt_security_credential(credential, self.private_key)
        return password is not None and secrets.compare_digest(
            password, self.config.initiator_password
        )

    # --- ids ---------------------------------------------------------------------------------

    def _unique(self, make: Callable[[], str]) -> str:
        with self.lock:
            while True:
                value = make()
                if value not in self.used_ids:
                    self.used_ids.add(value)
                    return value

    def new_receipt(self) -> str:
        """`SAF1B2C3D4`-like: a year letter (2024 = S) and nine letters or digits."""
        year_letter = chr(ord("A") + (self.now().year - 2006) % 26)
        alphabet = string.ascii_uppercase + string.digits
        return self._unique(
            lambda: year_letter + "".join(secrets.choice(alphabet) for _ in range(9))
        )

    def new_request_id(self) -> str:
        return self._unique(
            lambda: (
                f"{secrets.token_hex(2)}-{secrets.token_hex(2)}-{secrets.token_hex(2)}"
                f"-{secrets.token_hex(6)}{secrets.randbelow(10**7)}"
            )
        )

    def new_originator_id(self) -> str:
        return self._unique(
            lambda: f"{secrets.randbelow(90000) + 10000}-{secrets.randbelow(10**8)}-1"
        )

    def new_conversation_id(self) -> str:
        day = self.now().strftime("%Y%m%d")
        return self._unique(lambda: f"AG_{day}_{secrets.token_hex(10)}")

    def customer_name(self, phone: str) -> str:
        digits = sum(int(c) for c in phone if c.isdigit())
        return _NAMES[digits % len(_NAMES)]

    # --- lookups -------------------------------------------------------------------------------

    def record_receipt(self, receipt: Receipt) -> None:
        with self.lock:
            self.receipts[receipt.receipt] = receipt

    def received_by(self, shortcode: str, start: datetime, end: datetime) -> list[Receipt]:
        """Payments into `shortcode` between `start` and `end` (Pull Transactions)."""
        with self.lock:
            return sorted(
                (
                    r
                    for r in self.receipts.values()
                    if r.kind in ("stk", "c2b")
                    and r.shortcode == shortcode
                    and start <= r.at <= end
                ),
                key=lambda r: r.at,
            )

    def record_delivery(self, delivery: Delivery) -> None:
        with self.lock:
            self.deliveries.append(delivery)

    def deliveries_to(self, url_part: str = "") -> list[Delivery]:
        with self.lock:
            return [d for d in self.deliveries if url_part in d.url]

    def summary(self) -> dict[str, Any]:
        """A JSON-able picture of the state, for `GET /emulator/state`."""
        with self.lock:
            return {
                "oauth_calls": self.oauth_calls,
                "requests": dict(self.request_counts),
                "outage_remaining": self.outage_remaining,
                "default_scenario": self.default_scenario.name if self.default_scenario else None,
                "phone_scenarios": {p: s.name for p, s in self.phone_overrides.items()},
                "stk": {
                    k: {
                        "phone": t.phone,
                        "amount_cents": t.amount_cents,
                        "result_code": t.result_code,
                        "receipt": t.receipt,
                        "scenario": t.scenario.name,
                    }
                    for k, t in self.stk.items()
                },
                "b2c": {
                    k: {
                        "phone": t.phone,
                        "amount_cents": t.amount_cents,
                        "result_code": t.result_code,
                        "transaction_id": t.transaction_id,
                        "conversation_id": t.conversation_id,
                    }
                    for k, t in self.b2c.items()
                },
                "c2b_registrations": {
                    k: {
                        "confirmation_url": r.confirmation_url,
                        "validation_url": r.validation_url,
                        "response_type": r.response_type,
                        "version": r.version,
                    }
                    for k, r in self.c2b_registrations.items()
                },
                "accounts": {
                    k: {
                        "working_cents": a.working,
                        "utility_cents": a.utility,
                        "charges_paid_cents": a.charges_paid,
                    }
                    for k, a in self.accounts.items()
                },
                "wallets": dict(self.wallets),
                "deliveries": len(self.deliveries),
            }
