"""WALLOPS (operators to users with +w) and LINKS (this server and its description)."""

from __future__ import annotations

from chatroom.irc import numerics as n
from chatroom.server.core.settings import CoreSettings, Limits, OperRole
from chatroom.server.harness import Harness
from tests.server.moderation_support import PASSWORD, oper, user
from tests.server.support import codes, one

# ----------------------------------------------------------------------------- WALLOPS


def test_wallops_reaches_every_user_with_mode_w_and_nobody_else() -> None:
    """modern.ircdocs.horse: WALLOPS goes "to all currently connected users who have set
    the 'w' user mode for themselves"."""
    h = Harness()
    admin = oper(h)
    reader, other = h.connect("reader"), h.connect("other")
    assert one(reader.cmd("MODE reader +w"), "MODE").params == ("reader", "+w")
    admin.cmd("WALLOPS :maintenance at noon")
    got = one(reader.take(), "WALLOPS")
    assert got.source is not None
    assert got.source.startswith("admin!")
    assert got.params == ("maintenance at noon",)
    assert other.take() == []
    assert admin.take() == []  # the sender has no +w: no copy


def test_wallops_sender_with_mode_w_gets_its_own_copy() -> None:
    h = Harness()
    admin = oper(h)
    admin.cmd("MODE admin +w")
    assert one(admin.cmd("WALLOPS :hello opers"), "WALLOPS").params == ("hello opers",)


def test_wallops_from_an_operator_of_any_role_is_sent() -> None:
    """WALLOPS needs no capability: a role that may only kick may still send one."""
    settings = CoreSettings(
        limits=Limits(connections_per_address=100, connects_per_address_per_minute=100),
        oper_roles=(OperRole("moderator", frozenset({"kick"})),),
    )
    h = Harness(settings)
    h.add_account("mod", PASSWORD, role="moderator")
    mod = user(h, "mod")
    reader = h.connect("reader")
    reader.cmd("MODE reader +w")
    mod.cmd("WALLOPS :from a moderator")
    assert one(reader.take(), "WALLOPS").params == ("from a moderator",)


def test_wallops_from_a_user_who_is_not_an_operator_is_refused() -> None:
    h = Harness()
    alice, reader = h.connect("alice"), h.connect("reader")
    reader.cmd("MODE reader +w")
    reply = one(alice.cmd("WALLOPS :spam"), n.ERR_NOPRIVILEGES)
    assert "not an IRC operator" in reply.params[-1]
    assert reader.take() == []


def test_wallops_needs_text() -> None:
    h = Harness()
    admin = oper(h)
    assert codes(admin.cmd("WALLOPS")) == [n.ERR_NEEDMOREPARAMS]
    assert codes(admin.cmd("WALLOPS :")) == [n.ERR_NEEDMOREPARAMS]


# ----------------------------------------------------------------------------- LINKS


def test_links_lists_this_server_with_its_description() -> None:
    h = Harness(CoreSettings(description="Home of the gardening club"))
    alice = h.connect("alice")
    msgs = alice.cmd("LINKS")
    assert codes(msgs) == [n.RPL_LINKS, n.RPL_ENDOFLINKS]
    assert msgs[0].params == (
        "alice",
        "chatroom.local",
        "chatroom.local",
        "0 Home of the gardening club",
    )
    assert msgs[1].params == ("alice", "*", "End of /LINKS list")


def test_links_with_a_mask_lists_only_matching_servers() -> None:
    h = Harness()
    alice = h.connect("alice")
    assert codes(alice.cmd("LINKS *.local")) == [n.RPL_LINKS, n.RPL_ENDOFLINKS]
    msgs = alice.cmd("LINKS irc.example.org")
    assert codes(msgs) == [n.RPL_ENDOFLINKS]
    assert msgs[0].params[1] == "irc.example.org"


def test_links_naming_another_server_to_ask_is_refused() -> None:
    h = Harness()
    alice = h.connect("alice")
    assert codes(alice.cmd("LINKS other.example.org *")) == [n.ERR_NOSUCHSERVER]
    assert codes(alice.cmd("LINKS chatroom.local *")) == [n.RPL_LINKS, n.RPL_ENDOFLINKS]


def test_links_never_puts_a_spaced_mask_in_a_middle_parameter() -> None:
    h = Harness()
    alice = h.connect("alice")
    msgs = alice.cmd("LINKS :a b")
    assert msgs[-1].params == ("alice", "*", "End of /LINKS list")
