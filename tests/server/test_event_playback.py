"""draft/event-playback: room events in CHATHISTORY and in the replay on join.

Spec (chathistory): "If the client has not negotiated the draft/event-playback capability,
the server MUST NOT send any lines other than PRIVMSG and NOTICE in the reply batch ...
If the client has negotiated draft/event-playback, the server SHOULD send additional lines
relevant to the chat history, including ... JOIN, PART, QUIT, MODE, TOPIC, and NICK."
"""

from __future__ import annotations

from chatroom.irc.message import Message
from chatroom.server.harness import Harness, SimClient

HISTORY = ["batch", "server-time", "message-tags", "draft/chathistory"]
PLAYBACK = [*HISTORY, "draft/event-playback"]


def _inside(replies: list[Message]) -> list[Message]:
    """The lines inside the (single) chathistory batch of an answer."""
    return [m for m in replies if "batch" in m.tags]


def _busy_room(h: Harness) -> tuple[SimClient, SimClient]:
    """alice and bob in #room, bob watching with every tag: a JOIN, talk, a TOPIC, a MODE,
    a NICK, a KICK, a PART and a QUIT, in that order."""
    alice = h.connect("alice", caps=["message-tags", "server-time"])
    bob = h.connect("bob", caps=["message-tags", "server-time"])
    carol = h.connect("carol")
    dave = h.connect("dave")
    alice.cmd("JOIN #room")
    bob.cmd("JOIN #room")
    steps = [
        (alice, "PRIVMSG #room :hello"),
        (alice, "TOPIC #room :today: events"),
        (carol, "JOIN #room"),
        (alice, "MODE #room +v carol"),
        (carol, "NICK caroline"),
        (dave, "JOIN #room"),
        (alice, "KICK #room dave :behave"),
        (carol, "PART #room :bye"),
        (alice, "PRIVMSG #room :still here"),
    ]
    for client, line in steps:
        h.clock.advance(1)
        client.send(line)
    h.clock.advance(1)
    alice.send("JOIN #other")
    carol.send("JOIN #other")
    h.clock.advance(1)
    alice.send("QUIT :gone fishing")
    return alice, bob


def test_event_playback_clients_get_the_rooms_events_in_order() -> None:
    h = Harness()
    _, bob = _busy_room(h)
    live = [m for m in bob.take() if m.command != "PONG"]
    reader = h.connect("reader", caps=PLAYBACK)
    reader.cmd("JOIN #room")
    inside = _inside(reader.cmd("CHATHISTORY LATEST #room * 50"))
    assert [(m.command, m.params) for m in inside] == [
        ("JOIN", ("#room",)),  # alice made the room (extended-join was not asked for)
        ("JOIN", ("#room",)),  # bob
        ("PRIVMSG", ("#room", "hello")),
        ("TOPIC", ("#room", "today: events")),
        ("JOIN", ("#room",)),
        ("MODE", ("#room", "+v", "carol")),
        ("NICK", ("caroline",)),
        ("JOIN", ("#room",)),
        ("KICK", ("#room", "dave", "behave")),
        ("PART", ("#room", "bye")),
        ("PRIVMSG", ("#room", "still here")),
        ("QUIT", ("Quit: gone fishing",)),
        ("JOIN", ("#room",)),  # the reader's own join
    ]
    # Each is the very line members saw live: same msgid, same time.
    seen = {m.tags["msgid"]: m.tags["time"] for m in live}
    for line in inside[2:-1]:  # what bob saw after his own JOIN, to alice's QUIT
        assert seen[line.tags["msgid"]] == line.tags["time"], line


def test_clients_without_event_playback_get_messages_only() -> None:
    h = Harness()
    _busy_room(h)
    reader = h.connect("reader", caps=HISTORY)
    reader.cmd("JOIN #room")
    inside = _inside(reader.cmd("CHATHISTORY LATEST #room * 50"))
    assert [m.command for m in inside] == ["PRIVMSG", "PRIVMSG"]


def test_the_limit_counts_events_for_event_playback_clients() -> None:
    h = Harness()
    _busy_room(h)
    reader = h.connect("reader", caps=PLAYBACK)
    reader.cmd("JOIN #room")
    inside = _inside(reader.cmd("CHATHISTORY LATEST #room * 3"))
    assert [m.command for m in inside] == ["PRIVMSG", "QUIT", "JOIN"]


