"""State one client can make the server keep: each kind has a bound a flood cannot pass.

Each test drives a real server on loopback with raw lines, as an attacker would, with the
flood limits lifted so that a few seconds stand for days of patient abuse.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from chatroom.config import Config
from chatroom.server.core import history, readmarkers
from chatroom.server.core.settings import Limits
from chatroom.server.store import base
from chatroom.server.store.factory import open_history, open_store
from tests.realserver import ServerThread, Wire, guest_wire, make_config

PASSWORD = "correct-horse-battery"


# The store is read through its own interface, so these hold on SQLite and on
# PostgreSQL alike (`make test-postgres`).


def _audit_rows(config: Config) -> list[tuple[str, str, str]]:
    store = open_store(config.store)
    try:
        return [(entry.actor, entry.action, entry.target) for entry in store.audit()]
    finally:
        store.close()


def test_room_moderation_by_a_guest_keeps_the_audit_log_bounded(
    tmp_path: Path, wires: list[Wire], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A guest bans and unbans masks in a room it made, six a line, as fast as it may:
    every change is an audit entry, written to disk with a commit each. Only the newest
    ``USER_AUDIT_ENTRIES`` of the log keep room entries; the account's registration,
    made before the flood, stays."""
    monkeypatch.setattr(base, "USER_AUDIT_ENTRIES", 40)
    config = make_config(tmp_path, Limits(flood_per_second=0))
    server = ServerThread(config).start()
    try:
        owner = guest_wire(server.port, wires, "owner")
        owner.write(f"REGISTER * * {PASSWORD}")
        owner.until(" REGISTER SUCCESS ")
        pest = guest_wire(server.port, wires, "pest")
        pest.write("JOIN #mine")
        pest.until(" 366 ")
        for round_ in range(25):
            masks = " ".join(f"m{round_}x{i}!*@*" for i in range(6))
            pest.write(f"MODE #mine +bbbbbb {masks}", f"MODE #mine -bbbbbb {masks}")
        # The store's thread writes the entries in order; the last MODE marks the end.
        pest.write("MODE #mine +b last!*@*", "PING flood-done")
        pest.until("flood-done", 60)
        for _ in range(400):
            if ("pest", "channel.mode.+b", "#mine last!*@*") in _audit_rows(config):
                break
            owner.quiet_for(0.05)
    finally:
        server.stop()
    rows = _audit_rows(config)
    room_rows = [row for row in rows if row[1].startswith("channel.")]
    assert ("owner", "account.register", "owner") in rows
    assert ("pest", "channel.mode.+b", "#mine last!*@*") in room_rows
    assert len(room_rows) <= 40, len(room_rows)  # 301 before the bound


