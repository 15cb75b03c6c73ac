"""draft/multiline through the core harness: batches in, one message out (as a batch to
clients that can read it, line by line to the others), limits, errors and history."""

from __future__ import annotations

from chatroom.irc.message import Message
from chatroom.server.core import multiline as ml
from chatroom.server.harness import Harness, SimClient
from tests.server.support import codes, join_all

CAPS = ["draft/multiline", "batch", "message-tags", "server-time", "echo-message"]


def _send_batch(
    client: SimClient,
    target: str,
    *lines: str,
    ref: str = "b1",
    verb: str = "PRIVMSG",
    tags: str = "",
) -> None:
    """``lines`` starting with ``+`` continue the previous one (draft/multiline-concat)."""
    opening = f"@{tags} " if tags else ""
    client.send(f"{opening}BATCH +{ref} draft/multiline {target}")
    for line in lines:
        if line.startswith("+"):
            client.send(f"@batch={ref};draft/multiline-concat {verb} {target} :{line[1:]}")
        else:
            client.send(f"@batch={ref} {verb} {target} :{line}")
    client.send(f"BATCH -{ref}")


def _unbatch(received: list[Message]) -> tuple[Message, list[Message], Message]:
    start, *inside, end = received
    assert (start.command, start.params[1]) == ("BATCH", "draft/multiline"), codes(received)
    ref = start.params[0][1:]
    assert end.command == "BATCH"
    assert end.params == ("-" + ref,)
    assert all(m.tags.get("batch") == ref for m in inside)
    return start, inside, end


def _room(h: Harness) -> tuple[SimClient, SimClient, SimClient]:
    alice = h.connect("alice", caps=CAPS)
    bob = h.connect("bob", caps=CAPS)
    old = h.connect("old", caps=["message-tags", "server-time"])
    join_all([alice, bob, old], "#room")
    return alice, bob, old


def test_the_capability_is_advertised_with_its_limits() -> None:
    h = Harness()
    tokens = [t for line in h.connect().cmd("CAP LS 302") for t in line.params[-1].split()]
    limits = h.world.settings.limits
    wanted = f"max-bytes={limits.multiline_max_bytes},max-lines={limits.multiline_max_lines}"
    assert f"draft/multiline={wanted}" in tokens


def test_a_batch_reaches_capable_clients_as_one_batch_and_others_line_by_line() -> None:
    h = Harness()
    alice, bob, old = _room(h)
    _send_batch(alice, "#room", "hello", "", "how is ", "+everyone?", tags="+draft/reply=abc")
    start, inside, _ = _unbatch(bob.take())
    assert start.source == alice.session.prefix
    assert start.params[2] == "#room"
    assert start.tags["+draft/reply"] == "abc"
    assert "msgid" in start.tags
    assert "time" in start.tags
    assert [(m.command, m.params[1], ml.CONCAT in m.tags) for m in inside] == [
        ("PRIVMSG", "hello", False),
        ("PRIVMSG", "", False),
        ("PRIVMSG", "how is ", False),
        ("PRIVMSG", "everyone?", True),
    ]
    fallback = old.take()
    assert [(m.command, m.params) for m in fallback] == [
        ("PRIVMSG", ("#room", "hello")),
        ("PRIVMSG", ("#room", "how is ")),
        ("PRIVMSG", ("#room", "everyone?")),
    ]
    assert fallback[0].tags["msgid"] == start.tags["msgid"]
    assert fallback[0].tags["+draft/reply"] == "abc"
    assert all("msgid" not in m.tags and "time" in m.tags for m in fallback[1:])
    # echo-message: the sender gets the batch back, with the same msgid.
    echo_start, _, _ = _unbatch(alice.take())
    assert echo_start.tags["msgid"] == start.tags["msgid"]


def test_nothing_is_delivered_before_the_batch_closes() -> None:
    h = Harness()
    alice, bob, old = _room(h)
    alice.send("BATCH +x draft/multiline #room", "@batch=x PRIVMSG #room :one")
    assert bob.take() == []
    assert old.take() == []
    alice.send("BATCH -x")
    assert [m.command for m in bob.take()] == ["BATCH", "PRIVMSG", "BATCH"]


