"""Random command sequences from several simulated clients never break the core.

The core promises (docs/architecture.md) that no input takes the server down: a handler's
unexpected exception is logged, answered with 400, and the connection stays up. That
promise hides bugs as well as it contains them, so here a logged exception is a failure.
After every step the tables the core keeps in step by hand must still agree: the nick
table with the sessions, each session's rooms with each room's members; no empty room
lingers unless it is permanent; and every line sent parses and fits the length limits,
because a client that receives a line it cannot parse is as broken as one that crashed.

The inputs are drawn from a grammar of real commands with odd arguments (colliding
nicks under rfc1459 casemapping, keys, mode strings, services, SASL data), plus raw text
and raw bytes through the real line framer, abrupt drops and clock ticks.
"""

from __future__ import annotations

import base64
import logging
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from chatroom.irc.framing import LINE_TOO_LONG, LineBuffer
from chatroom.irc.message import MAX_BODY, MAX_TAGS, parse
from chatroom.server.core.admission import address_group
from chatroom.server.core.world import World
from chatroom.server.harness import Harness, SimClient

# ----------------------------------------------------------------------------- grammar

# Few names, so that collisions (and rfc1459 folding: [ ] \ ~ equal { } | ^) are common.
NICKS = ["alice", "Alice", "bob", "d[a]ve", "D{A}VE", "x^", "X~", "NickServ", "ChanServ",
         "oper", "9bad", "*", "a" * 40, "caf\u00e9", "-", "a,b"]  # fmt: skip
ROOMS = ["#lobby", "#a", "#A", "#b", "#{x}", "#[X]", "&local", "bad", "#", "#a,#b",
         "#" + "r" * 60, "#caf\u00e9", "#a\x07b"]  # fmt: skip
KEYS = ["k", "sekrit", "x,y", "*", ":k"]
MASKS = ["*!*@*", "alice!*@*", "*!*@127.0.0.1", "a:alice", "$a:bob", "bad", "*"]
TARGETS = [*NICKS, *ROOMS, "NickServ", "ChanServ", "@#a", "+#lobby", "$*", "alice,bob,#a"]
CAPS = ["sasl", "echo-message", "message-tags", "server-time", "account-tag", "batch",
        "labeled-response", "draft/chathistory", "away-notify", "extended-join",
        "multi-prefix", "userhost-in-names", "invite-notify", "account-notify", "chghost",
        "setname", "cap-notify", "extended-monitor", "draft/account-registration",
        "draft/pre-away", "no-implicit-names", "sts", "no-such-cap"]  # fmt: skip
MODE_LETTERS = "+-ntiksmlobvIeqhaRrwZC"
OPER_ACCOUNT, OPER_PASSWORD = "oper", "operpass1"
PLAIN_COMMANDS = ["PING x", "PONG chatroom.local", "BANS", "MUTES", "ISON alice bob", "HELP",
                  "USERHOST alice bob", "INFO", "TIME", "ADMIN", "QUIT :bye", "NAMES", "LIST",
                  "LIST >0", "LIST #a,#b", "LUSERS", "MOTD", "VERSION", "LINKS", "WALLOPS :hi",
                  "LIST C<5,!#a*,T>0,#*", "AWAY *"]  # fmt: skip

nicks = st.sampled_from(NICKS)
rooms = st.sampled_from(ROOMS)
targets = st.sampled_from(TARGETS)
words = st.text(
    st.characters(codec="utf-8", exclude_characters="\r\n\0 "), min_size=1, max_size=12
).filter(lambda w: not w.startswith(":"))
texts = st.text(st.characters(codec="utf-8", exclude_characters="\r\n\0"), max_size=40) | (
    st.sampled_from(["\x01ACTION waves\x01", "\x01VERSION\x01", "", " ", ":", "x" * 600])
)
args = st.sampled_from(NICKS + ROOMS + KEYS + MASKS + ["0", "-1", "99999999999", "5"]) | words
tag_sections = st.sampled_from(
    ["", "@label=l1 ", "@+draft/reply=x;+typing=active ", "@time=bad ", "@batch=b ", "@a=\\ "]
)


