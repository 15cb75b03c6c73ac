"""Operators, KICK, KILL, server mutes and timed room bans through the core harness."""

from __future__ import annotations

from chatroom.irc import numerics as n
from chatroom.server.core.settings import CoreSettings, Limits
from chatroom.server.harness import Harness
from tests.server.moderation_support import (
    PASSWORD,
    audit_actions,
    notices,
    numerics,
    oper,
    user,
)
from tests.server.support import join_all, room

# ----------------------------------------------------------------------------- OPER


def test_oper_with_an_oper_accounts_password_grants_oper_and_logs_in() -> None:
    h = Harness()
    h.add_account("root", PASSWORD, oper=True)
    a = h.connect("alice")
    got = a.cmd(f"OPER root :{PASSWORD}")
    assert n.RPL_YOUREOPER in numerics(got)
    assert any(m.command == "MODE" and m.params[-1] == "+o" for m in got)
    assert a.session.account == "root"
    assert "o" in a.session.modes
    assert ("root", "oper.up", "alice") in audit_actions(h)


def test_oper_with_a_wrong_password_is_464_and_grants_nothing() -> None:
    h = Harness()
    h.add_account("root", PASSWORD, oper=True)
    a = h.connect("alice")
    assert numerics(a.cmd("OPER root wrong")) == [n.ERR_PASSWDMISMATCH]
    assert "o" not in a.session.modes


def test_oper_for_an_account_without_the_oper_role_is_491() -> None:
    h = Harness()
    h.add_account("plain", PASSWORD)
    a = h.connect("alice")
    assert numerics(a.cmd(f"OPER plain :{PASSWORD}")) == [n.ERR_NOOPERHOST]
    assert "o" not in a.session.modes


def test_oper_commands_are_481_for_ordinary_users() -> None:
    h = Harness()
    a = user(h, "alice")
    h.connect("bob")
    for line in ("KILL bob", "BAN bob", "UNBAN bob", "BANS", "MUTE bob", "UNMUTE bob", "MUTES"):
        assert numerics(a.cmd(line)) == [n.ERR_NOPRIVILEGES], line


def test_capabilities_left_out_of_the_config_are_refused_to_opers() -> None:
    h = Harness(CoreSettings(limits=Limits(), oper_capabilities=frozenset({"kick"})))
    admin = oper(h)
    h.connect("bob")
    assert numerics(admin.cmd("KILL bob :bye")) == [n.ERR_NOPRIVILEGES]


# ----------------------------------------------------------------------------- KICK


def test_room_op_kick_is_announced_with_the_reason_and_audited() -> None:
    h = Harness()
    a = user(h, "alice")
    b = h.connect("bob")
    join_all([a, b], "#room")
    a.cmd("KICK #room bob :too loud")
    kicks = [m for m in b.take() if m.command == "KICK"]
    assert kicks
    assert kicks[0].params == ("#room", "bob", "too loud")
    assert ("alice", "channel.kick", "#room bob") in audit_actions(h)


def test_server_operator_may_kick_from_a_room_without_being_op_there() -> None:
    h = Harness()
    admin = oper(h)
    b = h.connect("bob")
    b.cmd("JOIN #lobby")
    got = admin.cmd("KICK #lobby bob :spamming")
    assert not numerics(got)
    assert b.session.owner not in h.world.rooms.find("#lobby").members  # type: ignore[union-attr]
    assert [m.params for m in b.take() if m.command == "KICK"] == [("#lobby", "bob", "spamming")]


def test_ordinary_member_still_cannot_kick() -> None:
    h = Harness()
    a, _b = room(h, "alice", "bob", chan="#lobby")
    assert numerics(a.cmd("KICK #lobby bob")) == [n.ERR_CHANOPRIVSNEEDED]


# ----------------------------------------------------------------------------- KILL


def test_kill_disconnects_with_the_reason_and_tells_the_room() -> None:
    h = Harness()
    admin = oper(h)
    b, c = room(h, "bob", "carol", chan="#lobby")
    admin.cmd("KILL bob :flooding")
    assert b.closed_reason == "Killed (admin (flooding))"
    assert any(m.command == "ERROR" and "flooding" in m.params[0] for m in b.take())
    quits = [m for m in c.take() if m.command == "QUIT"]
    assert quits
    assert "flooding" in quits[0].params[0]
    assert ("admin", "kill", "bob") in audit_actions(h)


def test_kill_of_a_missing_nick_is_401_and_of_the_server_483() -> None:
    h = Harness()
    admin = oper(h)
    assert numerics(admin.cmd("KILL nobody")) == [n.ERR_NOSUCHNICK]
    assert numerics(admin.cmd(f"KILL {h.world.name}")) == [n.ERR_CANTKILLSERVER]


# ----------------------------------------------------------------------------- mutes


def test_muted_account_gets_404_with_the_reason_for_rooms_and_users() -> None:
    h = Harness()
    admin = oper(h)
    c = user(h, "carol")
    d = h.connect("dave")
    join_all([c, d], "#lobby")
    admin.cmd("MUTE carol 1h :trolling")
    d.take()
    for line in ("PRIVMSG #lobby :hello", "PRIVMSG dave :hi", "NOTICE dave :psst"):
        got = c.cmd(line)
        assert numerics(got) == [n.ERR_CANNOTSENDTOCHAN], line
        assert "muted" in got[0].params[-1]
        assert "trolling" in got[0].params[-1]
    assert d.take() == []
    assert ("admin", "mute.add", "carol") in audit_actions(h)


