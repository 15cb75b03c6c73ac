"""Server notices for operators, user mode +s (core/snotices.py)."""

from __future__ import annotations

from chatroom.server.core.snotices import AUDIT_BURST, AUDIT_PER_SECOND
from chatroom.server.harness import Harness
from tests.server.moderation_support import notices, oper


def test_an_operator_with_plus_s_hears_connections_come_and_go() -> None:
    h = Harness()
    admin = oper(h)
    answer = admin.cmd("MODE admin +s")
    assert [(m.command, m.params[1:]) for m in answer] == [
        ("008", ("+ac", "Server notice mask")),
        ("MODE", ("+s",)),
    ]
    assert "s" in admin.session.modes
    guest = h.connect("guest")
    guest.cmd("QUIT :bye now")
    heard = notices(admin.take())
    assert heard == [
        "*** CONNECT: Client connecting: guest!~guest@127.0.0.1 [127.0.0.1] (guest real)",
        "*** CONNECT: Client exiting: guest!~guest@127.0.0.1 [127.0.0.1] (Quit: bye now)",
    ]


def test_the_audit_kind_reports_moderation_as_it_is_written() -> None:
    h = Harness()
    admin = oper(h)
    admin.cmd("MODE admin +s -c")  # the audit kind only
    assert admin.session.owner in h.world.snotices.watchers
    h.connect("spammer", ip="10.0.0.9")
    heard = notices(admin.cmd("BAN spammer 1h :links everywhere"))
    audit = [text for text in heard if text.startswith("*** AUDIT:")]
    assert len(audit) == 1
    assert "admin ban.add" in audit[0]
    assert "links everywhere" in audit[0]
    assert not [text for text in heard if text.startswith("*** CONNECT:")]


def test_plus_s_is_for_operators_only_and_ends_with_operator_status() -> None:
    h = Harness()
    guest = h.connect("guest")
    assert guest.cmd("MODE guest +s") == []
    assert "s" not in guest.session.modes
    admin = oper(h)
    admin.cmd("MODE admin +s")
    admin.cmd("MODE admin -o")
    assert "s" not in admin.session.modes
    assert len(h.world.snotices) == 0
    h.connect("later")
    assert not [t for t in notices(admin.take()) if t.startswith("***")]


def test_minus_s_stops_the_notices() -> None:
    h = Harness()
    admin = oper(h)
    admin.cmd("MODE admin +s")
    assert [m.params[-1] for m in admin.cmd("MODE admin -s") if m.command == "MODE"] == ["-s"]
    h.connect("later")
    assert not [t for t in notices(admin.take()) if t.startswith("***")]
    assert len(h.world.snotices) == 0


def test_one_actors_flood_of_audited_changes_is_paced_and_counted_not_lost() -> None:
    """A guest sets bans in its own room as fast as it can: the operator hears its first
    AUDIT_BURST changes, then one line counting the rest once its pace allows, and another
    actor's action in between is heard at once. A guest used to send every operator with
    ``+s a`` a notice per change, about 24 a second under flood control."""
    h = Harness()
    admin = oper(h)
    admin.cmd("MODE admin +s -c")
    guest = h.connect("guest")
    guest.cmd("JOIN #mine")
    h.connect("spammer", ip="10.0.0.9")
    admin.take()
    for n in range(AUDIT_BURST + 15):
        guest.cmd(f"MODE #mine +b nobody{n}!*@*")
    heard = notices(admin.take())
    assert len(heard) == AUDIT_BURST
    assert all(text.startswith("*** AUDIT: guest channel.mode.+b #mine") for text in heard)

    ban = [t for t in notices(admin.cmd("BAN spammer 1h :spam")) if t.startswith("*** AUDIT")]
    assert len(ban) == 1
    assert "admin ban.add" in ban[0]

    h.tick(1.0)
    assert notices(admin.take()) == [
        "*** AUDIT: guest: 15 more audited actions, not shown (chatroom admin audit lists them)"
    ]
    h.tick(1.0)
    assert notices(admin.take()) == []  # said once

    h.tick(AUDIT_BURST / AUDIT_PER_SECOND)
    assert "guest" not in h.world.snotices.paces  # a whole allowance again: forgotten
    guest.cmd("MODE #mine -b nobody0!*@*")
    assert notices(admin.take()) == ["*** AUDIT: guest channel.mode.-b #mine nobody0!*@*"]
