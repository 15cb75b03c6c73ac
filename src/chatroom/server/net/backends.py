"""The shell's slow helpers: the store (one ordered writer thread) and password hashing
(two worker processes), turning the core's effects into work and answers back into inputs.

Nothing here blocks the event loop: argon2id runs in the workers, commits run in the
writer thread, and both report back on the loop, where the core continues.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

from chatroom.config import Config
from chatroom.server.auth.password_workers import (
    PasswordWorkers,
    hash_password,
    verify_password,
)
from chatroom.server.auth.passwords import Argon2Params
from chatroom.server.auth.server_secret import load_server_secret
from chatroom.server.core.effects import (
    Close,
    HashPassword,
    Persist,
    QueryHistory,
    RedactHistory,
    ReloadConfig,
    RenameHistory,
    StoreMessages,
    VerifyPassword,
)
from chatroom.server.core.history import HistoryRecord
from chatroom.server.core.reconfigure import Reloaded
from chatroom.server.core.world import World
from chatroom.server.net.inputs import Inputs
from chatroom.server.store.base import (
    AlreadyExistsError,
    Snapshot,
    StoreDelta,
    Touched,
    commit_error,
)
from chatroom.server.store.factory import open_history, open_store
from chatroom.server.store.history import HistoryWriter, Rows
from chatroom.server.store.writer import StoreWriter, load_when_quiet

log = logging.getLogger("chatroom.store")

T = TypeVar("T")

# How long to wait before reading again when the loop kept writing during a read.
RETRY_SECONDS = 0.2


class _NotQuietError(Exception):
    """The writer kept writing while the store was read: read again a moment later."""


class Backends:
    """The production ``EffectHandler``: the shell hands it every effect it takes.

    Everything but ``Close`` is done off the event loop; ``Close`` goes back to the shell
    (``close_connection``), which owns the sockets.
    """

    def __init__(
        self,
        config: Config,
        world: World,
        wake: Callable[[], None],
        close_connection: Callable[[int], None],
        rehash: Callable[[], Reloaded],
        inputs: Inputs | None = None,
    ) -> None:
        self.world = world
        # Where answers go: the world itself, or a cluster node's log (net/inputs.py).
        self.inputs: Inputs = world if inputs is None else inputs
        self.data_dir = config.data_dir
        self.wake = wake  # schedules the shell's flush after an answer reached the core
        self.close_connection = close_connection  # by session id
        location = config.store  # one factory opens both, from store.url
        log.debug("opening the store", extra={"store": str(location)})
        self.store = open_store(location)
        try:
            self.history = open_history(location)
        except BaseException:
            self.store.close()
            raise
        self.writer = StoreWriter(self.store)
        # Two workers: one per core; argon2id is CPU- and memory-bound by design.
        self.passwords = PasswordWorkers(Argon2Params(*config.argon2), workers=2)
        self._poller: asyncio.Task[None] | None = None
        self.rehash = rehash  # the shell's REHASH (net/rehash.py): never raises
        self._loop = asyncio.get_running_loop()  # answers from threads come back here
        # History has its own writer thread: chat bursts never delay an account commit.
        self.history_writer = HistoryWriter(
            self.history, config.core.history, on_outside_change=self._history_reloaded
        )

    def start(self, load_state: bool = True) -> None:
        """Load durable state into the core and start watching for outside changes.

        A cluster node (``load_state=False``) has its state from the network's log."""
        if load_state:
            self.world.load_snapshot(self.store.load())
            self.world.scram_secret = load_server_secret(self.data_dir)
            replay = self.world.settings.history.replay_lines
            self.world.load_history(self.history.recent(replay))
        dummy = self.passwords.run(hash_password, secrets.token_urlsafe(24))
        self.world.dummy_password_hash = dummy[0]
        self._poller = asyncio.create_task(self._watch_store())

    # ------------------------------------------------------- effects (EffectHandler)

    def on_close(self, effect: Close) -> None:
        self.close_connection(effect.session_id)  # the shell's: it owns the sockets

    def on_store_messages(self, effect: StoreMessages) -> None:
        self.history_writer.append(effect.records)

    def on_rename_history(self, effect: RenameHistory) -> None:
        self.history_writer.rename(effect.target, effect.new_target, effect.new_name)

    def on_reload_config(self, effect: ReloadConfig) -> None:
        # Answered on the next turn of the loop, as the other answers are: never from
        # inside the flush that carried the effect.
        self._loop.call_soon(self._reload_config, effect.token)

    def _reload_config(self, token: int) -> None:
        self.inputs.config_reloaded(token, self.rehash())
        self.wake()

    def on_query_history(self, effect: QueryHistory) -> None:
        token = effect.token
        self.history_writer.query(effect.query, lambda rows: self._history_answer(token, rows))

    def on_redact_history(self, effect: RedactHistory) -> None:
        token = effect.token
        self.history_writer.redact(
            effect.redaction, lambda outcome: self._redaction_answer(token, outcome)
        )

    def on_verify_password(self, effect: VerifyPassword) -> None:
        inputs = self.inputs
        token = effect.token

        def refuse() -> None:
            inputs.password_checked(token, False, None)

        verify = self._submit(refuse, verify_password, effect.password_hash, effect.password)
        if verify is not None:
            self._when_done(verify, lambda result: inputs.password_checked(token, *result), refuse)

    def on_hash_password(self, effect: HashPassword) -> None:
        inputs = self.inputs
        token = effect.token

        def no_hash() -> None:
            inputs.password_hashed(token, "", "")

        make = self._submit(no_hash, hash_password, effect.password)
        if make is not None:
            self._when_done(make, lambda result: inputs.password_hashed(token, *result), no_hash)

    def on_persist(self, effect: Persist) -> None:
        if effect.token is None:
            self.writer.submit(effect.changes, self._log_failure)
        else:
            token = effect.token
            self.writer.submit(effect.changes, lambda err: self._committed(token, err))

    def _submit(
        self, on_error: Callable[[], None] | None, fn: Callable[..., T], *args: str
    ) -> Future[T] | None:
        """Hand work to the password workers; if even a fresh pool cannot take it, the
        core hears "no" (a failed login) instead of the loop hearing an exception."""
        try:
            return self.passwords.submit(fn, *args)
        except Exception:
            log.exception("password workers unavailable")
            if on_error is not None:
                on_error()
            return None

    def _when_done(
        self,
        future: Future[T],
        answer: Callable[[T], None],
        on_error: Callable[[], None] | None,
    ) -> None:
        """Hand a worker's result to the core, on the event loop, then flush."""

        def finished(done: Future[T]) -> None:
            try:
                result = done.result()
            except Exception:
                log.exception("password worker failed")
                if on_error is not None:
                    on_error()
            else:
                answer(result)
            self.wake()

        loop = self._loop
        future.add_done_callback(lambda f: loop.call_soon_threadsafe(finished, f))

    def _committed(self, token: int, error: BaseException | None) -> None:
        if error is not None and not isinstance(error, AlreadyExistsError):
            log.error("store write failed", extra={"error": repr(error)})
        self.inputs.persisted(token, None if error is None else commit_error(error))
        self.wake()

    def _history_answer(self, token: int, rows: Rows | None) -> None:
        self.inputs.history_loaded(token, rows)
        self.wake()

    def _redaction_answer(self, token: int, outcome: str | None) -> None:
        self.inputs.history_redacted(token, outcome)
        self.wake()

    def _history_reloaded(self, records: list[HistoryRecord]) -> None:
        """``chatroom admin purge`` ran: forget purged lines in the replay rings too."""
        self.inputs.load_history(records)

    @staticmethod
    def _log_failure(error: BaseException | None) -> None:
        if error is not None:
            log.error("store write failed", extra={"error": repr(error)})

    async def _watch_store(self) -> None:
        """Follow changes made by other processes (``chatroom admin``, another server).

        The store says what changed: PostgreSQL names the keys (they are read back row by
        row and applied by key), SQLite only that something changed (everything is read
        again). Either read waits for a quiet moment of the writer (``load_when_quiet``),
        so it never undoes a change this process made meanwhile; what could not be read
        yet is kept and read on the next try.
        """
        loop = asyncio.get_running_loop()
        changes = self.store.watch()
        pending: Touched | None = None
        owed = False  # ``pending`` was seen but not applied yet
        while True:
            try:
                if owed:
                    await asyncio.sleep(RETRY_SECONDS)
                else:
                    pending = await anext(changes)
                    owed = True
                await self._apply_outside(loop, pending)
                owed = False
            except _NotQuietError:
                continue
            except StopAsyncIteration:
                return
            except Exception:
                log.exception("reading changes from the store failed")
                await asyncio.sleep(RETRY_SECONDS)

    async def _apply_outside(
        self, loop: asyncio.AbstractEventLoop, touched: Touched | None
    ) -> None:
        store = self.store
        if touched is None:

            async def load() -> Snapshot:
                return await loop.run_in_executor(None, store.load)

            snapshot = await load_when_quiet(self.writer, load)
            if snapshot is None:
                raise _NotQuietError
            log.info("store reloaded")  # why: the store's watch said so as it asked
            self.inputs.load_snapshot(snapshot)
        else:
            wanted = touched

            async def read() -> StoreDelta:
                return await loop.run_in_executor(None, store.read_touched, wanted)

            delta = await load_when_quiet(self.writer, read)
            if delta is None:
                raise _NotQuietError
            log.info(
                "store changed outside the server; applied by key",
                extra={
                    "accounts": len(delta.accounts),
                    "bans": len(delta.bans),
                    "mutes": len(delta.mutes),
                    "rooms": len(delta.channels),
                },
            )
            self.inputs.load_changes(delta)
        self.wake()

    async def close(self) -> None:
        """Flush every pending write (acknowledged data must survive a clean shutdown)."""
        if self._poller is not None:
            self._poller.cancel()  # closes the watch's own connection (PostgreSQL LISTEN)
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        await self.writer.close()
        await self.history_writer.close()  # every line delivered so far is written first
        self.passwords.shutdown()
        self.store.close()
        self.history.close()
