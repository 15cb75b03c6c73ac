"""The server's whole state and its four inputs: connect, receive, disconnect, tick.

Rules of this module (and of everything under ``core``):
- no I/O and no awaiting: each input runs to completion, so it is atomic on the event loop;
- time comes from the injected ``clock``; nothing reads the system clock;
- output is queued on sessions (``Session.send``) and other requests go to ``effects``;
  the shell drains both after every input (``take_ready`` and ``take_effects``).
"""

from __future__ import annotations

import logging
import sys
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from chatroom.irc import numerics as n
from chatroom.irc.casemap import casefolder
from chatroom.irc.message import (
    MAX_CLIENT_TAG_DATA,
    InputTooLong,
    Message,
    ParseError,
    format_line,
    parse,
    tag_data_size,
)
from chatroom.server.auth.scram import default_nonce
from chatroom.server.auth.throttle import LoginThrottle
from chatroom.server.core import (
    accounts,
    admission,
    chanreg,
    events,
    opers,
    presence,
    reconfigure,
    replay,
    sanctions,
    snotices,
)
from chatroom.server.core.accountbook import AccountBook
from chatroom.server.core.answers import Answers
from chatroom.server.core.census import Census, Stats
from chatroom.server.core.channel import Channel
from chatroom.server.core.context import Checked, Committed, Hashed, Loaded
from chatroom.server.core.counter import Counter
from chatroom.server.core.dispatch import COMMANDS, SHORTCUTS, CommandError, load_commands
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
from chatroom.server.core.history import (
    HistoryQuery,
    HistoryRecord,
    HistoryState,
    format_time,
    number_record,
)
from chatroom.server.core.metadata import MetadataState
from chatroom.server.core.monitor import MonitorTable, went_offline
from chatroom.server.core.multiline import expire as expire_batch
from chatroom.server.core.nicks import NickRegistry
from chatroom.server.core.readmarkers import ReadMarkers
from chatroom.server.core.redaction import Redaction
from chatroom.server.core.rooms import Rooms
from chatroom.server.core.session import Session, TagProfile
from chatroom.server.core.settings import CoreSettings
from chatroom.server.core.signups import Signups
from chatroom.server.core.snotices import ServerNotices
from chatroom.server.core.users import User, WhowasEntry
from chatroom.server.store.base import Change, Snapshot, StoreDelta

if TYPE_CHECKING:
    from chatroom.server.core.replies import Template

log = logging.getLogger("chatroom.core")


