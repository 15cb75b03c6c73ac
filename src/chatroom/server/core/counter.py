"""Numbers for session ids, msgids and answer tokens: 1, 2, 3...

``itertools.count`` would do, but a ``World`` must pickle into a cluster snapshot
(server/cluster/replica.py) and Python stops pickling ``itertools`` objects (deprecated
in 3.12, gone in 3.14); this is plain data.
"""

from __future__ import annotations


class Counter:
    __slots__ = ("last",)

    def __init__(self) -> None:
        self.last = 0

    def __iter__(self) -> Counter:
        return self

    def __next__(self) -> int:
        self.last += 1
        return self.last
