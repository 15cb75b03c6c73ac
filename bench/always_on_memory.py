"""What an always-on user with no connection costs, next to a registered connection.

Both are measured the same way, in one process, with tracemalloc (Python objects only,
so the number does not depend on what else runs on the machine): N registered plain
connections through the test harness, then N always-on users brought back from the store
at start (each in ``--rooms`` rooms), each divided by N.

    PYTHONPATH=src python bench/always_on_memory.py --users 5000 --rooms 2
"""

from __future__ import annotations

import argparse
import gc
import tracemalloc
from collections.abc import Callable

from chatroom.server.harness import Harness
from chatroom.server.store.base import Account, Presence, PutAccount, PutAccountOption, PutPresence


def measure(build: Callable[[], object]) -> int:
    """Bytes of Python objects that ``build`` leaves alive."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    kept = build()
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    del kept
    return sum(stat.size_diff for stat in after.compare_to(before, "filename"))


def connections(users: int) -> int:
    h = Harness()
    return measure(lambda: [h.connect(f"user{i}") for i in range(users)])


def always_on(users: int, rooms: int) -> int:
    h = Harness()
    changes: list[object] = []
    for i in range(users):
        key = f"user{i}"
        account = Account(key, key, "fake$unused", None, None, 0.0)
        channels = tuple(f"#room{(i + r) % 50}" for r in range(rooms))
        changes += [
            PutAccount(account),
            PutAccountOption(key, "always-on", "on"),
            PutPresence(Presence(key, key, channels, None, 0.0)),
        ]
    h.store.apply(changes)  # type: ignore[arg-type]
    snapshot = h.store.load()
    return measure(lambda: h.world.load_snapshot(snapshot))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--rooms", type=int, default=2)
    args = parser.parse_args()
    plain = connections(args.users) / args.users
    kept = always_on(args.users, args.rooms) / args.users
    print(f"registered plain connection (Python objects): {plain:.0f} bytes each")
    print(f"always-on user with no connection, in {args.rooms} rooms: {kept:.0f} bytes each")


if __name__ == "__main__":
    main()
