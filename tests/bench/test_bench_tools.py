"""The benchmark tools still measure what docs/benchmarks.md says they do.

They are not run by `make test` otherwise, so without these a change to the server or the
generator could break `make bench` unnoticed. Tiny and bounded: a few members for about a
second, on loopback; they assert what was measured (every line arrived, numbers present),
never how fast it was.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatroom.server.core.settings import Limits
from tests.realserver import ServerThread, make_config

BENCH = Path(__file__).resolve().parents[2] / "bench"
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
