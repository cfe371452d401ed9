"""Encryption at rest for Walmart credentials (Fernet, key from ORDERDECK_ENCRYPTION_KEY)."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app


class SecretUnreadable(RuntimeError):
    """A stored secret cannot be decrypted: the encryption key changed."""


def _fernet() -> Fernet:
    return Fernet(current_app.config["ENCRYPTION_KEY"].encode())


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable(
            "the stored client secret cannot be decrypted with ORDERDECK_ENCRYPTION_KEY; "
            "set the key it was saved with, or enter the secret again") from exc
