"""A paste of several lines sent as one message (client/blocks.py), without a network:
one draft/multiline batch where the server offers it, else a PRIVMSG per line."""

from __future__ import annotations

from chatroom.client.blocks import PLAIN_MAX_LINES
from chatroom.client.commands import execute
from chatroom.client.session import ClientSession
from chatroom.client.state import LineKind, Show
from chatroom.irc.message import parse
from tests.client.test_client_session import feed, sent

MULTILINE = "draft/multiline=max-bytes=4096,max-lines=24"


def in_lobby(*caps: str, offered: str = "") -> ClientSession:
    """A session in #lobby with ``caps`` enabled (``offered``: the CAP LS list)."""
    s = ClientSession("alice")
    s.start()
    feed(s, f":srv CAP * LS :{offered or ' '.join(caps)}")
    if caps:
        feed(s, f":srv CAP alice ACK :{' '.join(caps)}")
    feed(s, ":srv 001 alice :Welcome", ":srv 005 alice CHANTYPES=# :are supported")
    feed(s, ":alice!u@h JOIN #lobby", ":srv 366 alice #lobby :End")
    s.take_output()
    return s


def test_a_pasted_block_is_one_multiline_batch_with_blank_lines_and_indentation_kept() -> None:
    s = in_lobby("batch", "draft/multiline", offered=f"batch {MULTILINE}")
    events = execute(s, "#lobby", "\n\ndef f():\n    return 1\n\n# done\n\n")
    lines = [parse(line) for line in sent(s)]
    assert [m.command for m in lines] == [
        "BATCH",
        "PRIVMSG",
        "PRIVMSG",
        "PRIVMSG",
        "PRIVMSG",
        "BATCH",
    ]
    ref = lines[0].params[0][1:]
    assert lines[0].params == (f"+{ref}", "draft/multiline", "#lobby")
    assert [m.params for m in lines[1:5]] == [
        ("#lobby", "def f():"),
        ("#lobby", "    return 1"),
        ("#lobby", ""),
        ("#lobby", "# done"),
    ]
    assert all(m.tags == {"batch": ref} for m in lines[1:5])
    assert lines[5].params == (f"-{ref}",)
    shown = [e for e in events if isinstance(e, Show)]
    assert [(e.kind, e.text) for e in shown] == [
        (LineKind.MESSAGE, "def f():\n    return 1\n\n# done")
    ]


def test_a_line_too_long_for_one_privmsg_continues_with_the_concat_tag_nothing_dropped() -> None:
    s = in_lobby("batch", "draft/multiline", offered=f"batch {MULTILINE}")
    long_line = " ".join(f"wörd{n}" for n in range(200))
    execute(s, "#lobby", f"first\n{long_line}")
    lines = [parse(line) for line in sent(s)][1:-1]
    assert lines[0].params[1] == "first"
    pieces = lines[1:]
    assert len(pieces) >= 3
    assert "draft/multiline-concat" not in pieces[0].tags
    assert all("draft/multiline-concat" in m.tags for m in pieces[1:])
    assert "".join(m.params[1] for m in pieces) == long_line


def test_a_block_over_the_servers_multiline_limits_is_refused_with_the_limit_named() -> None:
    s = in_lobby("batch", "draft/multiline", offered=f"batch {MULTILINE}")
    events = execute(s, "#lobby", "\n".join(f"line {n}" for n in range(30)))
    assert sent(s) == []
    refused = [e.text for e in events if isinstance(e, Show)]
    assert refused == [
        "That message needs 30 lines; the server takes at most 24 in one multi-line"
        " message: send it in parts."
    ]
    events = execute(s, "#lobby", "\n".join("x" * 300 for _ in range(20)))
    assert sent(s) == []
    assert "at most 4096" in next(e.text for e in events if isinstance(e, Show))


def test_without_multiline_each_non_blank_line_is_its_own_message_up_to_a_flood_safe_count() -> (
    None
):
    s = in_lobby()
    events = execute(s, "#lobby", "one\n\n  two\nthree")
    assert sent(s) == ["PRIVMSG #lobby one", "PRIVMSG #lobby :  two", "PRIVMSG #lobby three"]
    assert [e.text for e in events if isinstance(e, Show)] == ["one", "  two", "three"]
    events = execute(s, "#lobby", "\n".join(f"line {n}" for n in range(PLAIN_MAX_LINES + 1)))
    assert sent(s) == []
    assert f"at most {PLAIN_MAX_LINES}" in next(e.text for e in events if isinstance(e, Show))


def test_a_nul_in_a_pasted_block_is_dropped_not_a_crash() -> None:
    s = in_lobby()
    execute(s, "#lobby", "bin\0ary\nsecond")
    assert sent(s) == ["PRIVMSG #lobby binary", "PRIVMSG #lobby second"]


def test_a_block_starting_with_a_slash_is_a_message_not_a_command() -> None:
    s = in_lobby()
    execute(s, "#lobby", "/etc/hosts says:\n127.0.0.1 localhost")
    assert sent(s) == ["PRIVMSG #lobby :/etc/hosts says:", "PRIVMSG #lobby :127.0.0.1 localhost"]


def test_with_echo_message_the_block_is_shown_when_the_server_sends_it_back() -> None:
    caps = ("batch", "draft/multiline", "echo-message")
    s = in_lobby(*caps, offered=f"batch echo-message {MULTILINE}")
    assert [e for e in execute(s, "#lobby", "a\nb") if isinstance(e, Show)] == []
    assert len(sent(s)) == 4
