"""The Daraja client: typed, async, on httpx, with a transport seam for tests.

One `DarajaClient` per set of credentials, given as a plain `DarajaConfig`: the client
never reads pesadesk's configuration (`pesadesk.accounts.daraja` builds the configs).
It is put together from one mixin per Daraja API (`pesadesk.daraja.apis`) over the
shared plumbing of `pesadesk.daraja.base` (one `_post`, retries, error mapping).

Retries: lookups and registrations are retried with capped exponential backoff on 5xx
answers and network errors. STK Push, B2C and Reversal move money and are sent exactly
once: if no answer comes back the caller gets `DarajaOutcomeUnknown` and must settle it
with STK Query or Transaction Status (CONTRACT §6).
"""

from __future__ import annotations

from pesadesk.daraja.apis.c2b import (
    FORBIDDEN_URL_WORDS,
    C2BApi,
    C2BRegistration,
    C2BVersion,
    check_c2b_url,
)
from pesadesk.daraja.apis.org import OrgApi
from pesadesk.daraja.apis.pull import PULL_TIME_FORMAT, PullApi
from pesadesk.daraja.apis.qr import QR_PATH, QR_TRX_CODES, QrApi
from pesadesk.daraja.apis.stk import (
    ACCOUNT_REFERENCE_MAX,
    TRANSACTION_DESC_MAX,
    StkApi,
    stk_password,
)
from pesadesk.daraja.base import (
    PRODUCTION_URL,
    SANDBOX_URL,
    STK_PUSH_PATH,
    STK_QUERY_PATH,
    DarajaConfig,
)

__all__ = [
    "ACCOUNT_REFERENCE_MAX",
    "FORBIDDEN_URL_WORDS",
    "PRODUCTION_URL",
    "PULL_TIME_FORMAT",
    "QR_PATH",
    "QR_TRX_CODES",
    "SANDBOX_URL",
    "STK_PUSH_PATH",
    "STK_QUERY_PATH",
    "TRANSACTION_DESC_MAX",
    "C2BRegistration",
    "C2BVersion",
    "DarajaClient",
    "DarajaConfig",
    "check_c2b_url",
    "stk_password",
]


class DarajaClient(StkApi, C2BApi, OrgApi, PullApi, QrApi):
    """Async Daraja API client. Use as `async with DarajaClient(config) as daraja:`."""
