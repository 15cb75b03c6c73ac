"""A paste of several lines, shown before it is sent as one message.

The message field holds one line, so a multi-line paste opens this editor instead of
being flattened: the lines keep their breaks and indentation (code, a list), can be
edited, and go only when the user says so (Ctrl+S, or the button). Escape goes back with
nothing sent, as pasting into the wrong window is the usual mistake (Irssi and WeeChat
ask before sending a paste of several lines too).
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static, TextArea

from chatroom.tui.widgets import safe_text

__all__ = ["BlockEditor"]


class BlockEditor(ModalScreen[str | None]):
    """Dismissed with the text to send, or None when the user went back."""

    BINDINGS = [
        Binding("ctrl+s", "send", "Send"),
        Binding("escape", "cancel", "Back"),
    ]

    def __init__(self, text: str, target: str) -> None:
        super().__init__()
        self.text, self.target = text, target

    def compose(self) -> ComposeResult:
        lines = len(self.text.splitlines())
        with Vertical(id="block", classes="dialog"):
            yield Label(safe_text(f"{lines} lines to {self.target}"), classes="title")
            yield TextArea(self.text, id="block-text", soft_wrap=True, show_line_numbers=False)
            yield Static(
                "Sent as one message with its line breaks. Ctrl+S sends, Escape goes back"
                " (nothing sent).",
                classes="hint",
            )
            with Horizontal(classes="buttons"):
                yield Button("Send", variant="primary", id="send")
                yield Button("Back", id="back")

    def on_mount(self) -> None:
        self.query_one("#block-text", TextArea).focus()

    @on(Button.Pressed, "#send")
    def action_send(self) -> None:
        self.dismiss(self.query_one("#block-text", TextArea).text)

    @on(Button.Pressed, "#back")
    def action_cancel(self) -> None:
        self.dismiss(None)
