"""Split a byte stream into IRC lines.

Rules: lines end in LF, optionally preceded by one CR (some clients send bare LF); empty
lines are ignored, as modern docs ask. Memory is bounded: a line longer than ``max_line``
is never kept, its bytes are thrown away up to the next LF, and it is reported once so
the server can answer 417 ERR_INPUTTOOLONG. The result is the same however the stream is
cut into reads.
"""

from __future__ import annotations

from typing import Final

__all__ = ["LINE_TOO_LONG", "LineBuffer", "LineTooLong"]


class LineTooLong:
    """Marker type for a dropped over-long line; compare with ``LINE_TOO_LONG``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "LINE_TOO_LONG"


LINE_TOO_LONG: Final = LineTooLong()


class LineBuffer:
    """Incremental splitter: ``feed`` each read, get the complete lines back.

    The default ``max_line`` is the largest legal line: 8191 bytes of tags plus a 510 byte
    body plus the CR that may precede LF.
    """

    __slots__ = ("_buf", "_discarding", "_max")

    def __init__(self, max_line: int = 8191 + 512) -> None:
        self._max = max_line
        self._buf = b""
        self._discarding = False

    @property
    def pending(self) -> int:
        """Bytes of the partial line kept for the next ``feed``."""
        return len(self._buf)

    @property
    def idle(self) -> bool:
        """Nothing carried over to the next ``feed``: no partial line, none being dropped."""
        return not self._buf and not self._discarding

    def feed(self, data: bytes) -> list[bytes | LineTooLong]:
        """Return the lines completed by ``data``, without CR/LF, in order."""
        if self._discarding:
            newline = data.find(b"\n")
            if newline < 0:
                return []
            data = data[newline + 1 :]
            self._discarding = False
        if self._buf:
            data = self._buf + data
            self._buf = b""
        if b"\r\n" in data:
            # Strips exactly one CR per line ending: "a\r\r\n" keeps one CR.
            data = data.replace(b"\r\n", b"\n")
        lines = data.split(b"\n")
        tail = lines.pop()
        limit = self._max
        out: list[bytes | LineTooLong]
        if lines and max(map(len, lines)) > limit:
            out = [LINE_TOO_LONG if len(line) > limit else line for line in lines if line]
        else:
            out = [line for line in lines if line]
        # A tail one byte over may still be a full line whose CR awaits its LF.
        if len(tail) > limit and not (len(tail) == limit + 1 and tail[-1:] == b"\r"):
            out.append(LINE_TOO_LONG)
            self._discarding = True
        else:
            self._buf = tail
        return out
