"""What a connection or a user has only now and then, kept apart from it.

Most fields of a ``Session`` are set for a moment (during registration, while a labeled
command, a draft/multiline batch or a keep-alive PING runs, while it is away) or by few
connections (client certificates, metadata subscriptions); most fields of a ``User``
only concern some users (opers, muted accounts, nicks under the registered-nick guard,
invitations). Inline, each would be an 8-byte slot on every idle connection. Here they
live in a small state object made on the first write of a non-default value and dropped
again as soon as every field is back at its default. The owner reads and writes them
through properties of the same names (the mixins below), so no caller sees the
difference; nothing on the per-message fan-out path reads them.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from typing import TYPE_CHECKING

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


_NO_SESSIONSTATE = SessionState()
_NO_USERSTATE = UserState()


class OccasionalSessionFields:
    """``Session``'s view of its ``SessionState``: the fields as properties."""

    # The slot is the owner's dataclass field ``occasional`` (so that a cluster snapshot
    # pickles it), hence mypy's complaint about assigning a name not in these slots.
    __slots__ = ()
    occasional: SessionState | None

    def _occasional_state(self) -> SessionState:
        state = self.occasional
        if state is None:
            state = self.occasional = SessionState()  # type: ignore[misc]
        return state

    def _settle(self, state: SessionState) -> None:
        """A field went back to its default: drop the state once every field has."""
        if state == _NO_SESSIONSTATE:
            self.occasional = None  # type: ignore[misc]

    @property
    def certfp(self) -> str | None:
        state = self.occasional
        return None if state is None else state.certfp

    @certfp.setter
    def certfp(self, value: str | None) -> None:
        if value is not None:
            self._occasional_state().certfp = value
        elif (state := self.occasional) is not None:
            state.certfp = None
            self._settle(state)

    @property
    def auth_pending(self) -> int:
        state = self.occasional
        return 0 if state is None else state.auth_pending

    @auth_pending.setter
    def auth_pending(self, value: int) -> None:
        if value:
            self._occasional_state().auth_pending = value
        elif (state := self.occasional) is not None:
            state.auth_pending = 0
            self._settle(state)

    @property
    def sasl(self) -> object | None:
        state = self.occasional
        return None if state is None else state.sasl

    @sasl.setter
    def sasl(self, value: object | None) -> None:
        if value is not None:
            self._occasional_state().sasl = value
        elif (state := self.occasional) is not None:
            state.sasl = None
            self._settle(state)

    @property
    def password(self) -> str | None:
        state = self.occasional
        return None if state is None else state.password

    @password.setter
    def password(self, value: str | None) -> None:
        if value is not None:
            self._occasional_state().password = value
        elif (state := self.occasional) is not None:
            state.password = None
            self._settle(state)

    @property
    def cap_negotiating(self) -> bool:
        state = self.occasional
        return False if state is None else state.cap_negotiating

    @cap_negotiating.setter
    def cap_negotiating(self, value: bool) -> None:
        if value:
            self._occasional_state().cap_negotiating = value
        elif (state := self.occasional) is not None:
            state.cap_negotiating = False
            self._settle(state)

    @property
    def away_message(self) -> str | None:
        state = self.occasional
        return None if state is None else state.away_message

    @away_message.setter
    def away_message(self, value: str | None) -> None:
        if value is not None:
            self._occasional_state().away_message = value
        elif (state := self.occasional) is not None:
            state.away_message = None
            self._settle(state)

    @property
    def label(self) -> str | None:
        state = self.occasional
        return None if state is None else state.label

    @label.setter
    def label(self, value: str | None) -> None:
        if value is not None:
            self._occasional_state().label = value
        elif (state := self.occasional) is not None:
            state.label = None
            self._settle(state)

    @property
    def held_label(self) -> tuple[str, list[bytes]] | None:
        state = self.occasional
        return None if state is None else state.held_label

    @held_label.setter
    def held_label(self, value: tuple[str, list[bytes]] | None) -> None:
        if value is not None:
            self._occasional_state().held_label = value
        elif (state := self.occasional) is not None:
            state.held_label = None
            self._settle(state)

    @property
    def multiline(self) -> OpenBatch | None:
        state = self.occasional
        return None if state is None else state.multiline

    @multiline.setter
    def multiline(self, value: OpenBatch | None) -> None:
        if value is not None:
            self._occasional_state().multiline = value
        elif (state := self.occasional) is not None:
            state.multiline = None
            self._settle(state)

    @property
    def metadata_subs(self) -> set[str] | None:
        state = self.occasional
        return None if state is None else state.metadata_subs

    @metadata_subs.setter
    def metadata_subs(self, value: set[str] | None) -> None:
        if value is not None:
            self._occasional_state().metadata_subs = value
        elif (state := self.occasional) is not None:
            state.metadata_subs = None
            self._settle(state)

    @property
    def ping_sent_at(self) -> float | None:
        state = self.occasional
        return None if state is None else state.ping_sent_at

    @ping_sent_at.setter
    def ping_sent_at(self, value: float | None) -> None:
        if value is not None:
            self._occasional_state().ping_sent_at = value
        elif (state := self.occasional) is not None:
            state.ping_sent_at = None
            self._settle(state)

    @property
    def waiting(self) -> int:
        state = self.occasional
        return 0 if state is None else state.waiting

    @waiting.setter
    def waiting(self, value: int) -> None:
        if value:
            self._occasional_state().waiting = value
        elif (state := self.occasional) is not None:
            state.waiting = 0
            self._settle(state)

    @property
    def held(self) -> deque[bytes | None] | None:
        state = self.occasional
        return None if state is None else state.held

    @held.setter
    def held(self, value: deque[bytes | None] | None) -> None:
        if value is not None:
            self._occasional_state().held = value
        elif (state := self.occasional) is not None:
            state.held = None
            self._settle(state)


