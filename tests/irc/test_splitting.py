"""Long texts split by the client: every byte typed arrives, each piece fits one line."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatroom.irc.message import format_line
from chatroom.irc.splitting import cut_bytes, split_text, text_budget


@pytest.mark.parametrize(
    ("text", "budget", "pieces"),
    [
        ("short", 100, ["short"]),
        ("", 100, [""]),
        ("aaaa bbbb cccc", 20, ["aaaa bbbb cccc"]),
        ("word " * 10, 20, ["word word word word", "word word word word", "word word "]),
        ("x" * 40, 16, ["x" * 16, "x" * 16, "x" * 8]),
        ("é" * 10, 16, ["é" * 8, "é" * 2]),  # two bytes each: never half a character
    ],
)
def test_split_text_table(text: str, budget: int, pieces: list[str]) -> None:
    assert split_text(text, budget) == pieces


@given(st.text(min_size=1, max_size=3000), st.integers(min_value=16, max_value=400))
def test_pieces_fit_and_keep_every_word(text: str, budget: int) -> None:
    pieces = split_text(text, budget)
    assert all(len(p.encode("utf-8")) <= budget for p in pieces)
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")


def test_a_relayed_piece_from_the_longest_identity_fits_in_512_bytes() -> None:
    nick, target = "n" * 30, "#" + "r" * 49
    budget = text_budget(nick, "PRIVMSG", target)
    for piece in split_text("ü" * 2000, budget):
        line = format_line(f"{nick}!{'u' * 16}@{'h' * 63}", "PRIVMSG", target, piece)
        assert len(line) <= 512
        assert line.endswith(piece.encode() + b"\r\n")  # nothing was cut by the server


def test_cut_bytes_keeps_every_character_and_cuts_only_between_characters() -> None:
    text = "ab é€ " * 30
    pieces = cut_bytes(text, 7)
    assert "".join(pieces) == text
    assert all(0 < len(p.encode("utf-8")) <= 7 for p in pieces)
    assert cut_bytes("", 7) == [""]
