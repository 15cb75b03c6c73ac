"""``bench/flood_memory.py`` still measures what docs/benchmarks.md says it does: a tiny,
bounded run (two senders for a second) whose every line is delivered and stored."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_flood_memory_bench_stores_every_line_it_delivers() -> None:
    done = subprocess.run(
        [
            sys.executable, str(BENCH / "flood_memory.py"), "--seconds", "1", "--after", "0",
            "--senders", "2", "--rooms", "2", "--queue-limit", "64", "--drain", "60",
            "--server-cpu", "0", "--generator-cpu", "0",
        ],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["drained"] is True
    assert result["messages"] > 0
    assert result["rows_written"] == result["messages"] == result["lines_sent"]
    assert result["rss_peak_mib"] >= result["rss_before_mib"] > 0
