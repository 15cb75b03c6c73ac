"""METADATA (IRCv3 ``draft/metadata-2``): GET, LIST, SET, CLEAR, SUB, UNSUB, SUBS, SYNC.

Rules (see core/metadata.py for where values live and who hears of them):
- the target is ``*`` (oneself), a nick online, or a room one is in; anything else is
  ``FAIL METADATA INVALID_TARGET``, so a request never reveals a secret room;
- users set only their own keys; a room's keys are set by its ops (and operators with
  the ``channels`` capability);
- before registration (``before-connect``) only one's own keys, and only with the cap;
- GET, LIST, CLEAR and SYNC answer in a ``metadata`` batch naming the target, SUBS in a
  ``metadata-subs`` batch; SET answers one ``761`` (or ``766`` for a removed key);
- a logged-in user's change is answered after the store committed it.
"""

from __future__ import annotations

from collections.abc import Callable

from chatroom.irc import numerics as n
from chatroom.irc.message import Message, format_line
from chatroom.irc.packing import pack_words
from chatroom.server.core import metadata as md
from chatroom.server.core import opers
from chatroom.server.core.channel import Channel
from chatroom.server.core.context import Context
from chatroom.server.core.dispatch import CommandError, command
from chatroom.server.core.session import Session
from chatroom.server.core.users import User

_KEYS_BUDGET = 400  # bytes of keys in one 770/771/772 line


class _Fail(Exception):  # noqa: N818 (a refusal, carried to one FAIL reply)
    def __init__(self, code: str, *params: str) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def _fail(
    ctx: Context, session: Session, code: str, *params: str, tags: dict[str, str] | None = None
) -> None:
    session.send(format_line(ctx.name, "FAIL", "METADATA", code, *params, tags=tags))


_DESCRIPTIONS = {
    "INVALID_TARGET": "Invalid metadata target",
    "KEY_INVALID": "Invalid key",
    "KEY_NO_PERMISSION": "Permission denied",
    "KEY_NOT_SET": "Key not set",
    "LIMIT_REACHED": "Metadata limit reached",
    "TOO_MANY_SUBS": "Too many subscriptions",
    "VALUE_INVALID": "Value is too long",
    "SUBCOMMAND_INVALID": "Unknown METADATA subcommand",
    "INTERNAL_ERROR": "The change could not be saved; try again",
}


@command("METADATA", min_params=2, before_registration=True)
def metadata(ctx: Context, session: Session, msg: Message) -> None:
    """METADATA <target> <GET|LIST|SET|CLEAR|SUB|UNSUB|SUBS|SYNC> [<key>...] [:<value>]"""
    sub = msg.params[1].upper()
    handler = _SUBCOMMANDS.get(sub)
    if not session.registered:
        if md.CAP not in session.caps:
            raise CommandError(n.ERR_NOTREGISTERED, "You have not registered")
        if msg.params[0] != "*" and sub not in ("SUB", "UNSUB", "SUBS"):
            _fail(ctx, session, "INVALID_TARGET", msg.params[0], "Only * before connecting")
            return
    if handler is None:
        _fail(ctx, session, "SUBCOMMAND_INVALID", sub, _DESCRIPTIONS["SUBCOMMAND_INVALID"])
        return
    try:
        handler(ctx, session, msg.params[0], list(msg.params[2:]))
    except _Fail as fail:
        _fail(ctx, session, fail.code, *fail.params, _DESCRIPTIONS[fail.code])


# ----------------------------------------------------------------------------- targets


def _resolve(ctx: Context, session: Session, name: str) -> User | Channel:
    """``*`` is oneself; a room must be one the requester is in; a nick must be online."""
    if name == "*":
        return session.owner
    if name.startswith("#"):
        channel = ctx.rooms.find(name)
        if channel is not None and session.owner in channel.members:
            return channel
        raise _Fail("INVALID_TARGET", name)
    other = ctx.nicks.find(name)
    if other is session.owner or (other is not None and other.registered):
        return other
    raise _Fail("INVALID_TARGET", name)


def _name(target: User | Channel) -> str:
    return target.name if isinstance(target, Channel) else target.nick


def _values(ctx: Context, target: User | Channel) -> dict[str, str]:
    if isinstance(target, Channel):
        return md.channel_values(target)
    return md.user_values(ctx, target)


def _may_edit(ctx: Context, session: Session, target: User | Channel) -> bool:
    if isinstance(target, Channel):
        return target.is_op(session.owner) or opers.may(ctx, session, "channels")
    return target is session.owner


