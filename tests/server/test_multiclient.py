"""One person, many devices, in the core: multiclient, always-on, offline messages."""

from __future__ import annotations

from chatroom.irc import numerics as n
from chatroom.irc.message import Message
from chatroom.server.core.settings import AccountSettings, CoreSettings
from chatroom.server.harness import Harness, SimClient
from chatroom.server.store.base import DeleteAccount, PutBan, ServerBan

PASSWORD = "correct-horse-battery"


def device(h: Harness, account: str, nick: str | None = None, caps: str = "") -> SimClient:
    """A connection that logs in to ``account`` with PASS while it registers."""
    client = h.connect()
    if caps:
        client.send("CAP LS 302", f"CAP REQ :{caps}")
    client.send(f"PASS {account}:{PASSWORD}", f"NICK {nick or account}", "USER u 0 * :real")
    if caps:
        client.send("CAP END")
    h.pump()
    return client


def commands(messages: list[Message]) -> list[str]:
    return [m.command for m in messages]


def setup(settings: CoreSettings | None = None) -> tuple[Harness, SimClient, SimClient]:
    """alice (an account) and bob (a guest) together in #room."""
    h = Harness(settings)
    h.add_account("alice", PASSWORD)
    alice = device(h, "alice")
    alice.cmd("JOIN #room")
    bob = h.connect("bob")
    bob.cmd("JOIN #room")
    alice.take()
    return h, alice, bob


def test_second_device_shares_the_nick_and_gets_the_rooms_while_others_see_nothing() -> None:
    h, alice, bob = setup()
    phone = device(h, "alice")
    got = phone.take()
    welcome = [m for m in got if m.command == n.RPL_WELCOME]
    assert welcome
    assert welcome[0].params[0] == "alice"
    joins = [m for m in got if m.command == "JOIN"]
    assert [m.params[0] for m in joins] == ["#room"]
    assert joins[0].source is not None
    assert joins[0].source.startswith("alice!")
    names = [m for m in got if m.command == n.RPL_NAMREPLY]
    assert "bob" in names[0].params[-1].split()
    assert "@alice" in names[0].params[-1].split()
    assert bob.take() == []  # no JOIN, no NICK, no QUIT
    assert phone.session.owner is alice.session.owner
    assert h.world.census.registered == 2  # alice once, bob


def test_what_one_device_says_appears_on_the_other() -> None:
    h, alice, bob = setup()
    phone = device(h, "alice")
    phone.take()
    alice.cmd("PRIVMSG #room :from the laptop")
    seen = phone.take()
    assert [(m.command, m.params[-1]) for m in seen] == [("PRIVMSG", "from the laptop")]
    assert [m.params[-1] for m in bob.take()] == ["from the laptop"]
    alice.cmd("PRIVMSG bob :psst")
    copy = phone.take()
    assert [(m.command, m.params[0], m.params[-1]) for m in copy] == [("PRIVMSG", "bob", "psst")]


def test_a_message_to_the_user_reaches_every_device() -> None:
    h, alice, bob = setup()
    phone = device(h, "alice")
    phone.take()
    bob.cmd("PRIVMSG alice :hello both")
    assert [m.params[-1] for m in alice.take()] == ["hello both"]
    assert [m.params[-1] for m in phone.take()] == ["hello both"]


def test_closing_one_device_leaves_the_user_in_its_rooms() -> None:
    h, alice, bob = setup()
    phone = device(h, "alice")
    phone.take()
    alice.drop()
    h.pump()
    assert "QUIT" not in commands(bob.take())
    room = h.world.rooms.find("#room")
    assert room is not None
    assert phone.session.owner in room.members
    bob.cmd("PRIVMSG #room :still there?")
    assert [m.params[-1] for m in phone.take()] == ["still there?"]
    phone.drop()
    h.pump()
    assert "QUIT" in commands(bob.take())
    assert h.world.nicks.find("alice") is None


