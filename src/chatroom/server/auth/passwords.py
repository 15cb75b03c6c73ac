"""Password storage: argon2id hashes for PLAIN/PASS, SCRAM-SHA-256 verifiers for SCRAM.

Both are derived from the same normalized password. Normalization is Unicode NFKC, a
deliberate simplification of SASLprep (RFC 4013, which is NFKC plus mapping and
prohibition tables): it makes the visually identical ways of typing a password (composed
vs. decomposed accents, full-width digits) match, which is what users notice. A client
that applies full SASLprep computes the same bytes for every password made of ordinary
printable characters.

These functions are slow on purpose; the server runs them in worker processes
(``password_workers.py``), never on the loop.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass

import argon2
from argon2.exceptions import Argon2Error, InvalidHashError

__all__ = [
    "SCRAM_MIN_ITERATIONS",
    "Argon2Params",
    "PasswordHasher",
    "ScramVerifier",
    "fast_params_for_tests",
    "make_scram_verifier",
    "normalize_password",
    "parse_scram_verifier",
    "scram_keys",
]

SCRAM_PREFIX = "SCRAM-SHA-256"
SCRAM_MIN_ITERATIONS = 4096  # RFC 7677 section 4
SCRAM_SALT_BYTES = 16


def normalize_password(password: str) -> bytes:
    """The bytes that are hashed: NFKC of the password, UTF-8 encoded."""
    return unicodedata.normalize("NFKC", password).encode("utf-8")


@dataclass(frozen=True, slots=True)
class Argon2Params:
    """Defaults are the OWASP minimum for argon2id: 19 MiB, 2 passes, 1 lane."""

    memory_kib: int = 19456
    time_cost: int = 2
    parallelism: int = 1


def fast_params_for_tests() -> Argon2Params:
    """The cheapest parameters argon2 accepts; never use outside tests."""
    return Argon2Params(memory_kib=8, time_cost=1, parallelism=1)


class PasswordHasher:
    """argon2id hashing whose ``verify`` answers yes or no instead of raising."""

    def __init__(self, params: Argon2Params | None = None) -> None:
        self.params = params or Argon2Params()
        self._hasher = argon2.PasswordHasher(
            time_cost=self.params.time_cost,
            memory_cost=self.params.memory_kib,
            parallelism=self.params.parallelism,
            hash_len=32,
            salt_len=16,
            type=argon2.Type.ID,
        )

    def hash(self, password: str) -> str:
        """A PHC string (``$argon2id$v=19$m=...``) carrying its own salt and parameters."""
        return self._hasher.hash(normalize_password(password))

    def verify(self, password_hash: str, password: str) -> bool:
        """False for a wrong password and for a hash that cannot be parsed."""
        try:
            return self._hasher.verify(password_hash, normalize_password(password))
        except (Argon2Error, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with other parameters (rehash after a good login)."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except (Argon2Error, InvalidHashError, ValueError):
            return True


@dataclass(frozen=True, slots=True)
class ScramVerifier:
    """What the server keeps for SCRAM: enough to check a proof, not to log in as the user."""

    salt: bytes
    iterations: int
    stored_key: bytes
    server_key: bytes

    def serialize(self) -> str:
        """``SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>``, base64 parts."""
        b64 = _b64encode
        return (
            f"{SCRAM_PREFIX}${self.iterations}:{b64(self.salt)}"
            f"${b64(self.stored_key)}:{b64(self.server_key)}"
        )


def scram_keys(salted_password: bytes) -> tuple[bytes, bytes, bytes]:
    """ClientKey, StoredKey and ServerKey from SaltedPassword (RFC 5802 section 3)."""
    client_key = hmac.digest(salted_password, b"Client Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.digest(salted_password, b"Server Key", "sha256")
    return client_key, stored_key, server_key


def make_scram_verifier(
    password: str, iterations: int = SCRAM_MIN_ITERATIONS, salt: bytes | None = None
) -> str:
    """Derive and serialize a SCRAM-SHA-256 verifier for ``password``."""
    if iterations < 1:
        raise ValueError("iterations must be positive")
    salt = secrets.token_bytes(SCRAM_SALT_BYTES) if salt is None else salt
    salted = hashlib.pbkdf2_hmac("sha256", normalize_password(password), salt, iterations)
    _, stored_key, server_key = scram_keys(salted)
    return ScramVerifier(salt, iterations, stored_key, server_key).serialize()


def parse_scram_verifier(text: str) -> ScramVerifier:
    """Inverse of ``ScramVerifier.serialize``; ValueError when ``text`` is not one."""
    try:
        prefix, params, keys = text.split("$")
        iterations_text, salt_text = params.split(":")
        stored_text, server_text = keys.split(":")
        if prefix != SCRAM_PREFIX or not iterations_text.isdigit():
            raise ValueError
        verifier = ScramVerifier(
            salt=_b64decode(salt_text),
            iterations=int(iterations_text),
            stored_key=_b64decode(stored_text),
            server_key=_b64decode(server_text),
        )
    except (ValueError, binascii.Error):
        raise ValueError("not a SCRAM-SHA-256 verifier") from None
    if verifier.iterations < 1 or len(verifier.stored_key) != 32 or len(verifier.server_key) != 32:
        raise ValueError("not a SCRAM-SHA-256 verifier")
    return verifier


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)
