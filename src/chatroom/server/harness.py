"""Simulated clients that drive the core with no sockets: the fast test harness.

It plays the shell's part exactly (feed lines, drain ready sessions and effects), so
what passes here differs from the real server only by the network.
"""

from __future__ import annotations

from collections.abc import Iterable

from chatroom.irc.message import Message, parse
from chatroom.server.auth.passwords import make_scram_verifier
from chatroom.server.core.effect_dispatch import dispatch_effect
from chatroom.server.core.effects import (
    Close,
    Effect,
    HashPassword,
    Persist,
    QueryHistory,
    RedactHistory,
    ReloadConfig,
    RenameHistory,
    StoreMessages,
    VerifyPassword,
)
from chatroom.server.core.reconfigure import Reloaded
from chatroom.server.core.settings import DEFAULT_OPER_ROLE, CoreSettings, Limits
from chatroom.server.core.world import World
from chatroom.server.store.base import Account, PutAccount, StoreError, commit_error
from chatroom.server.store.history_memory import MemoryHistory
from chatroom.server.store.memory import MemoryStore


def scram_for(password: str) -> str:
    """A real SCRAM-SHA-256 verifier, so SCRAM logins work in the harness too."""
    return make_scram_verifier(password)


def _done_later(effect: Effect) -> bool:
    """Everything but Close is done by a worker or the writer in the real shell."""
    return not isinstance(effect, Close)


class FakeHasher:
    """Stands in for argon2id: instant and obviously fake, never used outside tests.

    ``old$<password>`` plays a hash made with outdated parameters: it verifies, and
    ``needs_rehash`` says so, like argon2-cffi's after the operator raised the costs.
    """

    @staticmethod
    def hash(password: str) -> str:
        return "fake$" + password

    def verify(self, password_hash: str, password: str) -> bool:
        return password_hash in (self.hash(password), "old$" + password)

    @staticmethod
    def needs_rehash(password_hash: str) -> bool:
        return not password_hash.startswith("fake$")


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class SimClient:
    """One simulated connection; ``inbox`` holds the lines the server sent it."""

    def __init__(self, harness: Harness, ip: str, secure: bool, certfp: str | None = None) -> None:
        self.harness = harness
        self.session = harness.world.connect(ip, secure=secure, certfp=certfp)
        self.inbox: list[bytes] = []
        self.closed_reason: str | None = None
        harness.clients[self.session.id] = self
        harness.pump()

    def send(self, *lines: str) -> None:
        for line in lines:
            self.harness.world.receive(self.session, line.encode())
            self.harness.pump()

    def take(self) -> list[Message]:
        """Every message received since the last take, parsed."""
        raw, self.inbox = self.inbox, []
        return [parse(line.rstrip(b"\r\n")) for line in raw]

    def cmd(self, line: str) -> list[Message]:
        """Send one line and return what came back to this client."""
        self.take()
        self.send(line)
        return self.take()

    def drop(self, reason: str = "Connection reset by peer") -> None:
        self.harness.world.disconnect(self.session, reason)
        self.harness.pump()

    @property
    def nick(self) -> str:
        return self.session.nick


# Simulated clients all come from one address; per-address limits are tested explicitly.
_HARNESS_SETTINGS = CoreSettings(
    limits=Limits(connections_per_address=100_000, connects_per_address_per_minute=100_000)
)


