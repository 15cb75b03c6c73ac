"""Long messages sent as several, the way good clients do, instead of cut by the server.

A server relays a PRIVMSG with the sender's ``nick!user@host`` in front, and cuts what
does not fit in 512 bytes. A client that knows this splits a long text itself, at a space
when there is one in the second half of the piece, else at a UTF-8 character boundary, so
nothing typed is lost. The user and host parts are not known for sure (a vhost may come
later), so the longest a server here gives is assumed.

``cut_bytes`` cuts without looking for spaces and keeps every character, for the pieces
of a line that a ``draft/multiline-concat`` recipient joins back together.
"""

from __future__ import annotations

MAX_LINE = 510  # 512 minus CR LF
USER_ALLOWANCE = 16  # ChatRoom's limits.user_length, "~" included
HOST_ALLOWANCE = 63  # the longest displayed host (CHGHOST's limit, an IPv6 address fits)


def text_budget(nick: str, command: str, target: str) -> int:
    """Bytes of text that fit in one relayed ``command`` to ``target`` from ``nick``."""
    prefix = f":{nick}!{'u' * USER_ALLOWANCE}@{'h' * HOST_ALLOWANCE} {command} {target} :"
    return MAX_LINE - len(prefix.encode("utf-8"))


def split_text(text: str, budget: int) -> list[str]:
    """``text`` in pieces of at most ``budget`` bytes of UTF-8 each, none empty."""
    budget = max(budget, 16)  # never loop on a budget that cannot hold a character
    pieces: list[str] = []
    while len(text.encode("utf-8")) > budget:
        head = text.encode("utf-8")[:budget].decode("utf-8", "ignore")
        space = head.rfind(" ")
        if space >= len(head) // 2:
            head = head[:space]
        pieces.append(head)
        text = text[len(head) :].lstrip(" ")
    if text or not pieces:
        pieces.append(text)
    return pieces


def cut_bytes(text: str, budget: int) -> list[str]:
    """``text`` in pieces of at most ``budget`` bytes of UTF-8, cut only between
    characters and nothing dropped: joined, they give ``text`` back."""
    pieces: list[str] = []
    data = text.encode("utf-8")
    while len(data) > budget:
        head = data[:budget].decode("utf-8", "ignore")
        pieces.append(head)
        data = data[len(head.encode("utf-8")) :]
    pieces.append(data.decode("utf-8"))
    return pieces
