"""Which failed money requests surely did not move money (and may be released)."""

from __future__ import annotations

import pytest

from pesadesk.daraja.errors import (
    DarajaAuthError,
    DarajaError,
    DarajaOutcomeUnknown,
    DarajaProductMismatch,
    DarajaRejected,
    DarajaRequestInvalid,
    DarajaServerError,
    DarajaUnavailable,
    DuplicateOriginatorConversationID,
    never_sent,
)


@pytest.mark.parametrize(
    ("error", "sure"),
    [
        (DarajaRequestInvalid("Remarks too short"), True),
        (DarajaAuthError("bad consumer key"), True),
        (DarajaRejected("Invalid Amount", http_status=400), True),
        (DarajaProductMismatch("no apiproduct match found", http_status=401), True),
        (DarajaUnavailable("connection refused"), True),
        (DarajaOutcomeUnknown("read timeout after sending"), False),
        (DarajaServerError("Bad Gateway", http_status=502), False),
        (DuplicateOriginatorConversationID("already sent", http_status=500), False),
        (DarajaError("unreadable answer", http_status=200), False),
        (DarajaUnavailable("gateway timeout", http_status=504), False),
    ],
)
def test_only_sure_refusals_count_as_never_sent(error: DarajaError, sure: bool) -> None:
    """A 4xx, our own checks or no connection: not sent. A 5xx, a timeout or an unreadable
    answer: maybe sent, so it is asked about and never sent again."""
    assert never_sent(error) is sure
