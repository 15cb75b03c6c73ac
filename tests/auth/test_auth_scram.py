"""SCRAM-SHA-256 server exchange, driven by a client written here from RFC 5802."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable

import pytest

from chatroom.server.auth.passwords import make_scram_verifier, normalize_password
from chatroom.server.auth.scram import (
    ScramChallenge,
    ScramFailure,
    ScramServerExchange,
    ScramSuccess,
)

# RFC 7677 section 3.
RFC_SALT = base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ==")
RFC_CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO"
RFC_SERVER_NONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
RFC_SERVER_FIRST = (
    b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
)
RFC_CLIENT_FINAL = (
    b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
)
RFC_SERVER_FINAL = b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

USERS = {"user": make_scram_verifier("pencil", 4096, RFC_SALT)}


def exchange(secret: bytes = b"s" * 32) -> ScramServerExchange:
    return ScramServerExchange(USERS.get, lambda: RFC_SERVER_NONCE, secret=secret)


class Client:
    """The client half of RFC 5802, independent of the server code under test."""

    def __init__(self, username: str, password: str, gs2: str = "n,,") -> None:
        self.password = password
        self.gs2 = gs2
        self.bare = f"n={username.replace('=', '=3D').replace(',', '=2C')},r={RFC_CLIENT_NONCE}"
        self.server_signature = b""

    def first(self) -> bytes:
        return (self.gs2 + self.bare).encode()

    def final(self, server_first: bytes) -> bytes:
        fields = dict(item.split("=", 1) for item in server_first.decode().split(","))
        salted = hashlib.pbkdf2_hmac(
            "sha256",
            normalize_password(self.password),
            base64.b64decode(fields["s"]),
            int(fields["i"]),
        )
        client_key = hmac.digest(salted, b"Client Key", "sha256")
        stored_key = hashlib.sha256(client_key).digest()
        cbind = base64.b64encode(self.gs2.encode()).decode()
        without_proof = f"c={cbind},r={fields['r']}"
        auth = f"{self.bare},{server_first.decode()},{without_proof}".encode()
        signature = hmac.digest(stored_key, auth, "sha256")
        proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
        server_key = hmac.digest(salted, b"Server Key", "sha256")
        self.server_signature = hmac.digest(server_key, auth, "sha256")
        return f"{without_proof},p={base64.b64encode(proof).decode()}".encode()


def run(
    client: Client, server: ScramServerExchange
) -> ScramChallenge | ScramSuccess | ScramFailure:
    challenge = server.step(client.first())
    assert isinstance(challenge, ScramChallenge)
    return server.step(client.final(challenge.data))


def test_rfc7677_example_exchange() -> None:
    server = exchange()
    challenge = server.step(b"n,,n=user,r=" + RFC_CLIENT_NONCE.encode())
    assert challenge == ScramChallenge(RFC_SERVER_FIRST)
    assert server.step(RFC_CLIENT_FINAL) == ScramSuccess(RFC_SERVER_FINAL, "user")


def test_right_password_succeeds_and_proves_the_server() -> None:
    client = Client("user", "pencil")
    result = run(client, exchange())
    assert isinstance(result, ScramSuccess)
    assert result.username == "user"
    assert result.server_final == b"v=" + base64.b64encode(client.server_signature)


def test_wrong_password_fails() -> None:
    assert run(Client("user", "crayon"), exchange()) == ScramFailure("invalid proof")


def test_unknown_user_looks_exactly_like_a_wrong_password() -> None:
    known = exchange().step(Client("user", "x").first())
    unknown = exchange().step(Client("nobody", "x").first())
    assert isinstance(known, ScramChallenge)
    assert isinstance(unknown, ScramChallenge)
    # Same shape: nonce, 16-byte salt, same iteration count.
    known_fields = dict(f.split("=", 1) for f in known.data.decode().split(","))
    unknown_fields = dict(f.split("=", 1) for f in unknown.data.decode().split(","))
    assert unknown_fields.keys() == known_fields.keys()
    assert unknown_fields["i"] == known_fields["i"]
    assert len(base64.b64decode(unknown_fields["s"])) == 16
    assert run(Client("nobody", "x"), exchange()) == ScramFailure("invalid proof")


def test_unknown_users_salt_is_stable_for_the_same_secret() -> None:
    def salt(server: ScramServerExchange) -> bytes:
        step = server.step(Client("nobody", "x").first())
        assert isinstance(step, ScramChallenge)
        return step.data

    assert salt(exchange(b"a" * 32)) == salt(exchange(b"a" * 32))
    assert salt(exchange(b"a" * 32)) != salt(exchange(b"b" * 32))


def test_corrupt_stored_verifier_behaves_like_unknown_user() -> None:
    server = ScramServerExchange({"user": "garbage"}.get, secret=b"s" * 32)
    assert run(Client("user", "pencil"), server) == ScramFailure("invalid proof")


def test_client_that_could_bind_but_did_not_is_accepted() -> None:
    result = run(Client("user", "pencil", gs2="y,,"), exchange())
    assert isinstance(result, ScramSuccess)


def test_channel_binding_request_is_refused() -> None:
    result = exchange().step(b"p=tls-unique,,n=user,r=abc")
    assert isinstance(result, ScramFailure)
    assert "channel binding" in result.reason


def test_matching_authzid_is_accepted_and_other_is_refused() -> None:
    assert isinstance(run(Client("user", "pencil", gs2="n,a=user,"), exchange()), ScramSuccess)
    refused = exchange().step(b"n,a=admin,n=user,r=abc")
    assert isinstance(refused, ScramFailure)


def test_username_escapes_are_decoded() -> None:
    seen: list[str] = []

    def lookup(name: str) -> str | None:
        seen.append(name)
        return None

    ScramServerExchange(lookup).step(b"n,,n=a=2Cb=3Dc,r=abc")
    assert seen == ["a,b=c"]


def test_changed_cbind_in_final_message_fails() -> None:
    server = exchange()
    client = Client("user", "pencil")
    challenge = server.step(client.first())
    assert isinstance(challenge, ScramChallenge)
    final = client.final(challenge.data).replace(b"c=biws", b"c=eSws")
    assert server.step(final) == ScramFailure("channel binding data does not match")


def test_replayed_nonce_mismatch_fails() -> None:
    server = exchange()
    server.step(Client("user", "pencil").first())
    result = server.step(b"c=biws,r=othernonce,p=AAAA")
    assert result == ScramFailure("nonce does not match")


@pytest.mark.parametrize(
    "message",
    [
        b"",
        b"n,,",
        b"x,,n=user,r=abc",
        b"n,,r=abc,n=user",
        b"n,,n=user",
        b"n,,n=us=er,r=abc",
        b"n,,n=user,r=a,bc",
        b"n,,m=ext,n=user,r=abc",
        b"n,,n=user,r=abc,m=ext",
        b"\xff\xfe",
    ],
)
def test_malformed_client_first_fails_without_raising(message: bytes) -> None:
    assert isinstance(exchange().step(message), ScramFailure)


@pytest.mark.parametrize(
    "final",
    [b"", b"c=biws", b"p=abc", b"c=biws,r=x,p=!!!", b"c=biws,p=abc,r=x"],
)
def test_malformed_client_final_fails_without_raising(final: bytes) -> None:
    server = exchange()
    server.step(Client("user", "pencil").first())
    assert isinstance(server.step(final), ScramFailure)


def test_a_finished_exchange_accepts_nothing_more() -> None:
    server = exchange()
    client = Client("user", "pencil")
    challenge = server.step(client.first())
    assert isinstance(challenge, ScramChallenge)
    assert isinstance(server.step(client.final(challenge.data)), ScramSuccess)
    assert server.step(b"") == ScramFailure("exchange already finished")


def test_default_nonces_are_fresh_and_printable() -> None:
    seen: list[bytes] = []
    for _ in range(3):
        step = ScramServerExchange(USERS.get).step(b"n,,n=user,r=abc")
        assert isinstance(step, ScramChallenge)
        seen.append(step.data)
    assert len(set(seen)) == 3
    assert all(b"," not in s.split(b",")[0] for s in seen)


def test_proof_of_wrong_length_fails() -> None:
    make: Callable[[], ScramServerExchange] = exchange
    server = make()
    server.step(Client("user", "pencil").first())
    nonce = RFC_CLIENT_NONCE + RFC_SERVER_NONCE
    result = server.step(f"c=biws,r={nonce},p=AAAA".encode())
    assert result == ScramFailure("invalid proof")