def test_the_label_goes_on_the_echoed_batch_or_on_an_ack() -> None:
    """Labeled response with echo-message: the label only on the opening BATCH."""
    h = Harness()
    alice = h.connect("alice", caps=[*CAPS, "labeled-response"])
    alice.cmd("JOIN #room")
    alice.send("@label=L1 BATCH +z draft/multiline #room", "@batch=z PRIVMSG #room :a")
    alice.send("@batch=z PRIVMSG #room :b")
    assert alice.take() == []
    start, inside, end = _unbatch(alice.cmd("BATCH -z"))
    assert start.tags["label"] == "L1"
    assert all("label" not in m.tags for m in [*inside, end])
    quiet = h.connect("quiet", caps=["draft/multiline", "batch", "labeled-response"])
    quiet.cmd("JOIN #room")
    quiet.send("@label=L2 BATCH +q draft/multiline #room", "@batch=q PRIVMSG #room :hi")
    assert [(m.command, m.tags.get("label")) for m in quiet.cmd("BATCH -q")] == [("ACK", "L2")]


def test_a_stray_batch_line_is_refused_with_its_label() -> None:
    """A PRIVMSG naming a batch that is not open is no line of a batch: its FAIL answers it
    and carries its label (it had none: found by fuzz/fuzz_server.py)."""
    h = Harness()
    alice = h.connect("alice", caps=[*CAPS, "labeled-response"])
    alice.cmd("JOIN #room")
    (reply,) = alice.cmd("@batch=nope;label=L9 PRIVMSG #room :stray")
    assert (reply.command, reply.params[:2], reply.tags.get("label")) == (
        "FAIL",
        ("BATCH", "MULTILINE_INVALID"),
        "L9",
    )


def _fails(replies: list[Message]) -> list[tuple[str, ...]]:
    return [m.params[1:-1] for m in replies if m.command == "FAIL"]


def test_the_limits_from_the_capability_value_are_enforced() -> None:
    h = Harness()
    alice, bob, _ = _room(h)
    limits = h.world.settings.limits
    alice.take()
    too_many = ["x"] * (limits.multiline_max_lines + 1)
    _send_batch(alice, "#room", *too_many)
    assert _fails(alice.take()) == [("MULTILINE_MAX_LINES", str(limits.multiline_max_lines))]
    # Ten lines of 400 bytes and the nine line feeds between them leave 87 bytes: a new
    # line costs its line feed too, a continuation does not.
    full = ["y" * 400] * 10
    room = limits.multiline_max_bytes - (400 * 10 + 9)
    _send_batch(alice, "#room", *full, "z" * room)
    assert _fails(alice.take()) == [("MULTILINE_MAX_BYTES", str(limits.multiline_max_bytes))]
    _send_batch(alice, "#room", *full, "+" + "z" * room)
    assert _fails(alice.take()) == []
    assert [m.command for m in bob.take()].count("BATCH") == 2  # only the one that fitted


def test_invalid_batches_are_refused_and_nothing_of_them_is_delivered() -> None:
    h = Harness()
    alice, bob, old = _room(h)
    alice.take()
    _send_batch(alice, "#room", "hi", ref="t1")
    alice.take()
    bob.take()
    old.take()
    alice.send("BATCH +t2 draft/multiline #room", "@batch=t2 PRIVMSG #other :hi", "BATCH -t2")
    assert _fails(alice.take()) == [("MULTILINE_INVALID_TARGET", "#room", "#other")]
    alice.send("BATCH +t3 draft/multiline #room", "@batch=t3 PRIVMSG #room :a")
    alice.send("@batch=t3 NOTICE #room :b", "BATCH -t3")
    assert _fails(alice.take()) == [("MULTILINE_INVALID",)]
    _send_batch(alice, "#room", "hello ", "+", ref="t4")
    assert _fails(alice.take()) == [("MULTILINE_INVALID",)]
    _send_batch(alice, "#room", "", "", ref="t5")
    assert _fails(alice.take()) == [("MULTILINE_INVALID",)]
    assert _fails(alice.cmd("BATCH -nope")) == [("MULTILINE_INVALID",)]
    assert _fails(alice.cmd("@batch=nope PRIVMSG #room :stray")) == [("MULTILINE_INVALID",)]
    assert _fails(alice.cmd("BATCH +t6 chathistory #room")) == [("MULTILINE_INVALID",)]
    assert bob.take() == []
    assert old.take() == []


def test_without_the_capability_a_batch_is_refused() -> None:
    h = Harness()
    plain = h.connect("plain")
    plain.cmd("JOIN #room")
    assert _fails(plain.cmd("BATCH +a draft/multiline #room")) == [("MULTILINE_INVALID",)]


def test_a_batch_left_open_times_out() -> None:
    h = Harness()
    alice, bob, _ = _room(h)
    alice.take()
    alice.send("BATCH +slow draft/multiline #room", "@batch=slow PRIVMSG #room :one")
    h.tick(ml.TIMEOUT + 1)
    assert _fails(alice.take()) == [("TIMEOUT", "slow")]
    alice.send("@batch=slow PRIVMSG #room :two", "BATCH -slow")
    assert alice.take() == []
    assert bob.take() == []
    assert alice.session.multiline is None


