"""One person, many devices, in the core: multiclient, always-on, offline messages."""

from __future__ import annotations

from chatroom.irc import numerics as n
from chatroom.irc.message import Message
from chatroom.server.core.settings import AccountSettings, CoreSettings, HistorySettings
from chatroom.server.harness import Harness, SimClient
from chatroom.server.store.base import DeleteAccount, PutBan, ServerBan
from tests.server.login_support import sasl_plain

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


def test_a_device_that_logs_in_with_sasl_before_sending_nick_attaches() -> None:
    """Bots and bouncers finish SASL and CAP END, then send NICK: the nick in use must
    wait for registration to end (and attach), not answer 433 at once."""
    h, alice, bob = setup()
    phone = h.connect()
    phone.send("CAP LS 302", "CAP REQ :sasl")
    sasl_plain(phone, "alice", PASSWORD)
    phone.send("CAP END", "NICK alice", "USER u 0 * :real")
    h.pump()
    got = phone.take()
    assert n.ERR_NICKNAMEINUSE not in commands(got)
    assert [m.params[0] for m in got if m.command == n.RPL_WELCOME] == ["alice"]
    assert phone.session.owner is alice.session.owner
    assert bob.take() == []


def test_lusers_counts_no_device_as_unknown_and_never_goes_below_zero() -> None:
    def unknown(client: SimClient) -> str:
        """The count in 253, "0" when it is left out (as it is with none)."""
        got = [m for m in client.cmd("LUSERS") if m.command == n.RPL_LUSERUNKNOWN]
        assert len(h.world.sessions) >= h.world.census.devices  # never below zero
        return got[0].params[1] if got else "0"

    h, alice, bob = setup()
    device(h, "alice")
    device(h, "alice")
    assert unknown(bob) == "0"  # three devices of one user, and bob
    h.connect()  # one that has not registered yet
    h.pump()
    assert unknown(bob) == "1"
    alice.cmd("PRIVMSG NickServ :SET ALWAYS-ON ON")
    for client in list(h.clients.values()):
        if client is not bob and client.session.registered:
            client.drop()
    h.pump()
    assert h.world.nicks.find("alice") is not None  # always-on, with no device
    assert unknown(bob) == "1"


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


def test_a_user_mode_set_on_one_device_is_seen_by_the_others() -> None:
    h, alice, _bob = setup()
    phone = device(h, "alice")
    phone.take()
    alice.cmd("MODE alice +i")
    assert [(m.command, m.params) for m in phone.take()] == [("MODE", ("alice", "+i"))]
    phone.cmd("MODE alice -i")
    assert [(m.command, m.params) for m in alice.take()] == [("MODE", ("alice", "-i"))]


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


def test_logout_on_one_of_several_devices_is_refused_and_changes_nothing() -> None:
    h, alice, _bob = setup()
    phone = device(h, "alice")
    phone.take()
    got = alice.cmd("PRIVMSG NickServ :LOGOUT")
    assert "1 other device(s)" in got[-1].params[-1]
    assert alice.session.account == "alice"
    assert not phone.session.closed


def test_dropping_the_account_keeps_the_device_that_asked_and_closes_the_others() -> None:
    """A guest has one connection: the user's other devices cannot stay as guests."""
    h, alice, _bob = setup()
    phone = device(h, "alice")
    alice.cmd("PRIVMSG NickServ :DROP alice")
    h.pump()
    assert alice.session.account is None
    assert not alice.session.closed
    assert phone.session.closed
    assert alice.session.owner.conns == (alice.session,)


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


def test_multiclient_can_be_turned_off_per_account_and_the_433_is_addressed_to_star() -> None:
    h, alice, _bob = setup()
    alice.cmd("PRIVMSG NickServ :SET MULTICLIENT OFF")
    second = device(h, "alice")
    got = second.take()
    in_use = [m for m in got if m.command == n.ERR_NICKNAMEINUSE]
    assert [m.params[:2] for m in in_use] == [("*", "alice")]  # not told its nick is alice
    assert n.RPL_WELCOME not in commands(got)
    second.cmd("NICK alice2")
    assert second.session.registered
    assert second.session.owner is not alice.session.owner


