"""Room names that would look like another room, or act on terminals, are refused (479)."""

from __future__ import annotations

from collections.abc import Callable

from tests.realserver import Client


def test_a_room_name_with_a_zero_width_space_or_escape_code_is_refused(
    connect: Callable[[str], Client],
) -> None:
    mallory = connect("mallory")
    for name in ("#lob\u200bby", "#news\u202e", "#\x1b[2Jclear"):
        mallory.conn.join(name)
    mallory.conn.list()
    mallory.wait_type("listend")
    refused = [line for line in mallory.raw_lines() if " 479 " in line]
    assert len(refused) == 3
    listed = [e.arguments[0] for e in mallory.events if e.type == "list"]
    assert listed == ["#lobby"]


def test_a_room_name_with_an_invisible_combining_mark_is_refused(
    connect: Callable[[str], Client],
) -> None:
    """U+034F and the variation selectors draw nothing although they are "marks": with
    them `#lob\u034fby` and `#lobby\ufe0f` were created, each looking like #lobby."""
    mallory = connect("mallory")
    for name in ("#lob\u034fby", "#lobby\ufe0f", "#lobby\U000e0100"):
        mallory.conn.join(name)
    mallory.conn.list()
    mallory.wait_type("listend")
    refused = [line for line in mallory.raw_lines() if " 479 " in line]
    assert len(refused) == 3
    assert "U+034F is a control, formatting or invisible character" in refused[0]
    listed = [e.arguments[0] for e in mallory.events if e.type == "list"]
    assert listed == ["#lobby"]
