"""The rest of ChatRoom's IRCv3 over TCP: draft/metadata-2, draft/pre-away,
no-implicit-names, UTF8ONLY with standard replies, WHOX and sts, as the irctest suite
and the current specs at ircv3.net describe them."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from chatroom.server.net.tls import ensure_self_signed
from tests.integration.conformance_v3_support import (
    Peer,
    Peers,
    batch_body,
    commands,
    only,
    parse,
    serving,
)
from tests.realserver import ServerThread, make_config

MD = ("draft/metadata-2", "batch")


@pytest.fixture
def peers(tmp_path: Path) -> Iterator[Peers]:
    with serving(make_config(tmp_path)) as made:
        yield made


def _raw_line(peer: Peer, data: bytes) -> list[str]:
    """Send bytes that are not UTF-8 (no client library would), then what came back."""
    peer.sock.sendall(data + b"\r\n")
    return [m.raw for m in peer.sync()]


def test_metadata_get_of_unset_keys_answers_766_for_each_in_order_in_a_batch(
    peers: Peers,
) -> None:
    foo = peers.connect("foo", *MD)
    _, inside, _ = batch_body(foo.ask("METADATA * GET valid_key1 valid_key2"), "metadata")
    assert [(m.command, m.params[:3]) for m in inside] == [
        ("766", ["foo", "foo", "valid_key1"]),
        ("766", ["foo", "foo", "valid_key2"]),
    ]
    _, inside, _ = batch_body(foo.ask("METADATA * LIST"), "metadata")
    assert inside == []


def test_metadata_of_an_invalid_target_is_only_a_fail(peers: Peers) -> None:
    foo = peers.connect("foo", *MD)
    replies = foo.ask("METADATA foobar LIST")
    assert commands(replies) == ["FAIL"]
    assert replies[0].params[:3] == ["METADATA", "INVALID_TARGET", "foobar"]


@pytest.mark.parametrize("set_target", ["*", "foo"])
@pytest.mark.parametrize("get_target", ["*", "foo"])
def test_metadata_set_then_get_on_oneself(peers: Peers, set_target: str, get_target: str) -> None:
    foo = peers.connect("foo", *MD)
    heart = "->\U0001f49c<-"
    (kv,) = foo.ask(f"METADATA {set_target} SET valid_key1 :{heart}")
    assert kv.command == "761"
    assert kv.params[0] == "foo"
    assert kv.params[1] in ("*", "foo")
    assert kv.params[2] == "valid_key1"
    assert kv.params[4] == heart
    _, inside, _ = batch_body(foo.ask(f"METADATA {get_target} GET valid_key1"), "metadata")
    assert [(m.command, m.params[2], m.params[4]) for m in inside] == [("761", "valid_key1", heart)]


def test_metadata_refuses_invalid_utf8_and_a_value_over_the_advertised_limit(
    peers: Peers,
) -> None:
    """The value check's code is the current spec's VALUE_INVALID (irctest's older copy
    of the draft says INVALID_VALUE; UnrealIRCd also answers VALUE_INVALID)."""
    foo = peers.connect("foo", *MD)
    answer = _raw_line(foo, b"METADATA * SET valid_key1 :invalid UTF-8 ->\xc3<-")
    assert [parse(line).params[:2] for line in answer] == [["METADATA", "INVALID_UTF8"]]
    for value in ("abcd" * 120, "\U0001f49c" * 120):
        (fail,) = foo.ask(f"METADATA * SET valid_key1 :{value}")
        assert fail.params[:2] == ["METADATA", "VALUE_INVALID"]
    _, inside, _ = batch_body(foo.ask("METADATA * GET valid_key1"), "metadata")
    assert commands(inside) == ["766"]


def test_metadata_subscriptions_invalid_keys_and_unknown_subcommands(peers: Peers) -> None:
    foo = peers.connect("foo", *MD)
    replies = foo.ask("METADATA * SUB avatar $url website")
    assert [m.params[-1].split() for m in only(replies, "770")] == [["avatar", "website"]]
    assert [m.params[:3] for m in only(replies, "FAIL")] == [["METADATA", "KEY_INVALID", "$url"]]
    _, inside, _ = batch_body(foo.ask("METADATA * SUBS"), "metadata-subs")
    assert {key for m in inside for key in m.params[-1].split()} == {"avatar", "website"}
    assert [m.params[-1] for m in foo.ask("METADATA * UNSUB website")] == ["website"]
    (fail,) = foo.ask("METADATA * FROB")
    assert fail.params[:3] == ["METADATA", "SUBCOMMAND_INVALID", "FROB"]


def test_metadata_changes_reach_subscribed_room_mates(peers: Peers) -> None:
    foo = peers.connect("foo", *MD)
    bar = peers.connect("bar", *MD)
    bar.ask("METADATA * SUB display-name")
    foo.ask("JOIN #meta")
    bar.ask("JOIN #meta")
    foo.sync()
    foo.ask("METADATA * SET display-name :Foo Bar")
    (note,) = only(bar.sync(), "METADATA")
    assert note.params == ["foo", "display-name", "*", "Foo Bar"]


def test_pre_away_marks_a_connection_away_before_the_welcome(peers: Peers) -> None:
    watcher = peers.connect("watcher", "away-notify")
    watcher.ask("JOIN #pre")
    early = peers.raw("early")
    early.send("CAP LS 302", "CAP REQ :draft/pre-away", "AWAY :gone fishing")
    early.send("NICK early", "USER e 0 * :e", "CAP END")
    burst = early.until("376")
    assert "306" in commands(burst)
    early.ask("JOIN #pre")
    assert [(m.nick, m.params) for m in only(watcher.sync(), "AWAY")] == [
        ("early", ["gone fishing"])
    ]
    (whois_away,) = only(watcher.ask("WHOIS early"), "301")
    assert whois_away.params[-1] == "gone fishing"


def test_away_before_the_welcome_without_pre_away_is_not_registered(peers: Peers) -> None:
    early = peers.raw("early")
    early.send("AWAY :gone fishing", "NICK early", "USER e 0 * :e")
    burst = early.until("376")
    assert "306" not in commands(burst)
    assert only(early.ask("WHOIS early"), "301") == []


def test_no_implicit_names_leaves_names_out_of_join_but_names_still_answers(
    peers: Peers,
) -> None:
    for cap in ("no-implicit-names", "draft/no-implicit-names"):
        peer = peers.connect(cap.replace("/", "-")[:12], cap)
        replies = peer.ask("JOIN #nin")
        assert "JOIN" in commands(replies)
        assert not {"353", "366"} & set(commands(replies))
        assert {"353", "366"} <= set(commands(peer.ask("NAMES #nin")))


def test_utf8only_refuses_invalid_text_with_a_labeled_standard_reply(peers: Peers) -> None:
    isupport = peers.raw("iso")
    isupport.send("NICK iso", "USER i 0 * :i")
    tokens = {t for m in isupport.until("376") if m.command == "005" for t in m.params}
    assert "UTF8ONLY" in tokens
    bar = peers.connect("bar", "batch", "echo-message", "labeled-response")
    other = peers.connect("other")
    bar.ask("JOIN #qux")
    (fail,) = [parse(line) for line in _raw_line(bar, b"@label=xyz PRIVMSG #qux hi\xaa")]
    assert fail.command == "FAIL"
    assert fail.params[:2] == ["PRIVMSG", "INVALID_UTF8"]
    assert fail.tags["label"] == "xyz"
    assert [parse(line).params[:2] for line in _raw_line(bar, b"PRIVMSG other hi\xaa")] == [
        ["PRIVMSG", "INVALID_UTF8"]
    ]
    assert other.sync() == []


def test_whox_answers_the_asked_fields_in_the_spec_order_with_the_token(peers: Peers) -> None:
    me = peers.connect("me")
    me.ask("JOIN #whox")
    (row,) = only(me.ask("WHO #whox %tcuhnfar,42"), "354")
    assert row.params == ["me", "42", "#whox", "~me", "127.0.0.1", "me", "H@", "0", "me real"]
    (nick_only,) = only(me.ask("WHO me %n"), "354")
    assert nick_only.params == ["me", "me"]
    other = peers.connect("other")
    for fields in ("%tcuihsnfdlaor,123", "%roaldfnshiuct,123"):
        (full,) = only(other.ask(f"WHO me {fields}"), "354")
        # token, channel, user, ip (hidden), host, server, nick, flags, hops, idle,
        # account (0: none), op level, realname: always in that order
        assert full.params[:2] == ["other", "123"]
        assert full.params[2] in ("#whox", "*")  # a channel the user is in, or none
        assert full.params[3] == "~me"
        assert full.params[7] == "me"
        assert full.params[8] in ("H", "H@")  # with the prefix in the channel named
        assert full.params[10].isdigit()
        assert full.params[11] == "0"
        assert full.params[13] == "me real"


def test_sts_is_advertised_only_with_an_operators_certificate(tmp_path: Path) -> None:
    cert, key = ensure_self_signed(tmp_path / "cert", "chat.example")
    config = make_config(tmp_path)
    config = replace(config, tls=replace(config.tls, port=0, cert=cert, key=key))
    server = ServerThread(config).start()
    try:
        plain = Peer(server.port)
        offered = " ".join(m.params[-1] for m in plain.ask("CAP LS 302") if m.command == "CAP")
        (sts,) = [cap for cap in offered.split() if cap.startswith("sts")]
        assert sts.startswith(f"sts=port={server.tls_port},duration=")
        assert only(plain.ask("CAP REQ sts"), "CAP")[0].params[1] == "NAK"
        plain.close()

        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        secure = Peer(server.tls_port, "tls", tls=context)
        offered = " ".join(m.params[-1] for m in secure.ask("CAP LS 302") if m.command == "CAP")
        (sts,) = [cap for cap in offered.split() if cap.startswith("sts")]
        assert sts.startswith("sts=duration=")
        secure.close()
    finally:
        server.stop()


def test_no_sts_without_a_configured_certificate(peers: Peers) -> None:
    offered = " ".join(m.params[-1] for m in peers.raw().ask("CAP LS 302"))
    assert not [cap for cap in offered.split() if cap.startswith("sts")]


def test_metadata_limits_are_the_advertised_ones_and_others_metadata_is_read_only(
    peers: Peers,
) -> None:
    offered = " ".join(m.params[-1] for m in peers.raw().ask("CAP LS 302"))
    value = next(c for c in offered.split() if c.startswith("draft/metadata-2="))
    limits = dict(t.split("=") for t in value.split("=", 1)[1].split(",") if "=" in t)
    max_keys, max_subs = int(limits["max-keys"]), int(limits["max-subs"])
    mk1 = peers.connect("mk1", *MD)
    replies = mk1.ask(*[f"METADATA * SET k{i} :v" for i in range(max_keys + 1)])
    assert len(only(replies, "761")) == max_keys
    assert [m.params[:3] for m in only(replies, "FAIL")] == [["METADATA", "LIMIT_REACHED", "mk1"]]
    keys = [f"s{i}" for i in range(max_subs + 1)]
    replies = mk1.ask(f"METADATA * SUB {' '.join(keys)}")
    assert [m.params[:3] for m in only(replies, "FAIL")] == [
        ["METADATA", "TOO_MANY_SUBS", keys[-1]]
    ]
    assert {k for m in only(replies, "770") for k in m.params[-1].split()} == set(keys[:-1])

    mk2 = peers.connect("mk2", *MD)
    _, inside, _ = batch_body(mk2.ask("METADATA mk1 GET k0"), "metadata")
    assert [(m.command, m.params[1:5]) for m in inside] == [("761", ["mk1", "k0", "*", "v"])]
    (fail,) = mk2.ask("METADATA mk1 SET k0 :hack")
    assert fail.params[:4] == ["METADATA", "KEY_NO_PERMISSION", "mk1", "k0"]
    mk1.ask("JOIN #mk")
    mk2.ask("JOIN #mk")
    (denied,) = only(mk2.ask("METADATA #mk SET url :http://x"), "FAIL")
    assert denied.params[:2] == ["METADATA", "KEY_NO_PERMISSION"]
    (room_kv,) = only(mk1.ask("METADATA #mk SET url :http://y"), "761")
    assert room_kv.params[1:5] == ["#mk", "url", "*", "http://y"]


def test_a_quit_whose_reason_is_not_utf8_still_quits_with_the_reason_repaired(
    peers: Peers,
) -> None:
    """UTF8ONLY leaves the handling to the server: a QUIT is never refused (the client is
    leaving and would wait on nothing); the room gets the reason as valid UTF-8."""
    stays = peers.connect("stays")
    stays.ask("JOIN #bye")
    leaves = peers.connect("leaves")
    leaves.ask("JOIN #bye")
    stays.sync()
    leaves.sock.sendall(b"QUIT :caf\xe9 time\r\n")
    leaves.until("ERROR")
    (quit,) = only(stays.sync(), "QUIT")
    assert quit.nick == "leaves"
    assert quit.params[-1].startswith("Quit: caf")
    assert quit.params[-1].endswith(" time")
    assert "\ufffd" in quit.params[-1]
