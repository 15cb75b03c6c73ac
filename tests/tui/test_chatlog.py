"""The log widget on its own, in a bare Textual app: scrolling, wrapping, rules."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from textual.app import App, ComposeResult

from chatroom.client.state import LineKind, Show
from chatroom.tui.chatlog import MessageLog

AT = datetime(2030, 1, 1, 12, tzinfo=UTC)


def line(n: int, text: str = "", nick: str = "bob", **flags: Any) -> Show:
    when = AT + timedelta(seconds=n)
    return Show("#r", LineKind.MESSAGE, nick, text or f"line {n}", when, **flags)


class LogApp(App[None]):
    def compose(self) -> ComposeResult:
        yield MessageLog(id="log")


def rows(log: MessageLog) -> list[str]:
    return ["".join(seg.text for seg in strip).rstrip() for strip in log.lines]


def test_a_reader_scrolled_up_stays_put_and_one_at_the_end_follows() -> None:
    async def scenario() -> None:
        app = LogApp()
        async with app.run_test(size=(60, 10)) as pilot:
            log = app.query_one(MessageLog)
            log.show_lines([line(n) for n in range(50)], to_end=True)
            await pilot.pause()
            assert log.scroll_y == log.max_scroll_y > 0
            log.add_lines([line(50)])
            await pilot.pause()
            assert log.scroll_y == log.max_scroll_y  # followed the new line
            log.scroll_home(animate=False)
            await pilot.pause()
            log.add_lines([line(51)])
            log.show_lines([line(n) for n in range(-10, 52)])  # older lines fetched
            await pilot.pause()
            assert log.scroll_y == 0
            assert "January 2030" in rows(log)[0]  # the day, then the oldest line
            assert rows(log)[1].endswith("line -10")

    asyncio.run(scenario())


def test_long_words_fold_and_a_long_nick_on_a_narrow_log_gives_up_the_indent() -> None:
    async def scenario() -> None:
        app = LogApp()
        async with app.run_test(size=(30, 10)) as pilot:
            log = app.query_one(MessageLog)
            nick = "averyveryverylongnick"
            log.show_lines([line(1, "x" * 70), line(2, "short words here and there", nick)])
            await pilot.pause()
            width = log.scrollable_content_region.width
            assert all(len(row) <= width for row in rows(log))
            assert "".join(r.strip() for r in rows(log)).count("x") == 70
            tail = rows(log)[rows(log).index(next(r for r in rows(log) if nick in r)) + 1 :]
            assert tail
            assert all(r.startswith(" " * 6) and not r.startswith(" " * 7) for r in tail)

    asyncio.run(scenario())
