"""``bench/cluster_fanout.py`` still measures what docs/benchmarks.md ("Cluster") says: a
tiny, bounded run (20 members, 1 s windows) of a plain node and a two-node network, on
its own Redis and PostgreSQL, that counts every delivery, reads the relay's cost from
Redis, and leaves no process or directory behind. Nothing here asserts a speed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.postgres_server import PG_BIN

BENCH = Path(__file__).resolve().parents[2] / "bench"


def processes_mentioning(text: str) -> list[str]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(cmdline)
    return found


@pytest.fixture
def scratch() -> Iterator[Path]:
    """The script's TMPDIR. Not under pytest's tmp_path: PostgreSQL runs as its own user
    and must reach its directory, and pytest's base directory is private to root."""
    folder = Path(tempfile.mkdtemp(prefix="cluster-bench-test-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_cluster_fanout_measures_a_plain_node_and_two_nodes_side_by_side(
    scratch: Path,
) -> None:
    if shutil.which("redis-server") is None or not (PG_BIN / "initdb").exists():
        pytest.skip("needs Debian's redis-server and postgresql-15 (`make test` installs them)")
    done = subprocess.run(
        [
            sys.executable, str(BENCH / "cluster_fanout.py"), "--members", "20",
            "--seconds", "1", "--rate", "50", "--samples", "5", "--drain", "5",
            "--repeats", "1", "--layouts", "plain,cluster-2", "--no-floor",
            "--server-cpu", "0", "--generator-cpu", "0", "--budget", "100",
        ],
        capture_output=True, text=True, timeout=110, check=False,
        env={**os.environ, "TMPDIR": str(scratch)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])

    assert set(result["runs"]) == {"plain", "cluster-2"}
    for layout, runs in result["runs"].items():
        (run,) = runs
        assert run["nodes"] == (2 if layout == "cluster-2" else 1)
        for window in ("closed", "fixed"):
            measured = run[window]
            assert measured["clients"] == measured["joined"] == 20
            assert measured["sent"] > 0
            assert measured["received"] == measured["expected"] == measured["sent"] * 19
            assert measured["lost_connections"] == 0
            assert isinstance(measured["p99_ms"], float)
            assert measured["cpu_ns_per_delivery"] > 0
            assert measured["node_writes_per_message"] > 0
    plain, network = result["runs"]["plain"][0], result["runs"]["cluster-2"][0]
    assert plain["closed"]["redis_calls_per_message"] == {}  # no relay without --cluster
    for window in ("closed", "fixed"):
        relay = network[window]
        assert relay["users_per_node"] == {"n0": 10, "n1": 10}  # member i on node i mod 2
        # At most one log entry per message (a node sends what it queued meanwhile as
        # one entry, so far fewer under load), plus the window's ticks; never one more
        # per member (their QUITs).
        assert 0 < relay["redis_calls_per_message"]["xadd"] < 1.5
        assert 0 < relay["log_entries_per_message"] < 1.5
        assert relay["redis_bytes_out_per_message"] > relay["redis_bytes_in_per_message"] > 0
        # Memory grows by Redis's allocation steps: over a short window, only "it grew".
        assert relay["log_bytes_per_new_entry"] > 0
        assert relay["entry_payload_bytes"] > 0
    assert network["log_bytes_per_entry"] > 0
    summary = result["summary"]
    assert summary["cluster-2"]["deliveries/s ratio"] > 0
    assert "deliveries/s ratio" not in summary["plain"]

    assert processes_mentioning(str(scratch)) == []
    assert list(scratch.iterdir()) == []


def test_cluster_limits_measures_apply_cost_append_rate_and_log_growth(scratch: Path) -> None:
    if shutil.which("redis-benchmark") is None:
        pytest.skip("needs Debian's redis-server (with redis-benchmark): `make test` installs it")
    done = subprocess.run(
        [
            sys.executable, str(BENCH / "cluster_limits.py"), "--sizes", "2,6",
            "--messages", "50", "--repeats", "1", "--requests", "500", "--log-entries", "300",
            "--relay-entries", "200", "--users", "20",
            "--server-cpu", "0", "--client-cpu", "0",
        ],
        capture_output=True, text=True, timeout=110, check=False,
        env={**os.environ, "TMPDIR": str(scratch)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])

    assert [row["members"] for row in result["apply"]] == [2, 6]
    for row in result["apply"]:
        assert row["messages"] == 50
        assert row["apply_us_per_entry"] > 0
    for depth in ("pipeline_64", "pipeline_1"):
        assert result["xadd"][depth]["xadd_per_s"] > 0
    log = result["log"]
    assert log["entries"] == 300
    # Each entry is kept whole, in memory and in the append-only file.
    assert log["memory_usage_bytes_per_entry"] > result["entry_bytes"]
    assert log["aof_bytes_per_entry"] > result["entry_bytes"]
    assert result["relay"]["entries"] == 200  # every entry published was read back
    assert result["relay"]["publish_us_per_entry"] > 0
    assert result["relay"]["read_us_per_entry"] > 0
    assert result["users"]["bytes_per_user"] > 0
    assert list(scratch.iterdir()) == []
