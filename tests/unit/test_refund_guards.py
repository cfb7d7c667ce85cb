"""Guard rails around money going out: rate limit, sealed secrets."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from pesadesk.secrets import KEY_ENV, SecretKeyError, new_key, seal, unseal


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
