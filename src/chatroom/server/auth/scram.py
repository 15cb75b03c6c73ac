"""Server side of SASL SCRAM-SHA-256 (RFC 5802, RFC 7677), pure: bytes in, a step out.

Rules:
- No channel binding: the gs2 header must be ``n,,`` or ``y,,`` (the client could bind
  but thinks we cannot, which is true); ``p=...`` is refused. An authzid other than the
  username is refused too.
- An unknown user is answered with a salt and iteration count from a fake verifier
  derived from a server secret, stable per name, so the server-first message looks the
  same as for a real account and the exchange fails only at the proof, exactly like a
  wrong password: nobody learns which accounts exist.
- After ``ScramSuccess`` the IRC layer sends ``server_final`` and then 903 once the
  client acknowledges with ``+``, as IRCv3 SASL describes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from chatroom.server.auth.passwords import (
    SCRAM_MIN_ITERATIONS,
    ScramVerifier,
    parse_scram_verifier,
)

__all__ = [
    "ScramChallenge",
    "ScramFailure",
    "ScramServerExchange",
    "ScramStep",
    "ScramSuccess",
    "default_nonce",
]

# One secret per process unless the server passes a persistent one; with a per-process
# secret an unknown name's fake salt changes on restart, which a patient prober could see.
_PROCESS_SECRET = secrets.token_bytes(32)

FAILED_PROOF = "invalid proof"


@dataclass(frozen=True, slots=True)
class ScramChallenge:
    """Send ``data`` to the client and feed its answer to ``step`` again."""

    data: bytes


@dataclass(frozen=True, slots=True)
class ScramSuccess:
    """The proof checked out: send ``server_final``; the user is ``username``."""

    server_final: bytes
    username: str


@dataclass(frozen=True, slots=True)
class ScramFailure:
    """The exchange is over and failed; ``reason`` is for logs, not for the client."""

    reason: str


ScramStep = ScramChallenge | ScramSuccess | ScramFailure


def default_nonce() -> str:
    """24 random bytes in base64: printable and free of commas, as the nonce must be."""
    return base64.b64encode(secrets.token_bytes(24)).decode("ascii")


class ScramServerExchange:
    """One SCRAM-SHA-256 authentication attempt; make a new one per ``AUTHENTICATE``."""

    def __init__(
        self,
        lookup: Callable[[str], str | None],
        nonce_factory: Callable[[], str] = default_nonce,
        *,
        secret: bytes | None = None,
        fake_iterations: int = SCRAM_MIN_ITERATIONS,
        fold: Callable[[str], str] = str,
    ) -> None:
        self._lookup = lookup
        # The server's casemapping: ``lookup`` finds ALICE and alice alike, so the fake salt
        # of a name must not change with its case either, or comparing the salts of two
        # spellings would tell an unknown name from an account.
        self._fold = fold
        self._nonce_factory = nonce_factory
        self._secret = _PROCESS_SECRET if secret is None else secret
        # Match what real verifiers use, or the iteration count gives unknown names away.
        self._fake_iterations = fake_iterations
        self._state = "first"
        self._gs2_header = ""
        self._client_first_bare = ""
        self._server_first = ""
        self._nonce = ""
        self._username = ""
        self._verifier: ScramVerifier | None = None

    @property
    def username(self) -> str:
        """The name the client gave in its first message ("" before it), for throttling."""
        return self._username

    def step(self, client_message: bytes) -> ScramStep:
        """Advance with the client's next message."""
        state, self._state = self._state, "done"
        try:
            text = client_message.decode("utf-8")
        except UnicodeDecodeError:
            return ScramFailure("message is not UTF-8")
        if state == "first":
            return self._client_first(text)
        if state == "final":
            return self._client_final(text)
        return ScramFailure("exchange already finished")

    def _client_first(self, text: str) -> ScramStep:
        parts = text.split(",", 2)
        if len(parts) != 3:
            return ScramFailure("malformed client-first message")
        cbind, authzid, bare = parts
        if cbind.startswith("p="):
            return ScramFailure("channel binding is not supported")
        if cbind not in ("n", "y"):
            return ScramFailure("malformed gs2 header")
        attrs = _attributes(bare)
        if attrs is None or attrs[0][0] != "n" or len(attrs) < 2 or attrs[1][0] != "r":
            return ScramFailure("malformed client-first message")
        if any(name == "m" for name, _ in attrs):
            return ScramFailure("unsupported mandatory extension")
        username = _decode_saslname(attrs[0][1])
        client_nonce = attrs[1][1]
        if username is None or not username or not _valid_nonce(client_nonce):
            return ScramFailure("malformed client-first message")
        if authzid:
            requested = _decode_saslname(authzid[2:]) if authzid.startswith("a=") else None
            if requested != username:
                return ScramFailure("authorization identity differs from username")
        self._verifier = self._verifier_for(username)
        self._username = username
        self._gs2_header = f"{cbind},{authzid},"
        self._client_first_bare = bare
        self._nonce = client_nonce + self._nonce_factory()
        salt = base64.b64encode(self._verifier.salt).decode("ascii")
        self._server_first = f"r={self._nonce},s={salt},i={self._verifier.iterations}"
        self._state = "final"
        return ScramChallenge(self._server_first.encode("utf-8"))

    def _client_final(self, text: str) -> ScramStep:
        without_proof, sep, proof_text = text.rpartition(",p=")
        attrs = _attributes(without_proof) if sep else None
        if attrs is None or len(attrs) < 2 or attrs[0][0] != "c" or attrs[1][0] != "r":
            return ScramFailure("malformed client-final message")
        expected_cbind = base64.b64encode(self._gs2_header.encode("utf-8")).decode("ascii")
        if attrs[0][1] != expected_cbind:
            return ScramFailure("channel binding data does not match")
        if attrs[1][1] != self._nonce:
            return ScramFailure("nonce does not match")
        try:
            proof = base64.b64decode(proof_text.encode("ascii"), validate=True)
        except (ValueError, binascii.Error):
            return ScramFailure("malformed proof")
        verifier = self._verifier
        assert verifier is not None
        auth_message = ",".join((self._client_first_bare, self._server_first, without_proof))
        auth_bytes = auth_message.encode("utf-8")
        client_signature = hmac.digest(verifier.stored_key, auth_bytes, "sha256")
        if len(proof) != len(client_signature):
            return ScramFailure(FAILED_PROOF)
        client_key = bytes(a ^ b for a, b in zip(proof, client_signature, strict=True))
        if not hmac.compare_digest(hashlib.sha256(client_key).digest(), verifier.stored_key):
            return ScramFailure(FAILED_PROOF)
        server_signature = hmac.digest(verifier.server_key, auth_bytes, "sha256")
        server_final = b"v=" + base64.b64encode(server_signature)
        return ScramSuccess(server_final, self._username)

    def _verifier_for(self, username: str) -> ScramVerifier:
        stored = self._lookup(username)
        if stored is not None:
            try:
                return parse_scram_verifier(stored)
            except ValueError:
                pass  # a corrupt record must not reveal itself either
        return self._fake_verifier(username)

    def _fake_verifier(self, username: str) -> ScramVerifier:
        """Stable per name and secret, so repeated probes see the same salt every time."""

        key = self._fold(username)

        def derive(label: str) -> bytes:
            return hmac.digest(self._secret, f"{label}\0{key}".encode(), "sha256")

        return ScramVerifier(
            salt=derive("salt")[:16],
            iterations=self._fake_iterations,
            stored_key=derive("stored"),
            server_key=derive("server"),
        )


def _attributes(text: str) -> list[tuple[str, str]] | None:
    """Split ``a=x,b=y`` into pairs; None when any part is not ``letter=value``."""
    pairs: list[tuple[str, str]] = []
    for part in text.split(","):
        if len(part) < 2 or part[1] != "=" or not part[0].isascii() or not part[0].isalpha():
            return None
        pairs.append((part[0], part[2:]))
    return pairs


def _decode_saslname(text: str) -> str | None:
    """Undo the ``=2C``/``=3D`` escaping of ``,`` and ``=``; None for a bad escape."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] != "=":
            out.append(text[i])
            i += 1
            continue
        escape = text[i : i + 3]
        if escape == "=2C":
            out.append(",")
        elif escape == "=3D":
            out.append("=")
        else:
            return None
        i += 3
    return "".join(out)


def _valid_nonce(nonce: str) -> bool:
    return bool(nonce) and all(0x21 <= ord(ch) <= 0x7E and ch != "," for ch in nonce)
