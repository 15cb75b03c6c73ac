"""Words packed into reply lines within a byte budget."""

from __future__ import annotations

from chatroom.irc.packing import pack_words


def test_words_fill_a_line_up_to_the_budget_and_then_start_another() -> None:
    assert pack_words(["aa", "bb", "cc"], budget=5) == ["aa bb", "cc"]


def test_the_budget_counts_utf8_bytes_and_the_separator() -> None:
    assert pack_words(["é", "é"], budget=4, sep=",") == ["é", "é"]  # 2 + 1 + 2 > 4
    assert pack_words(["é", "é"], budget=5, sep=",") == ["é,é"]


def test_no_words_give_no_lines_and_a_long_word_stands_alone() -> None:
    assert pack_words([], budget=10) == []
    assert pack_words(["x" * 20, "y"], budget=10) == ["x" * 20, "y"]