def test_join_part_and_nick_by_one_device_apply_to_the_user() -> None:
    h, alice, _bob = setup()
    phone = device(h, "alice")
    phone.take()
    alice.cmd("JOIN #other")
    got = phone.take()
    assert ("JOIN", "#other") in [(m.command, m.params[0]) for m in got if m.params]
    assert n.RPL_ENDOFNAMES in commands(got)  # the other device knows who is there too
    phone.cmd("PART #room")
    assert ("PART", "#room") in [(m.command, m.params[0]) for m in alice.take()]
    assert "#room" not in phone.session.channels
    alice.cmd("NICK alicia")
    assert [(m.command, m.params[0]) for m in phone.take()] == [("NICK", "alicia")]
    assert phone.session.nick == "alicia"


def test_the_user_is_away_only_when_every_device_is() -> None:
    h, alice, bob = setup()
    bob.cmd("CAP REQ away-notify")
    phone = device(h, "alice")
    phone.take()
    alice.cmd("AWAY :laptop closed")
    assert alice.session.owner.away is None
    assert "AWAY" not in commands(bob.take())
    phone.cmd("AWAY :phone in pocket")
    assert alice.session.owner.away == "phone in pocket"
    assert [(m.command, m.params) for m in bob.take()] == [("AWAY", ("phone in pocket",))]
    alice.cmd("AWAY")
    assert alice.session.owner.away is None
    assert [(m.command, m.params) for m in bob.take()] == [("AWAY", ())]


def test_kill_ends_every_device() -> None:
    h = Harness()
    h.add_account("alice", PASSWORD)
    h.add_account("root", PASSWORD, oper=True)
    alice = device(h, "alice")
    phone = device(h, "alice")
    root = device(h, "root")
    root.cmd("KILL alice :enough")
    h.pump()
    assert alice.session.closed
    assert phone.session.closed
    assert h.world.nicks.find("alice") is None


def test_whois_shows_the_user_once_and_its_devices_to_operators() -> None:
    h = Harness()
    h.add_account("alice", PASSWORD)
    h.add_account("root", PASSWORD, oper=True)
    device(h, "alice")
    device(h, "alice")
    root = device(h, "root")
    got = root.cmd("WHOIS alice")
    assert commands(got).count(n.RPL_WHOISUSER) == 1
    assert commands(got).count(n.RPL_WHOISACTUALLY) == 2
    guest = h.connect("guest")
    assert n.RPL_WHOISACTUALLY not in commands(guest.cmd("WHOIS alice"))


def test_multiclient_can_be_turned_off_per_account() -> None:
    h, alice, _bob = setup()
    alice.cmd("PRIVMSG NickServ :SET MULTICLIENT OFF")
    second = device(h, "alice")
    got = second.take()
    assert n.ERR_NICKNAMEINUSE in commands(got)
    assert n.RPL_WELCOME not in commands(got)
    second.cmd("NICK alice2")
    assert second.session.registered
    assert second.session.owner is not alice.session.owner


def test_a_device_that_asks_for_another_nick_is_a_separate_user_of_the_account() -> None:
    h, alice, bob = setup()
    bot = device(h, "alice", nick="alicebot")
    assert bot.session.registered
    assert bot.session.nick == "alicebot"
    assert bot.session.owner is not alice.session.owner
    assert bot.session.account == "alice"
    assert [m.command for m in bob.take()] == []  # in no room: nobody sees it


def test_multiclient_off_on_the_server_keeps_devices_apart() -> None:
    settings = CoreSettings(accounts=AccountSettings(multiclient=False))
    h, alice, _bob = setup(settings)
    second = device(h, "alice", nick="alice2")
    assert second.session.registered
    assert second.session.owner is not alice.session.owner


def test_guests_with_the_same_nick_still_collide() -> None:
    h = Harness()
    h.connect("carol")
    other = h.connect()
    got = other.cmd("NICK carol")
    assert n.ERR_NICKNAMEINUSE in commands(got)


