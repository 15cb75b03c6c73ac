"""The history writer alone: records per second written, and its thread's CPU per record.

The fan-out benchmark measures history persistence only as a share of the server's CPU,
mixed with everything else on the core. This drives the writer thread by itself, exactly
as the server does: a ``HistoryWriter`` on an asyncio loop over the store the factory
opens, appends handed over from the loop (``--per-append`` records each, as one core
flush), the queue held to ``--queue-limit`` as the shell's backpressure holds it
(``when_below`` half the limit), retention trimming each conversation as it fills, and
a final flush. Records are made before the clock starts, so what is timed is the
thread's work: encoding, INSERT, trimming, commits.

The server tree is whatever ``chatroom`` is importable, so one copy of this script
compares two trees (``PYTHONPATH=<tree>/src``), old schema against new:

    PYTHONPATH=src .venv/bin/python bench/history_writer.py              # SQLite, ~10 s
    PYTHONPATH=src .venv/bin/python bench/history_writer.py --rooms 50   # many rooms
    PYTHONPATH=src .venv/bin/python bench/history_writer.py --postgres   # throwaway cluster

Prints a summary on stderr and one JSON object as the last stdout line: ``records_per_s``
(wall clock), ``writer_cpu_us_per_record`` (the writer thread's CPU, from
``/proc/self/task/TID/schedstat``), for a PostgreSQL on this machine
``database_cpu_us_per_record`` (its server processes' CPU, from ``/proc/PID/schedstat``),
the rows left and the largest conversation, which retention bounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.postgres_server

from chatroom.server.core.history import HistoryRecord
from chatroom.server.core.settings import HistorySettings
from chatroom.server.store.factory import CopyableHistory, open_history
from chatroom.server.store.history import HistoryWriter
from chatroom.server.store.url import parse_store_url

T0 = 1_900_000_000_000
PREFIX = f"{T0:x}"  # msgids look like the server's: "<start ms in hex>-<counter in hex>"


def make_records(count: int, rooms: int, text_bytes: int) -> list[HistoryRecord]:
    """Lines as a fan-out run stores them: five senders per room, guests, ~1 ms apart."""
    pad = "x" * max(0, text_bytes - 30)
    records = []
    for i in range(count):
        room = f"#bench{i % rooms}" if rooms > 1 else "#bench"
        nick = f"bench{i % 5}"
        records.append(
            HistoryRecord(
                target=room,
                msgid=f"{PREFIX}-{i + 1:x}",
                at=T0 + i // 10,
                sender=f"n:{nick}",
                recipient="",
                source=f"{nick}!~bench@127.0.0.1",
                command="PRIVMSG",
                target_name=room,
                text=f"{time.monotonic_ns()} {nick} {i} {pad}",
            )
        )
    return records


def database_processes(history: CopyableHistory) -> list[int]:
    """PostgreSQL on this machine: the server's processes (the postmaster's children, our
    connection's backend among them), whose CPU is the rest of the cost; [] for SQLite."""
    conn = getattr(history, "_conn", None)
    if conn is None or not hasattr(conn, "info"):
        return []
    backend = int(conn.execute("SELECT pg_backend_pid()").fetchone()[0])
    try:
        with open(f"/proc/{backend}/stat") as f:
            postmaster = int(f.read().rsplit(")", 1)[1].split()[1])
    except OSError:
        return []  # not on this machine
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == postmaster:
                children.append(int(entry.name))
    return children


def processes_cpu_ns(pids: list[int]) -> dict[int, int]:
    """CPU time used so far by each process still alive, in ns."""
    used = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/schedstat") as f:
                used[pid] = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return used


def thread_cpu_ns(thread: threading.Thread | None) -> int:
    """CPU time a thread of this process has used, in ns (0 if it cannot be read)."""
    if thread is None or thread.native_id is None:
        return 0
    try:
        with open(f"/proc/self/task/{thread.native_id}/schedstat") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


