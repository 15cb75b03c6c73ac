"""What a command handler may use: the narrow face of the core that every handler gets.

A handler (``@command`` in ``core/commands/``) is called with a ``Context``, the
connection that asked and the message, never with the ``World`` itself: the world's
inputs (connect, receive, tick, the answers of the shell), its queues of output and
effects, its pending answers and its admission bookkeeping are not the handlers'
business. ``World`` satisfies this protocol, so at run time the context *is* the world
and costs nothing; ``mypy --strict`` checks that a handler, and every core function that
takes a ``Context``, uses nothing else, and tests/test_layering.py that no command
module imports ``World``.

What it offers:
- who the server is: ``name``, ``settings``, ``fold`` (casemapping), ``clock``,
  ``started_at``, what the shell set at start (``sts_policy``, ``scram_secret``,
  ``dummy_password_hash``), and the reply templates the settings fix (``reply_cache``,
  core/replies.py);
- the owners of state, each keeping its own rules: ``nicks`` (who holds each nick),
  ``rooms`` (which room has which name), ``accounts`` (records, online users, options,
  kept presence), ``sanctions``, ``history``, ``monitor``, ``metadata``,
  ``read_markers``, ``throttle``, ``whowas``, and the numbers ``stats`` and ``census``;
  ``sessions`` is read-only here (WALLOPS, WHO and KILL look connections up);
- output: ``reply`` and ``notice`` to the requester (or every device of a user),
  ``fanout`` of one message to many (formatted once per tag variant), ``peers``;
- time and ids: ``now_ms`` (the clock in the milliseconds of server-time and history),
  ``new_msgid``;
- requests to the shell, answered later through a continuation (and holding the
  connection's next lines until then, docs/architecture.md "Replies in order"):
  ``persist``, ``verify_password``, ``hash_password``, ``query_history``,
  ``redact_history``, ``reload_config`` (then ``adopt_settings``), ``expect_answer``;
  and writes that need no answer:
  ``record_message``, ``record_event``, ``rename_history``;
- the world's own operations, which keep several owners in step: ``close``,
  ``close_user``, ``leave_channel``, ``remember_whowas``.

Owners are read-only properties here: a handler changes a nick through ``ctx.nicks``,
never by putting another registry in its place.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from chatroom.server.auth.throttle import LoginThrottle
    from chatroom.server.core.accountbook import AccountBook
    from chatroom.server.core.census import Census, Stats
    from chatroom.server.core.channel import Channel
    from chatroom.server.core.history import HistoryQuery, HistoryRecord, HistoryState
    from chatroom.server.core.metadata import MetadataState
    from chatroom.server.core.monitor import MonitorTable
    from chatroom.server.core.nicks import NickRegistry
    from chatroom.server.core.readmarkers import ReadMarkers
    from chatroom.server.core.reconfigure import Reloaded
    from chatroom.server.core.redaction import Redaction
    from chatroom.server.core.replies import Template
    from chatroom.server.core.rooms import Rooms
    from chatroom.server.core.sanctions import Sanctions
    from chatroom.server.core.session import Session
    from chatroom.server.core.settings import CoreSettings
    from chatroom.server.core.signups import Signups
    from chatroom.server.core.snotices import ServerNotices
    from chatroom.server.core.users import User, WhowasEntry
    from chatroom.server.store.base import Change

# The continuations of requests to the shell.
Checked = Callable[[bool, tuple[str, str] | None], None]
Hashed = Callable[[str, str], None]
Committed = Callable[[str | None], None]
Loaded = Callable[[Sequence[object] | None], None]


class Context(Protocol):
    """The core as a command handler sees it (``World`` is the one implementation)."""

    # ------------------------------------------------------------------ who we are

    @property
    def name(self) -> str: ...
    @property
    def settings(self) -> CoreSettings: ...
    @property
    def fold(self) -> Callable[[str], str]: ...
    @property
    def clock(self) -> Callable[[], float]: ...
    @property
    def started_at(self) -> float: ...
    @property
    def sts_policy(self) -> tuple[int, int] | None: ...
    @property
    def scram_secret(self) -> bytes | None: ...
    @property
    def nonce_factory(self) -> Callable[[], str]: ...
    @property
    def dummy_password_hash(self) -> str | None: ...
    @property
    def reply_cache(self) -> dict[str, list[Template]]: ...

    # ------------------------------------------------------------------ owners of state

    @property
    def nicks(self) -> NickRegistry: ...
    @property
    def rooms(self) -> Rooms: ...
    @property
    def accounts(self) -> AccountBook: ...
    @property
    def sanctions(self) -> Sanctions: ...
    @property
    def history(self) -> HistoryState: ...
    @property
    def monitor(self) -> MonitorTable: ...
    @property
    def metadata(self) -> MetadataState: ...
    @property
    def read_markers(self) -> ReadMarkers: ...
    @property
    def throttle(self) -> LoginThrottle: ...
    @property
    def signups(self) -> Signups: ...
    @property
    def snotices(self) -> ServerNotices: ...
    @property
    def whowas(self) -> deque[WhowasEntry]: ...
    @property
    def stats(self) -> Stats: ...
    @property
    def census(self) -> Census: ...
    @property
    def sessions(self) -> Mapping[int, Session]: ...

    # ------------------------------------------------------------------ output

    def reply(self, to: Session | User, numeric: str, *params: str) -> None: ...
    def notice(self, to: Session | User, text: str) -> None: ...
    def peers(self, who: Session | User) -> set[Session]: ...
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
    ) -> None: ...
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
    ) -> None: ...

    # ------------------------------------------------------------------ time and ids

    def now_ms(self) -> int: ...
    def new_msgid(self) -> str: ...

    # ------------------------------------------------------------------ requests to the shell

    def persist(self, changes: Iterable[Change], then: Committed | None = None) -> None: ...
    def verify_password(self, password_hash: str, password: str, then: Checked) -> None: ...
    def hash_password(self, password: str, then: Hashed) -> None: ...
    def busy_checking_passwords(self) -> bool: ...
    def expect_answer(
        self, session: Session, then: Callable[..., None], on_timeout: tuple[object, ...]
    ) -> Callable[..., None]: ...
    def query_history(self, query: HistoryQuery, then: Loaded) -> None: ...
    def redact_history(self, redaction: Redaction, then: Callable[[str | None], None]) -> None: ...
    def rename_history(self, old_key: str, new_key: str, new_name: str) -> None: ...
    def reload_config(self, then: Callable[[Reloaded], None]) -> None: ...
    def adopt_settings(self, settings: CoreSettings) -> None: ...
    def record_message(self, record: HistoryRecord) -> None: ...
    def record_event(self, record: HistoryRecord) -> None: ...

    # ------------------------------------------------------------------ the world's operations

    def close(self, session: Session, reason: str) -> None: ...
    def close_user(self, user: User, reason: str, *, for_good: bool = True) -> None: ...
    def leave_channel(self, who: Session | User, channel: Channel) -> None: ...
    def remember_whowas(self, session: Session | User) -> None: ...