def test_certificate_churn_by_an_account_keeps_the_audit_log_bounded(
    tmp_path: Path, wires: list[Wire], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An account adds and removes one fingerprint again and again: each change is its own
    audit entry. Only the newest ``USER_AUDIT_ENTRIES`` of the log keep them."""
    monkeypatch.setattr(base, "USER_AUDIT_ENTRIES", 20)
    config = make_config(tmp_path, Limits(flood_per_second=0))
    server = ServerThread(config).start()
    fingerprint = "ab" * 32
    try:
        churner = guest_wire(server.port, wires, "churner")
        churner.write(f"REGISTER * * {PASSWORD}")
        churner.until(" REGISTER SUCCESS ")
        for _ in range(30):
            churner.write(f"NS CERT ADD {fingerprint}", f"NS CERT DEL {fingerprint}")
            churner.until(f"{fingerprint} removed from", 30)
    finally:
        server.stop()
    rows = _audit_rows(config)
    cert_rows = [row for row in rows if row[1].startswith("account.cert.")]
    assert ("churner", "account.register", "churner") in rows
    assert ("churner", "account.cert.del", f"churner {fingerprint}") == cert_rows[-1]
    assert len(cert_rows) <= 20, len(cert_rows)  # 60 before the bound


def test_each_list_a_client_grows_stops_at_its_bound_with_a_numeric(
    tmp_path: Path, wires: list[Wire]
) -> None:
    """MONITOR, rooms joined, a room's ban list, SILENCE, METADATA keys, an open
    multi-line batch and a SASL exchange: past its bound each answers with its numeric or
    FAIL, and the server keeps no more than the bound."""
    limits = Limits(
        flood_per_second=0,
        monitor_entries=3,
        channels_per_user=3,
        list_entries=3,
        metadata_max_keys=2,
    )
    server = ServerThread(make_config(tmp_path, limits)).start()
    try:
        sasl = Wire(server.port)
        wires.append(sasl)
        sasl.write("CAP LS 302", "CAP REQ :sasl", "AUTHENTICATE PLAIN")
        sasl.until("AUTHENTICATE +")
        sasl.write(*["AUTHENTICATE " + "A" * 400] * 21)  # 8,400 bytes, all "more follows"
        assert any(" 904 " in line for line in sasl.until((" 904 ", " 905 ")))

        me = guest_wire(server.port, wires, "grower", "draft/metadata-2", "draft/multiline")
        me.write("MONITOR + a1,a2,a3,a4,a5")
        assert " 734 grower 3 a4,a5 " in me.until(" 734 ")[-1]
        me.write("JOIN #g1,#g2,#g3,#g4")
        assert " 405 grower #g4 " in me.until(" 405 ")[-1]
        me.write("MODE #g1 +bbbb w!*@* x!*@* y!*@* z!*@*")
        assert " 478 grower #g1 b :Channel list is full" in me.until(" 478 ")[-1]
        me.write(*[f"SILENCE +s{i}!*@*" for i in range(33)])
        assert " 511 grower s32!*@* " in me.until(" 511 ")[-1]
        me.write("METADATA * SET k0 :v", "METADATA * SET k1 :v", "METADATA * SET k2 :v")
        assert "FAIL METADATA LIMIT_REACHED" in me.until("FAIL METADATA")[-1]
        me.write("BATCH +one draft/multiline #g1", "BATCH +two draft/multiline #g1")
        assert "A multiline batch is already open" in me.until("FAIL BATCH")[-1]
        me.write("PING kept")
        me.until("kept")

        assert server.shell is not None
        world = server.shell.world
        user = world.nicks.find("grower")
        room = world.rooms.get("#g1")
        assert user is not None
        assert room is not None
        [session] = [s for s in world.sessions.values() if s.nick == "grower"]
        assert len(world.monitor.lists[session]) == 3
        assert len(user.channels) == 3
        assert len(room.lists["b"]) == 3
        assert len(user.silenced) == 32
        assert len(user.metadata or {}) == 2
    finally:
        server.stop()


def _room_lines(config: Config, room: str) -> list[str]:
    """The texts of every row the history store keeps for ``room``, events included."""
    store = open_history(config.store)
    try:
        return [record.text for record in store.export(room)]
    finally:
        store.close()


def test_join_part_loop_in_one_room_keeps_its_history_bounded(
    tmp_path: Path, wires: list[Wire]
) -> None:
    """JOIN and PART again and again in one room where nobody speaks: each is an event in
    the room's history. Retention keeps as many events as ``max_per_target`` lines (twice
    that between two trims), as for messages; before, every event stayed."""
    keep = 20
    config = make_config(tmp_path, Limits(flood_per_second=0))
    history = replace(config.core.history, max_per_target=keep)
    config = replace(config, core=replace(config.core, history=history))
    server = ServerThread(config).start()
    try:
        keeper = guest_wire(server.port, wires, "keeper")
        keeper.write("JOIN #room")
        keeper.until(" 366 ")
        looper = guest_wire(server.port, wires, "looper")
        for _ in range(200):
            looper.write("JOIN #room", "PART #room")
        looper.write("PING loop-done")
        looper.until("loop-done", 60)
        keeper.write("PRIVMSG #room :the end")  # written after every event of the loop
        for _ in range(200):  # the writer trims between its jobs
            if "the end" in _room_lines(config, "#room"):
                break
            keeper.quiet_for(0.05)
        keeper.quiet_for(0.5)
        rows = len(_room_lines(config, "#room"))
    finally:
        server.stop()
    assert rows <= 2 * keep, rows  # 401 before


def test_read_markers_on_ever_new_targets_stop_at_the_bound_in_the_store(
    tmp_path: Path, wires: list[Wire], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An account marks ever new targets read: past ``MAX_TARGETS`` each new one gets
    FAIL, and the store holds no more rows than the bound."""
    monkeypatch.setattr(readmarkers, "MAX_TARGETS", 5)
    config = make_config(tmp_path, Limits(flood_per_second=0))
    server = ServerThread(config).start()
    try:
        reader = guest_wire(server.port, wires, "reader", "draft/read-marker")
        reader.write(f"REGISTER * * {PASSWORD}")
        reader.until(" REGISTER SUCCESS ")
        stamp = "timestamp=2030-01-01T00:00:00.000Z"
        reader.write(*[f"MARKREAD #t{i} {stamp}" for i in range(8)])
        failed = reader.until("FAIL MARKREAD")[-1]
        assert "INTERNAL_ERROR #t5 TOO_MANY_TARGETS" in failed
        reader.write("PING marked")
        reader.until("marked")
    finally:
        server.stop()
    store = open_store(config.store)
    try:
        rows = sum(len(targets) for targets in store.load().read_markers.values())
    finally:
        store.close()
    assert rows == 5