class Harness:
    """The core with simulated clients, and the test ``EffectHandler``: it carries out
    each effect at once, or holds it back (``defer_answers``, ``hold_persists``,
    ``hold_password_checks``) until the test says, as workers and writers answer later."""

    def __init__(self, settings: CoreSettings | None = None) -> None:
        self.clock = FakeClock()
        self.world = World(settings or _HARNESS_SETTINGS, self.clock)
        self.clients: dict[int, SimClient] = {}
        self.hasher = FakeHasher()
        self.store = MemoryStore()
        self.store_fails = False
        # With ``hold_persists`` set, Persist effects wait in ``held`` (the commit has not
        # answered yet) until ``release_persists``: what the core says meanwhile is what a
        # client would read before the data is on disk.
        self.hold_persists = False
        self.held: list[Persist] = []
        self.history = MemoryHistory()
        self.history_fails = False
        # What REHASH reads (ReloadConfig): set by a test, as the config file would be.
        self.reload_answer = Reloaded(None, "", (), "the harness has no config file")
        self.world.dummy_password_hash = self.hasher.hash("no such account")
        # With ``defer_answers``, every effect but Close (password checks and hashes,
        # commits, history writes and queries) waits in ``deferred``, in order, until
        # ``answer()``, as in the real shell, where workers and writers answer later.
        self.defer_answers = False
        self.deferred: list[Effect] = []
        self.world.scram_secret = b"harness secret"
        # With ``hold_password_checks`` set, checks wait in ``held_checks`` until
        # ``answer_password_checks``: the way to have many in flight at once, as a real
        # server has while its workers hash.
        self.hold_password_checks = False
        self.held_checks: list[VerifyPassword] = []

    def pump(self) -> None:
        """Deliver queued output and apply effects, as the asyncio shell does."""
        world = self.world
        for session in world.take_ready():
            client = self.clients.get(session.id)
            if client is not None:
                client.inbox.extend(session.take_output())
        while world.effects or world.ready:
            for session in world.take_ready():
                client = self.clients.get(session.id)
                if client is not None:
                    client.inbox.extend(session.take_output())
            for effect in world.take_effects():
                self._apply(effect)

    def answer(self, count: int | None = None) -> None:
        """Answer the first ``count`` deferred effects (all by default), in order."""
        taken = self.deferred[:count] if count is not None else self.deferred[:]
        del self.deferred[: len(taken)]
        for effect in taken:
            self._apply(effect, deferring=False)
        self.pump()

    def _apply(self, effect: Effect, deferring: bool = True) -> None:
        """Carry out one effect at once (the real shell does it in threads and a writer)."""
        if deferring and self.defer_answers and _done_later(effect):
            self.deferred.append(effect)
            return
        dispatch_effect(effect, self)

    # ------------------------------------------------------- effects (EffectHandler)

    def on_close(self, effect: Close) -> None:
        client = self.clients.get(effect.session_id)
        if client is not None and client.closed_reason is None:
            client.closed_reason = effect.reason
            self.world.disconnect(client.session, effect.reason)

    def on_verify_password(self, effect: VerifyPassword) -> None:
        if self.hold_password_checks:
            self.held_checks.append(effect)
        else:
            self._verify(effect)

    def on_hash_password(self, effect: HashPassword) -> None:
        self.world.password_hashed(
            effect.token, self.hasher.hash(effect.password), scram_for(effect.password)
        )

    def on_store_messages(self, effect: StoreMessages) -> None:
        self.history.append(effect.records)

    def on_rename_history(self, effect: RenameHistory) -> None:
        self.history.rename(effect.target, effect.new_target, effect.new_name)

    def on_query_history(self, effect: QueryHistory) -> None:
        rows = None if self.history_fails else self.history.query(effect.query)
        self.world.history_loaded(effect.token, rows)

    def on_reload_config(self, effect: ReloadConfig) -> None:
        self.world.config_reloaded(effect.token, self.reload_answer)

    def on_redact_history(self, effect: RedactHistory) -> None:
        outcome = None if self.history_fails else self.history.redact(effect.redaction)
        self.world.history_redacted(effect.token, outcome)

    def on_persist(self, effect: Persist) -> None:
        if self.hold_persists:
            self.held.append(effect)
        else:
            self._commit(effect, failed=self.store_fails)

    def _commit(self, effect: Persist, *, failed: bool) -> None:
        error = None
        if failed:
            error = "disk full"
        else:
            try:
                self.store.apply(effect.changes)
            except StoreError as exc:  # as the shell reports it (Backends._committed)
                error = commit_error(exc)
        if effect.token is not None:
            self.world.persisted(effect.token, error)

    def release_persists(self, *, fail: bool = False) -> None:
        """Commit (or, with ``fail``, refuse) every held Persist in order, as the writer
        thread would, and deliver what the core answers."""
        held, self.held = self.held, []
        for effect in held:
            self._commit(effect, failed=fail)
        self.pump()

    def _verify(self, effect: VerifyPassword) -> None:
        ok = self.hasher.verify(effect.password_hash, effect.password)
        rehashed = None
        if ok and self.hasher.needs_rehash(effect.password_hash):  # as Backends._verify
            rehashed = (self.hasher.hash(effect.password), scram_for(effect.password))
        self.world.password_checked(effect.token, ok, rehashed)

    def answer_password_checks(self, count: int | None = None) -> int:
        """Answer the first ``count`` held checks (all by default), in order; how many."""
        taken = self.held_checks[:count] if count is not None else self.held_checks[:]
        del self.held_checks[: len(taken)]
        for effect in taken:
            self._verify(effect)
            self.pump()
        return len(taken)

    def connect(
        self,
        nick: str | None = None,
        *,
        caps: Iterable[str] = (),
        ip: str = "127.0.0.1",
        secure: bool = False,
        certfp: str | None = None,
    ) -> SimClient:
        """A new connection; with ``nick`` it also registers (and requests ``caps``).

        ``certfp`` is the fingerprint of the client certificate the shell would have seen.
        """
        client = SimClient(self, ip, secure, certfp)
        if nick is not None:
            caps = list(caps)
            if caps:
                client.send("CAP LS 302", f"CAP REQ :{' '.join(caps)}")
            client.send(f"NICK {nick}", f"USER {nick} 0 * :{nick} real")
            if caps:
                client.send("CAP END")
            client.take()
        return client

    def add_account(
        self, name: str, password: str, *, oper: bool = False, role: str | None = None
    ) -> Account:
        """An account as ``chatroom admin create`` would make it: stored, and loaded into
        the world.

        ``oper=True`` gives it the default role; ``role`` names another (and implies oper).
        """
        account = Account(
            name,
            self.world.fold(name),
            self.hasher.hash(password),
            scram_for(password),
            None,
            self.clock(),
            oper_role=role or (DEFAULT_OPER_ROLE if oper else None),
        )
        self.world.accounts.put(account)
        self.store.apply([PutAccount(account)])
        return account

    def tick(self, seconds: float = 0.0) -> None:
        self.clock.advance(seconds)
        self.world.tick()
        self.pump()