def test_multiclient_turned_off_leaves_attached_devices_attached_until_they_leave() -> None:
    """docs/commands.md: devices already attached stay so; only a new one is refused."""
    h, alice, bob = setup()
    phone = device(h, "alice")
    assert phone.session.owner is alice.session.owner
    alice.cmd("PRIVMSG NickServ :SET MULTICLIENT OFF")
    phone.take()
    bob.cmd("PRIVMSG #room :still both?")
    for each in (alice, phone):
        said = [m for m in each.take() if m.command == "PRIVMSG"]
        assert [m.params for m in said] == [("#room", "still both?")]
    assert phone.session.owner is alice.session.owner
    third = device(h, "alice")
    assert n.ERR_NICKNAMEINUSE in commands(third.take())
    assert not third.session.registered


def test_nickserv_info_shows_the_owner_its_multiclient_and_always_on_choices() -> None:
    _h, alice, bob = setup(CoreSettings(accounts=AccountSettings(always_on="opt-out")))

    def info(client: SimClient, *args: str) -> list[str]:
        got = client.cmd(" ".join(["PRIVMSG NickServ :INFO", *args]))
        return [m.params[-1] for m in got if m.command == "NOTICE"]

    assert {"Multiclient: on", "Always-on: on"} <= set(info(alice))
    alice.cmd("PRIVMSG NickServ :SET MULTICLIENT OFF")
    alice.cmd("PRIVMSG NickServ :SET ALWAYS-ON OFF")
    assert {"Multiclient: off", "Always-on: off"} <= set(info(alice))
    assert not [text for text in info(bob, "alice") if text.startswith(("Multi", "Always"))]


def test_a_device_that_asks_for_another_nick_is_a_separate_user_of_the_account() -> None:
    h, alice, bob = setup()
    bot = device(h, "alice", nick="alicebot")
    assert bot.session.registered
    assert bot.session.nick == "alicebot"
    assert bot.session.owner is not alice.session.owner
    assert bot.session.account == "alice"
    assert [m.command for m in bob.take()] == []  # in no room: nobody sees it


def test_a_device_attaches_to_the_user_of_its_account_holding_the_nick_it_asks_for() -> None:
    """The account's first user renamed itself and left; another user of the account
    holds the account's name: a device asking for that name joins that user."""
    h, alice, bob = setup()
    alice.cmd("NICK alicia")
    second = device(h, "alice")  # "alice" is free: a separate user of the account
    assert second.session.owner is not alice.session.owner
    alice.drop()
    h.pump()
    bob.take()
    third = device(h, "alice")
    got = third.take()
    assert n.ERR_NICKNAMEINUSE not in commands(got)
    assert third.session.owner is second.session.owner
    assert bob.take() == []


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


def _busy_while_alice_is_away(settings: CoreSettings) -> Harness:
    """Always-on alice leaves; bob says six lines in #room and one to her, a second
    apart."""
    h, alice, bob = setup(settings)
    alice.cmd("PRIVMSG NickServ :SET ALWAYS-ON ON")
    alice.drop()
    h.pump()
    h.clock.advance(1)
    for i in range(5):
        bob.cmd(f"PRIVMSG #room :room line {i}")
        h.clock.advance(1)
    bob.cmd("PRIVMSG alice :a private word")
    h.clock.advance(1)
    bob.cmd("PRIVMSG #room :the last room line")
    return h


