"""Logs on stderr: readable lines for people by default, one JSON object per line for
machines (``--log-format json``, for journald and log shippers).

Log lines carry text that strangers chose (a login name in "login failed", a reason): the
readable format shows its controls as visible characters (``terminal_safe``'s rule), so an
escape sequence in an account name cannot retitle or clear the operator's terminal, and
quotes a field with spaces, so a value cannot pass for more fields. Bidi controls and
invisible marks are written as ``<U+202E>``: they reorder or hide what an operator reads
(a right-to-left override makes ``login failed account=x`` display backwards).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time

from chatroom.irc.formatting import visible_controls

# Marks that draw nothing or reorder text: bidi embeddings, overrides and isolates,
# directional marks, zero-width characters, the word joiner and the byte order mark.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")

# Attributes every LogRecord has; anything else came from ``extra=`` and is logged as a field.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message"}


def _fields(record: logging.LogRecord, node: str = "") -> dict[str, object]:
    """The record's own fields; on a node of a network its name too (``--workers`` share
    one stderr: a line that did not name its node could be any worker's)."""
    fields = {key: value for key, value in record.__dict__.items() if key not in _STANDARD}
    if node:
        fields.setdefault("node", node)
    return fields


class JsonFormatter(logging.Formatter):
    def __init__(self, node: str = "") -> None:
        super().__init__()
        self.node = node

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update(_fields(record, self.node))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class HumanFormatter(logging.Formatter):
    """``2030-01-31 19:04:05 INFO listening kind=irc host=127.0.0.1 port=6667``: local date
    and time, level, message, then the structured fields as key=value. The date is there
    for a log kept in a file (``2>> chatroom.log``), where a time alone names no day."""

    def __init__(self, node: str = "") -> None:
        super().__init__()
        self.node = node

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.created))
        named = _fields(record, self.node).items()
        fields = " ".join(f"{key}={_field(value)}" for key, value in named)
        line = f"{stamp} {record.levelname} {_readable(record.getMessage())}"
        if fields:
            line += " " + fields
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _readable(text: str) -> str:
    """Controls shown as printable characters, invisible and bidi marks by code point."""
    return _INVISIBLE.sub(lambda m: f"<U+{ord(m.group()):04X}>", visible_controls(text))


def _field(value: object) -> str:
    text = _readable(str(value))
    if not text or any(c.isspace() or c in '"=' for c in text):
        return json.dumps(text, ensure_ascii=False)
    return text


def error_text(err: BaseException) -> str:
    """An error's message on one line, for a log field. Libraries (libpq above all) end
    their messages with newlines or spread them over several lines; as a field those showed
    as ``␊`` between the parts, which reads like damaged text rather than a second line."""
    lines = (line.strip() for line in str(err).splitlines())
    return "; ".join(line for line in lines if line) or type(err).__name__


def setup(level: str = "INFO", fmt: str = "human", node: str = "") -> None:
    """``node``: a network node's name, added to each line that does not name one."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(node) if fmt == "json" else HumanFormatter(node))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
