"""The server's whole state, and the one object the shell, the cluster and the tests
drive: ``World`` and its inputs (connect, receive, disconnect, tick, and the answers of
effects).

Rules of this module (and of everything under ``core``):
- no I/O and no awaiting: each input runs to completion, so it is atomic on the event loop;
- time comes from the injected ``clock``; nothing reads the system clock;
- output is queued on sessions (``Session.send``) and other requests go to ``effects``;
  the shell drains both after every input (``take_ready`` and ``take_effects``).

``World`` is written in several modules, one per part of its work; the class below
binds their functions as its methods (``tick = ticking.tick``), which costs nothing at
a call (a function in the class's namespace is a method wherever it was written):

- here: the state itself, a line's way in (``receive``, the shortcut, ``_dispatch``)
  and the small helpers every handler calls (``reply``, ``now_ms``, ``new_msgid``);
- core/connections.py: a connection's life (``connect``, ``close``, ``disconnect``,
  a user quitting, ``leave_channel``);
- core/fan_out.py: one message to many (``fanout``, ``fanout_room``, ``peers``);
- core/shell_requests.py: effects that ask the shell for something and the inputs
  that answer them (``persist``, ``verify_password``, ``record_message``, ...);
- core/ticking.py: ``tick``, what ends because time passed;
- core/loading.py: state that arrives whole (``load_snapshot``, ``load_changes``,
  ``load_history``, ``adopt_network_start``).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
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
    admission,
    connections,
    fan_out,
    loading,
    opers,
    reconfigure,
    sanctions,
    shell_requests,
    ticking,
)
from chatroom.server.core.accountbook import AccountBook
from chatroom.server.core.answers import Answers
from chatroom.server.core.census import Census, Stats
from chatroom.server.core.counter import Counter
from chatroom.server.core.dispatch import COMMANDS, SHORTCUTS, CommandError, load_commands
from chatroom.server.core.effects import Effect
from chatroom.server.core.history import HistoryState, format_time
from chatroom.server.core.metadata import MetadataState
from chatroom.server.core.monitor import MonitorTable
from chatroom.server.core.nicks import NickRegistry
from chatroom.server.core.readmarkers import ReadMarkers
from chatroom.server.core.rooms import Rooms
from chatroom.server.core.session import Session
from chatroom.server.core.settings import CoreSettings
from chatroom.server.core.signups import Signups
from chatroom.server.core.snotices import ServerNotices
from chatroom.server.core.users import User, WhowasEntry

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
        self._full_bucket_value = 0.0  # see connections._full_bucket
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
        # Cluster nodes number history rows themselves, in log order (shell_requests._batch_record).
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
    # A connection's life: core/connections.py.

    connect = connections.connect
    disconnect = connections.disconnect

    def flood_wait(self, session: Session) -> float:
        """Seconds before ``session`` may run its next command (0.0: now; one token spent)."""
        return admission.flood_wait(self, session)

    # A line (the hot path, here).

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

    def _dispatch(self, session: Session, msg: Message) -> None:
        """A parsed line through the command table: its preconditions checked once (421,
        451, 461, 481), then its handler; a refusal or failure answered, never raised."""
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

    # The clock: core/ticking.py.

    tick = ticking.tick

    # State that arrives whole: core/loading.py.

    load_snapshot = loading.load_snapshot
    load_changes = loading.load_changes
    load_history = loading.load_history
    adopt_network_start = loading.adopt_network_start

    def adopt_settings(self, settings: CoreSettings) -> None:
        """New settings from the config file (REHASH, SIGHUP): see core/reconfigure.py."""
        reconfigure.adopt(self, settings)

    # ----------------------------------------------------------------- requests to the shell
    # Effects that ask the shell for something, and the inputs that bring its answers:
    # core/shell_requests.py.

    busy_checking_passwords = shell_requests.busy_checking_passwords
    expect_answer = shell_requests.expect_answer
    verify_password = shell_requests.verify_password
    hash_password = shell_requests.hash_password
    query_history = shell_requests.query_history
    record_message = shell_requests.record_message
    record_event = shell_requests.record_event
    reload_config = shell_requests.reload_config
    redact_history = shell_requests.redact_history
    rename_history = shell_requests.rename_history
    persist = shell_requests.persist

    password_checked = shell_requests.password_checked
    password_hashed = shell_requests.password_hashed
    persisted = shell_requests.persisted
    history_loaded = shell_requests.history_loaded
    history_redacted = shell_requests.history_redacted
    config_reloaded = shell_requests.config_reloaded

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

    # ----------------------------------------------------------------- the world's operations
    # One message to many (the hot loops): core/fan_out.py.

    fanout = fan_out.fanout
    fanout_room = fan_out.fanout_room
    peers = fan_out.peers

    # Several owners kept in step as a connection or a user goes: core/connections.py.

    close = connections.close
    close_all = connections.close_all
    close_user = connections.close_user
    leave_channel = connections.leave_channel
    remember_whowas = connections.remember_whowas


FAILED_HALFWAY = "Internal error; the command may be partly applied; the server logged it"


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