def test_a_quit_is_kept_in_every_room_of_the_user() -> None:
    h = Harness()
    _busy_room(h)
    reader = h.connect("reader", caps=PLAYBACK)
    reader.cmd("JOIN #other")
    inside = _inside(reader.cmd("CHATHISTORY LATEST #other * 50"))
    assert [(str(m.source).partition("!")[0], m.command) for m in inside] == [
        ("alice", "JOIN"),
        ("caroline", "JOIN"),
        ("alice", "QUIT"),
        ("reader", "JOIN"),
    ]


def test_extended_join_clients_get_the_extended_join_from_history() -> None:
    h = Harness()
    h.add_account("carol", "pw-carol-1")
    alice = h.connect("alice")
    alice.cmd("JOIN #room")
    carol = h.connect("carol")
    carol.cmd("PRIVMSG NickServ :IDENTIFY pw-carol-1")
    carol.cmd("JOIN #room")
    extended = h.connect("ext", caps=[*PLAYBACK, "extended-join"])
    extended.cmd("JOIN #room")
    joins = _inside(extended.cmd("CHATHISTORY LATEST #room * 10"))
    assert joins[1].params == ("#room", "carol", "carol real")
    assert joins[0].params == ("#room", "*", "alice real")


def test_references_to_an_event_page_through_messages() -> None:
    """A client pages from the oldest line it has, which may be an event."""
    h = Harness()
    _busy_room(h)
    watcher = h.connect("watcher", caps=PLAYBACK)
    watcher.cmd("JOIN #room")
    inside = _inside(watcher.cmd("CHATHISTORY LATEST #room * 50"))
    kick = next(m for m in inside if m.command == "KICK")
    plain = h.connect("plain", caps=HISTORY)
    plain.cmd("JOIN #room")
    before = _inside(plain.cmd(f"CHATHISTORY BEFORE #room msgid={kick.tags['msgid']} 10"))
    assert [m.params[1] for m in before] == ["hello"]


def test_replay_on_join_includes_events_only_for_event_playback_clients() -> None:
    h = Harness()
    _busy_room(h)
    plain = h.connect("plain", caps=["batch", "server-time"])
    replayed = _inside(plain.cmd("JOIN #room"))
    assert [m.command for m in replayed] == ["PRIVMSG", "PRIVMSG"]
    player = h.connect("player", caps=["batch", "server-time", "draft/event-playback"])
    replayed = _inside(player.cmd("JOIN #room"))
    commands = [m.command for m in replayed]
    assert commands[0] == "PRIVMSG"  # from the first replayed message on
    assert commands[-3:] == ["PRIVMSG", "QUIT", "JOIN"]
    assert str(replayed[-1].source).startswith("plain!")
    assert {"TOPIC", "MODE", "NICK", "KICK", "PART"} <= set(commands)
    assert ("JOIN", "player") not in [
        (m.command, str(m.source).partition("!")[0]) for m in replayed
    ]


def test_events_are_not_kept_in_private_conversations() -> None:
    h = Harness()
    h.add_account("bob", "pw-bob-123")
    alice = h.connect("alice", caps=PLAYBACK)
    bob = h.connect("bob", caps=PLAYBACK)
    bob.cmd("PRIVMSG NickServ :IDENTIFY pw-bob-123")
    alice.cmd("JOIN #room")
    bob.cmd("JOIN #room")
    alice.send("PRIVMSG bob :hi")
    bob.send("NICK robert")
    inside = _inside(alice.cmd("CHATHISTORY LATEST robert * 10"))
    assert [m.command for m in inside] == ["PRIVMSG"]
    assert not [key for key in h.history.events if key.startswith("dm:")]


def test_played_back_events_carry_the_account_of_whoever_caused_them() -> None:
    from tests.server.moderation_support import user

    h = Harness()
    alice = user(h, "alice")
    alice.cmd("JOIN #room")  # the first in: its operator, who may set the topic
    h.connect("watcher").cmd("JOIN #room")  # keeps the room when alice leaves
    for line in ("TOPIC #room :set by an account", "NICK alicia", "QUIT :gone"):
        h.clock.advance(1)
        alice.cmd(line)
    reader = h.connect("reader", caps=[*PLAYBACK, "account-tag"])
    reader.cmd("JOIN #room")
    replies = reader.cmd("CHATHISTORY LATEST #room * 10")
    events = {m.command: m.tags.get("account") for m in _inside(replies) if "alic" in str(m.source)}
    assert events == {"JOIN": "alice", "TOPIC": "alice", "NICK": "alice", "QUIT": "alice"}
