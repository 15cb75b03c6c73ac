"""Private messages to someone offline: kept for a registered account, refused otherwise.

A PRIVMSG or NOTICE to the nick of a registered account that nobody is using is stored as
an ordinary private line of history (the same conversation key as if the account were
online), and the sender is told it was kept. At the account's next login, a client with
draft/chathistory finds it there; any other client gets it replayed (core/missed.py).

Bounds: only a sender logged in to an account may leave messages (a guest gets 401, as
before, so nobody can fill a mailbox anonymously), and at most
``accounts.offline_messages`` are kept per recipient between two of its logins. The count
and the time of the first waiting message are saved with the account (its mailbox, an
account option), so the bound holds across a restart, and the next login replays only
from that first message: what the account received while online is never replayed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from chatroom.irc.message import fit_trailing, format_line
from chatroom.server.core import access
from chatroom.server.core.conversations import identity, store_message
from chatroom.server.core.history import HistoryQuery, Ref, dm_key, format_time

if TYPE_CHECKING:
    from chatroom.server.core.context import Context
    from chatroom.server.core.session import Session


def store_for_account(
    ctx: Context, session: Session, verb: str, nick: str, text: str, tags: dict[str, str]
) -> bool:
    """Keep a message to ``nick`` if it names an account with no user online; True if
    the sender was answered (kept, or the mailbox is full), False for a plain 401."""
    key = ctx.fold(nick)
    account = ctx.accounts.get(key)
    if account is None or session.account is None or verb not in ("PRIVMSG", "NOTICE"):
        return False
    if ctx.accounts.online(key) is not None:
        # The account's user is online under another nick (it changed it): kept, the
        # message would wait for a login that is not coming. A bot logged in to the
        # account under its own nick is not the account's user, so it does not count.
        return False
    if text[:1] == "\x01" and not text.startswith("\x01ACTION"):
        return False  # a CTCP request wants an answer now, and history never keeps one
    kept = ctx.accounts.waiting(key)
    quiet = verb == "NOTICE"  # NOTICE never provokes an answer (RFC 2812 3.3.2)
    if kept >= ctx.settings.accounts.offline_messages:
        if not quiet:
            ctx.notice(
                session, f"{account.name} is offline and has too many messages waiting; not kept"
            )
        return True
    at, msgid = ctx.now_ms(), ctx.new_msgid()
    text = fit_trailing(session.prefix, verb, account.name, text)
    if access.account_silences(ctx, session, key):
        # Silenced: answered as if kept (the sender must not learn it), but not kept.
        _echo(ctx, session, verb, account.name, text, tags, msgid, at)
        if not quiet:
            session.send(format_line(ctx.name, "NOTICE", session.nick, _kept(account.name)))
        return True
    ctx.persist([ctx.accounts.add_waiting(key, at)])  # the bound and the replay's start
    recipient = "a:" + key
    conversation = dm_key(identity(ctx, session), recipient)
    store_message(ctx, session, verb, conversation, recipient, account.name, text, tags, msgid, at)
    _echo(ctx, session, verb, account.name, text, tags, msgid, at)
    if not quiet:
        _confirm(ctx, session, conversation, msgid, account.name)
    return True


def _echo(
    ctx: Context,
    session: Session,
    verb: str,
    name: str,
    text: str,
    tags: dict[str, str],
    msgid: str,
    at: int,
) -> None:
    """The sender's other devices (and, with echo-message, itself) see what it sent."""
    copies = [conn for conn in session.owner.conns if conn is not session]
    if "echo-message" in session.caps:
        copies.append(session)  # the echo, labeled like any other
    ctx.fanout(
        copies,
        session.prefix,
        verb,
        name,
        text,
        client_tags=tags,
        account=session.account,
        msgid=msgid,
        time_tag=format_time(at),
    )


def _kept(name: str) -> str:
    return f"{name} is offline; your message was kept and will be delivered when they log in"


def _confirm(ctx: Context, session: Session, conversation: str, msgid: str, name: str) -> None:
    """Say "kept" only once the line is on disk: the history runs a query after every
    write queued before it, so finding the line by its msgid means it was committed."""

    def found(rows: Sequence[object] | None) -> None:
        if session.closed:
            return
        if any(getattr(row, "msgid", None) == msgid for row in rows or ()):
            text = _kept(name)
        else:
            text = f"{name} is offline and your message could not be kept; try again later"
        session.send(format_line(ctx.name, "NOTICE", session.nick, text))

    ctx.query_history(HistoryQuery("AROUND", conversation, Ref(msgid=msgid), None, 1), found)