def test_always_on_user_stays_away_in_its_rooms_and_gets_what_it_missed() -> None:
    h, alice, bob = setup()
    bob.cmd("CAP REQ away-notify")
    alice.cmd("PRIVMSG NickServ :SET ALWAYS-ON ON")
    alice.drop()
    h.pump()
    h.clock.advance(1)  # what is said from now on, she misses
    left = bob.take()
    assert "QUIT" not in commands(left)
    assert "AWAY" in commands(left)
    room = h.world.rooms.find("#room")
    user = h.world.nicks.find("alice")
    assert user is not None
    assert room is not None
    assert user in room.members
    assert not user.conns
    bob.cmd("PRIVMSG #room :you missed this")
    assert n.RPL_AWAY in commands(bob.cmd("PRIVMSG alice :and this"))
    back = device(h, "alice", caps="batch server-time")
    got = back.take()
    texts = [m.params[-1] for m in got if m.command == "PRIVMSG"]
    assert texts == ["you missed this", "and this"]
    assert all("time" in m.tags for m in got if m.command == "PRIVMSG")
    assert any(m.command == "BATCH" and "chathistory" in m.params for m in got)
    assert user.away is None


def test_always_on_can_be_disabled_by_the_server() -> None:
    settings = CoreSettings(accounts=AccountSettings(always_on="disabled"))
    h, alice, bob = setup(settings)
    got = alice.cmd("PRIVMSG NickServ :SET ALWAYS-ON ON")
    assert "disabled" in got[-1].params[-1]
    alice.drop()
    h.pump()
    assert "QUIT" in commands(bob.take())


def test_opt_out_makes_every_account_always_on() -> None:
    settings = CoreSettings(accounts=AccountSettings(always_on="opt-out"))
    h, alice, bob = setup(settings)
    alice.drop()
    h.pump()
    assert "QUIT" not in commands(bob.take())
    assert h.world.nicks.find("alice") is not None


def test_message_to_an_offline_account_is_kept_and_delivered_at_login() -> None:
    h = Harness()
    h.add_account("alice", PASSWORD)
    h.add_account("carol", PASSWORD)
    h.clock.advance(1)
    carol = device(h, "carol")
    got = carol.cmd("PRIVMSG alice :call me")
    assert n.ERR_NOSUCHNICK not in commands(got)
    assert "kept" in got[-1].params[-1]
    alice = device(h, "alice", caps="batch server-time")
    texts = [(m.source, m.params[-1]) for m in alice.take() if m.command == "PRIVMSG"]
    assert [text for _, text in texts] == ["call me"]
    assert texts[0][0] is not None
    assert texts[0][0].startswith("carol!")


def test_guests_cannot_leave_offline_messages_and_unknown_nicks_still_get_401() -> None:
    h = Harness()
    h.add_account("alice", PASSWORD)
    guest = h.connect("guest")
    assert n.ERR_NOSUCHNICK in commands(guest.cmd("PRIVMSG alice :hi"))
    h.add_account("carol", PASSWORD)
    carol = device(h, "carol")
    assert n.ERR_NOSUCHNICK in commands(carol.cmd("PRIVMSG nobody :hi"))


def test_offline_mailbox_is_bounded() -> None:
    settings = CoreSettings(accounts=AccountSettings(offline_messages=2))
    h = Harness(settings)
    h.add_account("alice", PASSWORD)
    h.add_account("carol", PASSWORD)
    carol = device(h, "carol")
    carol.cmd("PRIVMSG alice :one")
    carol.cmd("PRIVMSG alice :two")
    got = carol.cmd("PRIVMSG alice :three")
    assert "too many" in got[-1].params[-1]


def test_an_account_rejoins_its_rooms_at_its_next_login() -> None:
    h, alice, _bob = setup()
    alice.drop()
    h.pump()
    back = device(h, "alice")
    joined = [m.params[0] for m in back.take() if m.command == "JOIN"]
    assert joined == ["#room"]


def test_a_ban_ends_an_always_on_user_with_every_device_and_without_any() -> None:
    h, alice, bob = setup()
    h.add_account("root", PASSWORD, oper=True)
    root = device(h, "root")
    alice.cmd("PRIVMSG NickServ :SET ALWAYS-ON ON")
    phone = device(h, "alice")
    root.cmd("BAN alice :spam")
    h.answer()
    h.pump()
    assert alice.session.closed
    assert phone.session.closed
    assert "QUIT" in commands(bob.take())
    assert h.world.nicks.find("alice") is None

    h.add_account("carol", PASSWORD)
    carol = device(h, "carol")
    carol.cmd("JOIN #room")
    carol.cmd("PRIVMSG NickServ :SET ALWAYS-ON ON")
    carol.drop()
    h.pump()
    assert h.world.nicks.find("carol") is not None  # away, with no device
    bob.take()
    root.cmd("BAN account:carol :spam")
    h.answer()
    h.pump()
    assert "QUIT" in commands(bob.take())
    assert h.world.nicks.find("carol") is None


