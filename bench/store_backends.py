"""History on SQLite and on PostgreSQL, side by side: append rate and CHATHISTORY latency.

Both backends are opened through the store factory (``store.url``), exactly as the server
opens them, and driven as the server drives them: appends in the batches the history
writer commits (one transaction per batch), queries one at a time as the writer thread
runs them. PostgreSQL is a throwaway cluster with its default durability (fsync on),
started here from Debian's postgresql-15 (``tests/postgres_server.py``) unless
``--postgres URL`` names one; SQLite is a temporary directory. Either way on this machine,
on a Unix socket: the numbers compare the engines, not a network.

    .venv/bin/python bench/store_backends.py                # about a minute on 2 cores
    .venv/bin/python bench/store_backends.py --lines 20000 --queries 100   # quicker

Prints a table, then one JSON line (the last line) with every number.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.postgres_server

from chatroom.server.core.history import HistoryQuery, HistoryRecord, Ref
from chatroom.server.store.factory import CopyableHistory, open_history
from chatroom.server.store.url import parse_store_url

T0 = 1_900_000_000_000
ROOMS = 100


def record(i: int) -> HistoryRecord:
    room = f"#room{i % ROOMS}"
    return HistoryRecord(
        target=room,
        msgid=f"msg{i:09d}",
        at=T0 + i * 10,
        sender=f"a:user{i % 500}",
        recipient="",
        source=f"user{i % 500}!u@host",
        command="PRIVMSG",
        target_name=room,
        text=f"line {i} " + "x" * 60,
        account=f"user{i % 500}",
    )


def append_rate(history: CopyableHistory, first: int, lines: int, batch: int) -> float:
    """Lines per second committed in transactions of ``batch`` lines."""
    start = time.perf_counter()
    for offset in range(0, lines, batch):
        history.append([record(first + i) for i in range(offset, min(offset + batch, lines))])
    return lines / (time.perf_counter() - start)


def latency_ms(run: Callable[[int], object], queries: int) -> dict[str, float]:
    samples = []
    for n in range(queries):
        start = time.perf_counter()
        run(n)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {
        "median_ms": round(statistics.median(samples), 3),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 3),
    }


def measure(url: str, lines: int, queries: int) -> dict[str, object]:
    history = open_history(parse_store_url(url, Path("/nonexistent")))
    try:
        # Appends: the writer's usual batch under load, a small one, and one line alone.
        rates = {
            "append_batch_64_lines_per_s": append_rate(history, 0, lines, 64),
            "append_batch_8_lines_per_s": append_rate(history, lines, lines // 8, 8),
            "append_single_lines_per_s": append_rate(history, lines + lines // 8, 500, 1),
        }
        total = history.count()
        newest = total - 1

        def target(n: int) -> str:
            return f"#room{n % ROOMS}"

        def ref(n: int) -> Ref:  # a msgid in the target, some way back from the end
            back = newest - (n % ROOMS) - ROOMS * (1 + n % 50)
            return Ref(msgid=f"msg{back - (back % ROOMS) + n % ROOMS:09d}")

        kinds: dict[str, Callable[[int], object]] = {
            "LATEST * 50": lambda n: history.query(
                HistoryQuery("LATEST", target(n), None, None, 50)
            ),
            "BEFORE msgid 50": lambda n: history.query(
                HistoryQuery("BEFORE", target(n), ref(n), None, 50)
            ),
            "AROUND msgid 50": lambda n: history.query(
                HistoryQuery("AROUND", target(n), ref(n), None, 50)
            ),
            "BETWEEN times 50": lambda n: history.query(
                HistoryQuery(
                    "BETWEEN",
                    target(n),
                    Ref(at=T0 + n * 1000),
                    Ref(at=T0 + n * 1000 + 100_000),
                    50,
                )
            ),
            "TARGETS 20 rooms": lambda n: history.query(
                HistoryQuery(
                    "TARGETS",
                    "",
                    Ref(at=T0),
                    Ref(at=T0 + total * 10 + 1),
                    50,
                    identity="a:user1",
                    channels=tuple(f"#room{i}" for i in range(20)),
                )
            ),
        }
        latencies = {name: latency_ms(run, queries) for name, run in kinds.items()}
        return {
            "lines_stored": total,
            **{k: round(v) for k, v in rates.items()},
            "chathistory": latencies,
        }
    finally:
        history.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000, help="lines appended in batches")
    parser.add_argument("--queries", type=int, default=300, help="queries of each kind")
    parser.add_argument("--postgres", help="a PostgreSQL URL to use instead of a throwaway one")
    args = parser.parse_args()

    from tests.postgres_server import TempPostgres

    cluster = None if args.postgres else TempPostgres(durable=True)
    try:
        pg_url = args.postgres or (cluster.new_database() if cluster else "")
        with tempfile.TemporaryDirectory(prefix="bench-sqlite-") as folder:
            results = {
                "sqlite": measure(f"sqlite://{folder}", args.lines, args.queries),
                "postgresql": measure(pg_url, args.lines, args.queries),
            }
    finally:
        if cluster is not None:
            cluster.stop()
    report(results)
    print(json.dumps({"lines": args.lines, "queries": args.queries, **results}))
    return 0


def report(results: dict[str, dict[str, object]]) -> None:
    sqlite, pg = results["sqlite"], results["postgresql"]
    print(f"{'':32} {'SQLite':>12} {'PostgreSQL':>12} {'PG/SQLite':>10}")
    for key in ("append_batch_64_lines_per_s", "append_batch_8_lines_per_s",
                "append_single_lines_per_s"):  # fmt: skip
        a, b = float(str(sqlite[key])), float(str(pg[key]))
        print(f"{key:32} {a:12.0f} {b:12.0f} {b / a:10.2f}")
    lat_a = sqlite["chathistory"]
    lat_b = pg["chathistory"]
    assert isinstance(lat_a, dict)
    assert isinstance(lat_b, dict)
    for name in lat_a:
        a, b = lat_a[name]["median_ms"], lat_b[name]["median_ms"]
        print(f"{name + ' (median ms)':32} {a:12.3f} {b:12.3f} {b / a:10.2f}")


if __name__ == "__main__":
    raise SystemExit(main())