def test_the_room_rules_apply_to_the_whole_message() -> None:
    h = Harness()
    alice, bob, _ = _room(h)
    alice.cmd("MODE #room +m")
    bob.take()
    _send_batch(bob, "#room", "let me", "speak")
    assert codes(bob.take()) == ["404"]
    assert alice.take() == []


def test_a_private_multiline_message_and_the_away_reply() -> None:
    h = Harness()
    alice = h.connect("alice", caps=CAPS)
    bob = h.connect("bob", caps=CAPS)
    bob.cmd("AWAY :lunch")
    _send_batch(alice, "bob", "line one", "line two")
    _, inside, _ = _unbatch(bob.take())
    assert [m.params for m in inside] == [("bob", "line one"), ("bob", "line two")]
    replies = alice.take()
    assert codes(replies)[-1] == "301"
    _unbatch(replies[:-1])


def test_a_line_too_long_to_relay_is_split_into_continuations() -> None:
    h = Harness()
    alice, bob, old = _room(h)
    long_line = "é" * 240  # 480 bytes: fits the client's line, not the relayed one
    _send_batch(alice, "#room", long_line)
    _, inside, _ = _unbatch(bob.take())
    assert len(inside) == 2
    assert ml.CONCAT in inside[1].tags
    assert "".join(m.params[1] for m in inside) == long_line
    for raw in old.inbox:  # 512 bytes at most outside the tags
        assert len(raw.partition(b" ")[2] if raw.startswith(b"@") else raw) <= 512
    assert "".join(m.params[1] for m in old.take()) == long_line


def test_history_serves_the_message_back_as_a_batch_or_as_lines() -> None:
    h = Harness()
    alice, _, _ = _room(h)
    _send_batch(alice, "#room", "first", "sec", "+ond", "")
    reader = h.connect("reader", caps=[*CAPS, "draft/chathistory"])
    reader.cmd("JOIN #room")
    outer, *rest = reader.cmd("CHATHISTORY LATEST #room * 10")
    assert outer.params[1] == "chathistory"
    start, inside, end = _unbatch(rest[:-1])
    assert start.tags["batch"] == outer.params[0][1:] == end.tags["batch"]
    assert [(m.params[1], ml.CONCAT in m.tags) for m in inside] == [
        ("first", False),
        ("sec", False),
        ("ond", True),
        ("", False),
    ]
    late = h.connect("late", caps=["batch", "server-time", "message-tags"])
    replayed = [m for m in late.cmd("JOIN #room") if m.command == "PRIVMSG"]
    assert [m.params[1] for m in replayed] == ["first", "sec", "ond"]
    assert "msgid" in replayed[0].tags
    assert "msgid" not in replayed[1].tags
    stored = h.history.lines["#room"]
    assert [r.text for r in stored] == ["first\nsecond\n"]


def test_lines_of_an_open_batch_cost_a_fraction_of_the_flood_budget() -> None:
    """A whole batch at the limit fits in the default burst; loose lines do not."""
    h = Harness()
    alice, _, _ = _room(h)
    limits = h.world.settings.limits
    world = h.world
    alice.send("BATCH +f draft/multiline #room")
    waits = [world.flood_wait(alice.session) for _ in range(limits.multiline_max_lines + 1)]
    assert max(waits) == 0.0
    alice.send("BATCH -f")
    waits = [world.flood_wait(alice.session) for _ in range(limits.flood_burst + 1)]
    assert waits[-1] > 0.0


def test_combine_and_split_are_inverse() -> None:
    lines = [("", False), ("a", True), ("b", False), ("", False), ("c", False), ("d", True)]
    text, joins = ml.combine(lines)
    assert text == "a\nb\n\ncd"
    assert ml.split(text, joins) == lines


def test_a_multiline_message_to_oneself_arrives_and_is_echoed() -> None:
    """As a PRIVMSG to oneself: the delivery, then the echo (with echo-message)."""
    h = Harness()
    alice = h.connect("alice", caps=CAPS)
    _send_batch(alice, "alice", "note to", "self")
    received = alice.take()
    assert codes(received) == ["BATCH", "PRIVMSG", "PRIVMSG", "BATCH"] * 2
    quiet = h.connect("quiet", caps=["draft/multiline", "batch"])
    _send_batch(quiet, "quiet", "just", "once")
    assert codes(quiet.take()) == ["BATCH", "PRIVMSG", "PRIVMSG", "BATCH"]
