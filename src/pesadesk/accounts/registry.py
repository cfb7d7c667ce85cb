"""The collection accounts of a desk (CONTRACT §9): the wave-1 keys (`payments.mpesa`,
`payments.c2b`, `payments.b2c`) as the account named `default`, then every entry of
`payments.accounts`. Each account is a shortcode (a paybill, or a till with its store
number) with its own credentials, so its own Daraja clients and token caches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from pesadesk.accounts.daraja import b2c_config, c2b_config, stk_config
from pesadesk.config import AccountSettings, B2CSettings, Settings
from pesadesk.core.errors import InvalidInput
from pesadesk.daraja.client import DarajaConfig
from pesadesk.secrets import unseal

DEFAULT = "default"


class UnknownAccount(InvalidInput):
    """Raised when no collection account has that name."""

    code = "unknown_account"


@dataclass(frozen=True)
class CollectionAccount:
    name: str
    shortcode: str  # where C2B money arrives (the paybill, or the till's store number)
    kind: Literal["paybill", "till"]
    till_number: str | None
    register_version: Literal["v2", "v1"]
    stk: DarajaConfig  # STK Push and Query
    c2b: DarajaConfig  # C2B register, simulate, Pull Transactions, Dynamic QR
    b2c: DarajaConfig | None  # refunds of its money; None: B2C not configured
    shortcodes: frozenset[str]  # every shortcode of the account (default: STK and C2B)
    sandbox: bool

    @property
    def trx_code(self) -> str:
        """Dynamic QR's TrxCode: BG (buy goods) for a till, PB for a paybill."""
        return "BG" if self.kind == "till" else "PB"

    @property
    def qr_cpi(self) -> str:
        """Dynamic QR's CPI: the till number for a till, the business number otherwise."""
        return (self.till_number or self.shortcode) if self.kind == "till" else self.shortcode


def _default(settings: Settings) -> CollectionAccount:
    mpesa, c2b, b2c = settings.payments.mpesa, settings.payments.c2b, settings.payments.b2c
    till = mpesa.transaction_type == "CustomerBuyGoodsOnline"
    return CollectionAccount(
        name=DEFAULT, shortcode=c2b.shortcode, kind="till" if till else "paybill",
        till_number=mpesa.till_number, register_version="v1", stk=stk_config(settings),
        c2b=c2b_config(settings), b2c=b2c_config(settings) if b2c.configured else None,
        shortcodes=frozenset({mpesa.shortcode, c2b.shortcode}), sandbox=mpesa.sandbox,
    )  # fmt: skip


def _b2c_of(
    settings: Settings, own: B2CSettings | None, base_url: str | None
) -> DarajaConfig | None:
    if own is None:  # the default B2C pays this account's refunds
        return b2c_config(settings) if settings.payments.b2c.configured else None
    if not own.configured:
        return None
    return DarajaConfig(
        consumer_key=own.consumer_key, consumer_secret=own.consumer_secret,
        sandbox=own.sandbox, base_url=own.base_url or base_url, shortcode=own.shortcode,
        initiator_name=own.initiator_name, security_credential=unseal(own.security_credential),
        result_url=own.callback_url, timeout_url=own.timeout_url,
    )  # fmt: skip


def _account(settings: Settings, entry: AccountSettings) -> CollectionAccount:
    mpesa = settings.payments.mpesa
    sandbox = mpesa.sandbox if entry.sandbox is None else entry.sandbox
    base = stk_config(settings)
    till = entry.kind == "till"
    own = {entry.shortcode, *([entry.till_number] if entry.till_number else [])}
    stk = replace(
        base, consumer_key=entry.consumer_key, consumer_secret=entry.consumer_secret,
        sandbox=sandbox, base_url=entry.base_url or mpesa.base_url, shortcode=entry.shortcode,
        passkey=entry.passkey, till_number=entry.till_number,
        transaction_type="CustomerBuyGoodsOnline" if till else "CustomerPayBillOnline",
    )  # fmt: skip
    return CollectionAccount(
        name=entry.name, shortcode=entry.shortcode, kind=entry.kind,
        till_number=entry.till_number, register_version=entry.c2b_register_version,
        stk=stk, c2b=stk, b2c=_b2c_of(settings, entry.b2c, stk.base_url),
        shortcodes=frozenset(own),
        sandbox=sandbox,
    )  # fmt: skip


_BUILT: dict[int, tuple[Settings, tuple[CollectionAccount, ...]]] = {}


def accounts(settings: Settings) -> Sequence[CollectionAccount]:
    """Every account, `default` first (built once per settings object: callbacks ask)."""
    built = _BUILT.get(id(settings))
    if built is None or built[0] is not settings:
        made = (_default(settings), *(_account(settings, a) for a in settings.payments.accounts))
        built = _BUILT[id(settings)] = (settings, made)
    return built[1]


def named(settings: Settings, name: str | None) -> CollectionAccount:
    wanted = name or DEFAULT
    for account in accounts(settings):
        if account.name == wanted:
            return account
    names = ", ".join(a.name for a in accounts(settings))
    raise UnknownAccount(f"no collection account {wanted!r} (there are: {names})")


def owning(settings: Settings, shortcode: str | None) -> CollectionAccount | None:
    """The account a shortcode belongs to; no shortcode at all is the default account's."""
    if not shortcode:
        return accounts(settings)[0]
    for account in accounts(settings):
        if shortcode in account.shortcodes:
            return account
    return None
