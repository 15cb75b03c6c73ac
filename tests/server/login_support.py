"""Client sides of the login paths, for core tests: SASL PLAIN, SCRAM-SHA-256, the settings."""

from __future__ import annotations

import base64
import hashlib
import hmac

from chatroom.irc.message import Message
from chatroom.server.core.settings import AccountSettings, CoreSettings, Limits
from chatroom.server.harness import Harness, SimClient


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def settings(**accounts: object) -> CoreSettings:
    """Many connections from one address allowed; ``accounts`` overrides AccountSettings."""
    limits = Limits(connections_per_address=1000, connects_per_address_per_minute=1000)
    return CoreSettings(limits=limits, accounts=AccountSettings(**accounts))  # type: ignore[arg-type]


def unregistered(h: Harness, nick: str = "alice", **kw: object) -> SimClient:
    """A connection that asked for the sasl cap and is held in CAP negotiation."""
    c = h.connect(**kw)  # type: ignore[arg-type]
    c.send("CAP LS 302", "CAP REQ :sasl", f"NICK {nick}", f"USER {nick} 0 * :{nick}")
    c.take()
    return c


def sasl_plain(c: SimClient, account: str, password: str) -> list[Message]:
    c.send("AUTHENTICATE PLAIN")
    return c.cmd("AUTHENTICATE " + b64(f"\0{account}\0{password}".encode()))


def scram_client_final(password: str, client_first_bare: str, server_first: str) -> str:
    """RFC 5802 client side, enough to log in."""
    attrs = dict(part.split("=", 1) for part in server_first.split(","))
    salted = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), base64.b64decode(attrs["s"]), int(attrs["i"])
    )
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()
    without_proof = f"c={b64(b'n,,')},r={attrs['r']}"
    auth = f"{client_first_bare},{server_first},{without_proof}".encode()
    signature = hmac.digest(stored_key, auth, "sha256")
    proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
    return f"{without_proof},p={b64(proof)}"


def scram_first(c: SimClient, account: str) -> tuple[str, list[Message]]:
    """Start SCRAM: (client-first-bare, the server's answer to it)."""
    c.send("AUTHENTICATE SCRAM-SHA-256")
    bare = f"n={account},r=clientnonce123"
    return bare, c.cmd("AUTHENTICATE " + b64(f"n,,{bare}".encode()))


def server_first_of(answer: list[Message]) -> str:
    assert answer[0].command == "AUTHENTICATE", answer
    return base64.b64decode(answer[0].params[0]).decode()


def scram_login(c: SimClient, account: str, password: str) -> list[Message]:
    bare, challenge = scram_first(c, account)
    if challenge[0].command != "AUTHENTICATE":
        return challenge
    server_first = server_first_of(challenge)
    final = c.cmd("AUTHENTICATE " + b64(scram_client_final(password, bare, server_first).encode()))
    if final[0].command != "AUTHENTICATE":
        return final
    return c.cmd("AUTHENTICATE +")
