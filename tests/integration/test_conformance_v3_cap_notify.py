"""cap-notify: CAP LS offers exactly what works now, and a REHASH that takes a capability
away or brings it back says so with CAP DEL / CAP NEW to clients that negotiated
cap-notify (implied by CAP LS 302), over a real ``chatroom serve --config FILE``.

The one capability a REHASH can switch is ``draft/account-registration``: it is offered
only while ``accounts.registration`` is ``open`` (closed, REGISTER could never succeed).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.integration.conformance_v3_support import Peer, Peers, only, serving
from tests.integration.crash_support import SERVE, SERVE_ENV, admin
from tests.realserver import make_config

REG = "draft/account-registration"
OPER_PASSWORD = "cap-notify-operator-password"


def _offered(peer: Peer) -> dict[str, str]:
    offered = {}
    for line in only(peer.ask("CAP LS 302"), "CAP"):
        for token in line.params[-1].split():
            name, _, value = token.partition("=")
            offered[name] = value
    return offered


@pytest.fixture
def closed(tmp_path: Path) -> Iterator[Peers]:
    config = make_config(tmp_path)
    accounts = replace(config.core.accounts, registration="closed")
    with serving(replace(config, core=replace(config.core, accounts=accounts))) as made:
        yield made


def test_closed_registration_is_not_offered_and_cannot_be_requested(closed: Peers) -> None:
    peer = closed.raw("late")
    assert REG not in _offered(peer)
    (nak,) = only(peer.ask(f"CAP REQ {REG}"), "CAP")
    assert nak.params[1:] == ["NAK", REG]


def _write(config: Path, data_dir: Path, registration: str) -> None:
    config.write_text(
        f'[server]\ndata_dir = "{data_dir}"\n[accounts]\nregistration = "{registration}"\n'
    )


def _port(proc: subprocess.Popen[bytes], out: Path) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for line in out.read_text().splitlines():
            if "listening for IRC on" in line:
                return int(line.rsplit(":", 1)[1])
        assert proc.poll() is None, out.read_text()
        time.sleep(0.05)
    raise AssertionError(out.read_text())


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[int, Path, Path]]:
    data_dir, config = tmp_path / "data", tmp_path / "chatroom.toml"
    created = admin(data_dir, "create", "op", "--oper", "--password-stdin", stdin=OPER_PASSWORD)
    assert created.returncode == 0, created.stderr
    _write(config, data_dir, "open")
    out_path = tmp_path / "out.txt"
    with out_path.open("wb") as out:
        proc = subprocess.Popen(
            [*SERVE, "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **SERVE_ENV},
        )
        try:
            yield _port(proc, out_path), config, data_dir
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def test_a_rehash_that_closes_and_reopens_registration_sends_cap_del_and_cap_new(
    served: tuple[int, Path, Path],
) -> None:
    port, config, data_dir = served
    made: list[Peer] = []
    try:
        watcher = Peer(port, "watcher")  # CAP LS 302: cap-notify implied
        made.append(watcher)
        watcher.send("CAP LS 302", f"CAP REQ :{REG} multi-prefix")
        watcher.send("NICK watcher", "USER w 0 * :w", "CAP END")
        watcher.until("376")
        old = Peer(port, "old")  # no CAP at all: told nothing
        made.append(old)
        old.send("NICK old", "USER o 0 * :o")
        old.until("376")
        op = Peer(port, "op")
        made.append(op)
        op.send("NICK op", "USER op 0 * :op", f"OPER op {OPER_PASSWORD}")
        op.until("381")

        _write(config, data_dir, "closed")
        assert "382" in [m.command for m in op.ask("REHASH")]
        (dele,) = only(watcher.sync(), "CAP")
        assert dele.params[1:] == ["DEL", REG]
        listed = only(watcher.ask("CAP LIST"), "CAP")[0].params[-1].split()
        assert REG not in listed
        assert "multi-prefix" in listed
        assert REG not in _offered(watcher)
        assert only(old.sync(), "CAP") == []

        _write(config, data_dir, "open")
        assert "382" in [m.command for m in op.ask("REHASH")]
        (new,) = only(watcher.sync(), "CAP")
        assert new.params[1] == "NEW"
        assert new.params[2].startswith(f"{REG}=")  # a 302 client gets the value
        assert only(watcher.ask(f"CAP REQ {REG}"), "CAP")[0].params[1] == "ACK"
    finally:
        for peer in made:
            peer.close()
