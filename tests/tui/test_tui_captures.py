"""The captures in docs/ (``python -m tests.tui.capture``), taken again and checked: the
real app in tmux at 50 and 120 columns."""

from __future__ import annotations

from pathlib import Path

from tests.tui.capture import LONG, capture


def test_at_50_columns_the_chat_has_the_width_and_every_word(tmp_path: Path) -> None:
    screen = capture(50, tmp_path)
    lines = screen.splitlines()
    assert all(len(line.rstrip()) <= 50 for line in lines)
    assert "╭─ ChatRoom" not in screen  # the room list folded away
    assert "carol 1!" in lines[0]  # ...and the hint names the private message
    assert "earlier messages" in screen
    start = next(i for i, line in enumerate(lines) if "<bob> the release" in line)
    rows = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.startswith(" " * len("12:34 <bob> ")):
            break
        rows.append(line)
    assert len(rows) > 2
    assert " ".join(" ".join(rows).split()).endswith(LONG)


def test_at_120_columns_rooms_and_members_are_beside_the_chat(tmp_path: Path) -> None:
    screen = capture(120, tmp_path)
    assert "╭─ ChatRoom" in screen
    assert "3 here" in screen
    assert "carol (1!)" in screen
    long_rows = [line for line in screen.splitlines() if "release notes" in line]
    assert long_rows
    assert all(len(line.rstrip()) <= 120 for line in screen.splitlines())