def _keys(params: list[str]) -> list[str]:
    if not params:
        raise CommandError(n.ERR_NEEDMOREPARAMS, "METADATA", "Not enough parameters")
    return params


# ----------------------------------------------------------------------------- reading


def _get(ctx: Context, session: Session, name: str, params: list[str]) -> None:
    """METADATA <target> GET <key> [<key>...]"""
    keys = _keys(params)
    target = _resolve(ctx, session, name)
    shown = _name(target)
    values = _values(ctx, target)
    ref = md.open_batch(ctx, session, "metadata", shown)
    tags = {"batch": ref} if ref is not None else None
    for key in keys:
        if not md.valid_key(key):
            _fail(ctx, session, "KEY_INVALID", key, _DESCRIPTIONS["KEY_INVALID"], tags=tags)
        elif key in values:
            line = format_line(
                ctx.name,
                n.RPL_KEYVALUE,
                session.nick,
                shown,
                key,
                md.VISIBILITY,
                values[key],
                tags=tags,
            )
            session.send(line)
        else:
            line = format_line(
                ctx.name, n.RPL_KEYNOTSET, session.nick, shown, key, "Key not set", tags=tags
            )
            session.send(line)
    md.close_batch(ctx, session, ref)


def _list(ctx: Context, session: Session, name: str, params: list[str]) -> None:
    """METADATA <target> LIST"""
    target = _resolve(ctx, session, name)
    shown = _name(target)
    values = _values(ctx, target)
    ref = md.open_batch(ctx, session, "metadata", shown)
    tags = {"batch": ref} if ref is not None else None
    for key in sorted(values):
        session.send(
            format_line(
                ctx.name,
                n.RPL_KEYVALUE,
                session.nick,
                shown,
                key,
                md.VISIBILITY,
                values[key],
                tags=tags,
            )
        )
    md.close_batch(ctx, session, ref)


def _sync(ctx: Context, session: Session, name: str, params: list[str]) -> None:
    """METADATA <target> SYNC: the subscribed keys of the target (and of a room's members)."""
    target = _resolve(ctx, session, name)
    ref = md.open_batch(ctx, session, "metadata", _name(target))
    if isinstance(target, Channel):
        md.sync_channel(ctx, session, target, None, ref)
    elif session.metadata_subs:
        values = md.user_values(ctx, target)
        md.send_values(ctx, session, target.nick, values, session.metadata_subs, ref)
    md.close_batch(ctx, session, ref)


# ----------------------------------------------------------------------------- writing


def _set(ctx: Context, session: Session, name: str, params: list[str]) -> None:
    """METADATA <target> SET <key> [:<value>]  (no value removes the key)"""
    key = _keys(params)[0]
    value = params[1] if len(params) > 1 else None
    target = _resolve(ctx, session, name)
    shown = _name(target)
    if not md.valid_key(key):
        raise _Fail("KEY_INVALID", key)
    if not _may_edit(ctx, session, target):
        raise _Fail("KEY_NO_PERMISSION", shown, key)
    values = _values(ctx, target)
    limits = ctx.settings.limits
    if value is None:
        if key not in values:
            raise _Fail("KEY_NOT_SET", shown, key)
    elif len(value.encode()) > limits.metadata_max_value_bytes:
        raise _Fail("VALUE_INVALID")
    elif key not in values and len(values) >= limits.metadata_max_keys:
        raise _Fail("LIMIT_REACHED", shown)
    if value is None:
        answer = format_line(ctx.name, n.RPL_KEYNOTSET, session.nick, shown, key, "Key not set")
    else:
        answer = format_line(
            ctx.name, n.RPL_KEYVALUE, session.nick, shown, key, md.VISIBILITY, value
        )
    unchanged = values.get(key) == value
    if isinstance(target, Channel):
        md.store_channel_value(target, key, value)
        if not unchanged:
            md.notify_channel(ctx, target, key, value, origin=session)
        session.send(answer)
        return
    _change_user(ctx, session, [(key, value)], unchanged, lambda: session.send(answer))


