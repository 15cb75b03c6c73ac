"""History over real sockets with the ``irc`` library: stored lines outlive a restart."""

from __future__ import annotations

from pathlib import Path

from tests.realserver import Client, ServerThread, make_config

HISTORY_CAPS = "batch server-time message-tags draft/chathistory labeled-response"


def _registered(server: ServerThread, nick: str, caps: str | None = None) -> Client:
    client = Client(server.port, nick)
    client.wait_type("welcome")
    if caps:
        client.conn.send_raw(f"CAP REQ :{caps}")
        client.wait_for(lambda e: e.type == "cap" and "ACK" in e.arguments)
    return client


def _joined(client: Client, room: str = "#lobby") -> None:
    client.conn.join(room)
    client.wait_for(lambda e: e.type == "endofnames")


def _raw_after(client: Client, start: int, last: str, timeout: float = 5.0) -> list[str]:
    """Raw lines from index ``start`` until one containing ``last`` has arrived."""
    client.wait_for(
        lambda e: e.type == "all_raw_messages" and last in e.arguments[0], timeout=timeout
    )
    return client.raw_lines()[start:]


def _tags(line: str) -> dict[str, str]:
    if not line.startswith("@"):
        return {}
    section = line[1:].split(" ", 1)[0]
    return {key: value for key, _, value in (item.partition("=") for item in section.split(";"))}


def test_lines_said_before_a_restart_come_back_with_their_msgid_and_time(
    tmp_path: Path,
) -> None:
    """alice talks in #lobby, the server restarts, bob asks CHATHISTORY LATEST and gets
    alice's lines in a chathistory batch, with the msgid and time they were first sent with."""
    first = ServerThread(make_config(tmp_path)).start()
    try:
        alice = _registered(first, "alice", "echo-message message-tags server-time")
        _joined(alice)
        alice.conn.privmsg("#lobby", "good morning")
        alice.conn.privmsg("#lobby", "anyone here?")
        alice.wait_for(lambda e: e.type == "pubmsg" and e.arguments == ["anyone here?"])
        echoed = [_tags(line) for line in alice.raw_lines() if " PRIVMSG #lobby " in line]
        alice.close()
    finally:
        first.stop()

    second = ServerThread(make_config(tmp_path)).start()
    try:
        bob = _registered(second, "bob", HISTORY_CAPS)
        _joined(bob)
        start = len(bob.raw_lines())
        bob.conn.send_raw("@label=h1 CHATHISTORY LATEST #lobby * 50")
        lines = _raw_after(bob, start, "BATCH -L")
        bob.close()
    finally:
        second.stop()
    assert lines[0].startswith("@label=h1 ")
    assert lines[0].endswith(" labeled-response")
    assert lines[1].endswith(" chathistory #lobby")
    said = [line for line in lines if " PRIVMSG #lobby " in line]
    assert [line.rsplit(" :", 1)[1] for line in said] == ["good morning", "anyone here?"]
    got = [_tags(line) for line in said]
    assert [t["msgid"] for t in got] == [t["msgid"] for t in echoed]
    assert [t["time"] for t in got] == [t["time"] for t in echoed]


def test_a_client_with_batch_and_server_time_gets_missed_lines_replayed_when_it_joins(
    tmp_path: Path,
) -> None:
    """Replay on join comes only inside a chathistory batch, each line with its time, so
    the client can tell it from live traffic (a plain client gets none)."""
    server = ServerThread(make_config(tmp_path)).start()
    try:
        alice = _registered(server, "alice")
        _joined(alice)
        alice.conn.privmsg("#lobby", "you missed this")
        carol = _registered(server, "carol", "batch server-time")
        start = len(carol.raw_lines())
        carol.conn.join("#lobby")
        lines = _raw_after(carol, start, "BATCH -")
        alice.close()
        carol.close()
    finally:
        server.stop()
    opening = next(line for line in lines if " BATCH +" in line)
    assert opening.endswith(" chathistory #lobby")
    (said,) = [line for line in lines if " PRIVMSG #lobby " in line]
    assert said.endswith(":alice!~alice@127.0.0.1 PRIVMSG #lobby :you missed this")
    assert set(_tags(said)) == {"batch", "time"}


def test_private_lines_are_kept_for_both_sides(tmp_path: Path) -> None:
    server = ServerThread(make_config(tmp_path)).start()
    try:
        alice = _registered(server, "alice", HISTORY_CAPS)
        bob = _registered(server, "bob", HISTORY_CAPS)
        alice.conn.privmsg("bob", "just between us")
        bob.wait_type("privmsg")
        start = len(bob.raw_lines())
        bob.conn.send_raw("CHATHISTORY LATEST alice * 10")
        lines = _raw_after(bob, start, "BATCH -")
        assert any(line.endswith("PRIVMSG bob :just between us") for line in lines)
        alice.close()
        bob.close()
    finally:
        server.stop()
