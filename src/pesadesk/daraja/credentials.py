"""SecurityCredential: the initiator password RSA-encrypted for Safaricom (reference §9).

PKCS#1 v1.5 padding with the public key of Safaricom's X.509 certificate, then base64.
Not OAEP, and nothing appended to the password. The emulator uses the same functions
with its own key pair, so a credential made here is one it can decrypt.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from pesadesk.daraja.errors import DarajaConfigError

__all__ = [
    "decrypt_security_credential",
    "encrypt_security_credential",
    "generate_self_signed",
    "load_certificate",
]


def load_certificate(data: bytes) -> x509.Certificate:
    """A PEM or DER certificate; Safaricom ships `.cer` files in either form."""
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError:
        raise DarajaConfigError("not an X.509 certificate (PEM or DER)") from None


def encrypt_security_credential(password: str, certificate: bytes | x509.Certificate) -> str:
    """Base64 of `password` encrypted with the certificate's RSA key (PKCS#1 v1.5)."""
    cert = (
        certificate if isinstance(certificate, x509.Certificate) else load_certificate(certificate)
    )
    public_key = cert.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise DarajaConfigError("the certificate does not hold an RSA public key")
    ciphertext = public_key.encrypt(password.encode("utf-8"), padding.PKCS1v15())
    return base64.b64encode(ciphertext).decode("ascii")


def decrypt_security_credential(credential: str, private_key: rsa.RSAPrivateKey) -> str | None:
    """The password inside `credential`, or None when it was not made with our key."""
    try:
        ciphertext = base64.b64decode(credential, validate=True)
        plain = private_key.decrypt(ciphertext, padding.PKCS1v15())
        return plain.decode("utf-8")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


def generate_self_signed(
    common_name: str = "emulator.pesadesk.local", *, key_size: int = 2048
) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """A fresh RSA key and a self-signed certificate around its public half."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    return key, cert


def certificate_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)