def _clear(ctx: Context, session: Session, name: str, params: list[str]) -> None:
    """METADATA <target> CLEAR: every key removed; one 761 without value per key."""
    target = _resolve(ctx, session, name)
    shown = _name(target)
    if not _may_edit(ctx, session, target):
        raise _Fail("KEY_NO_PERMISSION", shown, "*")
    keys = sorted(_values(ctx, target))

    def answer() -> None:
        ref = md.open_batch(ctx, session, "metadata", shown)
        tags = {"batch": ref} if ref is not None else None
        for key in keys:
            line = format_line(
                ctx.name, n.RPL_KEYVALUE, session.nick, shown, key, md.VISIBILITY, tags=tags
            )
            session.send(line)
        md.close_batch(ctx, session, ref)

    if isinstance(target, Channel):
        for key in keys:
            md.store_channel_value(target, key, None)
            md.notify_channel(ctx, target, key, None, origin=session)
        answer()
        return
    _change_user(ctx, session, [(key, None) for key in keys], not keys, answer)


def _change_user(
    ctx: Context,
    session: Session,
    changes: list[tuple[str, str | None]],
    unchanged: bool,
    answer: Callable[[], None],
) -> None:
    """Apply one's own changes; an account's only once the store has them, so the answer
    (and what others hear) never reports a change a failed commit lost."""
    if unchanged:
        answer()
        return

    def apply() -> None:
        for key, value in changes:
            md.store_user_value(ctx, session, key, value)
            md.notify_user(ctx, session, key, value, origin=session)
        answer()

    saves = md.saves_for(ctx, session, changes)
    if not saves:
        apply()
        return

    def committed(error: str | None) -> None:
        if error is None:
            apply()  # also when the session is gone meanwhile: memory follows the store
        elif not session.closed:
            _fail(ctx, session, "INTERNAL_ERROR", _DESCRIPTIONS["INTERNAL_ERROR"])

    ctx.persist(saves, committed)


# ----------------------------------------------------------------------------- subscriptions


def _sub(ctx: Context, session: Session, name: str, params: list[str]) -> None:
    """METADATA * SUB <key> [<key>...]: processed in order; stops at the limit."""
    keys = _keys(params)
    subs = session.metadata_subs
    if subs is None:
        subs = session.metadata_subs = set()
    most = ctx.settings.limits.metadata_max_subs
    done: list[str] = []
    added: list[str] = []
    for key in keys:
        if not md.valid_key(key):
            _fail(ctx, session, "KEY_INVALID", key, _DESCRIPTIONS["KEY_INVALID"])
            continue
        if key not in subs:
            if len(subs) >= most:
                _fail(ctx, session, "TOO_MANY_SUBS", key, _DESCRIPTIONS["TOO_MANY_SUBS"])
                break
            subs.add(key)
            added.append(key)
        if key not in done:
            done.append(key)
    _send_keys(ctx, session, n.RPL_METADATASUBOK, done)
    if added and session.registered:
        # The current values of the new keys, for the rooms one is in (large rooms: later).
        for channel in session.channels.values():
            if len(channel.members) > md.SYNC_INLINE:
                ctx.reply(session, n.RPL_METADATASYNCLATER, channel.name, "1")
            else:
                md.sync_channel(ctx, session, channel, added)


def _unsub(ctx: Context, session: Session, name: str, params: list[str]) -> None:
    """METADATA * UNSUB <key> [<key>...]"""
    keys = _keys(params)
    subs = session.metadata_subs or set()
    done: list[str] = []
    for key in keys:
        if not md.valid_key(key):
            _fail(ctx, session, "KEY_INVALID", key, _DESCRIPTIONS["KEY_INVALID"])
            continue
        subs.discard(key)
        if key not in done:
            done.append(key)
    session.metadata_subs = subs or None
    _send_keys(ctx, session, n.RPL_METADATAUNSUBOK, done)


def _subs(ctx: Context, session: Session, name: str, params: list[str]) -> None:
    """METADATA * SUBS: the subscribed keys, in a metadata-subs batch."""
    ref = md.open_batch(ctx, session, "metadata-subs")
    tags = {"batch": ref} if ref is not None else None
    _send_keys(ctx, session, n.RPL_METADATASUBS, sorted(session.metadata_subs or ()), tags)
    md.close_batch(ctx, session, ref)


def _send_keys(
    ctx: Context,
    session: Session,
    numeric: str,
    keys: list[str],
    tags: dict[str, str] | None = None,
) -> None:
    for line in pack_words(keys, _KEYS_BUDGET):
        session.send(format_line(ctx.name, numeric, session.nick, line, tags=tags))


_SUBCOMMANDS: dict[str, Callable[[Context, Session, str, list[str]], None]] = {
    "GET": _get,
    "LIST": _list,
    "SET": _set,
    "CLEAR": _clear,
    "SUB": _sub,
    "UNSUB": _unsub,
    "SUBS": _subs,
    "SYNC": _sync,
}
