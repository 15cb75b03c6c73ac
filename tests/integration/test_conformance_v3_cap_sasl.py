"""IRCv3 capability negotiation and SASL, checked over TCP the way the irctest suite
(which Ergo and InspIRCd run) and the specs at ircv3.net describe them."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatroom import admin
from chatroom.server.auth.passwords import Argon2Params, PasswordHasher
from chatroom.server.store.factory import open_store
from tests.integration.conformance_v3_support import (
    Peers,
    accounts_config,
    commands,
    only,
    plain_blob,
)
from tests.integration.moderation_support import PASSWORD
from tests.realserver import ServerThread

EXACT_PASSWORD = "bar" * 97  # "big\0big\0" + this is 299 bytes: 400 in base64
LONG_PASSWORD = "bar" * 100


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    config = accounts_config(tmp_path, "jilles", "foo")
    store = open_store(config.store)
    hasher = PasswordHasher(Argon2Params(*config.argon2))
    admin.create_account(store, hasher, "big", EXACT_PASSWORD)
    admin.create_account(store, hasher, "large", LONG_PASSWORD)
    store.close()
    running = ServerThread(config).start()
    yield running
    running.stop()


@pytest.fixture
def peers(server: ServerThread) -> Iterator[Peers]:
    made = Peers(server)
    yield made
    made.close()


def _ls(peers: Peers, version: str = "") -> list[str]:
    peer = peers.raw()
    replies = peer.ask(f"CAP LS {version}".strip())
    return [m.params[-1] for m in replies if m.command == "CAP"]


def test_cap_ls_without_version_is_one_line_with_no_values(peers: Peers) -> None:
    lines = _ls(peers)
    assert len(lines) == 1
    assert "sasl" in lines[0].split()
    assert "=" not in lines[0]


def test_cap_ls_302_gives_values_and_marks_continuation_lines(peers: Peers) -> None:
    peer = peers.raw()
    replies = only(peer.ask("CAP LS 302"), "CAP")
    *first, last = replies
    assert all(m.params[2] == "*" for m in first)
    assert last.params[2] != "*"
    offered = " ".join(m.params[-1] for m in replies).split()
    assert "sasl=PLAIN,EXTERNAL,SCRAM-SHA-256" in offered
    assert any(cap.startswith("draft/multiline=max-bytes=") for cap in offered)


def test_cap_list_before_anything_is_an_empty_parameter(peers: Peers) -> None:
    (reply,) = only(peers.raw().ask("CAP LIST"), "CAP")
    assert reply.params == ["*", "LIST", ""]


def test_unknown_caps_are_naked_whole_and_verbatim_and_registration_waits_for_cap_end(
    peers: Peers,
) -> None:
    peer = peers.raw("foo")
    replies = peer.ask("CAP LS 302", "USER u 0 * :r", "NICK nakker", "CAP REQ :foo qux bar")
    assert only(replies, "CAP")[-1].params[1:] == ["NAK", "foo qux bar"]
    assert "001" not in commands(replies)
    replies = peer.ask("CAP REQ :foo multi-prefix bar", "CAP REQ :multi-prefix")
    assert [m.params[1:] for m in only(replies, "CAP")] == [
        ["NAK", "foo multi-prefix bar"],
        ["ACK", "multi-prefix"],
    ]
    assert "001" in commands(peer.ask("CAP END"))


def test_a_cap_can_be_removed_with_a_minus_and_cap_list_follows(peers: Peers) -> None:
    peer = peers.connect("remover", "echo-message", "server-time")
    other = peers.connect("sender")
    # cap-notify is implied by CAP LS 302 (irctest leaves it out of the comparison too)
    assert set(only(peer.ask("CAP LIST"), "CAP")[0].params[-1].split()) - {"cap-notify"} == {
        "echo-message",
        "server-time",
    }
    other.ask("PRIVMSG remover :hi")
    assert "time" in only(peer.sync(), "PRIVMSG")[0].tags
    assert only(peer.ask("CAP REQ :-server-time"), "CAP")[0].params[1:] == ["ACK", "-server-time"]
    listed = set(only(peer.ask("CAP LIST"), "CAP")[0].params[-1].split())
    assert listed - {"cap-notify"} == {"echo-message"}
    other.ask("PRIVMSG remover :again")
    assert "time" not in only(peer.sync(), "PRIVMSG")[0].tags


def test_an_unknown_cap_subcommand_gets_410(peers: Peers) -> None:
    peer = peers.connect("subcmd")
    (reply,) = peer.ask("CAP FROB")
    assert reply.command == "410"
    assert reply.params[1] == "FROB"


def test_sasl_plain_logs_in_with_900_then_903(peers: Peers) -> None:
    peer = peers.raw("p")
    peer.ask("CAP LS 302", "CAP REQ sasl")
    assert peer.ask("AUTHENTICATE PLAIN")[0].raw.endswith("AUTHENTICATE +")
    replies = peer.ask(f"AUTHENTICATE {plain_blob('jilles', authzid='jilles')}")
    assert commands(replies) == ["900", "903"]
    assert replies[0].params[2] == "jilles"


def test_sasl_plain_without_authzid_and_with_a_non_ascii_password(
    peers: Peers, server: ServerThread
) -> None:
    peer = peers.raw("p")
    peer.ask("CAP LS 302", "CAP REQ sasl", "AUTHENTICATE PLAIN")
    assert commands(peer.ask(f"AUTHENTICATE {plain_blob('foo')}")) == ["900", "903"]
    # a wrong (non-ASCII) password is a plain failure, not a crash
    other = peers.raw("q")
    other.ask("CAP LS 302", "CAP REQ sasl", "AUTHENTICATE PLAIN")
    assert commands(other.ask(f"AUTHENTICATE {plain_blob('foo', 'é' * 100)}")) == ["904"]


def test_sasl_plain_of_exactly_400_bytes_is_ended_with_a_plus_line(peers: Peers) -> None:
    peer = peers.raw("p")
    peer.ask("CAP LS 302", "CAP REQ sasl", "AUTHENTICATE PLAIN")
    blob = plain_blob("big", EXACT_PASSWORD, authzid="big")
    assert len(blob) == 400
    peer.send(f"AUTHENTICATE {blob}")
    assert peer.sync() == []  # a 400-byte chunk says more is coming
    assert commands(peer.ask("AUTHENTICATE +")) == ["900", "903"]


def test_sasl_plain_over_two_chunks_logs_in(peers: Peers) -> None:
    peer = peers.raw("p")
    peer.ask("CAP LS 302", "CAP REQ sasl", "AUTHENTICATE PLAIN")
    blob = plain_blob("large", LONG_PASSWORD, authzid="large")
    assert 400 < len(blob) < 800
    peer.send(f"AUTHENTICATE {blob[:400]}")
    assert peer.sync() == []
    assert commands(peer.ask(f"AUTHENTICATE {blob[400:]}")) == ["900", "903"]


def test_sasl_failures_abort_and_too_long_get_their_numerics(peers: Peers) -> None:
    peer = peers.raw("p")
    peer.ask("CAP LS 302", "CAP REQ sasl")
    assert commands(peer.ask("AUTHENTICATE FOO")) == ["908", "904"]
    peer.ask("AUTHENTICATE PLAIN")
    assert commands(peer.ask(f"AUTHENTICATE {plain_blob('jilles', 'millet-millet')}")) == ["904"]
    peer.ask("AUTHENTICATE PLAIN")
    assert commands(peer.ask("AUTHENTICATE *")) == ["906"]
    peer.ask("AUTHENTICATE PLAIN")
    assert commands(peer.ask("AUTHENTICATE " + "A" * 401)) == ["905"]
    assert "001" in commands(peer.ask("NICK p", "USER p 0 * :p", "CAP END"))


def test_sasl_after_registration_logs_a_guest_in(peers: Peers) -> None:
    peer = peers.connect("later", "sasl")
    assert peer.ask("AUTHENTICATE PLAIN")[0].raw.endswith("AUTHENTICATE +")
    assert commands(peer.ask(f"AUTHENTICATE {plain_blob('jilles')}")) == ["900", "903"]


def test_a_second_sasl_login_gets_907_until_the_connection_logs_out(
    peers: Peers,
) -> None:
    """The spec says servers SHOULD allow reauthentication; ChatRoom answers 907
    (irctest accepts this as an optional behaviour not supported)."""
    peer = peers.connect("once", "sasl", account="foo")
    (reply,) = peer.ask("AUTHENTICATE PLAIN")
    assert reply.command == "907"
    assert "901" in commands(peer.ask("NICKSERV LOGOUT"))
    peer.ask("AUTHENTICATE PLAIN")
    (logged_in, _) = peer.ask(f"AUTHENTICATE {plain_blob('jilles')}")
    assert logged_in.params[2] == "jilles"


def test_scram_sha_256_logs_in_and_proves_the_server_knows_the_password(
    peers: Peers,
) -> None:
    import hashlib
    import hmac

    peer = peers.raw("s")
    peer.ask("CAP LS 302", "CAP REQ sasl")
    assert peer.ask("AUTHENTICATE SCRAM-SHA-256")[0].raw.endswith("AUTHENTICATE +")
    nonce = "rOprNGfwEbeRWgbNEkqO"
    first_bare = f"n=foo,r={nonce}"
    (challenge,) = peer.ask(
        "AUTHENTICATE " + base64.b64encode(f"n,,{first_bare}".encode()).decode()
    )
    server_first = base64.b64decode(challenge.params[-1]).decode()
    fields = dict(item.split("=", 1) for item in server_first.split(","))
    assert fields["r"].startswith(nonce)
    salted = hashlib.pbkdf2_hmac(
        "sha256", PASSWORD.encode(), base64.b64decode(fields["s"]), int(fields["i"])
    )
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    without_proof = f"c=biws,r={fields['r']}"
    auth_message = f"{first_bare},{server_first},{without_proof}".encode()
    signature = hmac.digest(hashlib.sha256(client_key).digest(), auth_message, "sha256")
    proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
    final = f"{without_proof},p={base64.b64encode(proof).decode()}"
    (server_final,) = peer.ask("AUTHENTICATE " + base64.b64encode(final.encode()).decode())
    verifier = base64.b64decode(server_final.params[-1]).decode()
    server_key = hmac.digest(salted, b"Server Key", "sha256")
    expected = hmac.digest(server_key, auth_message, "sha256")
    assert verifier == "v=" + base64.b64encode(expected).decode()
    assert commands(peer.ask("AUTHENTICATE +")) == ["900", "903"]


def test_scram_sha_256_with_a_wrong_password_gets_904(peers: Peers) -> None:
    import hashlib
    import hmac

    peer = peers.raw("s")
    peer.ask("CAP LS 302", "CAP REQ sasl", "AUTHENTICATE SCRAM-SHA-256")
    first_bare = "n=foo,r=abcdefghijklmnop"
    (challenge,) = peer.ask(
        "AUTHENTICATE " + base64.b64encode(f"n,,{first_bare}".encode()).decode()
    )
    server_first = base64.b64decode(challenge.params[-1]).decode()
    fields = dict(item.split("=", 1) for item in server_first.split(","))
    salted = hashlib.pbkdf2_hmac(
        "sha256", b"millet-millet", base64.b64decode(fields["s"]), int(fields["i"])
    )
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    without_proof = f"c=biws,r={fields['r']}"
    auth_message = f"{first_bare},{server_first},{without_proof}".encode()
    signature = hmac.digest(hashlib.sha256(client_key).digest(), auth_message, "sha256")
    proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
    final = f"{without_proof},p={base64.b64encode(proof).decode()}"
    assert commands(peer.ask("AUTHENTICATE " + base64.b64encode(final.encode()).decode())) == [
        "904"
    ]


def test_a_labeled_sasl_plain_login_answers_in_one_labeled_batch(peers: Peers) -> None:
    peer = peers.connect("lab", "sasl", "batch", "labeled-response")
    (plus,) = peer.ask("@label=s1 AUTHENTICATE PLAIN")
    assert plus.tags["label"] == "s1"
    replies = peer.ask(f"@label=s2 AUTHENTICATE {plain_blob('jilles')}")
    assert commands(replies) == ["BATCH", "900", "903", "BATCH"]
    assert replies[0].tags["label"] == "s2"
    ref = replies[0].params[0][1:]
    assert [m.tags.get("batch") for m in replies[1:3]] == [ref, ref]


def test_cap_ls_302_implies_cap_notify_which_cannot_be_turned_off(peers: Peers) -> None:
    peer = peers.connect("notified", "multi-prefix")
    (nak,) = peer.ask("CAP REQ :-cap-notify")
    assert nak.params[1:] == ["NAK", "-cap-notify"]
    assert "cap-notify" in only(peer.ask("CAP LIST"), "CAP")[0].params[-1].split()


def test_sasl_refuses_impersonation_bad_base64_and_external_without_a_certificate(
    peers: Peers,
) -> None:
    peer = peers.raw("p")
    peer.ask("CAP LS 302", "CAP REQ sasl")
    for mechanism, data in [
        ("PLAIN", plain_blob("jilles", authzid="foo")),  # jilles's password, foo's account
        ("PLAIN", "!!!notbase64"),
        ("PLAIN", "="),
        ("EXTERNAL", "+"),  # a plain connection has no client certificate
    ]:
        assert peer.ask(f"AUTHENTICATE {mechanism}")[0].raw.endswith("AUTHENTICATE +")
        assert commands(peer.ask(f"AUTHENTICATE {data}")) == ["904"], (mechanism, data)
    replies = peer.ask("NICK p", "USER p 0 * :p", "CAP END")
    assert "900" not in commands(replies)
    assert only(replies, "001")


def test_account_registration_before_connect_and_its_refusals(peers: Peers) -> None:
    values = " ".join(m.params[-1] for m in peers.raw().ask("CAP LS 302"))
    assert "draft/account-registration=before-connect" in values.split()
    early = peers.raw("bar")
    early.send("CAP LS 302", "CAP REQ draft/account-registration")
    (need_nick,) = only(early.ask("REGISTER * * shivarampassphrase"), "FAIL")
    assert need_nick.params[:3] == ["REGISTER", "NEED_NICK", "*"]
    replies = early.ask("NICK bar", "REGISTER * * shivarampassphrase")
    assert [m.params[:2] for m in only(replies, "REGISTER")] == [["SUCCESS", "bar"]]
    assert "001" not in commands(replies)  # still registering: no USER, no CAP END
    (again,) = only(early.ask("REGISTER * * shivarampassphrase"), "FAIL")
    assert again.params[:2] == ["REGISTER", "ALREADY_AUTHENTICATED"]
    taken = peers.raw("jilles")
    (exists,) = only(taken.ask("NICK jilles", "REGISTER * * shivarampassphrase"), "FAIL")
    assert exists.params[:3] == ["REGISTER", "ACCOUNT_EXISTS", "jilles"]


def test_finishing_registration_mid_sasl_aborts_it_with_906_and_registers_as_a_guest(
    peers: Peers,
) -> None:
    """SASL 3.1: "If the client completes registration ... while the SASL authentication
    is still in progress, the server SHOULD abort it and send a 906 numeric"."""
    peer = peers.raw("midway")
    peer.ask("CAP LS 302", "CAP REQ sasl", "NICK midway", "USER m 0 * :m")
    assert peer.ask("AUTHENTICATE PLAIN")[0].raw.endswith("AUTHENTICATE +")
    burst = peer.ask("CAP END")
    names = commands(burst)
    assert "906" in names
    assert names.index("906") < names.index("001")
    # the exchange is gone: the next AUTHENTICATE starts a new one, not the old one's data
    answer = commands(peer.ask(f"AUTHENTICATE {plain_blob('jilles')}"))
    assert "904" in answer
    assert "900" not in answer
    assert commands(peer.ask("WHOIS midway")).count("330") == 0  # not logged in


def test_an_unknown_cap_subcommand_first_gets_410_and_a_second_ls_still_holds_registration(
    peers: Peers,
) -> None:
    peer = peers.raw("early")
    (invalid,) = peer.ask("CAP NOTACOMMAND")
    assert invalid.command == "410"
    assert invalid.params[:2] == ["*", "NOTACOMMAND"]
    replies = peer.ask("CAP LS 302", "USER foo foo foo :foo", "NICK early", "CAP LS 302")
    assert "001" not in commands(replies)
    assert "001" in commands(peer.ask("CAP END"))
