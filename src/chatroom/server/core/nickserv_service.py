"""The NickServ service object, which several command modules add subcommands to.

nickserv.py (accounts, passwords, options) and nickserv_cert.py (certificate
fingerprints) each register their subcommands on ``SERVICE``; it lives here so neither
imports the other. ``own_account`` is the check most of those subcommands start with.
"""

from __future__ import annotations

from chatroom.server.core.accounts import NICKSERV
from chatroom.server.core.context import Context
from chatroom.server.core.services import Service
from chatroom.server.core.session import Session
from chatroom.server.store.base import Account

SERVICE = Service(
    NICKSERV,
    about=f"{NICKSERV} keeps nicknames registered as accounts.",
    prompt=f"Send /msg {NICKSERV} HELP for a list of commands.",
)
SERVICE.aliases("NICKSERV", "NS")


def own_account(ctx: Context, session: Session) -> Account | None:
    """The caller's account, or None after telling them they must be logged in."""
    if session.account is None:
        SERVICE.notice(ctx, session, "You are not logged in.")
        return None
    account = ctx.accounts.get(ctx.fold(session.account))
    if account is None:
        SERVICE.notice(ctx, session, "Your account no longer exists.")
    return account