def _join_params(params: list[str], last: str | None) -> str:
    out = " ".join(params)
    if last is not None:
        out += " :" + last
    return out


@st.composite
def mode_lines(draw: st.DrawFn) -> str:
    target = draw(rooms | nicks)
    modes = draw(st.text(MODE_LETTERS, max_size=8))
    margs = draw(st.lists(args, max_size=4))
    return f"MODE {target} {modes} {' '.join(margs)}".rstrip()


@st.composite
def cap_lines(draw: st.DrawFn) -> str:
    sub = draw(st.sampled_from(["LS", "LS 302", "LIST", "REQ", "END", "ACK", "BOGUS"]))
    if sub == "REQ":
        chosen = draw(st.lists(st.sampled_from(CAPS), max_size=6))
        chosen = [draw(st.sampled_from(["", "-"])) + c for c in chosen]
        return f"CAP REQ :{' '.join(chosen)}"
    return f"CAP {sub}"


@st.composite
def authenticate_lines(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["mech", "plain", "junk", "chunk", "abort", "plus"]))
    if kind == "mech":
        return "AUTHENTICATE " + draw(st.sampled_from(["PLAIN", "EXTERNAL", "SCRAM-SHA-256", "X"]))
    if kind == "plain":
        user = draw(st.sampled_from([OPER_ACCOUNT, "alice", "nobody", ""]))
        password = draw(st.sampled_from([OPER_PASSWORD, "wrongpass1", "", "pass words"]))
        raw = f"{draw(st.sampled_from(['', user]))}\0{user}\0{password}".encode()
        return "AUTHENTICATE " + base64.b64encode(raw).decode()
    if kind == "chunk":
        return "AUTHENTICATE " + "QUFB" * 100  # exactly 400: more is announced
    if kind == "abort":
        return "AUTHENTICATE *"
    if kind == "plus":
        return "AUTHENTICATE +"
    return "AUTHENTICATE " + draw(words)


@st.composite
def chathistory_lines(draw: st.DrawFn) -> str:
    sub = draw(st.sampled_from(["LATEST", "BEFORE", "AFTER", "AROUND", "BETWEEN", "TARGETS", "X"]))
    refs = st.sampled_from(
        ["*", "timestamp=2027-01-15T08:00:00.000Z", "msgid=1", "msgid=", "timestamp=bad", "x"]
    )
    target = draw(rooms | nicks)
    limit = draw(st.sampled_from(["10", "0", "-5", "100000", "x"]))
    if sub == "BETWEEN":
        return f"CHATHISTORY BETWEEN {target} {draw(refs)} {draw(refs)} {limit}"
    if sub == "TARGETS":
        return f"CHATHISTORY TARGETS {draw(refs)} {draw(refs)} {limit}"
    return f"CHATHISTORY {sub} {target} {draw(refs)} {limit}"