def test_the_replay_bound_keeps_the_newest_missed_lines_of_a_busy_room() -> None:
    """More missed lines in one room than ``accounts.missed_replay_lines``: the replay is
    the newest ones of all conversations, not the oldest of the room."""
    settings = CoreSettings(accounts=AccountSettings(missed_replay_lines=3))
    h = _busy_while_alice_is_away(settings)
    back = device(h, "alice", caps="batch server-time")
    got = [(m.params[0], m.params[-1]) for m in back.take() if m.command == "PRIVMSG"]
    # One chathistory batch per conversation, each in order.
    assert [text for target, text in got if target == "#room"] == [
        "room line 4",
        "the last room line",
    ]
    assert [text for target, text in got if target != "#room"] == ["a private word"]


def test_a_long_missed_line_replayed_as_notices_arrives_whole() -> None:
    """Without batch and server-time the time and room go in front of the text: a line
    near the limit would be cut, so it goes on in a second NOTICE."""
    h, alice, bob = setup()
    alice.cmd("PRIVMSG NickServ :SET ALWAYS-ON ON")
    alice.drop()
    h.pump()
    h.clock.advance(1)
    # 447 bytes: it fits in a live PRIVMSG, not with the time and room in front.
    long_text = " ".join(f"word{i:03d}" for i in range(56))
    bob.cmd(f"PRIVMSG #room :{long_text}")
    back = device(h, "alice")
    notices = [m.params[-1] for m in back.take() if m.command == "NOTICE"]
    replayed = [text for text in notices if text.startswith("[")]
    start = notices.index(replayed[0])
    shown = " ".join(notices[start:])
    assert shown.endswith(long_text.split()[-1])
    assert shown.split("> ", 1)[1] == long_text


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


def test_the_sender_hears_an_offline_message_was_kept_only_once_it_is_saved() -> None:
    h = Harness()
    h.add_account("alice", PASSWORD)
    h.add_account("carol", PASSWORD)
    carol = device(h, "carol")
    h.defer_answers = True
    got = carol.cmd("PRIVMSG alice :call me")
    assert not [m for m in got if m.command == "NOTICE"]  # the write has not committed
    h.answer()
    notices = [m.params[-1] for m in carol.take() if m.command == "NOTICE"]
    assert len(notices) == 1
    assert "kept" in notices[0]
    assert "not" not in notices[0]


def test_an_offline_message_the_history_could_not_save_is_not_called_kept() -> None:
    h = Harness()
    h.add_account("alice", PASSWORD)
    h.add_account("carol", PASSWORD)
    carol = device(h, "carol")
    h.history_fails = True
    got = carol.cmd("PRIVMSG alice :call me")
    notices = [m.params[-1] for m in got if m.command == "NOTICE"]
    assert notices == ["alice is offline and your message could not be kept; try again later"]


def test_a_ctcp_request_to_an_offline_account_gets_401_and_is_not_counted_as_kept() -> None:
    h = Harness()
    h.add_account("alice", PASSWORD)
    h.add_account("carol", PASSWORD)
    carol = device(h, "carol")
    got = carol.cmd("PRIVMSG alice :\x01VERSION\x01")
    assert n.ERR_NOSUCHNICK in commands(got)
    assert not [m for m in got if m.command == "NOTICE"]
    assert h.world.accounts.waiting("alice") == 0
    got = carol.cmd("PRIVMSG alice :\x01ACTION waves\x01")
    assert "kept" in got[-1].params[-1]


def test_an_offline_message_survives_a_restart_before_the_first_login() -> None:
    """The count of waiting messages is in memory only; the messages are history."""
    h = Harness()
    h.add_account("alice", PASSWORD)
    h.add_account("carol", PASSWORD)
    h.clock.advance(1)
    carol = device(h, "carol")
    carol.cmd("PRIVMSG alice :call me")
    h.world.close_all("Server shutting down")
    h.pump()
    again = Harness()
    again.clock.advance(h.clock() + 60 - again.clock())
    again.store, again.history = h.store, h.history
    again.world.load_snapshot(h.store.load())
    alice = device(again, "alice")
    texts = [m.params[-1] for m in alice.take() if m.command == "NOTICE"]
    assert any(text.endswith("<carol> call me") for text in texts), texts


