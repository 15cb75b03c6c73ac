"""CHATHISTORY, stored messages and replay on join, through the core harness."""

from __future__ import annotations

from dataclasses import replace

from chatroom.irc.message import Message
from chatroom.server.core.effects import StoreMessages
from chatroom.server.core.history import format_time
from chatroom.server.core.settings import CoreSettings, HistorySettings, Limits
from chatroom.server.harness import Harness, SimClient

HISTORY_CAPS = ["batch", "server-time", "message-tags", "draft/chathistory"]
SETTINGS = CoreSettings(
    limits=Limits(connections_per_address=100_000, connects_per_address_per_minute=100_000)
)


def _harness(**history: int) -> Harness:
    return Harness(replace(SETTINGS, history=replace(HistorySettings(), **history)))


def _talk(h: Harness, client: SimClient, *lines: str, room: str = "#lobby") -> None:
    for line in lines:
        h.clock.advance(1)
        client.send(f"PRIVMSG {room} :{line}")


def _batch(replies: list[Message]) -> tuple[Message, list[Message], Message]:
    """The BATCH start, the lines inside, the BATCH end; fails if that is not the shape."""
    start, *inside, end = replies
    assert start.command == "BATCH"
    assert start.params[0].startswith("+")
    ref = start.params[0][1:]
    assert end.command == "BATCH"
    assert end.params == ("-" + ref,)
    assert all(m.tags.get("batch") == ref for m in inside)
    return start, inside, end


def _texts(lines: list[Message]) -> list[str]:
    return [m.params[1] for m in lines]


def _lobby(h: Harness) -> tuple[SimClient, SimClient]:
    alice = h.connect("alice", caps=["echo-message", "message-tags", "server-time"])
    bob = h.connect("bob", caps=HISTORY_CAPS)
    alice.cmd("JOIN #lobby")
    bob.cmd("JOIN #lobby")
    return alice, bob


def test_latest_returns_the_room_lines_in_a_chathistory_batch() -> None:
    """The chathistory batch: ``BATCH +id chathistory <target>``, lines oldest first."""
    h = Harness()
    alice, bob = _lobby(h)
    _talk(h, alice, "one", "two", "three")
    live = bob.take()
    start, inside, _ = _batch(bob.cmd("CHATHISTORY LATEST #lobby * 10"))
    assert start.params[1:] == ("chathistory", "#lobby")
    assert _texts(inside) == ["one", "two", "three"]
    assert [m.tags["msgid"] for m in inside] == [m.tags["msgid"] for m in live]
    assert [m.tags["time"] for m in inside] == [m.tags["time"] for m in live]
    assert inside[0].source == "alice!~alice@127.0.0.1"


def test_every_message_gets_one_msgid_even_when_nobody_has_tags() -> None:
    h = Harness()
    a, b = h.connect("alice"), h.connect("bob")
    a.cmd("JOIN #lobby")
    b.cmd("JOIN #lobby")
    a.send("PRIVMSG #lobby :plain")
    (record,) = h.history.lines["#lobby"]
    assert record.msgid
    assert record.at == int(h.clock() * 1000)


def test_echo_message_copy_has_the_msgid_stored_in_history() -> None:
    h = Harness()
    alice, bob = _lobby(h)
    echoed = alice.cmd("PRIVMSG #lobby :mine")
    (record,) = h.history.lines["#lobby"]
    assert echoed[0].tags["msgid"] == record.msgid == bob.take()[0].tags["msgid"]


def test_one_store_effect_per_input_however_many_messages() -> None:
    h = Harness()
    alice, _ = _lobby(h)
    h.world.receive(alice.session, b"PRIVMSG #lobby,bob :to both")
    stores = [e for e in h.world.effects if isinstance(e, StoreMessages)]
    assert len(stores) == 1
    assert len(stores[0].records) == 2
    h.pump()


def test_limit_is_capped_at_the_advertised_chathistory_value() -> None:
    h = _harness(chathistory_limit=2)
    alice, bob = _lobby(h)
    _talk(h, alice, "a", "b", "c")
    _, inside, _ = _batch(bob.cmd("CHATHISTORY LATEST #lobby * 50"))
    assert _texts(inside) == ["b", "c"]


def test_empty_range_gives_an_empty_batch() -> None:
    """If no content exists to return, an empty batch is sent so the client stops waiting."""
    h = Harness()
    _, bob = _lobby(h)
    _, inside, _ = _batch(bob.cmd("CHATHISTORY BEFORE #lobby timestamp=2000-01-01T00:00:00Z 5"))
    assert inside == []


