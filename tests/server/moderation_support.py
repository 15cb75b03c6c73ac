"""Shared steps for the moderation tests: operators, logged-in users, notices, audit."""

from __future__ import annotations

from chatroom.irc.message import Message
from chatroom.server.harness import Harness, SimClient

PASSWORD = "correct-horse"


def numerics(messages: list[Message]) -> list[str]:
    return [m.command for m in messages if m.command.isdigit()]


def notices(messages: list[Message]) -> list[str]:
    return [m.params[-1] for m in messages if m.command == "NOTICE"]


def user(h: Harness, nick: str, *, oper: bool = False, ip: str = "127.0.0.1") -> SimClient:
    """A registered client logged in to its own account (created for it)."""
    if h.world.fold(nick) not in h.world.accounts:
        h.add_account(nick, PASSWORD, oper=oper)
    client = h.connect(nick, ip=ip)
    client.cmd(f"PRIVMSG NickServ :IDENTIFY {PASSWORD}")
    assert client.session.account == nick
    return client


def oper(h: Harness, nick: str = "admin") -> SimClient:
    client = user(h, nick, oper=True)
    assert "o" in client.session.modes
    return client


def audit_actions(h: Harness) -> list[tuple[str, str, str]]:
    """(actor, action, target) of every audit entry written so far."""
    return [(e.actor, e.action, e.target) for e in h.store.audit()]