def test_a_message_to_an_account_online_under_another_nick_is_not_falsely_kept() -> None:
    """Kept, it would never be delivered: the next login replays only what came after
    its user left. The sender hears 401, as for any nick nobody holds."""
    h = Harness()
    h.add_account("alice", PASSWORD)
    h.add_account("carol", PASSWORD)
    alice = device(h, "alice")
    alice.cmd("NICK alicia")
    carol = device(h, "carol")
    got = carol.cmd("PRIVMSG alice :hello?")
    assert commands(got) == [n.ERR_NOSUCHNICK]


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


def test_the_ban_notice_counts_every_device_it_closed() -> None:
    h, _alice, _bob = setup()
    h.add_account("root", PASSWORD, oper=True)
    root = device(h, "root")
    device(h, "alice")
    device(h, "alice")
    got = root.cmd("BAN alice :spam")
    texts = [m.params[-1] for m in got if m.command == "NOTICE"]
    assert any("3 connection(s) closed" in text for text in texts), texts


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


def test_whois_of_an_always_on_user_brought_back_by_a_restart_has_sane_idle_and_signon() -> None:
    h = Harness()
    h.add_account("alice", PASSWORD)
    h.clock.advance(1000)
    alice = device(h, "alice")
    alice.cmd("PRIVMSG NickServ :SET ALWAYS-ON ON")
    alice.drop()
    h.pump()
    left_at = h.clock()
    h.world.close_all("Server shutting down")
    h.pump()
    again = Harness()
    again.clock.advance(left_at + 600 - again.clock())  # the server was down ten minutes
    again.store = h.store
    again.world.load_snapshot(h.store.load())
    bob = again.connect("bob")
    idle = [m for m in bob.cmd("WHOIS alice") if m.command == n.RPL_WHOISIDLE]
    assert idle[0].params[2:4] == ("600", str(int(again.clock())))


def test_after_a_crash_an_always_on_user_is_back_in_the_rooms_and_nick_it_last_had() -> None:
    """No orderly shutdown saves it: the rooms it joined, left or was kicked from and
    its nick since its last device left are saved as they change."""
    h = Harness()
    h.add_account("alice", PASSWORD)
    h.add_account("root", PASSWORD, oper=True)
    alice = device(h, "alice")
    alice.cmd("PRIVMSG NickServ :SET ALWAYS-ON ON")
    alice.cmd("JOIN #one,#two,#three")
    alice.cmd("PART #one")
    alice.cmd("NICK alicia")
    root = device(h, "root")
    root.cmd("JOIN #three")
    alice.drop()
    h.pump()
    kicked = root.cmd("KICK #three alicia :out")  # an operator overrides the room's ops
    assert "KICK" in commands(kicked)
    back = device(h, "alice", nick="alicia")
    assert back.session.owner.always_on
    back.cmd("JOIN #four")
    back.cmd("PART #two")
    back.cmd("NICK alice2")
    crashed = h.store.load()  # no close_all: the process was killed with her connected
    again = Harness()
    again.store = h.store
    again.world.load_snapshot(crashed)
    user = again.world.nicks.find("alice2")
    assert user is not None
    assert sorted(user.channels) == ["#four"]


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


def restarted(h: Harness, after: float = 60, settings: CoreSettings | None = None) -> Harness:
    """A new server on ``h``'s store and history, ``after`` seconds later (no shutdown
    unless the caller did one: a crash)."""
    again = Harness(settings)
    again.clock.advance(h.clock() + after - again.clock())
    again.store, again.history = h.store, h.history
    again.world.load_snapshot(h.store.load())
    return again


def replayed(client: SimClient) -> list[str]:
    """What a plain client (no batch) got as "while you were away" NOTICEs."""
    return [m.params[-1] for m in client.take() if m.command == "NOTICE" and "<" in m.params[-1]]


