"""Token encryption at rest (Fernet, AES-128-CBC + HMAC-SHA256) with key rotation.

``SOCIALSYNC_TOKEN_KEYS`` holds one or more keys, comma separated: the first encrypts, every key
decrypts (``cryptography``'s MultiFernet). To rotate: put a new key first, keep the old ones
until ``socialsync keys rotate`` has re-encrypted every stored token.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from socialsync.config import Settings


class TokenKeyError(RuntimeError):
    """No usable encryption key is configured, or a ciphertext matches none of the keys."""


def generate_key() -> str:
    return Fernet.generate_key().decode()


class TokenCipher:
    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise TokenKeyError(
                "SOCIALSYNC_TOKEN_KEYS is not set: generate a key with `socialsync keys generate` "
                "and set it (comma separated to rotate; the first key encrypts)."
            )
        try:
            self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])
        except ValueError as exc:
            raise TokenKeyError(f"SOCIALSYNC_TOKEN_KEYS holds an invalid key: {exc}") from None

    @classmethod
    def from_settings(cls, settings: Settings) -> "TokenCipher":
        return cls([k.get_secret_value() for k in settings.token_keys])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken:
            raise TokenKeyError(
                "A stored token cannot be decrypted with any configured key "
                "(was a key removed from SOCIALSYNC_TOKEN_KEYS too early?)"
            ) from None

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypt under the first (newest) key."""
        try:
            return self._fernet.rotate(ciphertext.encode()).decode()
        except InvalidToken:
            raise TokenKeyError("A stored token cannot be decrypted with any configured key") from None
