"""Secrets at rest: Fernet encryption keyed from the secret key, and one-way token hashes."""

from __future__ import annotations

import base64
import hashlib
import secrets

from cryptography.fernet import Fernet, InvalidToken

from core.errors import ConfigError


def _fernet(secret_key: str) -> Fernet:
    digest = hashlib.sha256(secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(secret_key: str, value: str) -> str:
    """Encrypt `value` for storage."""
    return _fernet(secret_key).encrypt(value.encode()).decode()


def decrypt(secret_key: str, token: str) -> str:
    """Decrypt a stored value; a changed secret key is a configuration error, said plainly."""
    try:
        return _fernet(secret_key).decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise ConfigError(
            "a stored secret cannot be decrypted: DOCKYARD_SECRET_KEY changed since it was saved; "
            "restore the previous key"
        ) from error


def new_token(prefix: str = "dy") -> str:
    """A fresh random credential with a recognisable prefix."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def hash_token(token: str) -> str:
    """The stored form of a high-entropy token (SHA-256 hex)."""
    return hashlib.sha256(token.encode()).hexdigest()
