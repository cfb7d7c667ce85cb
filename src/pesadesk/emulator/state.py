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
from datetime import UTC, datetime
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from pesadesk.core.clock import EAT, Clock, SystemClock
from pesadesk.daraja.credentials import (
    certificate_pem,
    decrypt_security_credential,
    generate_self_signed,
)
from pesadesk.emulator.config import (
    DEFAULT_INITIATOR_PASSWORD,
    SANDBOX_PASSKEY,
    EmulatorConfig,
    Merchant,
)
from pesadesk.emulator.records import (
    Account,
    B2CTransaction,
    C2BRegistration,
    Delivery,
    QrCode,
    Receipt,
    StkTransaction,
)
from pesadesk.emulator.scenarios import Scenario, scenario_for_phone

# The names below were defined here before the split; code and tests import them from here.
__all__ = [
    "DEFAULT_INITIATOR_PASSWORD",
    "SANDBOX_PASSKEY",
    "Account",
    "B2CTransaction",
    "C2BRegistration",
    "Delivery",
    "EmulatorConfig",
    "EmulatorState",
    "Merchant",
    "Receipt",
    "StkTransaction",
]

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
            for shortcode in cfg.shortcodes():
                self.accounts[shortcode] = Account(
                    working=cfg.working_cents, utility=cfg.utility_cents
                )
            # Added by `POST /emulator/merchants`; forgotten here, unlike the configured ones.
            self.added_merchants: dict[str, Merchant] = {}
            self.qr_codes: dict[str, QrCode] = {}
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

    # --- merchants (STK/C2B shortcodes) ---------------------------------------------------------

    def merchant(self, shortcode: str) -> Merchant | None:
        """The shortcode's STK/C2B set-up: added at run time, else configured, else None."""
        with self.lock:
            added = self.added_merchants.get(shortcode)
        return added or self.config.configured_merchants().get(shortcode)

    def merchants(self) -> dict[str, Merchant]:
        with self.lock:
            return {**self.config.configured_merchants(), **self.added_merchants}

    def add_merchant(self, merchant: Merchant) -> None:
        """Serve one more shortcode (with its accounts) until the next reset."""
        with self.lock:
            self.added_merchants[merchant.shortcode] = merchant
            self.accounts.setdefault(
                merchant.shortcode,
                Account(working=self.config.working_cents, utility=self.config.utility_cents),
            )

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

    def account_for(self, shortcode: str) -> Account:
        """The shortcode's accounts, opened empty if it had none (money arriving there)."""
        with self.lock:
            return self.accounts.setdefault(
                shortcode, Account(working=0, utility=0, charges_paid=0)
            )

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

    def new_checkout_request_id(self, phone: str) -> str:
        """`ws_CO_` + Nairobi time `DDMMYYYYHHmmss` + three digits + the phone's tail."""
        stamp = self.now().astimezone(EAT)
        return self._unique(
            lambda: f"ws_CO_{stamp:%d%m%Y%H%M%S}{secrets.randbelow(1000):03d}{phone[3:]}"
        )

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
                "merchants": {k: merchant_summary(m) for k, m in self.merchants().items()},
                "stk": {k: stk_summary(t) for k, t in self.stk.items()},
                "b2c": {k: b2c_summary(t) for k, t in self.b2c.items()},
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
                "qr_codes": {k: q.text for k, q in self.qr_codes.items()},
                "deliveries": len(self.deliveries),
            }


def merchant_summary(merchant: Merchant) -> dict[str, Any]:
    """A shortcode's set-up, its passkey left out."""
    return {
        "kind": merchant.kind,
        "till_number": merchant.till_number,
        "c2b_register_version": merchant.c2b_register_version,
    }


def stk_summary(txn: StkTransaction) -> dict[str, Any]:
    return {
        "shortcode": txn.shortcode,
        "phone": txn.phone,
        "amount_cents": txn.amount_cents,
        "result_code": txn.result_code,
        "receipt": txn.receipt,
        "scenario": txn.scenario.name,
    }


def b2c_summary(txn: B2CTransaction) -> dict[str, Any]:
    return {
        "phone": txn.phone,
        "amount_cents": txn.amount_cents,
        "result_code": txn.result_code,
        "transaction_id": txn.transaction_id,
        "conversation_id": txn.conversation_id,
    }
