"""Server notices for operators, user mode +s (core/snotices.py)."""

from __future__ import annotations

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
