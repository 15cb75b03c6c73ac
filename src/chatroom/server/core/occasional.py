"""What a connection or a user has only now and then, kept apart from it.

Most fields of a ``Session`` are set for a moment (during registration, while a labeled
command, a draft/multiline batch or a keep-alive PING runs, while it is away) or by few
connections (client certificates, metadata subscriptions); most fields of a ``User``
only concern some users (opers, muted accounts, nicks under the registered-nick guard,
invitations). Inline, each would be an 8-byte slot on every idle connection. Here they
live in a small state object made on the first write of a non-default value and dropped
again as soon as every field is back at its default. The owner reads and writes them
as attributes of its own (``Occasional`` descriptors of the same names, in the mixins
below), so no caller sees the difference; nothing on the per-message fan-out path reads
them.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, overload

if TYPE_CHECKING:
    from collections import deque

    from chatroom.server.core.multiline import OpenBatch
    from chatroom.server.store.base import AccountMute

# Most users never get an invitation: they share this empty set.
NO_INVITES: frozenset[str] = frozenset()


@dataclass(slots=True)
class SessionState:
    """The occasional fields of one connection (see the module docstring)."""

    # The client certificate's SHA-256, if it sent one (TLS).
    certfp: str | None = None
    # Password checks in flight (registration waits for them).
    auth_pending: int = 0
    # The SASL exchange in progress (commands/sasl.py owns it).
    sasl: object | None = None
    # PASS, until registration used it.
    password: str | None = None
    # CAP LS or REQ before registration, until CAP END.
    cap_negotiating: bool = False
    # This connection's own AWAY message; the user is away only when all of them are.
    away_message: str | None = None
    # The label of the labeled command running now; a command whose answer comes with a
    # later line (a draft/multiline batch answers at its closing BATCH) takes it.
    label: str | None = None
    # The label of a waiting labeled command and what it has replied so far.
    held_label: tuple[str, list[bytes]] | None = None
    # IRCv3 draft/multiline: the batch this client has open (core/multiline.py owns it).
    multiline: OpenBatch | None = None
    # IRCv3 draft/metadata-2 (core/metadata.py): the keys this client subscribed to.
    metadata_subs: set[str] | None = None
    # When the keep-alive PING went out, until the PONG.
    ping_sent_at: float | None = None
    # Replies in order: while one of this connection's commands waits (password check,
    # commit, history query), its later lines are held and run once the answer came.
    waiting: int = 0  # continuations outstanding for this connection's commands
    # Replies in order: the lines that arrived while a command of this connection waits
    # (core/answers.py); None in it stands for a line that was too long.
    held: deque[bytes | None] | None = None
    # Replies in order: the client hung up while lines were held; they still run (they
    # were sent before it left), and then the connection goes, for this reason.
    hangup: str | None = None


@dataclass(slots=True)
class UserState:
    """The occasional fields of one user (see the module docstring)."""

    # When a registered nick is taken back unless its owner identifies (core/accounts.py).
    nick_deadline: float | None = None
    # The operator role behind +o (core/opers.py sets both).
    oper_role: str | None = None
    # The account's server-wide mute, if any.
    muted: AccountMute | None = None
    # Folded room names; change with ``User.invite``/``uninvite``.
    invited: Set[str] = NO_INVITES
    # A guest's own IRCv3 metadata (a logged-in user's belongs to the account).
    metadata: dict[str, str] | None = None
    # An always-on user's: since when it has had no connection (what it missed starts
    # there).
    missing_since: float | None = None
    # Its host was set by an operator (CHGHOST): saved with an always-on user's presence.
    vhost: bool = False
    # SILENCE: masks whose private messages and invites this user does not want.
    silenced: tuple[str, ...] = ()


_NO_SESSIONSTATE = SessionState()
_NO_USERSTATE = UserState()

T = TypeVar("T")


class _Owner(Protocol):
    """A ``Session`` or ``User``: its side object, and how to make and judge one."""

    occasional: Any

    def _new_state(self) -> Any: ...
    def _is_empty(self, state: Any) -> bool: ...


class Occasional(Generic[T]):
    """One field of the owner's side object, read and written as if it were the owner's.

    Reading gives the field's default while there is no side object. Writing a value other
    than the default makes the side object if needed; writing the default back (an empty
    set counts as the empty default) drops the side object once every field is back at
    its default.
    """

    __slots__ = ("default", "name")

    def __init__(self, default: T) -> None:
        self.default = default
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Occasional[T]: ...
    @overload
    def __get__(self, obj: _Owner, owner: type | None = None) -> T: ...
    def __get__(self, obj: _Owner | None, owner: type | None = None) -> Occasional[T] | T:
        if obj is None:
            return self
        state = obj.occasional
        if state is None:
            return self.default
        value: T = getattr(state, self.name)
        return value

    def __set__(self, obj: _Owner, value: T) -> None:
        state = obj.occasional
        if value != self.default:
            if state is None:
                state = obj.occasional = obj._new_state()
            setattr(state, self.name, value)
        elif state is not None:
            setattr(state, self.name, self.default)
            if obj._is_empty(state):
                obj.occasional = None


class OccasionalSessionFields:
    """``Session``'s occasional fields (``SessionState``), as attributes of its own."""

    # The slot is the owner's dataclass field ``occasional`` (so that a cluster snapshot
    # pickles it).
    __slots__ = ()
    occasional: SessionState | None

    def _new_state(self) -> SessionState:
        return SessionState()

    def _is_empty(self, state: SessionState) -> bool:
        return state == _NO_SESSIONSTATE

    certfp: Occasional[str | None] = Occasional(None)
    auth_pending: Occasional[int] = Occasional(0)
    sasl: Occasional[object | None] = Occasional(None)
    password: Occasional[str | None] = Occasional(None)
    cap_negotiating: Occasional[bool] = Occasional(False)
    away_message: Occasional[str | None] = Occasional(None)
    label: Occasional[str | None] = Occasional(None)
    held_label: Occasional[tuple[str, list[bytes]] | None] = Occasional(None)
    multiline: Occasional[OpenBatch | None] = Occasional(None)
    metadata_subs: Occasional[set[str] | None] = Occasional(None)
    ping_sent_at: Occasional[float | None] = Occasional(None)
    waiting: Occasional[int] = Occasional(0)
    held: Occasional[deque[bytes | None] | None] = Occasional(None)
    hangup: Occasional[str | None] = Occasional(None)


class OccasionalUserFields:
    """``User``'s occasional fields (``UserState``), as attributes of its own."""

    __slots__ = ()
    occasional: UserState | None

    def _new_state(self) -> UserState:
        return UserState()

    def _is_empty(self, state: UserState) -> bool:
        return state == _NO_USERSTATE

    nick_deadline: Occasional[float | None] = Occasional(None)
    oper_role: Occasional[str | None] = Occasional(None)
    muted: Occasional[AccountMute | None] = Occasional(None)
    invited: Occasional[Set[str]] = Occasional(NO_INVITES)
    metadata: Occasional[dict[str, str] | None] = Occasional(None)
    missing_since: Occasional[float | None] = Occasional(None)
    vhost: Occasional[bool] = Occasional(False)
    silenced: Occasional[tuple[str, ...]] = Occasional(())
