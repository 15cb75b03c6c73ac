"""The benchmark tools still measure what docs/benchmarks.md says they do.

They are not run by `make test` otherwise, so without these a change to the server or the
generator could break `make bench` unnoticed. Tiny and bounded: a few members for about a
second, on loopback; they assert what was measured (every line arrived, numbers present),
never how fast it was. The peer tests skip, saying why, when the peer is not installed
(`make bench-peers`).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatroom.server.core.settings import Limits
from tests.realserver import ServerThread, make_config

BENCH = Path(__file__).resolve().parents[2] / "bench"
COMPARE_PYTHON = BENCH.parent / ".venv" / "bin" / "python"  # what compare.py starts
HYBRID = BENCH / ".peers" / "hybrid" / "usr" / "sbin" / "ircd-hybrid"
LIFTED = Limits(
    flood_per_second=0,
    flood_burst=1_000_000,
    connections_per_address=1_000,
    connects_per_address_per_minute=100_000,
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    srv = ServerThread(make_config(tmp_path, LIFTED)).start()
    yield srv
    srv.stop()


def run_tool(*args: str) -> dict[str, object]:
    """Run a bench script; its last stdout line is its JSON result."""
    done = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_loadgen_fanout_counts_every_delivery_in_a_small_room(server: ServerThread) -> None:
    result = run_tool(
        str(BENCH / "loadgen.py"), "fanout", "--port", str(server.port),
        "--clients", "6", "--senders", "2", "--rate", "50", "--seconds", "1",
        "--samples", "3", "--drain", "5",
    )  # fmt: skip
    assert result["loss"] == 0.0
    assert isinstance(result["deliveries_per_s"], float)
    assert result["deliveries_per_s"] > 0
    assert isinstance(result["p99_ms"], float)


def test_floor_receives_every_line_it_writes() -> None:
    result = run_tool(
        str(BENCH / "floor.py"), "--members", "5", "--rate", "50", "--seconds", "1",
        "--samples", "2", "--writer-cpu", "0", "--reader-cpu", "0",
    )  # fmt: skip
    assert result["messages"]
    assert "error" not in result
    assert isinstance(result["skipped_slots"], int)
    assert result["received_lines"] == result["expected_lines"]
    assert isinstance(result["per_send_us"], float)
    assert result["per_send_us"] > 0


def test_loadgen_fanout_over_tls_counts_every_delivery(server: ServerThread) -> None:
    result = run_tool(
        str(BENCH / "loadgen.py"), "fanout", "--port", str(server.tls_port), "--tls",
        "--clients", "4", "--senders", "1", "--rate", "20", "--seconds", "1",
        "--samples", "2", "--drain", "5",
    )  # fmt: skip
    assert result["sent"]
    assert result["loss"] == 0.0


def test_store_backends_measures_both_backends_side_by_side(postgres_url: str) -> None:
    result = run_tool(
        str(BENCH / "store_backends.py"), "--lines", "300", "--queries", "3",
        "--postgres", postgres_url,
    )  # fmt: skip
    for backend in ("sqlite", "postgresql"):
        measured = result[backend]
        assert isinstance(measured, dict)
        assert measured["lines_stored"] == 300 + 300 // 8 + 500
        assert measured["append_batch_64_lines_per_s"] > 0
        assert set(measured["chathistory"]) == {
            "LATEST * 50",
            "BEFORE msgid 50",
            "AROUND msgid 50",
            "BETWEEN times 50",
            "TARGETS 20 rooms",
        }


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_history_writer_bench_writes_every_line_and_keeps_the_retention(
    backend: str, request: pytest.FixtureRequest
) -> None:
    where = ["--postgres-url", request.getfixturevalue("postgres_url")]
    result = run_tool(
        str(BENCH / "history_writer.py"), "--records", "3000", "--rooms", "3",
        "--keep", "400", "--queue-limit", "256", "--per-append", "2",
        *(where if backend == "postgresql" else []),
    )  # fmt: skip
    assert result["backend"] == backend
    assert result["records"] == 3000
    assert result["largest_conversation"] == 400  # trimmed as it filled, exactly at close
    assert result["rows_left"] == 3 * 400
    assert isinstance(result["writer_cpu_us_per_record"], float)
    assert isinstance(result["records_per_s"], int)
    assert result["records_per_s"] > 0


def test_closed_loop_paces_on_a_probed_watcher_across_processes(server: ServerThread) -> None:
    # Two generator processes: members 0..2 (the senders' process) and 3..7. The watcher
    # is probed (the member receiving lines last), never a sender, and wherever it lives
    # its progress reopens the senders' window: more than one window is sent, no stalls.
    result = run_tool(
        str(BENCH / "loadgen.py"), "fanout", "--port", str(server.port),
        "--clients", "8", "--senders", "2", "--window", "4", "--seconds", "1",
        "--samples", "2", "--procs", "2", "--drain", "5",
    )  # fmt: skip
    assert result["loss"] == 0.0
    assert result["watch"] in (0, 3, 4, 5, 6, 7)
    assert isinstance(result["watch_last_share"], float)
    assert result["watch_last_share"] > 0
    assert isinstance(result["sent"], int)
    assert result["sent"] > 2 * 4
    assert result["stalls"] == 0
    per_proc = result["generator_cpu_per_proc"]
    assert isinstance(per_proc, list)
    assert len(per_proc) == 2
    assert isinstance(result["generator_limited"], bool)


def test_closed_loop_can_still_pace_on_the_first_member(server: ServerThread) -> None:
    result = run_tool(
        str(BENCH / "loadgen.py"), "fanout", "--port", str(server.port), "--watch", "first",
        "--clients", "5", "--senders", "1", "--window", "4", "--seconds", "1",
        "--samples", "2", "--drain", "5",
    )  # fmt: skip
    assert result["loss"] == 0.0
    assert result["watch"] == 0
    assert result["watch_last_share"] is None


def dns_query(ident: int, name: str) -> bytes:
    """A standard recursive PTR query, as a resolver sends it."""
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split("."))
    question = labels + b"\0" + struct.pack("!HH", 12, 1)  # PTR, IN
    return struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0) + question


def test_nxdns_answers_every_lookup_with_nxdomain_for_the_same_question() -> None:
    cmd = [sys.executable, str(BENCH / "nxdns.py"), "--host", "127.0.0.1", "--port", "0"]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as proc:
        try:
            assert proc.stdout is not None
            _, host, port = proc.stdout.readline().split()
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.settimeout(10)
                query = dns_query(0x4242, "1.0.0.127.in-addr.arpa")
                sock.sendto(query, (host.decode(), int(port)))
                reply, _ = sock.recvfrom(4096)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    ident, flags, qd, an, ns, ar = struct.unpack_from("!HHHHHH", reply)
    assert ident == 0x4242
    assert flags & 0x8000  # a response
    assert flags & 0x000F == 3  # NXDOMAIN
    assert (qd, an, ns, ar) == (1, 0, 0, 0)
    assert reply[12:] == query[12:]  # the question, echoed


def run_compare(tmp_path: Path, *args: str) -> dict[str, dict[str, dict[str, object]]]:
    """compare.py as `make bench` runs it (its venv python), small; returns its results."""
    if not COMPARE_PYTHON.exists():
        pytest.skip(f"{COMPARE_PYTHON} missing: compare.py runs servers with the project venv")
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, str(BENCH / "compare.py"), *args, "--timeout", "90", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    results: dict[str, dict[str, dict[str, object]]] = json.loads(out.read_text())["results"]
    return results


def test_compare_runs_one_fanout_row_per_room_size(tmp_path: Path) -> None:
    results = run_compare(
        tmp_path, "--servers", "chatroom", "--scenarios", "fanout", "--fanout-sizes", "6,12",
        "--seconds", "1",
    )  # fmt: skip
    assert set(results) == {"fanout-6", "fanout-12"}
    for row, members in (("fanout-6", 6), ("fanout-12", 12)):
        measured = results[row]["chatroom"]
        assert "error" not in measured, measured
        assert measured["clients"] == members
        assert measured["loss"] == 0.0
        assert isinstance(measured["deliveries_per_s"], float)
        assert isinstance(measured["server_ns_per_delivery"], float)
        assert isinstance(measured["generator_busy"], float)


def test_compare_runs_latency_and_registrations_against_ircd_hybrid(tmp_path: Path) -> None:
    if not HYBRID.exists():
        pytest.skip(f"{HYBRID} missing: `make bench-peers` unpacks Debian's ircd-hybrid there")
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("hybrid runs in a private mount namespace: needs root and unshare")
    results = run_compare(
        tmp_path, "--servers", "hybrid", "--scenarios", "latency,connect", "--seconds", "1",
        "--latency-clients", "12", "--latency-rate", "20", "--connect-concurrency", "2",
    )  # fmt: skip
    latency, connect = results["latency"]["hybrid"], results["connect"]["hybrid"]
    assert "error" not in latency, latency
    assert latency["loss"] == 0.0
    assert isinstance(latency["p99_ms"], float)
    assert "error" not in connect, connect
    assert isinstance(connect["registrations"], int)
    assert connect["registrations"] > 0