def test_private_messages_received_live_are_not_replayed_after_a_kill() -> None:
    """A KILL forgets what the account was in; its next login must still not replay the
    private messages it already received (they were sent since the account was made)."""
    h = Harness()
    h.add_account("alice", PASSWORD)
    h.add_account("carol", PASSWORD)
    h.add_account("root", PASSWORD, oper=True)
    h.clock.advance(1)
    alice = device(h, "alice")
    carol = device(h, "carol")
    carol.cmd("PRIVMSG alice :seen live")
    assert [m.params[-1] for m in alice.take() if m.command == "PRIVMSG"] == ["seen live"]
    root = device(h, "root")
    root.cmd("KILL alice :out")
    h.pump()
    h.clock.advance(1)
    carol.cmd("PRIVMSG alice :kept while away")
    back = device(h, "alice")
    texts = replayed(back)
    assert len(texts) == 1, texts
    assert texts[0].endswith("<carol> kept while away")


def test_private_messages_of_a_first_session_that_crashed_are_not_replayed() -> None:
    h = Harness()
    h.add_account("alice", PASSWORD)
    h.add_account("carol", PASSWORD)
    h.clock.advance(1)
    alice = device(h, "alice", caps="batch server-time")
    carol = device(h, "carol")
    carol.cmd("PRIVMSG alice :seen live")
    assert [m.params[-1] for m in alice.take() if m.command == "PRIVMSG"] == ["seen live"]
    again = restarted(h)  # no close_all: the process died with alice connected
    back = device(again, "alice", caps="batch server-time")
    assert not [m for m in back.take() if m.command == "PRIVMSG"]
    assert not any("While you were away" in text for text in replayed(back))


def test_a_later_session_that_crashed_replays_only_what_was_kept_offline() -> None:
    """She left once (her rooms were kept then), came back, received a line live, and the
    server crashed; one message was kept for her after the restart: only it is replayed."""
    h = Harness()
    h.add_account("alice", PASSWORD)
    h.add_account("carol", PASSWORD)
    h.clock.advance(1)
    alice = device(h, "alice")
    alice.drop()
    h.pump()
    h.clock.advance(1)
    alice = device(h, "alice")
    carol = device(h, "carol")
    carol.cmd("PRIVMSG alice :seen live")
    again = restarted(h)
    carol = device(again, "carol")
    carol.cmd("PRIVMSG alice :kept after the crash")
    back = device(again, "alice")
    texts = replayed(back)
    assert len(texts) == 1, texts
    assert texts[0].endswith("<carol> kept after the crash")


def test_the_offline_mailbox_bound_holds_across_a_restart() -> None:
    settings = CoreSettings(accounts=AccountSettings(offline_messages=2))
    h = Harness(settings)
    h.add_account("alice", PASSWORD)
    h.add_account("carol", PASSWORD)
    carol = device(h, "carol")
    carol.cmd("PRIVMSG alice :one")
    carol.cmd("PRIVMSG alice :two")
    h.world.close_all("Server shutting down")
    h.pump()
    again = restarted(h, settings=settings)
    carol = device(again, "carol")
    got = carol.cmd("PRIVMSG alice :three")
    assert "too many" in got[-1].params[-1]
    alice = device(again, "alice")
    texts = replayed(alice)
    assert [text.rsplit("> ", 1)[1] for text in texts] == ["one", "two"]


