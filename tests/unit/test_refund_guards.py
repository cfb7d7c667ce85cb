"""Guard rails around money going out: rate limit, sealed secrets."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from pesadesk.api.problems import problem_of
from pesadesk.api.ratelimit import RateLimiter
from pesadesk.core.errors import RateLimited
from pesadesk.core.statuses import Role
from pesadesk.secrets import KEY_ENV, SecretKeyError, new_key, seal, unseal
from pesadesk.shared.apikeys import Principal


def test_rate_limit_per_key_with_retry_after() -> None:
    """Three a minute: the fourth from one key is refused with Retry-After; another key
    and the next minute are not affected."""
    now = [1000.0]
    limiter = RateLimiter(3, monotonic=lambda: now[0])
    alice, bob = Principal("alice", Role.OPERATOR, 1), Principal("bob", Role.OPERATOR, 2)
    for _ in range(3):
        limiter.check(alice)
    with pytest.raises(RateLimited) as refused:
        limiter.check(alice)
    answer = problem_of(refused.value)
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "60"
    limiter.check(bob)
    now[0] += 61
    limiter.check(alice)


def test_sealed_secret_opens_only_with_its_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """`enc:` values open with $PESADESK_SECRET_KEY; plain ones pass through; a wrong or
    missing key is a clear error that does not show the secret."""
    key = new_key()
    sealed = seal("initiator-credential", key)
    assert sealed.startswith("enc:")
    assert "initiator-credential" not in sealed
    monkeypatch.setenv(KEY_ENV, key)
    opened = unseal(SecretStr(sealed))
    assert opened is not None
    assert opened.get_secret_value() == "initiator-credential"
    assert unseal(SecretStr("plain")) == SecretStr("plain")
    monkeypatch.setenv(KEY_ENV, new_key())
    with pytest.raises(SecretKeyError, match="does not open") as wrong:
        unseal(SecretStr(sealed))
    assert "initiator-credential" not in str(wrong.value)
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(SecretKeyError, match="needs"):
        unseal(SecretStr(sealed))