def test_room_the_client_is_not_in_is_an_invalid_target() -> None:
    h = Harness()
    alice, bob = _lobby(h)
    alice.cmd("JOIN #secret")
    _talk(h, alice, "hidden", room="#secret")
    for target in ("#secret", "#nowhere"):
        (fail,) = bob.cmd(f"CHATHISTORY LATEST {target} * 10")
        assert fail.command == "FAIL"
        assert fail.params[:4] == ("CHATHISTORY", "INVALID_TARGET", "LATEST", target)


def test_malformed_requests_fail_with_standard_replies() -> None:
    h = Harness()
    _, bob = _lobby(h)
    cases = {
        "CHATHISTORY SIDEWAYS #lobby * 10": "UNKNOWN_COMMAND",
        "CHATHISTORY": "NEED_MORE_PARAMS",
        "CHATHISTORY LATEST #lobby *": "NEED_MORE_PARAMS",
        "CHATHISTORY BEFORE #lobby yesterday 10": "INVALID_PARAMS",
        "CHATHISTORY BEFORE #lobby * 10": "INVALID_PARAMS",
        "CHATHISTORY LATEST #lobby * ten": "INVALID_PARAMS",
        "CHATHISTORY TARGETS msgid=x timestamp=2030-01-01T00:00:00Z 5": "INVALID_PARAMS",
    }
    for line, code in cases.items():
        (fail,) = bob.cmd(line)
        assert (fail.command, fail.params[0], fail.params[1]) == ("FAIL", "CHATHISTORY", code)


def test_before_after_and_between_exclude_their_references() -> None:
    h = Harness()
    alice, bob = _lobby(h)
    _talk(h, alice, "1", "2", "3", "4", "5")
    ids = [r.msgid for r in h.history.lines["#lobby"]]
    times = [r.at for r in h.history.lines["#lobby"]]

    def ask(line: str) -> list[str]:
        return _texts(_batch(bob.cmd(line))[1])

    assert ask(f"CHATHISTORY BEFORE #lobby msgid={ids[3]} 2") == ["2", "3"]
    assert ask(f"CHATHISTORY AFTER #lobby msgid={ids[1]} 2") == ["3", "4"]
    assert ask(f"CHATHISTORY BETWEEN #lobby msgid={ids[0]} msgid={ids[4]} 10") == ["2", "3", "4"]
    assert ask(f"CHATHISTORY BETWEEN #lobby msgid={ids[4]} msgid={ids[0]} 2") == ["3", "4"]
    assert ask(f"CHATHISTORY AROUND #lobby msgid={ids[2]} 3") == ["2", "3", "4"]
    assert ask(f"CHATHISTORY LATEST #lobby msgid={ids[2]} 10") == ["4", "5"]
    stamp = f"timestamp={_iso(times[2])}"
    assert ask(f"CHATHISTORY BEFORE #lobby {stamp} 10") == ["1", "2"]
    assert ask(f"CHATHISTORY AFTER #lobby {stamp} 10") == ["4", "5"]


def _iso(ms: int) -> str:
    return format_time(ms)


def test_unknown_msgid_selects_nothing() -> None:
    h = Harness()
    alice, bob = _lobby(h)
    _talk(h, alice, "x")
    assert _batch(bob.cmd("CHATHISTORY AFTER #lobby msgid=nope 10"))[1] == []


def test_labeled_request_gets_its_label_on_the_late_answer() -> None:
    """labeled-response: the answer, however many lines, carries the request's label."""
    h = Harness()
    alice = h.connect("alice")
    bob = h.connect("bob", caps=[*HISTORY_CAPS, "labeled-response"])
    alice.cmd("JOIN #lobby")
    bob.cmd("JOIN #lobby")
    _talk(h, alice, "hi")
    replies = bob.cmd("@label=q1 CHATHISTORY LATEST #lobby * 10")
    assert replies[0].command == "BATCH"
    assert replies[0].tags["label"] == "q1"
    assert replies[0].params[1] == "labeled-response"
    outer = replies[0].params[0][1:]
    inner = replies[1]
    assert inner.params[1] == "chathistory"
    assert inner.tags["batch"] == outer
    (line,) = [m for m in replies if m.command == "PRIVMSG"]
    assert line.params[1] == "hi"
    assert line.tags["batch"] == inner.params[0][1:]  # nested: only the inner batch's tag
    assert not [m for m in replies if m.command == "ACK"]


def test_private_conversation_is_readable_by_both_sides_only() -> None:
    h = Harness()
    alice = h.connect("alice", caps=HISTORY_CAPS)
    bob = h.connect("bob", caps=HISTORY_CAPS)
    carol = h.connect("carol", caps=HISTORY_CAPS)
    alice.send("PRIVMSG bob :psst")
    bob.send("PRIVMSG alice :yes?")
    for me, other in ((alice, "bob"), (bob, "alice")):
        _, inside, _ = _batch(me.cmd(f"CHATHISTORY LATEST {other} * 10"))
        assert _texts(inside) == ["psst", "yes?"]
    assert _batch(carol.cmd("CHATHISTORY LATEST bob * 10"))[1] == []
    assert _batch(carol.cmd("CHATHISTORY LATEST alice * 10"))[1] == []