class OccasionalUserFields:
    """``User``'s view of its ``UserState``: the fields as properties."""

    __slots__ = ()
    occasional: UserState | None

    def _occasional_state(self) -> UserState:
        state = self.occasional
        if state is None:
            state = self.occasional = UserState()  # type: ignore[misc]
        return state

    def _settle(self, state: UserState) -> None:
        """A field went back to its default: drop the state once every field has."""
        if state == _NO_USERSTATE:
            self.occasional = None  # type: ignore[misc]

    @property
    def nick_deadline(self) -> float | None:
        state = self.occasional
        return None if state is None else state.nick_deadline

    @nick_deadline.setter
    def nick_deadline(self, value: float | None) -> None:
        if value is not None:
            self._occasional_state().nick_deadline = value
        elif (state := self.occasional) is not None:
            state.nick_deadline = None
            self._settle(state)

    @property
    def oper_role(self) -> str | None:
        state = self.occasional
        return None if state is None else state.oper_role

    @oper_role.setter
    def oper_role(self, value: str | None) -> None:
        if value is not None:
            self._occasional_state().oper_role = value
        elif (state := self.occasional) is not None:
            state.oper_role = None
            self._settle(state)

    @property
    def muted(self) -> AccountMute | None:
        state = self.occasional
        return None if state is None else state.muted

    @muted.setter
    def muted(self, value: AccountMute | None) -> None:
        if value is not None:
            self._occasional_state().muted = value
        elif (state := self.occasional) is not None:
            state.muted = None
            self._settle(state)

    @property
    def invited(self) -> Set[str]:
        state = self.occasional
        return NO_INVITES if state is None else state.invited

    @invited.setter
    def invited(self, value: Set[str]) -> None:
        if value:
            self._occasional_state().invited = value
        elif (state := self.occasional) is not None:
            state.invited = NO_INVITES
            self._settle(state)

    @property
    def metadata(self) -> dict[str, str] | None:
        state = self.occasional
        return None if state is None else state.metadata

    @metadata.setter
    def metadata(self, value: dict[str, str] | None) -> None:
        if value is not None:
            self._occasional_state().metadata = value
        elif (state := self.occasional) is not None:
            state.metadata = None
            self._settle(state)

    @property
    def missing_since(self) -> float | None:
        state = self.occasional
        return None if state is None else state.missing_since

    @missing_since.setter
    def missing_since(self, value: float | None) -> None:
        if value is not None:
            self._occasional_state().missing_since = value
        elif (state := self.occasional) is not None:
            state.missing_since = None
            self._settle(state)
