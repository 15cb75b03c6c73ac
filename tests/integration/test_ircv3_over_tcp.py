"""IRCv3 extensions over real sockets with the ``irc`` library as the client."""

from __future__ import annotations

from collections.abc import Callable

from tests.realserver import Client


def _request(client: Client, caps: str) -> None:
    client.conn.send_raw(f"CAP REQ :{caps}")
    client.wait_for(lambda e: e.type == "cap" and "ACK" in e.arguments)


def _line_with(client: Client, text: str, after: int = 0) -> str:
    """The first raw line containing ``text`` among the events from index ``after`` on."""
    old = client.events[:after]
    event = client.wait_for(
        lambda e: (
            e.type == "all_raw_messages"
            and text in e.arguments[0]
            and not any(e is seen for seen in old)
        )
    )
    return str(event.arguments[0])


def _msgid(line: str) -> str:
    section = line[1:].split(" ", 1)[0]
    return dict(item.partition("=")[::2] for item in section.split(";"))["msgid"]


def test_cap_ls_and_isupport_advertise_the_extensions(connect: Callable[[str], Client]) -> None:
    alice = connect("alice")
    isupport = " ".join(line for line in alice.raw_lines() if " 005 " in line)
    for token in ("CHATHISTORY=100", "MSGREFTYPES=timestamp,msgid", "MONITOR=100", "UTF8ONLY"):
        assert token in isupport.split()
    alice.conn.send_raw("CAP LS 302")
    # The list may take several lines; the last one has no "*" before the list.
    alice.wait_for(lambda e: e.type == "cap" and "LS" in e.arguments and "*" not in e.arguments)
    listed = " ".join(
        e.arguments[-1] for e in alice.events if e.type == "cap" and "LS" in e.arguments
    )
    for cap in ("draft/chathistory", "chghost", "standard-replies", "extended-monitor"):
        assert cap in listed.split()


def test_echo_message_carries_the_msgid_others_see(connect: Callable[[str], Client]) -> None:
    """echo-message: the sender's copy is the same message, so it has the same msgid."""
    alice, bob = connect("alice"), connect("bob")
    _request(alice, "echo-message message-tags")
    _request(bob, "message-tags")
    for c in (alice, bob):
        c.conn.join("#lobby")
        c.wait_for(lambda e: e.type == "endofnames")
    alice.conn.privmsg("#lobby", "same id for all")
    mine = _line_with(alice, "PRIVMSG #lobby :same id for all")
    theirs = _line_with(bob, "PRIVMSG #lobby :same id for all")
    assert _msgid(mine) == _msgid(theirs)


def test_labeled_command_without_reply_gets_an_ack(connect: Callable[[str], Client]) -> None:
    """labeled-response: a labeled command that produces no reply is answered by ACK."""
    alice = connect("alice")
    _request(alice, "labeled-response batch")
    alice.conn.send_raw("@label=quiet1 MONITOR + nobody-here")
    line = _line_with(alice, "731")
    assert line.startswith("@label=quiet1 ")
    alice.conn.send_raw("@label=quiet2 MONITOR - nobody-here")
    assert _line_with(alice, "@label=quiet2 ").endswith(" ACK")


def test_monitor_reports_arrivals_and_departures(connect: Callable[[str], Client]) -> None:
    alice = connect("alice")
    alice.conn.send_raw("MONITOR + carol")
    assert _line_with(alice, " 731 alice").endswith(" carol")
    carol = connect("carol")
    assert " carol!~carol@" in _line_with(alice, " 730 alice")
    seen = len(alice.events)
    carol.conn.quit("bye")
    assert _line_with(alice, " 731 alice", after=seen).endswith(" carol")


def test_invalid_utf8_is_refused_with_a_standard_reply(connect: Callable[[str], Client]) -> None:
    """UTF8ONLY: ``FAIL PRIVMSG INVALID_UTF8`` and the room never sees the bytes."""
    alice, bob = connect("alice"), connect("bob")
    for c in (alice, bob):
        c.conn.join("#lobby")
        c.wait_for(lambda e: e.type == "endofnames")
    alice.conn.socket.send(b"PRIVMSG #lobby :caf\xe9\r\n")
    assert "FAIL PRIVMSG INVALID_UTF8" in _line_with(alice, "INVALID_UTF8")
    alice.conn.privmsg("#lobby", "fine")
    event = bob.wait_for(lambda e: e.type == "pubmsg")
    assert event.arguments == ["fine"]