async def drive(
    history: CopyableHistory, records: list[HistoryRecord], args: argparse.Namespace
) -> dict[str, float]:
    settings = HistorySettings(max_per_target=args.keep, queue_limit=args.queue_limit)
    writer = HistoryWriter(history, settings)
    await writer.flush()  # the thread is up
    thread = next((t for t in threading.enumerate() if t.name == "history-writer"), None)
    loop = asyncio.get_running_loop()
    database = database_processes(history)
    db0 = processes_cpu_ns(database)
    cpu0, wall0, proc0 = thread_cpu_ns(thread), time.perf_counter(), time.process_time()
    step = args.per_append
    for start in range(0, len(records), step):
        writer.append(records[start : start + step])
        if writer.backlog >= args.queue_limit:
            caught_up = loop.create_future()
            writer.when_below(
                args.queue_limit // 2,
                lambda f=caught_up: f.done() or f.set_result(None),  # type: ignore[misc]
            )
            await caught_up
    await writer.flush()
    wall = time.perf_counter() - wall0
    cpu = thread_cpu_ns(thread) - cpu0
    proc = time.process_time() - proc0
    db1 = processes_cpu_ns(database)
    db = sum(used - db0.get(pid, 0) for pid, used in db1.items())
    await writer.close()
    return {
        "wall_s": wall,
        "writer_cpu_s": cpu / 1e9,
        "process_cpu_s": proc,
        "database_cpu_s": db / 1e9,
    }


def run(url: str, args: argparse.Namespace) -> dict[str, object]:
    records = make_records(args.records, args.rooms, args.text_bytes)
    history = open_history(parse_store_url(url, Path("/nonexistent")))
    try:
        times = asyncio.run(drive(history, records, args))
        rows = history.count()
        largest = max(len(history.export(room)) for room in {r.target for r in records[:1000]})
    finally:
        history.close()
    n = args.records
    return {
        "records": n,
        "records_per_s": round(n / times["wall_s"]),
        "writer_cpu_us_per_record": round(times["writer_cpu_s"] * 1e6 / n, 3),
        "process_cpu_us_per_record": round(times["process_cpu_s"] * 1e6 / n, 3),
        "database_cpu_us_per_record": round(times["database_cpu_s"] * 1e6 / n, 3),
        "rows_left": rows,
        "largest_conversation": largest,
        **{k: round(v, 3) for k, v in times.items()},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=300_000)
    parser.add_argument("--rooms", type=int, default=1, help="conversations, round robin")
    parser.add_argument("--per-append", type=int, default=1, help="records per append")
    parser.add_argument("--keep", type=int, default=10_000, help="history.max_per_target")
    parser.add_argument("--queue-limit", type=int, default=4096, help="history.queue_limit")
    parser.add_argument("--text-bytes", type=int, default=60, help="length of each line")
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL")
    parser.add_argument("--postgres-url", help="this PostgreSQL instead of SQLite")
    args = parser.parse_args()

    cluster = None
    if args.postgres and not args.postgres_url:
        from tests.postgres_server import TempPostgres

        cluster = TempPostgres(durable=True)
    try:
        if args.postgres_url or cluster is not None:
            url = args.postgres_url or (cluster.new_database() if cluster else "")
            backend = "postgresql"
            result = run(url, args)
        else:
            backend = "sqlite"
            with tempfile.TemporaryDirectory(prefix="bench-history-") as folder:
                result = run(f"sqlite://{folder}", args)
    finally:
        if cluster is not None:
            cluster.stop()
    print(
        f"{backend}: {result['records_per_s']:,} records/s,"
        f" writer thread {result['writer_cpu_us_per_record']} us CPU per record"
        + (
            f" + PostgreSQL {result['database_cpu_us_per_record']} us"
            if backend == "postgresql"
            else ""
        )
        + ","
        f" {result['rows_left']:,} rows left (largest conversation"
        f" {result['largest_conversation']:,})",
        file=sys.stderr,
    )
    print(json.dumps({"backend": backend, **vars(args), **result}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
