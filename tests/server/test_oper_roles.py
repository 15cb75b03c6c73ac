"""Operator roles: each account's role decides which oper commands it may use."""

from __future__ import annotations

import base64
import dataclasses

from chatroom.irc import numerics as n
from chatroom.irc.message import Message
from chatroom.server.core.settings import CoreSettings, Limits, OperRole
from chatroom.server.harness import Harness, SimClient
from chatroom.server.store.base import PutAccount
from tests.server.moderation_support import PASSWORD, audit_actions, notices, numerics

ROLES = (
    OperRole("moderator", frozenset({"kick", "mute"})),
    OperRole("admin", frozenset({"kick", "kill", "ban", "mute", "channels", "admin"})),
)


def harness(oper_capabilities: frozenset[str] | None = None) -> Harness:
    settings = CoreSettings(limits=Limits(), oper_roles=ROLES)
    if oper_capabilities is not None:
        settings = dataclasses.replace(settings, oper_capabilities=oper_capabilities)
    return Harness(settings)


def logged_in(h: Harness, nick: str, role: str | None = None) -> SimClient:
    """A registered client identified to its own account (with ``role``, if any)."""
    h.add_account(nick, PASSWORD, role=role)
    client = h.connect(nick)
    client.cmd(f"PRIVMSG NickServ :IDENTIFY {PASSWORD}")
    assert client.session.account == nick
    return client


def denial(messages: list[Message]) -> str:
    [refusal] = [m for m in messages if m.command == n.ERR_NOPRIVILEGES]
    return refusal.params[-1]


def test_login_grants_plus_o_and_the_role_named_on_the_account() -> None:
    h = harness()
    mod = logged_in(h, "mod", "moderator")
    assert "o" in mod.session.modes
    assert mod.session.oper_role == "moderator"


def test_a_role_may_use_its_capabilities_and_no_others() -> None:
    h = harness()
    mod = logged_in(h, "mod", "moderator")
    logged_in(h, "bob")
    assert "Muted bob" in notices(mod.cmd("MUTE bob 10m :noise"))[0]
    for line, capability in (("BAN bob", "ban"), ("KILL bob", "kill"), ("BANS", "ban")):
        text = denial(mod.cmd(line))
        assert f"'{capability}'" in text
        assert "(moderator)" in text
    assert h.world.nicks.find("bob") is not None


def test_non_operators_are_told_they_are_not_operators() -> None:
    h = harness()
    bob = logged_in(h, "bob")
    assert denial(bob.cmd("MUTE bob")) == "Permission Denied- You're not an IRC operator"


def test_the_default_role_has_the_opers_capabilities_setting() -> None:
    h = harness(oper_capabilities=frozenset({"kill"}))
    root = logged_in(h, "root", "oper")
    logged_in(h, "bob")
    assert "'mute'" in denial(root.cmd("MUTE bob"))
    root.cmd("KILL bob :bye")
    assert h.world.nicks.find("bob") is None


def test_chghost_needs_the_admin_capability() -> None:
    h = harness()
    mod = logged_in(h, "mod", "moderator")
    boss = logged_in(h, "boss", "admin")
    bob = logged_in(h, "bob")
    assert "'admin'" in denial(mod.cmd("CHGHOST bob staff.example"))
    assert bob.session.owner.host != "staff.example"
    assert n.ERR_NOPRIVILEGES not in numerics(boss.cmd("CHGHOST bob staff.example"))
    assert bob.session.owner.host == "staff.example"


def test_whois_names_the_role_of_an_operator() -> None:
    h = harness()
    logged_in(h, "mod", "moderator")
    alice = h.connect("alice")
    [line] = [m for m in alice.cmd("WHOIS mod") if m.command == n.RPL_WHOISOPERATOR]
    assert line.params == ("alice", "mod", "is an IRC operator (moderator)")


def test_oper_command_grants_the_role_and_audits_it() -> None:
    h = harness()
    h.add_account("mod", PASSWORD, role="moderator")
    client = h.connect("alice")
    got = client.cmd(f"OPER mod {PASSWORD}")
    [welcome] = [m for m in got if m.command == n.RPL_YOUREOPER]
    assert welcome.params[-1] == "You are now an IRC operator (moderator)"
    assert client.session.oper_role == "moderator"
    assert ("mod", "oper.up", "alice") in audit_actions(h)
    [entry] = [e for e in h.store.audit() if e.action == "oper.up"]
    assert entry.reason == "moderator"


def test_a_role_missing_from_the_config_grants_nothing() -> None:
    h = harness()
    ghost = logged_in(h, "ghost", "retired")
    assert "o" not in ghost.session.modes
    got = ghost.cmd(f"OPER ghost {PASSWORD}")
    assert numerics(got) == [n.ERR_NOOPERHOST]
    assert "(retired)" in got[0].params[-1]
    assert "o" not in ghost.session.modes


