"""MONITOR, extended-monitor and CHGHOST through the core harness."""

from __future__ import annotations

from dataclasses import replace

from chatroom.irc import numerics as n
from chatroom.server.core.settings import CoreSettings, Limits
from chatroom.server.harness import Harness


def test_adding_answers_at_once_with_who_is_online() -> None:
    """MONITOR +: the server answers with 730 for online targets and 731 for offline ones."""
    h = Harness()
    h.connect("bob")
    alice = h.connect("alice")
    replies = alice.cmd("MONITOR + bob,carol")
    assert [(m.command, m.params[1]) for m in replies] == [
        (n.RPL_MONONLINE, "bob!~bob@127.0.0.1"),
        (n.RPL_MONOFFLINE, "carol"),
    ]


def test_watcher_hears_when_a_nick_registers_and_quits() -> None:
    h = Harness()
    alice = h.connect("alice")
    alice.cmd("MONITOR + carol")
    carol = h.connect("carol")
    assert [(m.command, m.params[1]) for m in alice.take()] == [
        (n.RPL_MONONLINE, "carol!~carol@127.0.0.1")
    ]
    carol.send("QUIT :bye")
    assert [(m.command, m.params[1]) for m in alice.take()] == [(n.RPL_MONOFFLINE, "carol")]


def test_nick_change_is_offline_for_the_old_and_online_for_the_new() -> None:
    h = Harness()
    alice = h.connect("alice")
    bob = h.connect("bob")
    alice.cmd("MONITOR + bob,robert")
    bob.send("NICK robert")
    assert [(m.command, m.params[1]) for m in alice.take()] == [
        (n.RPL_MONOFFLINE, "bob"),
        (n.RPL_MONONLINE, "robert!~bob@127.0.0.1"),
    ]


def test_list_remove_clear_and_status() -> None:
    h = Harness()
    alice = h.connect("alice")
    h.connect("bob")
    alice.cmd("MONITOR + bob,carol,dave")
    alice.cmd("MONITOR - dave")
    listed = alice.cmd("MONITOR L")
    assert listed[0].command == n.RPL_MONLIST
    assert sorted(listed[0].params[1].split(",")) == ["bob", "carol"]
    assert listed[-1].command == n.RPL_ENDOFMONLIST
    status = alice.cmd("MONITOR S")
    assert {m.command for m in status} == {n.RPL_MONONLINE, n.RPL_MONOFFLINE}
    alice.cmd("MONITOR C")
    assert [m.command for m in alice.cmd("MONITOR L")] == [n.RPL_ENDOFMONLIST]


def test_full_list_names_what_was_not_added() -> None:
    """ERR_MONLISTFULL: ``<limit> <targets> :Monitor list is full``."""
    settings = CoreSettings(
        limits=replace(
            Limits(connections_per_address=1000, connects_per_address_per_minute=1000),
            monitor_entries=2,
        )
    )
    h = Harness(settings)
    alice = h.connect("alice")
    replies = alice.cmd("MONITOR + a1,a2,a3,a4")
    full = replies[-1]
    assert full.command == n.ERR_MONLISTFULL
    assert full.params[1:3] == ("2", "a3,a4")
    assert sorted(h.world.monitor.watched(alice.session)) == ["a1", "a2"]


def test_a_closed_session_forgets_its_list() -> None:
    h = Harness()
    alice = h.connect("alice")
    alice.cmd("MONITOR + bob")
    alice.send("QUIT")
    assert h.world.monitor.watchers == {}


def test_extended_monitor_brings_away_and_setname_of_watched_nicks() -> None:
    """extended-monitor: AWAY and SETNAME of monitored nicks, without a shared room."""
    h = Harness()
    alice = h.connect("alice", caps=["extended-monitor", "away-notify", "setname"])
    plain = h.connect("paul", caps=["away-notify"])
    bob = h.connect("bob")
    alice.cmd("MONITOR + bob")
    plain.cmd("MONITOR + bob")
    bob.send("AWAY :lunch", "SETNAME :Robert")
    assert [m.command for m in alice.take()] == ["AWAY", "SETNAME"]
    assert plain.take() == []


def test_oper_chghost_tells_chghost_peers_and_the_user() -> None:
    """chghost: ``:nick!old@host CHGHOST <user> <newhost>`` to clients with the capability."""
    h = Harness()
    h.add_account("root", "secret-password", oper=True)
    oper = h.connect()
    oper.send("PASS root:secret-password", "NICK root", "USER root 0 * :Root")
    bob = h.connect("bob", caps=["chghost"])
    carol = h.connect("carol", caps=["chghost"])
    dave = h.connect("dave")
    for c in (bob, carol, dave):
        c.cmd("JOIN #lobby")
    for c in (oper, bob, carol, dave):
        c.take()
    oper.cmd("CHGHOST bob staff.example")
    (seen,) = carol.take()
    assert seen.source == "bob!~bob@127.0.0.1"
    assert (seen.command, seen.params) == ("CHGHOST", ("~bob", "staff.example"))
    mine = bob.take()
    assert {m.command for m in mine} == {"CHGHOST", n.RPL_VISIBLEHOST}
    assert dave.take() == []
    assert bob.session.prefix == "bob!~bob@staff.example"


def test_chghost_needs_an_operator_and_a_valid_host() -> None:
    h = Harness()
    h.connect("bob")
    alice = h.connect("alice")
    assert alice.cmd("CHGHOST bob x.y")[0].command == n.ERR_NOPRIVILEGES
    alice.session.owner.set_mode("o", True)
    alice.session.oper_role = "oper"
    fail = alice.cmd("CHGHOST bob bad@host")[0]
    assert fail.params[:2] == ("CHGHOST", "INVALID_HOST")
