"""State one client can make the server keep: each kind has a bound a flood cannot pass.

Each test drives a real server on loopback with raw lines, as an attacker would, with the
flood limits lifted so that a few seconds stand for days of patient abuse.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatroom.server.core.settings import Limits
from chatroom.server.store import base
from tests.realserver import ServerThread, Wire, guest_wire, make_config

PASSWORD = "correct-horse-battery"


@pytest.fixture
def wires() -> Iterator[list[Wire]]:
    opened: list[Wire] = []
    yield opened
    for wire in opened:
        wire.close()


def _audit_rows(data_dir: Path) -> list[tuple[str, str, str]]:
    db = sqlite3.connect(data_dir / "chatroom.db")
    try:
        return list(db.execute("SELECT actor, action, target FROM audit_log ORDER BY id"))
    finally:
        db.close()


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
            if ("pest", "channel.mode.+b", "#mine last!*@*") in _audit_rows(config.data_dir):
                break
            owner.quiet_for(0.05)
    finally:
        server.stop()
    rows = _audit_rows(config.data_dir)
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
    rows = _audit_rows(config.data_dir)
    cert_rows = [row for row in rows if row[1].startswith("account.cert.")]
    assert ("churner", "account.register", "churner") in rows
    assert ("churner", "account.cert.del", f"churner {fingerprint}") == cert_rows[-1]
    assert len(cert_rows) <= 20, len(cert_rows)  # 60 before the bound
