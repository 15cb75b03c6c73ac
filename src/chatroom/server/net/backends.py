"""The shell's slow helpers: the store (one ordered writer thread) and password hashing
(two worker processes), turning the core's effects into work and answers back into inputs.

Nothing here blocks the event loop: argon2id runs in the workers, commits run in the
writer thread, and both report back on the loop, where the core continues.
"""

from __future__ import annotations

import asyncio
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
    HashPassword,
    Persist,
    QueryHistory,
    RedactHistory,
    RenameHistory,
    StoreMessages,
    VerifyPassword,
)
from chatroom.server.core.history import HistoryRecord
from chatroom.server.core.world import World
from chatroom.server.store.base import Snapshot
from chatroom.server.store.history import HistoryWriter, Rows
from chatroom.server.store.history_sqlite import SqliteHistory, history_db_path
from chatroom.server.store.sqlite import SqliteStore, default_db_path
from chatroom.server.store.writer import StoreWriter, load_when_quiet

log = logging.getLogger("chatroom.store")

T = TypeVar("T")

# How often the server looks for changes made by `chatroom admin` in another process.
RELOAD_INTERVAL = 2.0


class Backends:
    def __init__(self, config: Config, world: World, wake: Callable[[], None]) -> None:
        self.world = world
        self.data_dir = config.data_dir
        self.wake = wake  # schedules the shell's flush after an answer reached the core
        self.store = SqliteStore(default_db_path(config.data_dir))
        self.writer = StoreWriter(self.store)
        # Two workers: one per core; argon2id is CPU- and memory-bound by design.
        self.passwords = PasswordWorkers(Argon2Params(*config.argon2), workers=2)
        self._poller: asyncio.Task[None] | None = None
        self._loop = asyncio.get_running_loop()  # answers from threads come back here
        # History has its own file and thread: chat bursts never delay an account commit.
        self.history = SqliteHistory(history_db_path(config.data_dir))
        self.history_writer = HistoryWriter(
            self.history, config.core.history, on_outside_change=self._history_reloaded
        )

    def start(self) -> None:
        """Load durable state into the core and start watching for outside changes."""
        self.world.load_snapshot(self.store.load())
        dummy = self.passwords.run(hash_password, secrets.token_urlsafe(24))
        self.world.dummy_password_hash = dummy[0]
        self.world.scram_secret = load_server_secret(self.data_dir)
        replay = self.world.settings.history.replay_lines
        self.world.load_history(self.history.recent(replay))
        self._poller = asyncio.create_task(self._watch_store())

    def handle(
        self,
        effect: VerifyPassword
        | HashPassword
        | Persist
        | StoreMessages
        | QueryHistory
        | RedactHistory
        | RenameHistory,
    ) -> None:
        world = self.world
        if isinstance(effect, StoreMessages):
            self.history_writer.append(effect.records)
        elif isinstance(effect, RenameHistory):
            self.history_writer.rename(effect.target, effect.new_target, effect.new_name)
        elif isinstance(effect, QueryHistory):
            token = effect.token
            self.history_writer.query(effect.query, lambda rows: self._history_answer(token, rows))
        elif isinstance(effect, RedactHistory):
            token = effect.token
            self.history_writer.redact(
                effect.redaction, lambda outcome: self._redaction_answer(token, outcome)
            )
        elif isinstance(effect, VerifyPassword):
            token = effect.token

            def refuse() -> None:
                world.password_checked(token, False, None)

            verify = self._submit(refuse, verify_password, effect.password_hash, effect.password)
            if verify is not None:
                self._when_done(
                    verify, lambda result: world.password_checked(token, *result), refuse
                )
        elif isinstance(effect, HashPassword):
            token = effect.token

            def no_hash() -> None:
                world.password_hashed(token, "", "")

            make = self._submit(no_hash, hash_password, effect.password)
            if make is not None:
                self._when_done(make, lambda result: world.password_hashed(token, *result), no_hash)
        elif effect.token is None:
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
        if error is not None:
            log.error("store write failed", extra={"error": repr(error)})
        self.world.persisted(token, None if error is None else repr(error))
        self.wake()

    def _history_answer(self, token: int, rows: Rows | None) -> None:
        self.world.history_loaded(token, rows)
        self.wake()

    def _redaction_answer(self, token: int, outcome: str | None) -> None:
        self.world.history_redacted(token, outcome)
        self.wake()

    def _history_reloaded(self, records: list[HistoryRecord]) -> None:
        """``chatroom admin purge`` ran: forget purged lines in the replay rings too."""
        self.world.load_history(records)

    @staticmethod
    def _log_failure(error: BaseException | None) -> None:
        if error is not None:
            log.error("store write failed", extra={"error": repr(error)})

    async def _watch_store(self) -> None:
        """Pick up accounts and bans written by ``chatroom admin`` while the server runs."""
        loop = asyncio.get_running_loop()
        owed = False  # a change was seen but no quiet moment to read it came yet

        async def load() -> Snapshot:
            return await loop.run_in_executor(None, self.store.load)

        while True:
            await asyncio.sleep(RELOAD_INTERVAL)
            try:
                if not owed and not await loop.run_in_executor(None, self.store.changed_since_load):
                    continue
                snapshot = await load_when_quiet(self.writer, load)
            except Exception:
                log.exception("reloading the store failed")
                continue
            owed = snapshot is None
            if snapshot is None:
                continue
            log.info("store changed outside the server; reloaded")
            self.world.load_snapshot(snapshot)
            self.wake()

    async def close(self) -> None:
        """Flush every pending write (acknowledged data must survive a clean shutdown)."""
        if self._poller is not None:
            self._poller.cancel()
        await self.writer.close()
        await self.history_writer.close()  # every line delivered so far is written first
        self.passwords.shutdown()
        self.store.close()
        self.history.close()
