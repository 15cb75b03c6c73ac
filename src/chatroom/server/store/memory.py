"""An in-memory ``Store``: the test double for the core and the backend for throwaway runs.

It enforces the same rules as the SQLite backend (unique fingerprints and ban masks,
all-or-nothing transactions) so that the contract tests hold for both.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import AsyncIterator, Sequence
from typing import assert_never

from chatroom.server.store import base
from chatroom.server.store.base import (
    Account,
    AccountMute,
    AlreadyExistsError,
    AppendAudit,
    AuditEntry,
    Change,
    ConflictError,
    CreateAccount,
    DeleteAccount,
    DeleteBan,
    DeleteBanTarget,
    DeleteChannel,
    DeleteMetadata,
    DeleteMute,
    DeletePresence,
    DeleteReadMarkers,
    Presence,
    PutAccount,
    PutAccountOption,
    PutBan,
    PutChannel,
    PutMetadata,
    PutMute,
    PutPresence,
    PutReadMarker,
    RegisterChannel,
    RegisteredChannel,
    RenameChannel,
    ServerBan,
    SetAccountCertfps,
    SetAccountOperRole,
    SetAccountPassword,
    SetChannelFounder,
    Snapshot,
    StoreDelta,
    Touched,
    UpdateChannel,
    ban_key,
)

__all__ = ["MemoryStore"]


class MemoryStore:
    """Keeps state in dicts; a transaction works on copies and swaps them in at the end."""

    def __init__(self) -> None:
        # The writer thread applies while the event loop may load; keep them apart.
        self._lock = threading.Lock()
        self._accounts: dict[str, Account] = {}
        self._bans: dict[int, ServerBan] = {}
        self._audit: list[AuditEntry] = []
        self._mutes: dict[str, AccountMute] = {}
        self._channels: dict[str, RegisteredChannel] = {}
        self._metadata: dict[str, dict[str, str]] = {}
        self._options: dict[str, dict[str, str]] = {}
        self._markers: dict[str, dict[str, float]] = {}
        self._presence: dict[str, Presence] = {}
        self._next_ban_id = 1
        self._version = 0
        self._closed = False

    def load(self) -> Snapshot:
        with self._lock:
            self._check_open()
            return Snapshot(
                accounts=dict(self._accounts),
                bans=[self._bans[i] for i in sorted(self._bans)],
                version=self._version,
                mutes=dict(self._mutes),
                channels=dict(self._channels),
                metadata={key: dict(values) for key, values in self._metadata.items()},
                options={key: dict(values) for key, values in self._options.items()},
                read_markers={key: dict(values) for key, values in self._markers.items()},
                presence=dict(self._presence),
            )

    def apply(self, changes: Sequence[Change]) -> list[int]:
        with self._lock:
            self._check_open()
            accounts = dict(self._accounts)
            bans = dict(self._bans)
            audit = list(self._audit)
            mutes = dict(self._mutes)
            channels = dict(self._channels)
            metadata = {key: dict(values) for key, values in self._metadata.items()}
            options = {key: dict(values) for key, values in self._options.items()}
            markers = {key: dict(values) for key, values in self._markers.items()}
            presence = dict(self._presence)
            next_ban_id = self._next_ban_id
            ban_ids: list[int] = []
            for change in changes:
                match change:
                    case PutAccount(account):
                        _check_fingerprints_free(accounts, account)
                        accounts[account.key] = account
                    case CreateAccount(account):
                        if account.key in accounts:
                            raise AlreadyExistsError(f"account {account.key!r} already exists")
                        _check_fingerprints_free(accounts, account)
                        accounts[account.key] = account
                    case SetAccountOperRole(key, oper_role):
                        if (held := accounts.get(key)) is not None:
                            accounts[key] = dataclasses.replace(held, oper_role=oper_role)
                    case SetAccountPassword(key, password_hash, scram):
                        if (held := accounts.get(key)) is not None:
                            accounts[key] = dataclasses.replace(
                                held, password_hash=password_hash, scram=scram
                            )
                    case SetAccountCertfps(key, certfps):
                        if (held := accounts.get(key)) is not None:
                            updated = dataclasses.replace(held, certfps=certfps)
                            _check_fingerprints_free(accounts, updated)
                            accounts[key] = updated
                    case DeleteAccount(key):
                        accounts.pop(key, None)
                        metadata.pop(key, None)
                        options.pop(key, None)
                        markers.pop(key, None)
                        presence.pop(key, None)
                    case PutBan(ban):
                        ban_id = _place_ban(bans, ban, next_ban_id)
                        next_ban_id = max(next_ban_id, ban_id + 1)
                        ban_ids.append(ban_id)
                    case DeleteBan(ban_id):
                        bans.pop(ban_id, None)
                    case DeleteBanTarget(kind, mask):
                        for ban_id in [
                            i for i, b in bans.items() if (b.kind, b.mask) == (kind, mask)
                        ]:
                            del bans[ban_id]
                    case AppendAudit(entry):
                        audit = _appended(audit, entry)
                    case PutMute(mute):
                        mutes[mute.account_key] = mute
                    case DeleteMute(key):
                        mutes.pop(key, None)
                    case PutChannel(channel):
                        channels[channel.key] = channel
                    case RegisterChannel(channel):
                        if channel.key in channels:
                            raise AlreadyExistsError(f"room {channel.key!r} is already registered")
                        channels[channel.key] = channel
                    case UpdateChannel(channel):
                        stored = channels.get(channel.key)
                        if stored is not None:
                            channels[channel.key] = dataclasses.replace(
                                channel, founder=stored.founder, registered_at=stored.registered_at
                            )
                    case SetChannelFounder(key, founder):
                        stored = channels.get(key)
                        if stored is not None:
                            channels[key] = dataclasses.replace(stored, founder=founder)
                    case DeleteChannel(key):
                        channels.pop(key, None)
                    case RenameChannel(key, new_key, new_name):
                        _rename_channel(channels, key, new_key, new_name)
                    case PutMetadata(account_key, key, value):
                        if account_key not in accounts:
                            raise ConflictError(f"no account {account_key!r} for its metadata")
                        metadata.setdefault(account_key, {})[key] = value
                    case DeleteMetadata(account_key, key):
                        values = metadata.get(account_key, {})
                        if key is None:
                            values.clear()
                        else:
                            values.pop(key, None)
                        if not values:
                            metadata.pop(account_key, None)
                    case PutAccountOption(account_key, name, value):
                        if account_key not in accounts:
                            raise ConflictError(f"no account {account_key!r} for its option")
                        chosen = options.setdefault(account_key, {})
                        if value is None:
                            chosen.pop(name, None)
                        else:
                            chosen[name] = value
                        if not chosen:
                            options.pop(account_key, None)
                    case PutReadMarker(account_key, target, at):
                        if account_key not in accounts:
                            raise ConflictError(f"no account {account_key!r} for its marker")
                        markers.setdefault(account_key, {})[target] = at
                    case DeleteReadMarkers(target):
                        for account_key in list(markers):
                            markers[account_key].pop(target, None)
                            if not markers[account_key]:
                                del markers[account_key]
                    case PutPresence(kept):
                        if kept.account_key not in accounts:
                            raise ConflictError(f"no account {kept.account_key!r} to keep")
                        presence[kept.account_key] = kept
                    case DeletePresence(account_key):
                        presence.pop(account_key, None)
                    case _:
                        assert_never(change)
            self._accounts, self._bans, self._audit = accounts, bans, audit
            self._mutes, self._channels, self._metadata = mutes, channels, metadata
            self._options, self._markers, self._presence = options, markers, presence
            self._next_ban_id = next_ban_id
            self._version += 1
            return ban_ids

    def changed_since_load(self) -> bool:
        # Nobody outside this process can write to it.
        return False

    async def watch(self) -> AsyncIterator[Touched | None]:
        # Nothing outside this process changes it: wait for ever (until cancelled).
        await asyncio.Event().wait()
        yield None  # pragma: no cover - never reached; makes this an async generator

    def read_touched(self, touched: Touched) -> StoreDelta:
        with self._lock:
            self._check_open()
            by_key = {ban_key(b.kind, b.mask): b for b in self._bans.values()}
            return StoreDelta(
                accounts={key: self._accounts.get(key) for key in touched.accounts},
                metadata={key: dict(self._metadata.get(key, {})) for key in touched.accounts},
                options={key: dict(self._options.get(key, {})) for key in touched.accounts},
                bans={key: by_key.get(key) for key in touched.bans},
                mutes={key: self._mutes.get(key) for key in touched.mutes},
                channels={key: self._channels.get(key) for key in touched.channels},
            )

    def audit(self, since: float | None = None) -> list[AuditEntry]:
        with self._lock:
            self._check_open()
            return [e for e in self._audit if since is None or e.at >= since]

    def close(self) -> None:
        self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("store is closed")


def _check_fingerprints_free(accounts: dict[str, Account], account: Account) -> None:
    """A fingerprint identifies one account for SASL EXTERNAL, so it may not be shared."""
    wanted = set(account.certfps)
    if len(wanted) != len(account.certfps):
        raise ConflictError(f"duplicate certificate fingerprint in account {account.name!r}")
    for other in accounts.values():
        if other.key != account.key and wanted.intersection(other.certfps):
            raise ConflictError(f"certificate fingerprint already belongs to {other.name!r}")


def _rename_channel(
    channels: dict[str, RegisteredChannel], key: str, new_key: str, new_name: str
) -> None:
    """Move a registered room to its new name; the new key must be free (as SQLite's
    primary key demands) unless only the case changed."""
    stored = channels.get(key)
    if stored is None:
        return
    if new_key != key and new_key in channels:
        raise ConflictError(f"a room {new_name!r} is already registered")
    del channels[key]
    channels[new_key] = dataclasses.replace(stored, key=new_key, name=new_name)


def _place_ban(bans: dict[int, ServerBan], ban: ServerBan, next_id: int) -> int:
    same_mask = next(
        (b.id for b in bans.values() if (b.kind, b.mask) == (ban.kind, ban.mask)), None
    )
    if ban.id is None:
        ban_id = same_mask if same_mask is not None else next_id
    else:
        if same_mask is not None and same_mask != ban.id:
            raise ConflictError(f"a {ban.kind} ban on {ban.mask!r} already exists")
        ban_id = ban.id
    bans[ban_id] = dataclasses.replace(ban, id=ban_id)
    return ban_id


def _appended(audit: list[AuditEntry], entry: AuditEntry) -> list[AuditEntry]:
    """``audit`` with ``entry`` numbered and added, and the entries any user makes that are
    no longer among the newest ``USER_AUDIT_ENTRIES`` dropped, as the SQL stores do."""
    last = (audit[-1].id or 0) if audit else 0
    audit.append(dataclasses.replace(entry, id=last + 1))
    if not base.made_by_any_user(entry):
        return audit
    newest_gone = last + 1 - base.USER_AUDIT_ENTRIES
    window = range(newest_gone - base.USER_AUDIT_STEP + 1, newest_gone + 1)
    return [e for e in audit if (e.id or 0) not in window or not base.made_by_any_user(e)]
