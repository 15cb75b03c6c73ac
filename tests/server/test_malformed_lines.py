"""Malformed lines (found by fuzz/fuzz_server.py): each gets a reply, none is relayed.

A line the parser refuses (a NUL or a lone CR inside it, tags or a source with no command)
was dropped without a word, so a client waiting for an answer waited forever. The modern
IRC docs ask only that *empty* lines be ignored.
"""

from __future__ import annotations

import pytest

from chatroom.server.harness import Harness


@pytest.mark.parametrize(
    "line",
    [
        "PRIVMSG #lobby :hi\0there",
        "LUSERS\0",
        "MOTD\r",
        "FOO\rBAR",
        "@label=x",
        "@label=x ",
        ":alice",
        ":alice :x",
    ],
)
def test_a_malformed_line_gets_fail_invalid_line_and_is_not_relayed(line: str) -> None:
    h = Harness()
    alice, bob = h.connect("alice"), h.connect("bob")
    for c in (alice, bob):
        c.cmd("JOIN #lobby")
    bob.take()
    (reply,) = alice.cmd(line)
    assert (reply.command, reply.params[:2]) == ("FAIL", ("*", "INVALID_LINE"))
    assert reply.params[2].startswith("Malformed line ignored: ")
    assert bob.take() == []
    assert [m.command for m in alice.cmd("PING :still-here")] == ["PONG"]


@pytest.mark.parametrize("line", ["", " ", "   "])
def test_an_empty_line_is_still_ignored_without_a_reply(line: str) -> None:
    h = Harness()
    alice = h.connect("alice")
    assert alice.cmd(line) == []


def test_a_malformed_line_before_registration_gets_the_same_reply() -> None:
    h = Harness()
    c = h.connect()
    (reply,) = c.cmd("NICK al\0ice")
    assert (reply.command, reply.params[:2]) == ("FAIL", ("*", "INVALID_LINE"))