class World:
    """Everything the server knows, and the only way to change it.

    The state itself lives in owners (``nicks``, ``rooms``, ``accounts``, ...); command
    handlers see the world only as a ``Context`` (core/context.py), which it satisfies."""

    def __init__(self, settings: CoreSettings, clock: Callable[[], float]) -> None:
        load_commands()
        # The commonest line's way around parse and the table (dispatch.Shortcut).
        self._shortcut = SHORTCUTS[0] if SHORTCUTS else None
        self.settings = settings
        self.name = settings.server_name
        self.clock = clock
        self.fold = casefolder(settings.casemapping)
        self.started_at = clock()
        self.sessions: dict[int, Session] = {}
        self.nicks = NickRegistry(self.fold)
        self.rooms = Rooms(self.fold)
        self.whowas: deque[WhowasEntry] = deque(maxlen=settings.limits.whowas_entries)
        self.effects: list[Effect] = []
        self.ready: list[Session] = []
        self.census = Census()
        # Reply templates fixed by the settings (welcome burst, MOTD), built on first use.
        self.reply_cache: dict[str, list[Template]] = {}
        self.stats = Stats()
        self.per_address: dict[str, int] = {}
        self.recent_connects: dict[str, deque[float]] = {}
        self.occupancy = admission.Occupancy()  # held HTTP sockets, fd ceiling
        self._ids = Counter()
        self._full_bucket_value = 0.0  # see _full_bucket
        self.answers = Answers(self)
        self.accounts = AccountBook()
        self.ms_floor = 0  # see now_ms
        self.closing = False  # set by close_all: the server is shutting down
        self.restored = False  # always-on users brought back (first load_snapshot)
        self.throttle = LoginThrottle(clock)
        self.sanctions = sanctions.Sanctions()
        # A real argon2id hash of a random password, set by the shell at start: unknown
        # accounts are checked against it so they cost the same time as wrong passwords.
        self.dummy_password_hash: str | None = None
        # The shell's secret from the data directory: fake SCRAM salts of unknown names.
        self.scram_secret: bytes | None = None
        self._msgids = Counter()
        self._msgid_prefix = f"{int(self.started_at * 1000):x}"
        # Msgids that fanout draws on first need, for lines no handler numbered (JOIN,
        # QUIT, MODE): their own counter and tag, because whether one is needed depends
        # on who is listening here, which on a cluster node is only its own share of a
        # room; the handlers' counter must advance alike on every node (cluster/replica.py
        # sets the tag per node incarnation, so both stay unique across the network).
        self._local_msgids = Counter()
        self.local_msgid_tag = "l"
        # Where SCRAM server nonces come from; a cluster node swaps in one seeded by the
        # log entry, so every node computes the same exchange (server/cluster/replica.py).
        self.nonce_factory: Callable[[], str] = default_nonce
        # Cluster nodes number history rows themselves, in log order (_batch_record).
        self.ordered_history = False
        self._history_order = 0
        self.history = HistoryState(settings.history.replay_lines)
        self.monitor = MonitorTable()
        # IRCv3 sts as (TLS port, duration): set by the shell once it serves TLS with the
        # operator's own certificate; None (no policy) with the self-signed one.
        self.sts_policy: tuple[int, int] | None = None
        self.metadata = MetadataState()  # accounts' IRCv3 metadata (core/metadata.py)
        self.read_markers = ReadMarkers()  # accounts' draft/read-marker (core/readmarkers.py)
        self.signups = Signups()  # accounts created lately per address (core/signups.py)
        self.snotices = ServerNotices()  # operators who watch server notices (+s)
        for name in settings.permanent_channels:
            self.rooms.create(name, self.started_at, permanent=True)

    # ----------------------------------------------------------------- inputs

    def connect(
        self,
        ip: str,
        secure: bool = False,
        certfp: str | None = None,
        occupancy: admission.Occupancy | None = None,
    ) -> Session:
        """A connection was accepted; the returned session is the shell's handle for it.

        ``occupancy``: the sockets held besides sessions, if not this process's own (a
        cluster node applying another node's connect passes ``admission.NOBODY_HELD``)."""
        now = self.clock()
        session = Session(
            id=next(self._ids),
            # One string per address, not per connection: the connections that share an
            # address (a NAT, a web gateway, a bouncer) share it for as long as one stays.
            ip=sys.intern(ip),
            secure=secure,
            connected_at=now,
            _ready=self.ready,
            last_active=now,
            flood_tokens=self._full_bucket(),
            flood_checked_at=now,
        )
        session.certfp = certfp
        self.sessions[session.id] = session
        self.stats.connections_opened += 1
        refusal = admission.connection_opened(self, ip, now, occupancy)
        if refusal is not None:
            self.stats.connections_refused += 1
            self.close(session, refusal)
        elif not sanctions.check_session(self, session):
            self.stats.connections_refused += 1  # a server ban on the address or network
        return session

    def _full_bucket(self) -> float:
        """``flood_burst`` as a float, one object for every new session (24 bytes each
        otherwise, kept until the session's first flood check, or for good with flood
        control off)."""
        burst = self.settings.limits.flood_burst
        full = self._full_bucket_value
        if full != burst:
            full = self._full_bucket_value = float(burst)
        return full

    def flood_wait(self, session: Session) -> float:
        """Seconds before ``session`` may run its next command (0.0: now; one token spent)."""
        return admission.flood_wait(self, session)

    def receive(self, session: Session, line: bytes) -> None:
        """One complete line arrived (without CR/LF)."""
        if session.closed:
            return
        if session.waiting:
            self.answers.hold(session, line)
            return
        self.stats.lines_in += 1
        shortcut = self._shortcut
        if shortcut is not None and line.startswith(shortcut.prefix):
            said = shortcut.read(self, session, line)
            if said is not None:
                session.last_active = self.clock()
                self.answers.run_command(session, self._run_shortcut, said, None)
                return
        try:
            msg = parse(line)
        except InputTooLong:
            self.reply(session, n.ERR_INPUTTOOLONG, "Input line was too long")
            return
        except ParseError as error:
            # Empty lines are ignored, as the modern docs advise; anything else malformed
            # (NUL or a lone CR inside, tags or a source with no command) is answered, so a
            # client is never left waiting for a reply that will not come.
            if line.strip(b" "):
                text = f"Malformed line ignored: {error}"
                session.send(format_line(self.name, "FAIL", "*", "INVALID_LINE", text))
            return
        session.last_active = self.clock()
        dispatch = self._dispatch
        if not line.isascii() and not _is_utf8(line):
            dispatch = self._refuse_invalid_utf8
        elif len(line) > MAX_CLIENT_TAG_DATA and msg.tags and _too_many_tags(msg):
            dispatch = self._refuse_too_many_tags
        label = msg.tags.get("label") if msg.tags else None
        if label is not None and "labeled-response" not in session.caps:
            label = None
        self.answers.run_command(session, dispatch, msg, label)

    def _run_shortcut(self, session: Session, said: tuple[str, str]) -> None:
        """Run the shortcut as ``_dispatch`` runs a handler: refusals and failures are
        answered the same way."""
        shortcut = self._shortcut
        assert shortcut is not None
        try:
            shortcut.run(self, session, said)
        except Exception as err:
            self._answer_failure(session, shortcut.command, err)

    def _refuse_invalid_utf8(self, session: Session, msg: Message) -> None:
        """UTF8ONLY: nothing that is not UTF-8 is relayed, so the command is refused whole.

        Except QUIT: a client that leaves is let go, its reason relayed as parsed (U+FFFD
        where it was not UTF-8), rather than refused while it waits for its ERROR."""
        if msg.command == "QUIT":
            self._dispatch(session, msg)
            return
        session.send(
            format_line(
                self.name,
                "FAIL",
                msg.command,
                "INVALID_UTF8",
                "Message rejected, your IRC software MUST use UTF-8 encoding on this network",
            )
        )

    def _refuse_too_many_tags(self, session: Session, msg: Message) -> None:
        """IRCv3 message-tags: over 4094 bytes of tag data is refused whole (417), never
        relayed with its tags dropped."""
        self.reply(session, n.ERR_INPUTTOOLONG, "Input line was too long")

    def receive_too_long(self, session: Session) -> None:
        """The framer dropped a line that exceeded every limit."""
        if session.closed:
            return
        if session.waiting:
            self.answers.hold(session, None)
            return
        self.reply(session, n.ERR_INPUTTOOLONG, "Input line was too long")

    def disconnect(self, session: Session, reason: str = "Connection closed") -> None:
        """The connection is gone (reset, EOF, write error); free its nickname and rooms.

        If it hung up while one of its commands waits, the lines it sent before that still
        run (a bot that logs in, speaks and closes at once): ``Answers`` finishes the
        disconnect once they have.
        """
        if session.waiting and not session.closed:
            if session.hangup is None:  # the first reason is the one that happened
                session.hangup = reason
            return
        if not session.closed:
            self._remove(session, reason)
        if self.sessions.pop(session.id, None) is not None:
            admission.connection_closed(self, session.ip)

    def tick(self) -> None:
        """About once a second: registration and ping timeouts, keep-alive PINGs."""
        now = self.clock()
        t = self.settings.timeouts
        invisible = 0
        for session in list(self.sessions.values()):
            if session.closed:
                continue
            # Read straight from the occasional state (None on nearly every session): the
            # properties would cost a call each, per session, every second.
            state = session.occasional
            if state is not None and state.multiline is not None:
                expire_batch(self, session, now)  # draft/multiline: FAIL BATCH TIMEOUT
            if not session.registered:
                if now - session.connected_at >= t.registration:
                    self.close(session, "Registration timed out")
                continue
            ping_sent_at = None if state is None else state.ping_sent_at
            if ping_sent_at is not None:
                if now - ping_sent_at >= t.ping_timeout:
                    self.close(session, f"Ping timeout: {int(now - ping_sent_at)} seconds")
            elif now - session.last_active >= t.ping_interval:
                session.ping_sent_at = now
                session.send(format_line(None, "PING", self.name))
            if "i" in session.modes and not session.closed and session is session.owner.conns[0]:
                invisible += 1  # a user once, however many devices it has
        self.census.invisible = invisible
        accounts.expire_nick_grace(self)
        sanctions.expire(self)
        self.answers.expire(now)

    def adopt_network_start(self, started_at: float) -> None:
        """A cluster node takes the network's start instead of its own: msgids and the
        permanent rooms' creation times are then the same on every node."""
        self.started_at = started_at
        self._msgid_prefix = f"{int(started_at * 1000):x}"
        for channel in self.rooms:
            if channel.permanent:
                channel.created_at = started_at

    def load_snapshot(self, snapshot: Snapshot) -> None:
        """Durable state from the store: at start, and again when ``chatroom admin`` wrote."""
        roles_before = accounts.online_oper_roles(self)
        self.accounts.load(snapshot.accounts, snapshot.options, snapshot.presence)
        self.metadata.load(snapshot)
        self.read_markers.load(snapshot.read_markers, snapshot.accounts)
        accounts.reconcile_sessions(self, roles_before)
        chanreg.restore(self, snapshot)
        sanctions.load(self, snapshot)
        if not self.restored:  # at start only: a reload must not bring back who left
            self.restored = True
            presence.restore(self)

    def load_changes(self, delta: StoreDelta) -> None:
        """Rows another process changed, applied by key (PostgreSQL names them): the
        same rules as ``load_snapshot``, without reading or revisiting everything."""
        roles_before = accounts.online_oper_roles(self)
        for key, account in delta.accounts.items():
            self.accounts.load_one(key, account, delta.options.get(key, {}))
            if account is None:
                self.read_markers.forget(key)
            self.metadata.replace(key, delta.metadata.get(key, {}))
        if delta.accounts:
            accounts.reconcile_sessions(self, roles_before)
        if delta.channels:
            chanreg.load_changes(self, delta.channels)
        if delta.bans or delta.mutes:
            sanctions.load_changes(self, delta.bans, delta.mutes)

    def password_checked(self, token: int, ok: bool, rehashed: tuple[str, str] | None) -> None:
        """Answer to ``VerifyPassword``."""
        self.answers.resume(token, ok, rehashed)

    def password_hashed(self, token: int, password_hash: str, scram: str) -> None:
        """Answer to ``HashPassword``."""
        self.answers.resume(token, password_hash, scram)

    def persisted(self, token: int, error: str | None) -> None:
        """Answer to a ``Persist`` with a token: the changes committed (or failed)."""
        self.answers.resume(token, error)

    def history_loaded(self, token: int, rows: Sequence[object] | None) -> None:
        """Answer to ``QueryHistory``: the records (or target listings); None on failure."""
        self.answers.resume(token, rows)

    def history_redacted(self, token: int, outcome: str | None) -> None:
        """Answer to ``RedactHistory``: what the store did (None if it failed)."""
        self.answers.resume(token, outcome)

    def config_reloaded(self, token: int, reloaded: reconfigure.Reloaded) -> None:
        """Answer to ``ReloadConfig``: the settings read from the file, or its error."""
        self.answers.resume(token, reloaded)

    def adopt_settings(self, settings: CoreSettings) -> None:
        """New settings from the config file (REHASH, SIGHUP): see core/reconfigure.py."""
        reconfigure.adopt(self, settings)

    def load_history(self, records: Iterable[HistoryRecord]) -> None:
        """The last lines of each room from the store: at start, and after an admin purge."""
        self.history.load_recent(records)

    # ----------------------------------------------------------------- requests to the shell

    def busy_checking_passwords(self) -> bool:
        """Too many password checks queued: refuse new logins rather than queue without end."""
        return len(self.answers) >= self.settings.accounts.max_pending_checks

    def expect_answer(
        self, session: Session, then: Callable[..., None], on_timeout: tuple[object, ...]
    ) -> Callable[..., None]:
        """A callback for an answer that comes from inside the core, later or at once (the
        login throttle holding a try): ``session`` waits for it like for the shell's."""
        return self.answers.callback(session, then, on_timeout)

    def verify_password(self, password_hash: str, password: str, then: Checked) -> None:
        token = self.answers.expect(then, (False, None))
        self.effects.append(VerifyPassword(token, password_hash, password))

    def hash_password(self, password: str, then: Hashed) -> None:
        """``then(hash, scram)``; both empty when no hash could be made."""
        token = self.answers.expect(then, ("", ""))
        self.effects.append(HashPassword(token, password))

    def query_history(self, query: HistoryQuery, then: Loaded) -> None:
        """Ask the store, after every write queued so far; ``then(rows)`` gets the answer."""
        token = self.answers.expect(then, (None,))
        self.effects.append(QueryHistory(token, query))

    def record_message(self, record: HistoryRecord) -> None:
        """Store one message: appended to this input's single ``StoreMessages`` batch."""
        self._batch_record(record)
        self.history.remember(record)

    def record_event(self, record: HistoryRecord) -> None:
        """Store one room event (draft/event-playback) in this input's batch, like a message."""
        self._batch_record(record)
        self.history.remember_event(record)

    def _batch_record(self, record: HistoryRecord) -> None:
        if self.ordered_history:
            # Every node computes the same key (replicated state), only the origin writes
            # it; keys grow with time, so they stay above the rows of earlier runs.
            order = max(record.at << 12, self._history_order + 1)
            self._history_order = order
            number_record(record, order)  # frozen, but not yet shared
        pending = self.history.pending
        if pending is None:
            pending = self.history.pending = []
            self.effects.append(StoreMessages(pending))
        pending.append(record)

    def reload_config(self, then: Callable[[reconfigure.Reloaded], None]) -> None:
        """Ask the shell to read the config file again; ``then(reloaded)`` with the result."""
        token = self.answers.expect(then, (reconfigure.TIMED_OUT,))
        self.effects.append(ReloadConfig(token))

    def redact_history(self, redaction: Redaction, then: Callable[[str | None], None]) -> None:
        """Ask the store to delete a message; ``then(outcome)`` after every earlier write."""
        token = self.answers.expect(then, (None,))
        self.effects.append(RedactHistory(token, redaction))

    def rename_history(self, old_key: str, new_key: str, new_name: str) -> None:
        """A renamed room's stored lines follow it, after every line stored before."""
        self.effects.append(RenameHistory(old_key, new_key, new_name))

    def persist(self, changes: Iterable[Change], then: Committed | None = None) -> None:
        """Write behind, in order; ``then`` runs after the commit for durable replies."""
        token = None
        if then is not None:
            token = self.answers.expect(then, ("no answer from the store in time",))
        self.effects.append(Persist(tuple(changes), token))

    # ----------------------------------------------------------------- outputs

    def take_ready(self) -> list[Session]:
        """Sessions with queued output since the last call."""
        ready = self.ready[:]
        self.ready.clear()  # the same list object: every session holds a reference to it
        return ready

    def take_effects(self) -> list[Effect]:
        effects = self.effects
        self.effects = []
        self.history.pending = None  # the shell has the batch now; the next input starts one
        return effects

    # ----------------------------------------------------------------- helpers for handlers

    def reply(self, to: Session | User, numeric: str, *params: str) -> None:
        """Send a numeric from the server to one connection (the requester) or to every
        connection of a user, addressed to its nick."""
        to.send(format_line(self.name, numeric, to.nick, *params))

    def notice(self, to: Session | User, text: str) -> None:
        to.send(format_line(self.name, "NOTICE", to.nick, text))

    def now_tag(self) -> str:
        """An IRCv3 server-time value (ISO 8601, UTC, milliseconds)."""
        return format_time(self.now_ms())

    def now_ms(self) -> int:
        """The clock in whole milliseconds: the precision of server-time and of history.

        Never below ``ms_floor``: once a user has been marked as missing lines from some
        millisecond on, every later line is stamped after it, so "what it missed" is
        exactly the lines stamped after that millisecond (core/presence.py)."""
        now = int(self.clock() * 1000)
        return now if now >= self.ms_floor else self.ms_floor

    def new_msgid(self) -> str:
        return f"{self._msgid_prefix}-{next(self._msgids):x}"

    def _local_msgid(self) -> str:
        return f"{self._msgid_prefix}-{self.local_msgid_tag}-{next(self._local_msgids):x}"

    def peers(self, who: Session | User) -> set[Session]:
        """The connections of everyone who shares at least one room with the user (none
        of the user's own connections)."""
        user = who.owner if isinstance(who, Session) else who
        seen: set[Session] = set()
        for channel in user.channels.values():
            seen.update(channel.sessions)
        seen.difference_update(user.conns)
        return seen

    def fanout(
        self,
        recipients: Collection[Session],
        source: str,
        command: str,
        *params: str,
        client_tags: Mapping[str, str] | None = None,
        account: str | None = None,
        skip: Session | None = None,
        msgid: str | None = None,
        time_tag: str | None = None,
    ) -> None:
        """Send one message to many: each byte variant is formatted once and shared.

        A stored message passes its own ``msgid`` and ``time_tag`` (made once, for its
        history record too); any other message gets them made here on first need.

        A variant is chosen by the recipient's tag profile (server-time, message-tags,
        account-tag); most rooms see one or two variants, however many members they have.
        """
        # The hot loop of the whole server: per member, one identity check, one int test
        # and one list append. Send is inlined and the tag profile is a plain int, because
        # a method call and an IntFlag's Python-level __bool__/__hash__ cost more than the
        # rest of the loop together (measured with py-spy; see docs/benchmarks.md).
        plain: bytes | None = None
        variants: dict[int, bytes] = {}
        ready = self.ready
        skipped = 0
        for member in recipients:
            if member is skip:
                skipped = 1
                continue
            profile = member.tag_profile
            if profile:
                data = variants.get(profile)
                if data is None:
                    if time_tag is None:
                        time_tag = self.now_tag()
                        msgid = self._local_msgid()
                    tags = self._tags_for(profile, time_tag, msgid, client_tags, account)
                    data = variants[profile] = format_line(source, command, *params, tags=tags)
            else:
                data = plain
                if data is None:
                    data = plain = format_line(source, command, *params)
            if member.capture is not None:
                member.capture.append(data)  # the requester of a labeled command
                continue
            out = member.out
            if out:
                out.append(data)
            else:  # nothing queued yet: NO_OUTPUT, shared, is replaced by a list
                ready.append(member)
                member.out = [data]
        self.stats.deliveries += len(recipients) - skipped

    def fanout_room(
        self,
        channel: Channel,
        source: str,
        command: str,
        *params: str,
        msgid: str,
        time_tag: str,
        client_tags: Mapping[str, str] | None = None,
        account: str | None = None,
        skip: Session | None = None,
    ) -> None:
        """``fanout`` to a room's audience, for a stored message (its msgid and time made).

        The room keeps its connections grouped by tag profile (``Channel.audience``), so
        each group's line is formatted once before its loop, and the loop itself does no
        more per member than queue the line (no tag profile read, no variant lookup).
        """
        ready = self.ready
        delivered = 0
        for profile, members in channel.audience().items():
            if profile:
                tags = self._tags_for(profile, time_tag, msgid, client_tags, account)
                data = format_line(source, command, *params, tags=tags)
            else:
                data = format_line(source, command, *params)
            delivered += len(members)
            for member in members:
                if member is skip:
                    delivered -= 1
                    continue
                capture = member.capture
                if capture is not None:
                    capture.append(data)  # the requester of a labeled command
                    continue
                out = member.out
                if out:
                    out.append(data)
                else:  # nothing queued yet: NO_OUTPUT, shared, is replaced by a list
                    ready.append(member)
                    member.out = [data]
        self.stats.deliveries += delivered

    @staticmethod
    def _tags_for(
        profile: int,
        time_tag: str,
        msgid: str | None,
        client_tags: Mapping[str, str] | None,
        account: str | None,
    ) -> dict[str, str]:
        tags: dict[str, str] = {}
        if profile & TagProfile.MESSAGE_TAGS:
            if client_tags:
                tags.update(client_tags)
            if msgid is not None:
                tags["msgid"] = msgid
        if profile & TagProfile.SERVER_TIME:
            tags["time"] = time_tag
        if profile & TagProfile.ACCOUNT and account is not None:
            tags["account"] = account
        return tags

    def close(self, session: Session, reason: str) -> None:
        """Disconnect ``session``: tell it why, tell its rooms, then ask the shell to close."""
        if session.closed:
            return
        session.send(closing_link(session.host, reason))
        self._remove(session, reason)

    def close_all(self, reason: str) -> None:
        """Shutdown: tell every connection why and close it, but nobody that the others quit.

        They all go at once, so a QUIT per room-mate would only fill every room with
        "left (Server shutting down)" lines above the one line that matters (a client shows
        a "reconnecting" banner for it). Leaving the rooms first leaves no one to tell.
        """
        sessions = [session for session in self.sessions.values() if not session.closed]
        users = {session.owner for session in sessions}
        users.update(self.accounts.online_users())  # always-on users with no connection
        for user in users:
            if user.registered and user.account is not None:
                presence.keep(self, user)  # rooms to rejoin (always-on: to be in) after
        self.closing = True  # what was just kept stays kept while everyone leaves
        for session in sessions:
            for channel in list(session.channels.values()):
                self.leave_channel(session, channel)
        for session in sessions:
            self.close(session, reason)

    def close_user(self, user: User, reason: str) -> None:
        """End a user with every connection it has (KILL, a ban): always-on or not, and
        for good: it is not brought back after a restart nor rejoined to its rooms."""
        user.always_on = False
        if not user.conns:
            if user.registered:
                self._quit_user(user, reason)
        else:
            for conn in list(user.conns):
                self.close(conn, reason)
        if user.account is not None:
            presence.forget(self, self.fold(user.account))

    def _remove(self, session: Session, reason: str) -> None:
        session.closed = True
        if session.registered:
            self.census.devices -= 1
            snotices.exited(self, session, reason)
        self.monitor.clear(session)
        replay.connection_closed(self, session)
        if presence.stays(self, session):
            presence.detach(self, session)  # another device, or always-on: no QUIT
        elif session.registered:
            self._quit_user(session.owner, reason)
        else:
            self._release_nick(session.owner)
        self.effects.append(Close(session.id, reason))

    def _quit_user(self, user: User, reason: str) -> None:
        """The user leaves the network: QUIT to its rooms, its nick and rooms freed."""
        went_offline(self, user.nick)
        self.census.registered -= 1
        if "o" in user.modes:
            self.census.opers -= 1
        events.quit(self, user, reason)
        self.snotices.forget(user)
        self.remember_whowas(user)
        presence.keep(self, user)  # an account's rooms, rejoined at its next login
        for channel in list(user.channels.values()):
            self.leave_channel(user, channel)
        for key in list(user.invited):
            self.rooms.uninvite(user, key)
        self._release_nick(user)
        user.registered = False

    def _release_nick(self, user: User) -> None:
        self.nicks.release(user)
        if user.account is not None:
            self.accounts.set_offline(self.fold(user.account), user)

    def remember_whowas(self, session: Session | User) -> None:
        """Record the identity a nick had, for WHOWAS, when it quits or is changed."""
        self.whowas.appendleft(
            WhowasEntry(
                session.nick,
                session.user,
                session.host,
                session.realname,
                session.account,
                self.clock(),
            )
        )

    def leave_channel(self, who: Session | User, channel: Channel) -> None:
        """Drop membership both ways; an empty non-permanent room disappears."""
        user = who.owner if isinstance(who, Session) else who
        key = self.fold(channel.name)
        channel.remove(user)
        user.leave_room(key)
        for conn in user.conns:
            replay.left_room(self, conn, key)  # a later replay starts after what it got
        self.rooms.discard_if_empty(channel)

    # ----------------------------------------------------------------- dispatch

    def _dispatch(self, session: Session, msg: Message) -> None:
        spec = COMMANDS.get(msg.command)
        try:
            if spec is None:
                if session.registered:
                    raise CommandError(n.ERR_UNKNOWNCOMMAND, msg.command, "Unknown command")
                raise CommandError(n.ERR_NOTREGISTERED, "You have not registered")
            if not session.registered and not spec.before_registration:
                raise CommandError(n.ERR_NOTREGISTERED, "You have not registered")
            if len(msg.params) < spec.min_params:
                raise CommandError(n.ERR_NEEDMOREPARAMS, msg.command, "Not enough parameters")
            if spec.oper_capability is not None:
                opers.require(self, session, spec.oper_capability)
            spec.handler(self, session, msg)
        except Exception as err:
            self._answer_failure(session, msg.command, err)

    def _answer_failure(self, session: Session, command: str, err: Exception) -> None:
        """A command refused (``CommandError``: its numeric) or failed (logged, 400).

        Handlers change the world as they go and dispatch keeps no undo, so a failure
        halfway may leave part of the command applied; the reply says so."""
        if isinstance(err, CommandError):
            self.reply(session, err.numeric, *err.params)
            return
        log.error("command failed: %r from session %d", command, session.id, exc_info=err)
        self.reply(session, n.ERR_UNKNOWNERROR, command, FAILED_HALFWAY)


FAILED_HALFWAY = "Internal error; the command may be partly applied; the server logged it"


def closing_link(host: str, reason: str) -> bytes:
    """The ERROR line a connection gets before the server closes it."""
    return format_line(None, "ERROR", f"Closing Link: {host} ({reason})")


def _too_many_tags(msg: Message) -> bool:
    """Asked only of lines longer than the tag budget, so the tags are measured (formatted
    again) only when they could exceed it, never on the common short line."""
    return tag_data_size(msg.tags) > MAX_CLIENT_TAG_DATA


def _is_utf8(line: bytes) -> bool:
    """True if ``line`` decodes as UTF-8 (asked only of lines that are not plain ASCII)."""
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