def _simple(template: str, *parts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(*parts).map(lambda values: template.format(*values))


optional_text = st.none() | texts
# Talk in the rooms everyone is in, so fan-out with every tag variant runs often.
chat_lines = st.tuples(
    st.sampled_from(["PRIVMSG", "NOTICE", "PRIVMSG", "@+draft/reply=1 PRIVMSG"]),
    st.sampled_from(["#a", "#b", "#lobby", "bob", "alice", "#a,bob"]),
    texts,
).map(lambda p: f"{p[0]} {p[1]} :{p[2]}")
# The everyday commands, drawn as often as all the rest together.
common_lines = st.one_of(
    _simple("NICK {}", nicks),
    _simple("USER {} 0 * :{}", words, texts),
    _simple("PASS {}", args),
    _simple("JOIN {}", rooms),
    _simple("JOIN {} {}", rooms, st.sampled_from(KEYS)),
    _simple("JOIN {}", st.sampled_from(["0", "#a,#b k1,k2", "#a,#b,#lobby", ":"])),
    st.tuples(rooms, optional_text).map(lambda p: _join_params(["PART", p[0]], p[1])),
    st.tuples(st.sampled_from(["PRIVMSG", "NOTICE"]), targets, texts).map(
        lambda p: f"{p[0]} {p[1]} :{p[2]}"
    ),
    _simple("@+typing=active TAGMSG {}", targets),
    mode_lines(),
    st.tuples(rooms, optional_text).map(lambda p: _join_params(["TOPIC", p[0]], p[1])),
    _simple("KICK {} {} :{}", rooms, nicks, texts),
    _simple("INVITE {} {}", nicks, rooms),
)
other_lines = st.one_of(
    _simple("WHO {}", rooms | nicks | st.just("*")),
    _simple("WHO {} %tcuhnfar,42", rooms | nicks),
    _simple("WHOIS {}", nicks),
    _simple("WHOWAS {}", nicks),
    _simple("NAMES {}", rooms),
    st.tuples(optional_text).map(lambda p: _join_params(["AWAY"], p[0])),
    cap_lines(),
    authenticate_lines(),
    _simple("REGISTER {} {} {}", nicks | st.just("*"), st.sampled_from(["*", "a@b.c"]), args),
    _simple("REGISTER * * {}", st.sampled_from(["goodpassword", "short"])),
    _simple("PRIVMSG NickServ :{} {}", st.sampled_from(["REGISTER", "IDENTIFY"]), args),
    _simple(
        "NS {}",
        st.sampled_from(
            ["INFO", "LOGOUT", "HELP", "GHOST alice", "REGAIN bob", "SET EMAIL x", "DROP"]
        ),
    ),
    _simple(
        "NS CERT {} {} {}",
        st.sampled_from(["LIST", "ADD", "DEL", "X"]),
        nicks | st.just(""),
        st.sampled_from(["", "ab" * 32, "AB:" * 31 + "AB", "zz"]),
    ),
    _simple("CS {} {}", st.sampled_from(["REGISTER", "DROP", "INFO", "OP", "ACCESS"]), rooms),
    _simple("PRIVMSG ChanServ :ACCESS {} ADD {}", rooms, nicks),
    chathistory_lines(),
    _simple(
        "MONITOR {} {}", st.sampled_from(["+", "-"]), st.lists(nicks, max_size=4).map(",".join)
    ),
    st.sampled_from(["MONITOR C", "MONITOR L", "MONITOR S", "MONITOR X"]),
    _simple("OPER {} {}", st.sampled_from([OPER_ACCOUNT, "alice"]), st.just(OPER_PASSWORD)),
    _simple("KILL {} :{}", nicks, texts),
    _simple("BAN {} {} :{}", st.sampled_from(MASKS + NICKS), st.sampled_from(["1m", "x"]), texts),
    _simple("UNBAN {}", st.sampled_from(MASKS + NICKS)),
    _simple("MUTE {} 1m :{}", nicks, texts),
    _simple("UNMUTE {}", nicks),
    _simple("TBAN {} 1m {}", rooms, st.sampled_from(MASKS)),
    _simple("CHGHOST {} {} {}", nicks, words, words),
    _simple("SETNAME :{}", texts),
    st.sampled_from(PLAIN_COMMANDS),
    texts,  # raw text: unknown commands, empty lines, lines with a source prefix
)
lines = st.one_of(chat_lines, common_lines, other_lines)
tagged_lines = st.tuples(tag_sections, lines).map("".join)

# ----------------------------------------------------------------------------- invariants


class _Recorder(logging.Handler):
    """Keeps every error the server logs: the dispatcher logs what it catches at ERROR."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def _recording_errors() -> Iterator[_Recorder]:
    recorder = _Recorder()
    logger = logging.getLogger("chatroom")
    logger.addHandler(recorder)
    try:
        yield recorder
    finally:
        logger.removeHandler(recorder)


def check_tables(world: World) -> None:
    """The bookkeeping the core keeps in step by hand still agrees with itself."""
    fold = world.fold
    for session_id, session in world.sessions.items():
        assert session.id == session_id
        assert not session.closed, f"closed session {session_id} still in the table"
        assert session in session.owner.conns, f"session {session_id} not on its user"
        if session.registered:
            assert world.nicks.find(session.nick) is session.owner, session.nick
        for key, channel in session.channels.items():
            assert key == fold(channel.name)
            assert world.rooms.get(key) is channel, f"{session.nick} in a gone {key}"
            assert session.owner in channel.members
            assert session in channel.sessions
    for key, user in world.nicks.items():
        assert key == fold(user.nick), (key, user.nick)
        for conn in user.conns:
            assert world.sessions.get(conn.id) is conn, f"nick {key} of a gone session"
    for key, channel in world.rooms.items():
        assert key == fold(channel.name)
        assert channel.members or channel.permanent, f"empty room {channel.name} kept"
        for member in channel.members:
            assert member.registered
            assert member.channels.get(key) is channel, f"{member.nick} lost {key}"
        expected = {conn for member in channel.members for conn in member.conns}
        assert set(channel.sessions) == expected, f"{key}: connections out of step"
    assert world.census.registered == sum(s.registered for s in world.sessions.values())
    # Per-address counts decide who may connect: a leak here locks an address out.
    groups = Counter(address_group(world, s.ip) for s in world.sessions.values())
    assert world.per_address == dict(groups)
    # MONITOR lists of gone sessions would keep them alive and notified forever.
    for watcher, watched in world.monitor.lists.items():
        assert world.sessions.get(watcher.id) is watcher, "MONITOR list of a gone session"
        for folded in watched:
            assert watcher in world.monitor.watchers[folded]
    for folded, watchers in world.monitor.watchers.items():
        assert watchers, f"empty watcher set for {folded} kept"
        for watcher in watchers:
            assert folded in world.monitor.lists.get(watcher, {})


def check_output(raw: bytes) -> None:
    """A line the server sent: CRLF-ended UTF-8 that parses, within the IRC length limits."""
    assert raw.endswith(b"\r\n"), raw
    body = raw[:-2]
    for forbidden in (b"\r", b"\n", b"\0"):
        assert forbidden not in body, raw
    raw.decode("utf-8")  # UTF8ONLY: the server never relays anything else
    if body.startswith(b"@"):
        tags, _, rest = body.partition(b" ")
        assert len(tags) + 1 <= MAX_TAGS, raw
    else:
        rest = body
    assert len(rest) + 2 <= MAX_BODY, f"{len(rest) + 2} bytes: {raw[:120]!r}..."
    parse(body)


# ----------------------------------------------------------------------------- the machine


def register(harness: Harness, nick: str, caps: list[str]) -> SimClient:
    """A registered client whose welcome burst stays in its inbox, to be checked too
    (``Harness.connect`` throws it away)."""
    client = SimClient(harness, "127.0.0.1", False)
    if caps:
        client.send("CAP LS 302", f"CAP REQ :{' '.join(caps)}")
    client.send(f"NICK {nick}", f"USER {nick} 0 * :{nick} real")
    if caps:
        client.send("CAP END")
    return client


IPS = ["127.0.0.1", "::1", "10.0.0.7", "2001:db8::5"]


class CoreFuzz(RuleBasedStateMachine):
    """Several clients, one world; each rule is one input the shell could give the core."""

    def __init__(self) -> None:
        super().__init__()
        self.harness = Harness()
        self.harness.add_account(OPER_ACCOUNT, OPER_PASSWORD, oper=True)
        self.clients: list[SimClient] = []
        self.framers: dict[int, LineBuffer] = {}
        self._errors = _recording_errors()
        self.recorder = self._errors.__enter__()

    def teardown(self) -> None:
        self._errors.__exit__(None, None, None)

    def _open(self) -> list[SimClient]:
        return [c for c in self.clients if c.closed_reason is None and not c.session.closed]

    @initialize(count=st.integers(1, 3), caps=st.lists(st.sampled_from(CAPS), max_size=8))
    def start(self, count: int, caps: list[str]) -> None:
        """A few registered clients to begin with, so most steps reach registered handlers."""
        for i in range(count):
            self.clients.append(register(self.harness, ["alice", "bob", "d[a]ve"][i], caps))

    @rule(ip=st.sampled_from(IPS), secure=st.booleans(), nick=st.none() | nicks)
    def connect(self, ip: str, secure: bool, nick: str | None) -> None:
        if len(self.clients) < 12:
            self.clients.append(self.harness.connect(nick, ip=ip, secure=secure))

    @precondition(lambda self: self._open())
    @rule(index=st.integers(0, 11), line=tagged_lines)
    def send_line(self, index: int, line: str) -> None:
        open_clients = self._open()
        open_clients[index % len(open_clients)].send(line)

    @precondition(lambda self: self._open())
    @rule(index=st.integers(0, 11), data=st.binary(max_size=700))
    def send_bytes(self, index: int, data: bytes) -> None:
        """Raw bytes through the real framer, as the shell reads them from a socket."""
        open_clients = self._open()
        client = open_clients[index % len(open_clients)]
        framer = self.framers.setdefault(client.session.id, LineBuffer())
        world = self.harness.world
        for line in framer.feed(data):
            if line is LINE_TOO_LONG:
                world.receive_too_long(client.session)
            else:
                assert isinstance(line, bytes)
                world.receive(client.session, line)
            self.harness.pump()

    @precondition(lambda self: self._open())
    @rule(index=st.integers(0, 11))
    def drop(self, index: int) -> None:
        open_clients = self._open()
        open_clients[index % len(open_clients)].drop()

    @rule(seconds=st.sampled_from([0.0, 1.0, 31.0, 61.0, 125.0, 3600.0]))
    def tick(self, seconds: float) -> None:
        self.harness.tick(seconds)

    @invariant()
    def nothing_logged_as_an_error(self) -> None:
        if self.recorder.records:
            record = self.recorder.records[0]
            raise AssertionError(f"core logged: {record.getMessage()}") from (
                record.exc_info[1] if record.exc_info else None
            )

    @invariant()
    def tables_agree(self) -> None:
        check_tables(self.harness.world)

    @invariant()
    def every_line_sent_is_well_formed(self) -> None:
        for client in self.clients:
            raw, client.inbox = client.inbox, []
            for line in raw:
                check_output(line)


CoreFuzz.TestCase.settings = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")),
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_random_sessions_keep_the_core_consistent = CoreFuzz.TestCase


# ----------------------------------------------------------------------------- a denser mix

ROSTER = ["alice", "bob", "d[a]ve", "x^"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.integers(0, len(ROSTER) - 1), tagged_lines), min_size=10, max_size=100),
    st.lists(st.sampled_from(CAPS), max_size=10),
)
def test_registered_clients_in_shared_rooms_survive_any_command_sequence(
    steps: list[tuple[int, str]], caps: list[str]
) -> None:
    """Everyone starts registered, opered or not, in the same rooms, so the commands that
    need company (KICK, MODE +o, INVITE, fan-out with every tag variant) run for real."""
    harness = Harness()
    harness.add_account(OPER_ACCOUNT, OPER_PASSWORD, oper=True)
    with _recording_errors() as recorder:
        clients = [register(harness, nick, caps[i::2]) for i, nick in enumerate(ROSTER)]
        clients[0].send(f"OPER {OPER_ACCOUNT} {OPER_PASSWORD}")
        for client in clients:
            client.send("JOIN #a,#b,#lobby")
        for index, line in steps:
            clients[index].send(line)
            assert not recorder.records, recorder.records[0].getMessage()
            check_tables(harness.world)
            for client in clients:
                raw, client.inbox = client.inbox, []
                for out in raw:
                    check_output(out)
