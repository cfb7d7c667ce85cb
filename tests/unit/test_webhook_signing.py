"""Webhook signatures follow Standard Webhooks, and the webhook retry policy keeps its
promises: three retries within a minute, attempts for at least a day."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from pesadesk.core.retry import WEBHOOK_RETRY, RetryPolicy
from pesadesk.events.signing import headers, new_secret

BODY = '{"id":"evt_1","type":"payment.completed","data":{"amount":500.0}}'


def test_a_new_secret_is_whsec_and_32_random_bytes() -> None:
    """Secrets are `whsec_` + base64 of 32 bytes, and no two are alike."""
    first, second = new_secret(), new_secret()
    assert first.startswith("whsec_")
    assert first != second
    assert len(base64.b64decode(first.removeprefix("whsec_"))) == 32


def test_the_package_verifies_what_pesadesk_signs() -> None:
    """The `standardwebhooks` package accepts pesadesk's headers and returns the body."""
    secret = new_secret()
    signed = headers(secret, msg_id="evt_1", at=datetime.now(UTC), body=BODY)
    assert Webhook(secret).verify(BODY, signed)["id"] == "evt_1"


def test_the_signature_is_the_spec_hmac_over_id_timestamp_body() -> None:
    """v1 = base64 HMAC-SHA256 of `id.timestamp.body`, keyed with the decoded secret."""
    secret = new_secret()
    at = datetime(2026, 2, 6, 9, 0, 5, tzinfo=UTC)
    signed = headers(secret, msg_id="evt_abc", at=at, body=BODY)
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"evt_abc.{int(at.timestamp())}.{BODY}".encode(), hashlib.sha256)
    assert signed["webhook-timestamp"] == str(int(at.timestamp()))
    assert signed["webhook-signature"] == "v1," + base64.b64encode(mac.digest()).decode()


def test_a_wrong_secret_or_an_edited_body_fails_verification() -> None:
    """Another endpoint's secret, or a body changed on the way, does not verify."""
    signed = headers(new_secret(), msg_id="evt_1", at=datetime.now(UTC), body=BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, signed)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY.replace("500.0", "5000.0"), signed)


def _schedule(policy: RetryPolicy, jitter: float) -> list[timedelta]:
    """The times of every retry after the first try, with jitter pinned."""
    rng = random.Random()
    rng.random = lambda: jitter  # type: ignore[method-assign]
    at, times, attempt = timedelta(0), [], 1
    while not policy.gives_up(attempt, at):
        at += policy.delay(attempt, rng)
        times.append(at)
        attempt += 1
    return times


@pytest.mark.parametrize("jitter", [0.0, 0.5, 0.999])
def test_webhook_retries_three_within_a_minute_and_go_on_past_a_day(jitter: float) -> None:
    """Whatever the jitter: retries 1-3 come within 60 s, the last after 72 h, none
    more than an hour apart, and far fewer than a thousand of them."""
    times = _schedule(WEBHOOK_RETRY, jitter)
    assert times[2] <= timedelta(seconds=60)
    assert times[0] >= timedelta(seconds=2)
    assert times[-1] >= timedelta(hours=72)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert max(gaps) <= timedelta(hours=1)
    assert len(times) < 200