def test_mute_without_a_reason_is_audited_with_its_end_alone_as_a_ban_is() -> None:
    """It was audited as " (permanent)": the reason column began with a space."""
    h = Harness()
    admin = oper(h)
    user(h, "carol")
    user(h, "dave")
    admin.cmd("MUTE carol")
    admin.cmd("MUTE dave 1h :spam")
    details = {e.target: e.reason for e in h.store.audit() if e.action == "mute.add"}
    assert details["carol"] == "permanent"
    assert details["dave"].startswith("spam (")


def test_muted_user_may_still_message_an_operator() -> None:
    h = Harness()
    admin = oper(h)
    c = user(h, "carol")
    admin.cmd("MUTE carol")
    c.cmd("PRIVMSG admin :why?")
    assert [m.params for m in admin.take() if m.command == "PRIVMSG"] == [("admin", "why?")]


def test_mute_follows_the_account_to_a_new_login() -> None:
    h = Harness()
    admin = oper(h)
    user(h, "carol").drop()
    admin.cmd("MUTE carol :again")
    again = user(h, "carol")
    assert numerics(again.cmd("PRIVMSG #lobby :hi")) == [n.ERR_CANNOTSENDTOCHAN]


def test_unmute_lets_the_account_talk_again() -> None:
    h = Harness()
    admin = oper(h)
    c = user(h, "carol")
    d = h.connect("dave")
    admin.cmd("MUTE carol")
    admin.cmd("UNMUTE carol")
    c.cmd("PRIVMSG dave :back")
    assert [m.params for m in d.take() if m.command == "PRIVMSG"] == [("dave", "back")]
    assert ("admin", "mute.remove", "carol") in audit_actions(h)


def test_timed_mute_ends_by_itself() -> None:
    h = Harness()
    admin = oper(h)
    c = user(h, "carol")
    admin.cmd("MUTE carol 10m :cool off")
    h.tick(599)
    assert c.session.muted is not None
    h.tick(2)
    assert c.session.muted is None
    assert any("ended" in text for text in notices(c.take()))
    assert ("server", "mute.expire", "carol") in audit_actions(h)


def test_guests_cannot_be_muted_server_wide() -> None:
    h = Harness()
    admin = oper(h)
    h.connect("guest")
    assert numerics(admin.cmd("MUTE guest")) == [n.ERR_NOSUCHNICK]


def test_mutes_lists_current_mutes() -> None:
    h = Harness()
    admin = oper(h)
    user(h, "carol")
    admin.cmd("MUTE carol 2h :noise")
    listed = notices(admin.cmd("MUTES"))
    assert listed[0].startswith("carol - noise - set by admin")
    assert "in 2h" in listed[0]
    assert listed[-1] == "End of mute list (1)."


# ----------------------------------------------------------------------------- room quiet


def test_room_quiet_lets_carol_read_but_refuses_her_messages() -> None:
    h = Harness()
    a, c = room(h, "alice", "carol")
    a.cmd("MODE #room +q carol")
    got = c.cmd("PRIVMSG #room :hi")
    assert numerics(got) == [n.ERR_CANNOTSENDTOCHAN]
    a.cmd("PRIVMSG #room :you can still read")
    assert any(m.command == "PRIVMSG" for m in c.take())
    assert ("alice", "channel.mode.+q", "#room carol!*@*") in audit_actions(h)


def test_m_extban_in_the_ban_list_mutes_without_keeping_out() -> None:
    h = Harness()
    a = h.connect("alice")
    c = h.connect("carol")
    a.cmd("JOIN #room")
    a.cmd("MODE #room +b m:carol")
    c.cmd("JOIN #room")
    assert c.session.owner in h.world.rooms.find("#room").members  # type: ignore[union-attr]
    assert numerics(c.cmd("PRIVMSG #room :hi")) == [n.ERR_CANNOTSENDTOCHAN]


# ----------------------------------------------------------------------------- TBAN


def test_timed_ban_is_set_announced_and_lifted_by_itself() -> None:
    h = Harness()
    a = h.connect("alice")
    b = h.connect("bob")
    a.cmd("JOIN #room")
    got = a.cmd("TBAN #room 10m bob")
    assert [m.params for m in got if m.command == "MODE"] == [("#room", "+b", "bob!*@*")]
    assert numerics(b.cmd("JOIN #room")) == [n.ERR_BANNEDFROMCHAN]
    h.tick(601)
    lifted = [m for m in a.take() if m.command == "MODE"]
    assert [m.params for m in lifted] == [("#room", "-b", "bob!*@*")]
    assert lifted[0].source == h.world.name
    b.cmd("JOIN #room")
    assert b.session.owner in h.world.rooms.find("#room").members  # type: ignore[union-attr]
    assert ("alice", "channel.tban", "#room bob!*@*") in audit_actions(h)


def test_tban_needs_ops_and_a_valid_duration() -> None:
    h = Harness()
    a, b = room(h, "alice", "bob")
    assert numerics(b.cmd("TBAN #room 10m alice")) == [n.ERR_CHANOPRIVSNEEDED]
    assert numerics(a.cmd("TBAN #room soon bob")) == [n.ERR_INVALIDMODEPARAM]
    assert numerics(a.cmd("TBAN #nowhere 1h bob")) == [n.ERR_NOSUCHCHANNEL]


def test_tban_on_an_existing_ban_only_moves_its_end() -> None:
    h = Harness()
    a = h.connect("alice")
    a.cmd("JOIN #room")
    a.cmd("MODE #room +b bob")
    got = a.cmd("TBAN #room 1h bob")
    assert not [m for m in got if m.command == "MODE"]
    [entry] = h.world.rooms.find("#room").lists["b"]  # type: ignore[union-attr]
    assert entry.expires_at == h.clock() + 3600