def test_mode_minus_o_drops_the_role_with_the_mode() -> None:
    h = harness()
    boss = logged_in(h, "boss", "admin")
    boss.cmd("MODE boss -o")
    assert boss.session.oper_role is None
    assert denial(boss.cmd("BANS")) == "Permission Denied- You're not an IRC operator"


def test_a_role_changed_from_the_shell_applies_to_the_online_operator() -> None:
    h = harness()
    boss = logged_in(h, "boss", "admin")
    account = h.world.accounts["boss"]
    h.store.apply([PutAccount(dataclasses.replace(account, oper_role="moderator"))])
    h.world.load_snapshot(h.store.load())
    assert boss.session.oper_role == "moderator"
    assert "'ban'" in denial(boss.cmd("BANS"))


def test_revoking_the_role_from_the_shell_takes_plus_o_away_and_says_so() -> None:
    h = harness()
    boss = logged_in(h, "boss", "admin")
    account = h.world.accounts["boss"]
    boss.take()
    h.store.apply([PutAccount(dataclasses.replace(account, oper_role=None))])
    h.world.load_snapshot(h.store.load())
    h.pump()
    assert "o" not in boss.session.modes
    assert boss.session.oper_role is None
    assert [(m.command, m.params) for m in boss.take()] == [("MODE", ("boss", "-o"))]


def test_a_role_granted_from_the_shell_makes_the_online_user_an_operator_at_once() -> None:
    """`chatroom admin oper bob on` while bob is online (and by the store's reload, on
    every device): 381 and MODE +o now, not at bob's next login; LUSERS counts him."""
    h = harness()
    bob = logged_in(h, "bob")
    phone = h.connect()
    phone.send("CAP LS 302", "NICK bob", "USER bob 0 * :bob", "CAP REQ :sasl")
    token = base64.b64encode(f"bob\0bob\0{PASSWORD}".encode()).decode()
    phone.send("AUTHENTICATE PLAIN", f"AUTHENTICATE {token}")
    h.answer()
    phone.send("CAP END")
    assert phone.session.owner is bob.session.owner  # one user, two devices
    for device in (bob, phone):
        device.take()
    account = h.world.accounts["bob"]
    h.store.apply([PutAccount(dataclasses.replace(account, oper_role="moderator"))])
    h.world.load_snapshot(h.store.load())
    h.pump()
    for device in (bob, phone):
        got = device.take()
        assert n.RPL_YOUREOPER in numerics(got)
        assert ("MODE", ("bob", "+o")) in [(m.command, m.params) for m in got]
    assert bob.session.oper_role == "moderator"
    assert lusers_opers(bob) == "1"


def test_an_operator_who_dropped_plus_o_is_not_made_one_again_by_a_reload() -> None:
    h = harness()
    boss = logged_in(h, "boss", "admin")
    boss.cmd("MODE boss -o")
    h.add_account("other", PASSWORD)  # an unrelated change another process made
    h.world.load_snapshot(h.store.load())
    assert "o" not in boss.session.modes


def test_logging_out_drops_the_role() -> None:
    h = harness()
    boss = logged_in(h, "boss", "admin")
    boss.cmd("PRIVMSG NickServ :LOGOUT")
    assert "o" not in boss.session.modes
    assert boss.session.oper_role is None


def lusers_opers(client: SimClient) -> str:
    """The count in 252, "0" when it is left out (as it is with no operator online)."""
    lines = [m for m in client.cmd("LUSERS") if m.command == n.RPL_LUSEROP]
    assert len(lines) <= 1
    return lines[0].params[1] if lines else "0"


def sasl_plain_registration(h: Harness, nick: str) -> list[Message]:
    client = h.connect()
    blob = base64.b64encode(f"\0{nick}\0{PASSWORD}".encode()).decode()
    client.send("CAP LS 302", "CAP REQ :sasl", f"NICK {nick}", f"USER {nick} 0 * :{nick}")
    client.send("AUTHENTICATE PLAIN", f"AUTHENTICATE {blob}", "CAP END")
    return client.take()


def test_an_operator_logging_in_with_sasl_is_told_after_the_welcome_and_counted() -> None:
    """SASL logs in before the welcome; the operator still gets 381 and MODE +o."""
    h = harness()
    h.add_account("boss", PASSWORD, oper=True)
    got = sasl_plain_registration(h, "boss")
    kinds = [m.command for m in got]
    assert kinds.index(n.RPL_WELCOME) < kinds.index(n.RPL_YOUREOPER)
    [mode] = [m for m in got if m.command == "MODE"]
    assert list(mode.params) == ["boss", "+o"]
    watcher = h.connect("watcher")
    assert lusers_opers(watcher) == "1"


def test_the_welcome_lusers_of_an_operator_logging_in_with_sasl_counts_that_operator() -> None:
    """WeeChat and Irssi show the welcome's LUSERS; "0 operator(s) online" just before
    "You are now an IRC operator" contradicts itself."""
    h = harness()
    h.add_account("boss", PASSWORD, oper=True)
    got = sasl_plain_registration(h, "boss")
    [line] = [m for m in got if m.command == n.RPL_LUSEROP]
    assert line.params[1] == "1"
    assert lusers_opers(h.connect("watcher")) == "1"