def test_guest_reads_private_lines_only_from_its_own_connection_on() -> None:
    """A nickname alone does not prove the guest is who used it before."""
    h = Harness()
    alice = h.connect("alice", caps=HISTORY_CAPS)
    first = h.connect("bob")
    alice.send("PRIVMSG bob :for the first bob")
    first.send("QUIT")
    h.clock.advance(5)
    second = h.connect("bob", caps=HISTORY_CAPS)
    assert _batch(second.cmd("CHATHISTORY LATEST alice * 10"))[1] == []
    alice.send("PRIVMSG bob :for the second bob")
    assert _texts(_batch(second.cmd("CHATHISTORY LATEST alice * 10"))[1]) == ["for the second bob"]


def test_targets_lists_rooms_and_private_conversations() -> None:
    h = Harness()
    alice, bob = _lobby(h)
    _talk(h, alice, "room line")
    h.clock.advance(1)
    alice.send("PRIVMSG bob :private line")
    replies = bob.cmd(
        "CHATHISTORY TARGETS timestamp=2000-01-01T00:00:00Z timestamp=2100-01-01T00:00:00Z 10"
    )
    start, inside, _ = _batch(replies)
    assert start.params[1] == "draft/chathistory-targets"
    assert [m.params[:2] for m in inside] == [("TARGETS", "#lobby"), ("TARGETS", "alice")]


def test_store_failure_is_a_message_error() -> None:
    h = Harness()
    _, bob = _lobby(h)
    h.history_fails = True
    (fail,) = bob.cmd("CHATHISTORY LATEST #lobby * 10")
    assert fail.params[:2] == ("CHATHISTORY", "MESSAGE_ERROR")


def test_ctcp_requests_are_not_stored_but_actions_are() -> None:
    h = Harness()
    alice, _ = _lobby(h)
    alice.send("PRIVMSG #lobby :\x01VERSION\x01", "PRIVMSG #lobby :\x01ACTION waves\x01")
    assert [r.text for r in h.history.lines["#lobby"]] == ["\x01ACTION waves\x01"]


def test_join_replays_recent_lines_with_original_time_to_plain_clients() -> None:
    h = _harness(replay_lines=2)
    alice, _ = _lobby(h)
    _talk(h, alice, "old", "newer", "newest")
    sent = [r.at for r in h.history.lines["#lobby"]]
    h.clock.advance(60)
    carol = h.connect("carol", caps=["server-time", "batch"])
    replies = carol.cmd("JOIN #lobby")
    names_end = next(i for i, m in enumerate(replies) if m.command == "366")
    start, inside, _ = _batch(replies[names_end + 1 :])
    assert start.params[1:] == ("chathistory", "#lobby")
    assert _texts(inside) == ["newer", "newest"]
    assert [m.tags["time"] for m in inside] == [_iso(at) for at in sent[1:]]


def test_no_replay_for_clients_that_ask_with_chathistory() -> None:
    h = Harness()
    alice, _ = _lobby(h)
    _talk(h, alice, "said")
    dave = h.connect("dave", caps=HISTORY_CAPS)
    assert not [m for m in dave.cmd("JOIN #lobby") if m.command == "PRIVMSG"]


def test_invalid_utf8_message_is_refused() -> None:
    """UTF8ONLY: ``FAIL PRIVMSG INVALID_UTF8``, and nothing reaches the room."""
    h = Harness()
    alice, bob = _lobby(h)
    alice.take()
    bob.take()
    h.world.receive(alice.session, b"PRIVMSG #lobby :caf\xe9")
    h.pump()
    (fail,) = alice.take()
    assert fail.command == "FAIL"
    assert fail.params[:2] == ("PRIVMSG", "INVALID_UTF8")
    assert bob.take() == []
    h.world.receive(alice.session, "PRIVMSG #lobby :café".encode())
    h.pump()
    assert bob.take()[0].params[1] == "café"


def test_isupport_and_cap_ls_advertise_history_and_ircv3_extras() -> None:
    h = _harness(chathistory_limit=42)
    client = h.connect()
    client.send("CAP LS 302")
    caps = " ".join(m.params[-1] for m in client.take())
    for cap in ("draft/chathistory", "chghost", "standard-replies", "extended-monitor"):
        assert cap in caps.split()
    client.send("NICK zed", "USER zed 0 * :Z", "CAP END")
    tokens = {p for m in client.take() if m.command == "005" for p in m.params[1:-1]}
    assert {"CHATHISTORY=42", "MSGREFTYPES=timestamp,msgid", "MONITOR=100", "UTF8ONLY"} <= tokens
