"""The accounts the server knows, and what it keeps per account while it runs.

One owner for everything keyed by account key (the folded account name):
- the records (``Account``, loaded from the store, changed by the core after each commit);
- the names being registered right now (reserved between the request and the commit, so
  two registrations of one name cannot both start);
- the online user of each account: where a new device attaches (multiclient) and where
  an always-on user is kept while it has no device (core/presence.py);
- the NickServ SET choices (MULTICLIENT, ALWAYS-ON), saved in the store;
- what an account was in when its last device left (``Presence``), saved in the store;
- how many private messages wait for an offline account, and since when (core/offline.py),
  saved in the store as an account option.

Reads are plain lookups; every change is a named method, so a reader finds who changes
what by looking for the method. Account metadata and read markers keep their own owners
(``MetadataState``, ``ReadMarkers``).
"""

from __future__ import annotations

from collections.abc import Mapping, ValuesView
from typing import TYPE_CHECKING

from chatroom.server.store.base import Account, Presence, PutAccountOption

if TYPE_CHECKING:
    from chatroom.server.core.users import User


class AccountBook:
    """Account key -> record, online user, options (and mailbox), kept presence."""

    __slots__ = ("_kept", "_online", "_options", "_records", "_reserved")

    def __init__(self) -> None:
        self._records: dict[str, Account] = {}
        self._reserved: set[str] = set()
        self._online: dict[str, User] = {}
        self._options: dict[str, dict[str, str]] = {}
        self._kept: dict[str, Presence] = {}

    # ------------------------------------------------------------------ records

    def get(self, key: str) -> Account | None:
        return self._records.get(key)

    def __getitem__(self, key: str) -> Account:
        return self._records[key]

    def __contains__(self, key: object) -> bool:
        return key in self._records

    def __len__(self) -> int:
        return len(self._records)

    def values(self) -> ValuesView[Account]:
        return self._records.values()

    def put(self, account: Account) -> None:
        """The record as it now is (created, or changed and committed)."""
        self._records[account.key] = account

    def drop(self, key: str) -> None:
        self._records.pop(key, None)

    def reserve(self, key: str) -> None:
        """A registration of ``key`` started: nobody else may start one until it ends."""
        self._reserved.add(key)

    def unreserve(self, key: str) -> None:
        self._reserved.discard(key)

    def taken(self, key: str) -> bool:
        """An account has the name, or a registration of it is in flight."""
        return key in self._records or key in self._reserved

    # ------------------------------------------------------------------ loading

    def load(
        self,
        records: Mapping[str, Account],
        options: Mapping[str, Mapping[str, str]],
        kept: Mapping[str, Presence],
    ) -> None:
        """The store's whole state (at start, and again when ``chatroom admin`` wrote)."""
        self._records = dict(records)
        self._options = {key: dict(chosen) for key, chosen in options.items()}
        self._kept = dict(kept)

    def load_one(self, key: str, account: Account | None, options: Mapping[str, str]) -> None:
        """One account another process changed (None: deleted), with its options."""
        if account is None:
            self._records.pop(key, None)
        else:
            self._records[key] = account
        if options:
            self._options[key] = dict(options)
        else:
            self._options.pop(key, None)

    # ------------------------------------------------------------------ online users

    def online(self, key: str) -> User | None:
        """The user logged in to the account here, with devices or always-on."""
        return self._online.get(key)

    def set_online(self, key: str, user: User) -> None:
        """``user`` is the account's user, unless the account already has one; it takes
        the account's SILENCE list."""
        if self._online.setdefault(key, user) is user:
            kept = self.option(key, SILENCE_OPTION)
            if kept and not user.silenced:
                user.silenced = tuple(kept.split()[:SILENCE_ENTRIES])

    def set_offline(self, key: str, user: User) -> None:
        """``user`` is no longer the account's user (if it was)."""
        if self._online.get(key) is user:
            del self._online[key]

    def online_users(self) -> list[User]:
        """The user of every online account: a copy, safe to change while walking it."""
        return list(self._online.values())

    # ------------------------------------------------------------------ options

    def option(self, key: str, name: str) -> str | None:
        """What the account chose for ``name`` ("on", "off"), or None if it never did."""
        chosen = self._options.get(key)
        return chosen.get(name) if chosen is not None else None

    def choose(self, key: str, name: str, value: str) -> None:
        self._options.setdefault(key, {})[name] = value

    def unchoose(self, key: str, name: str) -> None:
        """Back to the server's default (or, for a flag, off)."""
        chosen = self._options.get(key)
        if chosen is not None:
            chosen.pop(name, None)

    # ------------------------------------------------------------------ kept presence

    def kept(self, key: str) -> Presence | None:
        """What the account was in when its last device left, if anything."""
        return self._kept.get(key)

    def keep(self, presence: Presence) -> None:
        self._kept[presence.account_key] = presence

    def forget_kept(self, key: str) -> bool:
        """Forget what was kept for the account; True if there was something."""
        return self._kept.pop(key, None) is not None

    def all_kept(self) -> list[Presence]:
        return list(self._kept.values())

    # ------------------------------------------------------------------ messages waiting

    def waiting(self, key: str) -> int:
        """Private messages kept for the offline account since it was last seen."""
        return _mailbox(self.option(key, MAILBOX))[1]

    def add_waiting(self, key: str, at_ms: int) -> PutAccountOption:
        """One more message kept, said at ``at_ms``; the caller persists the change."""
        since, count = _mailbox(self.option(key, MAILBOX))
        value = f"{at_ms if since is None else since} {count + 1}"
        self.choose(key, MAILBOX, value)
        return PutAccountOption(key, MAILBOX, value)

    def take_waiting(self, key: str) -> tuple[int | None, PutAccountOption | None]:
        """The account logged in: since when (milliseconds) messages were waiting, if any,
        and the change that empties its mailbox (the count starts again), to persist."""
        chosen = self._options.get(key)
        value = chosen.pop(MAILBOX, None) if chosen is not None else None
        if value is None:
            return None, None
        return _mailbox(value)[0], PutAccountOption(key, MAILBOX, None)


# An account's SILENCE list (core/commands/silence.py): its masks, separated by spaces.
SILENCE_OPTION = "silence"
SILENCE_ENTRIES = 32  # masks per user's list (InspIRCd's default), in ISUPPORT SILENCE

# An account's offline mailbox, kept as an account option so that it survives a restart:
# "<time of its first waiting message, ms> <how many wait>". Its first message marks where
# the next login's replay starts: everything before it the account already received.
MAILBOX = "offline-mailbox"


def _mailbox(value: str | None) -> tuple[int | None, int]:
    """(since, count) of a stored mailbox value; a value that does not parse is empty."""
    since, _, count = (value or "").partition(" ")
    if not (since.isdigit() and count.isdigit()):
        return None, 0
    return int(since), int(count)
