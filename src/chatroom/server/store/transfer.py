"""``chatroom admin migrate``: copy every record from one store URL to another, verified.

Accounts go with their argon2id hashes, SCRAM verifiers, certificate fingerprints and
IRCv3 metadata, per-account options, read markers and the kept presence of always-on
users, bans keep their ids, then mutes, registered rooms (ops and lists), the
audit log in its order, and the message history (events too) in send order, deleted
messages still marked deleted. The copy is refused unless the target is empty (a merge of
two servers' data is not a copy), and is verified afterwards: every table must hold as
many rows in the target as in the source, else it raises.

Records travel as the store's own changes (``PutAccount``, ``PutBan`` with its id, ...),
so the copy needs nothing from a backend beyond what the server itself uses, and works
between any two backends, in either direction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from chatroom.server.core.redaction import Redaction
from chatroom.server.store.base import (
    AppendAudit,
    Change,
    PutAccount,
    PutAccountOption,
    PutBan,
    PutChannel,
    PutMetadata,
    PutMute,
    PutPresence,
    PutReadMarker,
    StoreError,
)
from chatroom.server.store.factory import CopyableHistory, CopyableStore, open_history, open_store
from chatroom.server.store.url import StoreLocation

__all__ = ["HISTORY_PAGE", "MigrationMismatchError", "copy_all", "migrate"]

T = TypeVar("T")
HISTORY_PAGE = 5000  # history lines read and written per transaction
STORE_BATCH = 2000  # store records per transaction


class MigrationMismatchError(StoreError):
    """The target does not hold what the source does after the copy."""


def migrate(
    source: StoreLocation, target: StoreLocation, report: Callable[[str], None] = print
) -> dict[str, int]:
    """Open both locations and ``copy_all``; the verified counts per table."""
    if str(source) == str(target):
        raise ValueError("--from and --to name the same store")
    from_store = _opened(open_store, source, "--from")
    try:
        from_history = _opened(open_history, source, "--from")
        try:
            to_store = _opened(open_store, target, "--to")
            try:
                to_history = _opened(open_history, target, "--to")
                try:
                    return copy_all(from_store, from_history, to_store, to_history, report)
                finally:
                    to_history.close()
            finally:
                to_store.close()
        finally:
            from_history.close()
    finally:
        from_store.close()


def _opened(opener: Callable[[StoreLocation], T], location: StoreLocation, flag: str) -> T:
    """``opener(location)``; a failure says which of the two stores it was."""
    try:
        return opener(location)
    except Exception as err:
        raise StoreError(f"cannot open the store of {flag} {location}: {err}") from err


def copy_all(
    from_store: CopyableStore,
    from_history: CopyableHistory,
    to_store: CopyableStore,
    to_history: CopyableHistory,
    report: Callable[[str], None] = print,
) -> dict[str, int]:
    """Copy, then compare the counts of every table; returns them."""
    held = {name: count for name, count in to_store.counts().items() if count}
    if held or to_history.count():
        held["messages"] = to_history.count()
        shown = ", ".join(f"{name} {count}" for name, count in held.items() if count)
        raise ValueError(f"the target already holds data ({shown}); migrate into an empty store")
    snapshot = from_store.load()
    changes: list[Change] = [PutAccount(a) for _, a in sorted(snapshot.accounts.items())]
    changes += [
        PutMetadata(account_key, key, value)
        for account_key, values in sorted(snapshot.metadata.items())
        for key, value in sorted(values.items())
    ]
    changes += [
        PutAccountOption(account_key, name, value)
        for account_key, values in sorted(snapshot.options.items())
        for name, value in sorted(values.items())
    ]
    changes += [
        PutReadMarker(account_key, target, at)
        for account_key, markers in sorted(snapshot.read_markers.items())
        for target, at in sorted(markers.items())
    ]
    changes += [PutPresence(kept) for _, kept in sorted(snapshot.presence.items())]
    changes += [PutBan(ban) for ban in snapshot.bans]
    changes += [PutMute(mute) for _, mute in sorted(snapshot.mutes.items())]
    changes += [PutChannel(room) for _, room in sorted(snapshot.channels.items())]
    changes += [AppendAudit(entry) for entry in from_store.audit()]
    for start in range(0, len(changes), STORE_BATCH):
        to_store.apply(changes[start : start + STORE_BATCH])
    report(f"copied {len(changes)} store records")
    after, lines = 0, 0
    while page := from_history.records_after(after, HISTORY_PAGE):
        to_history.append([record for _, record, _ in page])
        # A deleted message keeps its row (references to it still work), blanked: delete
        # the copy the same way, at the same time.
        for _, record, redacted_at in page:
            if redacted_at is not None:
                to_history.redact(Redaction(record.target, record.msgid, None, redacted_at))
        after = page[-1][0]
        lines += len(page)
    report(f"copied {lines} history lines")
    expected = {**from_store.counts(), "messages": from_history.count()}
    found = {**to_store.counts(), "messages": to_history.count()}
    wrong = {name: (count, found.get(name)) for name, count in expected.items()}
    wrong = {name: pair for name, pair in wrong.items() if pair[0] != pair[1]}
    if wrong:
        detail = ", ".join(
            f"{name}: {a} in the source, {b} in the target" for name, (a, b) in wrong.items()
        )
        raise MigrationMismatchError(f"the copy does not match: {detail}")
    return found