def test_lusers_counts_operators_as_they_come_and_go() -> None:
    h = harness()
    watcher = h.connect("watcher")
    boss = logged_in(h, "boss", role="admin")
    assert lusers_opers(watcher) == "1"
    boss.cmd("MODE boss -o")
    assert lusers_opers(watcher) == "0"
    boss.cmd(f"OPER boss {PASSWORD}")
    assert lusers_opers(watcher) == "1"
    boss.drop()
    assert lusers_opers(watcher) == "0"


def test_oper_sends_one_mode_line() -> None:
    h = harness()
    h.add_account("boss", PASSWORD, role="admin")
    boss = h.connect("boss")
    got = boss.cmd(f"OPER boss {PASSWORD}")
    assert [list(m.params) for m in got if m.command == "MODE"] == [["boss", "+o"]]


def test_an_operator_with_the_channels_capability_sets_the_lobby_topic() -> None:
    """#lobby has no founder and nobody holds ops in it: operators must be able to."""
    h = harness()
    boss = logged_in(h, "boss", role="admin")
    guest = h.connect("guest")
    guest.cmd("JOIN #lobby")
    boss.cmd("JOIN #lobby")
    assert [m.command for m in guest.cmd("TOPIC #lobby :guest topic")] == [n.ERR_CHANOPRIVSNEEDED]
    got = boss.cmd("TOPIC #lobby :Welcome, read the rules")
    assert [m.params for m in got if m.command == "TOPIC"] == [
        ("#lobby", "Welcome, read the rules")
    ]
    assert ("boss", "channel.topic", "#lobby") in audit_actions(h)


def test_an_operator_sets_a_topic_of_a_room_it_is_not_in() -> None:
    h = harness()
    boss = logged_in(h, "boss", role="admin")
    member = h.connect("member")
    member.cmd("JOIN #quiet")
    member.cmd("MODE #quiet -o member")
    boss.cmd("TOPIC #quiet :set from outside")
    assert [m.params for m in member.take() if m.command == "TOPIC"] == [
        ("#quiet", "set from outside")
    ]


def test_an_operator_without_the_channels_capability_gets_482() -> None:
    h = harness()
    mod = logged_in(h, "mod", role="moderator")
    mod.cmd("JOIN #lobby")
    assert [m.command for m in mod.cmd("TOPIC #lobby :nope")] == [n.ERR_CHANOPRIVSNEEDED]


def test_voice_ops_and_chghost_are_in_the_audit_log() -> None:
    h = harness()
    boss = logged_in(h, "boss", role="admin")
    guest = h.connect("guest")
    boss.cmd("JOIN #lobby")
    guest.cmd("JOIN #lobby")
    boss.cmd("MODE #lobby +o boss")
    boss.cmd("MODE #lobby +v guest")
    boss.cmd("CHGHOST guest example.org")
    actions = audit_actions(h)
    assert ("boss", "channel.mode.+o", "#lobby boss") in actions
    assert ("boss", "channel.mode.+v", "#lobby guest") in actions
    assert ("boss", "user.chghost", "guest") in actions


def test_the_lobbys_topic_and_modes_come_back_after_a_restart() -> None:
    h = harness()
    h.world.load_snapshot(h.store.load())  # the start: the permanent rooms get saved
    h.pump()
    boss = logged_in(h, "boss", role="admin")
    boss.cmd("JOIN #lobby")
    boss.cmd("TOPIC #lobby :Be kind")
    boss.cmd("MODE #lobby +m")
    again = Harness(h.world.settings)
    again.store = h.store
    again.world.load_snapshot(h.store.load())
    lobby = again.world.rooms.find("#lobby")
    assert lobby is not None
    assert lobby.topic == "Be kind"
    assert "m" in lobby.flags


def test_chanserv_says_the_lobby_is_kept_by_the_server() -> None:
    h = harness()
    h.world.load_snapshot(h.store.load())
    boss = logged_in(h, "boss", role="admin")
    assert notices(boss.cmd("PRIVMSG ChanServ :INFO #lobby"))[0] == (
        "#lobby is registered to the server (server.channels)."
    )


def test_a_ban_or_mute_without_a_reason_says_no_empty_reason() -> None:
    h = harness()
    admin = logged_in(h, "admin", "admin")
    bob = logged_in(h, "bob")
    logged_in(h, "carol")
    muted = notices(admin.cmd("MUTE bob 10m"))
    assert muted[0].startswith("Muted bob (")
    assert "Reason" not in muted[0]
    told = notices(bob.take())
    assert any(text.startswith("You have been muted on this server (") for text in told), told
    banned = notices(admin.cmd("BAN carol"))
    assert banned
    assert all("Reason" not in text and not text.rstrip().endswith(":") for text in banned)