def test_knocks_past_the_rate_get_712(tmp_path: Path, wires: list[Wire]) -> None:
    """KNOCK cannot flood a room's operators: a second knock by one requester (a guest's
    address group: another nick from the same address is the same requester) is refused
    with 712 and not passed on."""
    server = ServerThread(make_config(tmp_path, Limits(flood_per_second=0))).start()
    try:
        owner = guest_wire(server.port, wires, "owner")
        owner.write("JOIN #closed", "MODE #closed +i")
        owner.until(" MODE #closed +i")
        first = guest_wire(server.port, wires, "first")
        first.write("KNOCK #closed :let me in", "KNOCK #closed :please")
        assert " 711 first #closed " in first.until(" 711 ")[-1]
        assert " 712 first #closed :Too many KNOCKs (user)" in first.until(" 712 ")[-1]
        second = guest_wire(server.port, wires, "second")
        second.write("KNOCK #closed :me too")
        assert " 712 second #closed :Too many KNOCKs (user)" in second.until(" 712 ")[-1]
        owner.write("PING knocked")
        told = [line for line in owner.until("knocked") if " 710 " in line]
        assert len(told) == 1, told
    finally:
        server.stop()


def test_a_registered_rooms_op_list_stops_at_list_entries(
    tmp_path: Path, wires: list[Wire]
) -> None:
    """ChanServ ACCESS ADD is a list like +I: past ``list_entries`` accounts the founder
    is told the list is full and nothing is saved; LIST shows every name."""
    limits = Limits(flood_per_second=0, list_entries=2)
    server = ServerThread(make_config(tmp_path, limits)).start()
    try:
        for name in ("opone", "optwo", "opthree"):
            member = guest_wire(server.port, wires, name)
            member.write(f"REGISTER * * {PASSWORD}")
            member.until(" REGISTER SUCCESS ")
        founder = guest_wire(server.port, wires, "founder")
        founder.write(f"REGISTER * * {PASSWORD}", "JOIN #club")
        founder.until(" 366 ")
        founder.write("PRIVMSG ChanServ :REGISTER #club")
        founder.until("registered")
        founder.write("PRIVMSG ChanServ :ACCESS #club ADD opone")
        founder.until("opone added")
        founder.write("PRIVMSG ChanServ :ACCESS #club ADD optwo")
        founder.until("optwo added")
        founder.write("PRIVMSG ChanServ :ACCESS #club ADD opthree")
        assert "The op list of #club is full: at most 2." in founder.until("is full")[-1]
        founder.write("PRIVMSG ChanServ :ACCESS #club LIST")
        assert "Ops by account: opone, optwo" in founder.until("Ops by account")[-1]
    finally:
        server.stop()


def test_an_account_remembers_what_it_saw_in_at_most_seen_rooms(
    tmp_path: Path, wires: list[Wire], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An account that visits ever new rooms where something was said: the server keeps
    the last line it got in at most ``SEEN_ROOMS`` of them (memory that lived as long as
    the rooms' rings, 4096 rooms per account, for every account)."""
    monkeypatch.setattr(history, "SEEN_ROOMS", 3)
    server = ServerThread(make_config(tmp_path, Limits(flood_per_second=0))).start()
    try:
        speaker = guest_wire(server.port, wires, "speaker")
        visitor = guest_wire(server.port, wires, "visitor", "batch", "server-time")
        visitor.write(f"REGISTER * * {PASSWORD}")
        visitor.until(" REGISTER SUCCESS ")
        for i in range(6):
            speaker.write(f"JOIN #v{i}", f"PRIVMSG #v{i} :hello", f"PART #v{i}")
        speaker.write("PING said")
        speaker.until("said")
        for i in range(6):
            visitor.write(f"JOIN #v{i}", f"PART #v{i}")
            visitor.until(f"PART #v{i}")
        assert server.shell is not None
        seen = server.shell.world.history.seen["a:visitor"]
    finally:
        server.stop()
    assert list(seen) == ["#v3", "#v4", "#v5"]  # 6 before the bound
