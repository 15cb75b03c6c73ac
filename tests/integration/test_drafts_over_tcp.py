"""draft/multiline, draft/channel-rename and draft/metadata-2 on a real server: the ``irc``
library as the client that knows none of them, raw lines for the ones that do."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from chatroom import config as cfg
from tests.realserver import Client, ServerThread


def _request(client: Client, caps: str) -> None:
    client.conn.send_raw(f"CAP REQ :{caps}")
    client.wait_for(lambda e: e.type == "cap" and "ACK" in e.arguments)


def _raw(client: Client, text: str, after: int = 0) -> str:
    """The first raw line from event ``after`` on that contains ``text``."""
    start = after

    def matches(event: object) -> bool:
        index = next(i for i, e in enumerate(client.events) if e is event)
        args = getattr(event, "arguments", [])
        return (
            index >= start
            and getattr(event, "type", "") == "all_raw_messages"
            and text in str(args[0])
        )

    return str(client.wait_for(matches).arguments[0])


def _join(*clients: Client, room: str = "#lobby") -> None:
    for client in clients:
        client.conn.join(room)
        client.wait_for(lambda e: e.type == "endofnames")


def test_a_multiline_message_arrives_whole_or_line_by_line(
    connect: Callable[[str], Client],
) -> None:
    alice, bob, old = connect("alice"), connect("bob"), connect("old")
    _request(alice, "draft/multiline batch echo-message")
    _request(bob, "draft/multiline batch message-tags")
    _join(alice, bob, old)
    for line in (
        "BATCH +m1 draft/multiline #lobby",
        "@batch=m1 PRIVMSG #lobby :first line",
        "@batch=m1 PRIVMSG #lobby :",
        "@batch=m1 PRIVMSG #lobby :second ",
        "@batch=m1;draft/multiline-concat PRIVMSG #lobby :half",
        "BATCH -m1",
    ):
        alice.conn.send_raw(line)
    opening = _raw(bob, "BATCH +")
    assert opening.split(" ")[-2:] == ["draft/multiline", "#lobby"]
    assert "msgid=" in opening
    assert _raw(bob, "draft/multiline-concat").endswith("PRIVMSG #lobby half")
    # The irc library knows nothing of batches: it sees ordinary messages, blank one left out.
    texts: list[str] = []
    while len(texts) < 3:
        event = old.wait_type("pubmsg")
        old.events.remove(event)
        texts.append(event.arguments[0])
    assert texts == ["first line", "second ", "half"]
    assert "BATCH +" in _raw(alice, "draft/multiline #lobby")  # echo-message: back as a batch


def test_chathistory_serves_a_multiline_message_back_as_a_nested_batch(
    connect: Callable[[str], Client],
) -> None:
    """Stored in SQLite with its composition: the same lines come back, in one batch."""
    alice = connect("alice")
    _request(alice, "draft/multiline batch")
    _join(alice)
    for line in (
        "BATCH +h draft/multiline #lobby",
        "@batch=h PRIVMSG #lobby :kept ",
        "@batch=h;draft/multiline-concat PRIVMSG #lobby :together",
        "@batch=h PRIVMSG #lobby :and apart",
        "BATCH -h",
    ):
        alice.conn.send_raw(line)
    alice.conn.ping("stored")  # answered after the batch: the message is in history
    alice.wait_type("pong")
    reader = connect("reader")
    _request(reader, "draft/multiline batch draft/chathistory server-time message-tags")
    _join(reader)
    seen = len(reader.events)
    reader.conn.send_raw("CHATHISTORY LATEST #lobby * 10")
    outer = _raw(reader, " chathistory #lobby", after=seen)
    ref = outer.split(" ")[-3][1:]
    inner = _raw(reader, "draft/multiline #lobby", after=seen)
    assert inner.startswith("@batch=" + ref) or f";batch={ref}" in inner.split(" ")[0]
    assert _raw(reader, "draft/multiline-concat", after=seen).endswith("PRIVMSG #lobby together")
    assert _raw(reader, ":and apart", after=seen)


def test_multiline_errors_come_as_fail_batch(connect: Callable[[str], Client]) -> None:
    alice = connect("alice")
    _request(alice, "draft/multiline batch")
    _join(alice)
    alice.conn.send_raw("BATCH +e draft/multiline #lobby")
    alice.conn.send_raw("@batch=e PRIVMSG #elsewhere :hi")
    alice.conn.send_raw("BATCH -e")
    assert "FAIL BATCH MULTILINE_INVALID_TARGET #lobby #elsewhere" in _raw(alice, "FAIL BATCH")


def test_rename_reaches_capable_clients_as_rename_and_others_as_part_and_join(
    connect: Callable[[str], Client],
) -> None:
    alice, bob, carol = connect("alice"), connect("bob"), connect("carol")
    _request(alice, "draft/channel-rename")
    _request(carol, "draft/channel-rename")
    _join(alice, bob, carol, room="#coding")
    alice.conn.send_raw("RENAME #coding #programming :wider")
    assert _raw(carol, " RENAME ").endswith("RENAME #coding #programming wider")
    parted = bob.wait_type("part")
    assert parted.target == "#coding"
    assert parted.source.nick == "bob"
    joined = bob.wait_for(lambda e: e.type == "join" and e.target == "#programming")
    assert joined.source.nick == "bob"
    names = bob.wait_for(lambda e: e.type == "namreply" and e.arguments[1] == "#programming")
    assert set(names.arguments[2].split()) == {"@alice", "bob", "carol"}
    bob.conn.privmsg("#programming", "still together")
    assert alice.wait_type("pubmsg").arguments == ["still together"]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def _config(data_dir: Path) -> cfg.Config:
    flags: dict[str, object] = {
        "listen.port": 0,
        "listen.http_port": "off",
        "listen.tls_port": "off",
        "server.data_dir": str(data_dir),
        "argon2.memory_kib": 1024,
        "argon2.time_cost": 1,
    }
    return cfg.load(env={}, flags=flags)


@pytest.fixture
def servers(data_dir: Path) -> Iterator[list[ServerThread]]:
    started: list[ServerThread] = []
    yield started
    for server in started:
        server.stop()


def test_an_accounts_metadata_survives_a_restart(
    data_dir: Path, servers: list[ServerThread], clients: list[Client]
) -> None:
    first = ServerThread(_config(data_dir)).start()
    servers.append(first)
    alice = Client(first.port, "alice", password="alice-password")  # PASS creates the account
    clients.append(alice)
    alice.wait_type("welcome")
    _request(alice, "draft/metadata-2 batch")
    alice.conn.send_raw("METADATA * SET display-name :Alice in Wonderland")
    assert _raw(alice, " 761 ").endswith("display-name * :Alice in Wonderland")
    bob = Client(first.port, "bob")
    clients.append(bob)
    bob.wait_type("welcome")
    _request(bob, "draft/metadata-2 batch")
    bob.conn.send_raw("METADATA * SUB display-name")
    _raw(bob, " 770 ")
    _join(alice, bob)  # bob learns alice's display-name as he joins
    assert _raw(bob, "METADATA alice").endswith("display-name * :Alice in Wonderland")
    alice.conn.send_raw("METADATA * SET display-name :Alice")
    assert _raw(bob, "display-name * Alice").startswith(":chatroom.local METADATA alice ")
    first.stop()
    servers.remove(first)

    second = ServerThread(_config(data_dir)).start()
    servers.append(second)
    again = Client(second.port, "alice", password="alice-password")
    clients.append(again)
    again.wait_type("welcome")
    _request(again, "draft/metadata-2 batch")  # asking for the cap brings one's own metadata
    assert _raw(again, "METADATA alice display-name").endswith("display-name * Alice")