def test_a_shutdown_keeps_the_rooms_of_every_account_for_after_the_restart() -> None:
    h, alice, _bob = setup()
    alice.cmd("PRIVMSG NickServ :SET ALWAYS-ON ON")
    h.add_account("carol", PASSWORD)
    carol = device(h, "carol")
    carol.cmd("JOIN #room")
    h.world.close_all("Server shutting down")
    h.pump()
    kept = h.store.load().presence
    assert kept["alice"].channels == ("#room",)
    assert kept["carol"].channels == ("#room",)
    again = Harness()
    again.store = h.store
    again.world.load_snapshot(h.store.load())
    user = again.world.nicks.find("alice")
    assert user is not None
    assert user.always_on
    assert "#room" in user.channels
    assert again.world.nicks.find("carol") is None  # not always-on: back at its next login


def test_an_always_on_user_with_no_device_leaves_when_its_account_is_deleted() -> None:
    h, alice, bob = setup()
    alice.cmd("PRIVMSG NickServ :SET ALWAYS-ON ON")
    alice.drop()
    h.pump()
    bob.take()
    h.store.apply([DeleteAccount("alice")])
    h.world.load_snapshot(h.store.load())
    h.pump()
    assert "QUIT" in commands(bob.take())
    assert h.world.nicks.find("alice") is None


def test_an_always_on_user_keeps_its_user_modes_and_operator_status_over_a_restart() -> None:
    h = Harness()
    h.add_account("alice", PASSWORD, oper=True)
    alice = device(h, "alice")
    alice.cmd("PRIVMSG NickServ :SET ALWAYS-ON ON")
    alice.cmd("JOIN #room")
    alice.cmd("MODE alice +iB")
    h.world.close_all("Server shutting down")
    h.pump()
    assert h.store.load().presence["alice"].modes == "Bi"
    again = Harness()
    again.store = h.store
    again.world.load_snapshot(h.store.load())
    user = again.world.nicks.find("alice")
    assert user is not None
    assert set(user.modes) == {"B", "i", "o"}
    assert again.world.census.opers == 1
    back = device(again, "alice")
    got = back.take()
    assert n.RPL_YOUREOPER in commands(got)


def test_a_killed_always_on_user_stays_gone_after_a_reload_and_a_restart() -> None:
    h = Harness()
    h.add_account("alice", PASSWORD)
    h.add_account("root", PASSWORD, oper=True)
    alice = device(h, "alice")
    alice.cmd("PRIVMSG NickServ :SET ALWAYS-ON ON")
    alice.cmd("JOIN #room")
    alice.drop()
    h.pump()
    root = device(h, "root")
    root.cmd("KILL alice :gone")
    h.pump()
    assert h.world.nicks.find("alice") is None
    h.world.load_snapshot(h.store.load())  # chatroom admin wrote something
    assert h.world.nicks.find("alice") is None
    again = Harness()
    again.store = h.store
    again.world.load_snapshot(h.store.load())
    assert again.world.nicks.find("alice") is None


def test_an_always_on_user_banned_while_the_server_was_down_is_not_brought_back() -> None:
    h, alice, _bob = setup()
    alice.cmd("PRIVMSG NickServ :SET ALWAYS-ON ON")
    h.world.close_all("Server shutting down")
    h.pump()
    h.store.apply([PutBan(ServerBan(None, "account", "alice", "spam", "admin", h.clock(), None))])
    again = Harness()
    again.store = h.store
    again.world.load_snapshot(h.store.load())
    assert again.world.nicks.find("alice") is None


def test_a_ban_counts_every_connection_it_closes_not_one_per_user() -> None:
    h, _alice, _bob = setup()
    h.add_account("root", PASSWORD, oper=True)
    root = device(h, "root")
    device(h, "alice")  # a second device
    root.take()
    got = root.cmd("BAN alice :spam")
    h.answer()
    h.pump()
    said = [m.params[-1] for m in got + root.take() if m.command == "NOTICE"]
    assert any("2 connection(s) closed" in text for text in said), said