def test_an_always_on_user_back_from_a_restart_takes_its_first_devices_host_and_keeps_it() -> None:
    """Brought back with no device, it shows a placeholder host; its first device gives it
    a real one (others with chghost hear of it), and later devices do not change it."""
    h, alice, _bob = setup()
    alice.cmd("PRIVMSG NickServ :SET ALWAYS-ON ON")
    h.world.close_all("Server shutting down")
    h.pump()
    again = restarted(h)
    watcher = again.connect("bob", caps=["chghost"])
    watcher.cmd("JOIN #room")
    plain = again.connect("dave")
    plain.cmd("JOIN #room")
    user = again.world.nicks.find("alice")
    assert user is not None
    assert user.host == "always-on.invalid"

    def login(ip: str) -> SimClient:
        client = SimClient(again, ip, True, None)  # TLS: a password is accepted
        client.send(f"PASS alice:{PASSWORD}", "NICK alice", "USER u 0 * :real")
        again.pump()
        return client

    phone = login("203.0.113.7")
    welcome = [m for m in phone.take() if m.command == n.RPL_WELCOME]
    assert welcome[0].params[-1].endswith("alice!~alice@203.0.113.7")
    assert user.host == "203.0.113.7"
    changed = [m for m in watcher.take() if m.command == "CHGHOST"]
    assert [(m.source, m.params) for m in changed] == [
        ("alice!~alice@always-on.invalid", ("~alice", "203.0.113.7"))
    ]
    assert not [m for m in plain.take() if m.command == "CHGHOST"]
    login("198.51.100.9")  # a second device: the user's host stays as others know it
    assert user.host == "203.0.113.7"
    assert not [m for m in watcher.take() if m.command == "CHGHOST"]


def test_the_replay_says_how_many_older_lines_it_left_out_and_how_to_read_them() -> None:
    settings = CoreSettings(
        accounts=AccountSettings(missed_replay_lines=3),
        history=HistorySettings(chathistory_limit=2),  # the count goes over several pages
    )
    h = _busy_while_alice_is_away(settings)
    back = device(h, "alice")
    got = back.take()
    summary = next(m.params[-1] for m in got if "While you were away" in m.params[-1])
    replayed = [m.params[-1] for m in got if m.command == "NOTICE" and m.params[-1][:1] == "["]
    assert [text.split("> ", 1)[1] for text in replayed] == [
        "room line 4",
        "a private word",
        "the last room line",
    ]
    assert summary.startswith(
        "While you were away: 3 message(s); 4 older message(s) left out (#room 4): "
        "read them with CHATHISTORY BEFORE <target> timestamp="
    )
    request = summary.split("read them with ", 1)[1].split(" (", 1)[0]
    answer = back.cmd(request.replace("<target>", "#room"))
    older = [m.params[-1] for m in answer if m.command == "PRIVMSG"]
    assert older == ["room line 2", "room line 3"]  # the newest left out, a page of them


def test_a_replay_that_left_nothing_out_says_only_how_many_follow() -> None:
    h = Harness()
    h.add_account("alice", PASSWORD)
    h.add_account("carol", PASSWORD)
    carol = device(h, "carol")
    carol.cmd("PRIVMSG alice :call me")
    alice = device(h, "alice")
    assert "While you were away: 1 message(s)" in [m.params[-1] for m in alice.take()]


def test_after_a_crash_an_always_on_user_is_replayed_only_what_was_said_after_it() -> None:
    """Connected when the server died, it saw every line until then: its first device
    after the restart gets only what was said since the server came back."""
    h, alice, bob = setup()
    alice.cmd("PRIVMSG NickServ :SET ALWAYS-ON ON")
    h.clock.advance(1)
    bob.cmd("PRIVMSG #room :seen live")
    bob.cmd("PRIVMSG alice :a word seen live")
    assert len([m for m in alice.take() if m.command == "PRIVMSG"]) == 2
    h.clock.advance(60)
    again = Harness()
    again.clock.advance(h.clock() - again.clock())
    again.world.started_at = again.clock()  # the new process starts now
    again.store, again.history = h.store, h.history
    again.world.load_snapshot(h.store.load())  # no close_all: a crash
    again.clock.advance(1)
    bob = again.connect("bob")
    bob.cmd("JOIN #room")
    bob.cmd("PRIVMSG #room :said after the restart")
    back = device(again, "alice", caps="batch server-time")
    texts = [m.params[-1] for m in back.take() if m.command == "PRIVMSG"]
    assert texts == ["said after the restart"]
    again.clock.advance(1)
    crashed_again = restarted(again)  # and once more, before a device came back
    back = device(crashed_again, "alice", caps="batch server-time")
    assert not [m for m in back.take() if m.command == "PRIVMSG"]
