"""The IRCv3 notifications and small capabilities over TCP: account-tag, account-notify,
extended-join, away-notify, setname, chghost, invite-notify, multi-prefix,
userhost-in-names, bot mode, MONITOR and extended-monitor, as irctest checks them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conformance_v3_support import (
    Peers,
    accounts_config,
    commands,
    only,
    plain_blob,
    serving,
)
from tests.integration.moderation_support import PASSWORD


@pytest.fixture
def peers(tmp_path: Path) -> Iterator[Peers]:
    with serving(accounts_config(tmp_path, "jilles")) as made:
        yield made


def test_account_tag_is_on_a_privmsg_and_an_invite_from_a_logged_in_user(peers: Peers) -> None:
    foo = peers.connect("foo", "account-tag")
    bar = peers.connect("bar", account="jilles")
    bar.ask("PRIVMSG foo :hi")
    (got,) = foo.sync()
    assert got.params == ["foo", "hi"]
    assert got.tags["account"] == "jilles"
    bar.ask("JOIN #chan", "INVITE foo #chan")
    (invite,) = foo.sync()
    assert invite.command == "INVITE"
    assert invite.params == ["foo", "#chan"]
    assert invite.tags["account"] == "jilles"


def test_extended_join_names_the_account_or_a_star_and_the_realname(peers: Peers) -> None:
    foo = peers.connect("foo", "extended-join")
    foo.ask("JOIN #chan")
    peers.connect("bar").ask("JOIN #chan")
    peers.connect("baz", account="jilles").ask("JOIN #chan")
    joins = only(foo.sync(), "JOIN")
    assert [m.params for m in joins] == [
        ["#chan", "*", "bar real"],
        ["#chan", "jilles", "baz real"],
    ]


def test_account_notify_tells_room_mates_of_a_login(peers: Peers) -> None:
    foo = peers.connect("foo", "account-notify")
    bar = peers.connect("bar", "sasl")
    foo.ask("JOIN #chan")
    bar.ask("JOIN #chan")
    foo.sync()
    bar.ask("AUTHENTICATE PLAIN", f"AUTHENTICATE {plain_blob('jilles')}")
    (account,) = only(foo.sync(), "ACCOUNT")
    assert account.nick == "bar"
    assert account.params == ["jilles"]


def test_away_notify_on_change_and_on_join_of_someone_away(peers: Peers) -> None:
    foo = peers.connect("foo", "away-notify")
    foo.ask("JOIN #chan")
    bar = peers.connect("bar")
    bar.ask("JOIN #chan")
    foo.sync()
    bar.ask("AWAY :i'm going away")
    (away,) = foo.sync()
    assert away.nick == "bar"
    assert away.command == "AWAY"
    assert away.params == ["i'm going away"]
    bar.ask("AWAY")
    (back,) = foo.sync()
    assert back.command == "AWAY"
    assert back.params == []

    baz = peers.connect("baz")
    baz.ask("AWAY :i'm already away", "JOIN #chan")
    aways = only(foo.sync(), "AWAY")
    assert [(m.nick, m.params) for m in aways] == [("baz", ["i'm already away"])]


def test_setname_confirms_to_the_sender_and_reaches_capable_room_mates_only(
    peers: Peers,
) -> None:
    foo = peers.connect("foo", "setname")
    bar = peers.connect("bar", "setname")
    baz = peers.connect("baz")
    for peer in (foo, bar, baz):
        peer.ask("JOIN #chan")
    for peer in (foo, bar, baz):
        peer.sync()
    (confirm,) = foo.ask("SETNAME :qux quux")
    assert confirm.command == "SETNAME"
    assert confirm.params == ["qux quux"]
    (seen,) = bar.sync()
    assert (seen.nick, seen.params) == ("foo", ["qux quux"])
    assert baz.sync() == []
    whois = only(foo.ask("WHOIS foo"), "311")
    assert whois[0].params[-1] == "qux quux"


def test_chghost_reaches_capable_room_mates_as_chghost(peers: Peers) -> None:
    observer = peers.connect("observer", "chghost")
    oldclient = peers.connect("oldclient")
    target = peers.connect("target", "chghost")
    oper = peers.connect("oper")
    assert "381" in commands(oper.ask(f"OPER admin {PASSWORD}"))
    for peer in (observer, oldclient, target):
        peer.ask("JOIN #chan")
    observer.sync()
    oldclient.sync()
    oper.ask("CHGHOST target vhost.example.com")
    (change,) = only(observer.sync(), "CHGHOST")
    assert change.source.startswith("target!")
    assert not change.source.endswith("@vhost.example.com")
    assert change.params[1] == "vhost.example.com"
    assert "CHGHOST" not in commands(oldclient.sync())
    (own,) = only(target.sync(), "CHGHOST")  # the user itself is told too
    assert own.params[1] == "vhost.example.com"
    assert only(target.ask("WHOIS target"), "311")[0].params[3] == "vhost.example.com"


def test_invite_notify_tells_the_other_ops_of_an_invite_to_a_closed_room(peers: Peers) -> None:
    op = peers.connect("op", "invite-notify")
    op.ask("JOIN #inv")
    other_op = peers.connect("other_op")
    other_op.ask("JOIN #inv")
    op.ask("MODE #inv +i", "MODE #inv +o other_op")
    other_op.sync()
    peers.connect("guest")
    other_op.ask("INVITE guest #inv")
    invites = only(op.sync(), "INVITE")
    assert [(m.nick, m.params) for m in invites] == [("other_op", ["guest", "#inv"])]


def test_multi_prefix_shows_every_prefix_in_names_and_who(peers: Peers) -> None:
    foo = peers.connect("foo", "multi-prefix")
    foo.ask("JOIN #chan", "MODE #chan +v foo")
    (names,) = only(foo.ask("NAMES #chan"), "353")
    assert names.params[-1] == "@+foo"
    (who,) = only(foo.ask("WHO #chan"), "352")
    assert "@+" in who.params[6]
    plain = peers.connect("plain")
    plain.ask("JOIN #chan")
    (names,) = only(plain.ask("NAMES #chan"), "353")
    assert set(names.params[-1].split()) == {"@foo", "plain"}


def test_userhost_in_names_gives_full_masks(peers: Peers) -> None:
    foo = peers.connect("foo", "userhost-in-names")
    (names,) = only(foo.ask("JOIN #chan"), "353")
    assert names.params[-1] == "@foo!~foo@127.0.0.1"


def test_bot_mode_from_isupport_marks_whois_who_and_messages(peers: Peers) -> None:
    burst = peers.raw("check")
    burst.send("NICK check", "USER check 0 * :c")
    isupport = " ".join(" ".join(m.params) for m in burst.until("376") if m.command == "005")
    bot_char = next(t.split("=", 1)[1] for t in isupport.split() if t.startswith("BOT="))
    assert len(bot_char) == 1
    bot = peers.connect("botnick")
    (mode,) = only(bot.ask(f"MODE botnick +{bot_char}"), "MODE")
    assert mode.params[0] == "botnick"
    assert mode.params[1].lstrip("+") == bot_char
    user = peers.connect("usernick", "message-tags")
    (whoisbot,) = only(user.ask("WHOIS botnick"), "335")
    assert whoisbot.params[:2] == ["usernick", "botnick"]

    bot.ask("PRIVMSG usernick :beep boop")
    (private,) = user.sync()
    assert private.params == ["usernick", "beep boop"]
    assert "bot" in private.tags
    bot.ask("JOIN #chan")
    user.ask("JOIN #chan")
    bot.ask("PRIVMSG #chan :beep boop")
    (public,) = only(user.sync(), "PRIVMSG")
    assert "bot" in public.tags
    who = {m.params[5]: m for m in only(user.ask("WHO #chan"), "352")}
    assert bot_char in who["botnick"].params[6]
    assert bot_char not in who["usernick"].params[6]


def test_monitor_online_offline_and_quit(peers: Peers) -> None:
    foo = peers.connect("foo")
    (offline,) = foo.ask("MONITOR + bar")
    assert (offline.command, offline.params[1]) == ("731", "bar")
    bar = peers.connect("bar")
    (online,) = foo.sync()
    assert online.command == "730"
    assert online.params[1].split("!")[0] == "bar"
    bar.send("QUIT :bye")
    bar.until("ERROR")
    (gone,) = foo.sync()
    assert (gone.command, gone.params[1]) == ("731", "bar")
    peers.connect("bar")
    assert commands(foo.sync()) == ["730"]


def test_monitor_add_remove_list_status_and_clear(peers: Peers) -> None:
    foo = peers.connect("foo")
    peers.connect("bar")
    replies = foo.ask("MONITOR + bar,baz")
    assert sorted(commands(replies)) == ["730", "731"]
    status = foo.ask("MONITOR S")
    assert sorted((m.command, m.params[1].split("!")[0]) for m in status) == [
        ("730", "bar"),
        ("731", "baz"),
    ]
    listed = foo.ask("MONITOR L")
    assert listed[-1].command == "733"
    assert {nick for m in only(listed, "732") for nick in m.params[1].split(",")} == {"bar", "baz"}
    assert foo.ask("MONITOR - bar") == []
    assert commands(foo.ask("MONITOR C", "MONITOR L")) == ["733"]


def test_monitor_refuses_masks_and_follows_nick_changes(peers: Peers) -> None:
    foo = peers.connect("foo")
    for reply in foo.ask("MONITOR + *!username@127.0.0.1"):
        assert reply.command == "731"
    peers.connect("bar")
    assert foo.sync() == []
    foo.ask("MONITOR C", "MONITOR + qux")
    baz = peers.connect("baz")
    assert foo.sync() == []
    baz.ask("NICK qux")
    (online,) = foo.sync()
    assert online.command == "730"
    assert online.params[1].split("!")[0] == "qux"
    baz.ask("NICK QUX")
    assert foo.sync() == []  # a change of case is the same nick
    baz.ask("NICK bazbat")
    (offline,) = foo.sync()
    assert (offline.command, offline.params[1]) == ("731", "QUX")


def test_one_watcher_removing_a_nick_leaves_the_others_watching(peers: Peers) -> None:
    foo, bar = peers.connect("foo"), peers.connect("bar")
    foo.ask("MONITOR + qux")
    bar.ask("MONITOR + qux")
    assert bar.ask("MONITOR - qux") == []
    peers.connect("qux")
    assert commands(foo.sync()) == ["730"]
    assert bar.sync() == []


@pytest.mark.parametrize("before", [True, False])
@pytest.mark.parametrize("watcher_caps", [(), ("away-notify", "setname", "account-notify")])
def test_extended_monitor_sends_away_setname_and_account_only_with_the_watchers_caps(
    peers: Peers, before: bool, watcher_caps: tuple[str, ...]
) -> None:
    foo = peers.connect("foo", "extended-monitor", *watcher_caps)
    if before:
        foo.ask("MONITOR + bar")
        bar = peers.connect("bar", "sasl")
        online = foo.sync()
    else:
        bar = peers.connect("bar", "sasl")
        online = foo.ask("MONITOR + bar")
    assert commands(online) == ["730"]
    bar.ask("AWAY :afk")
    bar.ask("AWAY")
    bar.ask("SETNAME :new name")
    bar.ask("AUTHENTICATE PLAIN", f"AUTHENTICATE {plain_blob('jilles')}")
    got = [(m.nick, m.command, m.params) for m in foo.sync()]
    if watcher_caps:
        assert got == [
            ("bar", "AWAY", ["afk"]),
            ("bar", "AWAY", []),
            ("bar", "SETNAME", ["new name"]),
            ("bar", "ACCOUNT", ["jilles"]),
        ]
    else:
        assert got == []


def test_pre_away_star_from_a_second_device_never_hides_the_first_devices_message(
    peers: Peers,
) -> None:
    watcher = peers.connect("watcher")
    first = peers.connect("jilles", account="jilles")
    first.ask("AWAY :out to lunch")
    second = peers.raw("jilles")
    second.send("CAP LS 302", "CAP REQ :sasl draft/pre-away", "AWAY *")
    second.send("AUTHENTICATE PLAIN", f"AUTHENTICATE {plain_blob('jilles')}")
    second.send("NICK jilles", "USER j 0 * :j", "CAP END")
    second.until("376")
    assert [m.params[-1] for m in only(watcher.ask("WHOIS jilles"), "301")] == ["out to lunch"]
    first.send("QUIT")
    first.until("ERROR")
    assert [m.params[-1] for m in only(watcher.ask("WHOIS jilles"), "301")] == ["*"]


def test_a_bot_is_tagged_on_its_join_part_nick_and_quit_too(peers: Peers) -> None:
    """bot-mode: the tag SHOULD be on every command a bot sends, so a client learns that
    a newcomer is a bot from its JOIN, without a WHO."""
    watcher = peers.connect("watcher", "message-tags")
    watcher.ask("JOIN #bots")
    bot = peers.connect("robot")
    bot.ask("MODE robot +B")
    bot.ask("JOIN #bots", "PART #bots :brb", "JOIN #bots", "NICK robodan")
    bot.send("QUIT :bye")
    bot.until("ERROR")
    seen = [m for m in watcher.sync() if m.nick in ("robot", "robodan")]
    assert [m.command for m in seen] == ["JOIN", "PART", "JOIN", "NICK", "QUIT"]
    assert all("bot" in m.tags for m in seen), [m.raw for m in seen]
    human = peers.connect("human")
    human.ask("JOIN #bots")
    (join,) = only(watcher.sync(), "JOIN")
    assert "bot" not in join.tags


def test_monitor_past_the_isupport_limit_gets_734_naming_what_was_left_out(
    peers: Peers,
) -> None:
    watcher = peers.raw("watcher")
    watcher.send("NICK watcher", "USER w 0 * :w")
    tokens = [t for m in watcher.until("376") if m.command == "005" for t in m.params]
    limit = int(next(t.split("=")[1] for t in tokens if t.startswith("MONITOR=")))
    nicks = [f"n{i}" for i in range(limit + 1)]
    (full,) = only(watcher.ask(f"MONITOR + {','.join(nicks)}"), "734")
    assert full.params[1:3] == [str(limit), nicks[-1]]
    listed = {n for m in only(watcher.ask("MONITOR L"), "732") for n in m.params[-1].split(",")}
    assert listed == set(nicks[:-1])
