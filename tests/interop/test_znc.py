"""ZNC in front of ChatRoom, set up exactly as docs/clients.md says, with real programs.

``chatroom serve`` (its self-signed certificate, accounts alice and bob), a real ZNC
(tests/interop/znc_process.py: the config ``znc --makeconf`` writes for the documented
answers), and ``irc`` library clients: alice through ZNC, bob straight to ChatRoom. The
``/msg *status`` and ``/msg *sasl`` lines are read from the documentation's code block
and typed as an IRC client sends them, so a step that stops working there fails here. The checks
are what a bouncer user relies on: the pin and the SASL login, chat both ways, ZNC's
playback buffer, a reconnect, another device of the same account next to ZNC (ChatRoom's
multiclient), a wrong pin refused, and nothing in ZNC's log that shows ChatRoom said
something ZNC did not expect. The whole module shares one server and one ZNC: ZNC takes
seconds to register (it paces its lines to the server).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import irc.client
import pytest

from tests.integration.moderation_support import PASSWORD, config_with_accounts
from tests.interop.znc_process import TempZnc, free_port
from tests.realserver import Client
from tests.serve_process import ServeProcess, store_args

CLIENTS_MD = Path(__file__).resolve().parents[2] / "docs" / "clients.md"
ZNC_PASSWORD = "ZNCPASS"  # ZNC's own login, as in the docs
# ZNC paces what it sends to the server (a line every second or two once its burst is
# spent), so a line through it may take a while on a busy machine.
WAIT = 60.0


def documented_znc_commands() -> list[str]:
    """The code block of docs/clients.md that sets up ZNC's network."""
    blocks = re.findall(r"```\n(.*?)```", CLIENTS_MD.read_text(), re.S)
    block = next(b for b in blocks if "AddNetwork chatroom" in b)
    return [line for line in block.splitlines() if line.strip()]


def type_line(client: Client, line: str) -> None:
    """Send ``line`` as an IRC client would: ``/msg`` and ``/join`` are every client's;
    any other ``/command`` goes to the server as is, as Irssi sends ``/znc ...``."""
    command, _, rest = line.partition(" ")
    if command == "/msg":
        target, _, text = rest.partition(" ")
        client.conn.privmsg(target, text)
    elif command == "/join":
        client.conn.join(rest)
    else:
        assert command.startswith("/"), line
        client.conn.send_raw(f"{command[1:].upper()} {rest}")


def said(
    text: str, nick: str | None = None, kind: str = "pubmsg"
) -> Callable[[irc.client.Event], bool]:
    """A predicate: a ``kind`` event whose text ends with ``text`` (ZNC's playback puts the
    time in front), from ``nick`` if given."""

    def match(event: irc.client.Event) -> bool:
        return (
            event.type == kind
            and bool(event.arguments)
            and event.arguments[-1].endswith(text)
            and (nick is None or irc.client.NickMask(event.source).nick == nick)
        )

    return match


class Bouncer:
    """The server, ZNC set up as documented, alice's client through ZNC, bob direct."""

    def __init__(self, tmp: Path) -> None:
        self.clients: list[Client] = []
        config = config_with_accounts(tmp, "alice", "bob")
        # Fixed ports, so that a restarted server is where ZNC looks for it.
        ports = ("--port", str(free_port()), "--tls-port", str(free_port()))
        self.tmp, self.serve_args = tmp, (*store_args(config), *ports)
        self.server = ServeProcess(tmp, args=self.serve_args)
        try:
            self.znc = TempZnc("alice", ZNC_PASSWORD)
        except BaseException:
            self.server.stop()
            raise
        try:
            self._set_up()
        except BaseException:
            self.close()
            raise

    def _set_up(self) -> None:
        out = self.server.stdout()
        tls = re.search(r"listening for IRC over TLS on \S+:(\d+)", out)
        colon = re.search(r"colon form[^)]*\) ([0-9A-F:]{95})\n", out)
        assert tls, out
        assert colon, out
        self.tls_port, self.fingerprint = int(tls.group(1)), colon.group(1)
        self.bob = self.direct("bob")
        self.bob.conn.join("#lobby")
        self.bob.wait_type("join")
        self.alice = self.through_znc(network=None)
        self.alice.wait_for(
            lambda e: e.type == "privnotice" and "no networks" in e.arguments[0], timeout=WAIT
        )
        for line in documented_znc_commands():
            line = line.replace("52:1E:...", self.fingerprint)
            line = line.replace("127.0.0.1 +6697", f"127.0.0.1 +{self.tls_port}")
            type_line(self.alice, line.replace("PASSWORD", PASSWORD))
        self.alice.wait_for(said("Connected!", "*status", "privmsg"), timeout=WAIT)
        self.alice.wait_for(lambda e: e.type == "join" and e.target == "#lobby", timeout=WAIT)

    def direct(self, account: str) -> Client:
        """A device of ``account`` connected straight to ChatRoom (SASL on loopback)."""
        client = Client(self.server.irc_port, account, PASSWORD, sasl_login=account)
        self.clients.append(client)
        client.wait_type("welcome")
        return client

    def through_znc(self, network: str | None = "chatroom") -> Client:
        """alice's IRC client connected to ZNC, with the documented server password."""
        login = f"alice/{network}" if network else "alice"
        client = Client(self.znc.port, "alice", f"{login}:{ZNC_PASSWORD}")
        self.clients.append(client)
        return client

    def restart_server(self) -> None:
        """Stop ChatRoom and start it again on the same ports and data; bob comes back."""
        self.server.stop()
        self.server = ServeProcess(self.tmp, args=self.serve_args)
        self.bob = self.direct("bob")
        self.bob.conn.join("#lobby")
        self.bob.wait_type("join")

    def reattach(self) -> Client:
        """A new client through ZNC, once ZNC has it in #lobby (its JOIN replay)."""
        self.alice = self.through_znc()
        self.alice.wait_for(lambda e: e.type == "join" and e.target == "#lobby", timeout=WAIT)
        return self.alice

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self.znc.stop()
        self.server.stop()


@pytest.fixture(scope="module")
def bnc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bouncer]:
    made = Bouncer(tmp_path_factory.mktemp("bouncer"))
    try:
        yield made
    finally:
        made.close()


def test_znc_set_up_as_documented_pins_the_certificate_and_logs_in_with_sasl(
    bnc: Bouncer,
) -> None:
    log = bnc.znc.log()
    assert f"Cert explicitly trusted by user: {bnc.fingerprint.lower()}" in log
    assert "sasl: Authenticated with mechanism [PLAIN]" in log
    bnc.bob.conn.whois(["alice"])
    bnc.bob.wait_for(
        lambda e: e.type == "all_raw_messages" and " 330 bob alice alice " in e.arguments[0]
    )


def test_a_client_through_znc_and_a_direct_client_chat_both_ways(bnc: Bouncer) -> None:
    alice, bob = bnc.alice, bnc.bob
    alice.conn.privmsg("#lobby", "hello from behind znc")
    bob.wait_for(said("hello from behind znc", "alice"), timeout=WAIT)
    bob.conn.privmsg("#lobby", "hello to znc")
    alice.wait_for(said("hello to znc", "bob"), timeout=WAIT)
    bob.conn.privmsg("alice", "a private word")
    alice.wait_for(said("a private word", "bob", "privmsg"), timeout=WAIT)
    alice.conn.privmsg("bob", "a private answer")
    bob.wait_for(said("a private answer", "alice", "privmsg"), timeout=WAIT)


def test_znc_plays_back_what_was_said_while_no_client_was_attached(bnc: Bouncer) -> None:
    mark = len(bnc.znc.log())
    bnc.alice.close()
    bnc.znc.wait_log(r"USR::alice == Disconnected\(\)", start=mark)
    bnc.bob.conn.privmsg("#lobby", "while you were out 1")
    bnc.bob.conn.privmsg("#lobby", "while you were out 2")
    bnc.bob.conn.privmsg("alice", "a private word while you were out")
    bnc.znc.wait_log(r"IRC -> ZNC \[.*PRIVMSG alice :a private word while you were out\]")
    alice = bnc.reattach()
    alice.wait_for(said("Playback Complete.", "***"), timeout=WAIT)
    alice.wait_for(said("a private word while you were out", "bob", "privmsg"), timeout=WAIT)
    room = [e.arguments[0] for e in alice.events if e.type == "pubmsg"]
    start = room.index("Buffer Playback...")
    assert room[start + 1].endswith("while you were out 1"), room
    assert room[start + 2].endswith("while you were out 2"), room
    assert room[start + 3] == "Playback Complete.", room


def test_after_znc_reconnects_it_is_back_in_the_room_with_its_nick(bnc: Bouncer) -> None:
    alice, bob = bnc.alice, bnc.bob
    alice.events.clear()  # from here on: what the reconnect brings
    bob.events.clear()
    alice.conn.send_raw("ZNC Jump")
    alice.wait_for(said("Connected!", "*status", "privmsg"), timeout=WAIT)
    alice.wait_for(lambda e: e.type == "join" and e.target == "#lobby", timeout=WAIT)
    bob.wait_for(
        lambda e: e.type == "join" and irc.client.NickMask(e.source).nick == "alice", timeout=WAIT
    )
    alice.conn.privmsg("#lobby", "back after a reconnect")
    bob.wait_for(said("back after a reconnect", "alice"), timeout=WAIT)
    bob.conn.privmsg("#lobby", "welcome back")
    alice.wait_for(said("welcome back", "bob"), timeout=WAIT)
    bob.conn.names(["#lobby"])
    names = bob.wait_for(
        lambda e: e.type == "namreply" and e.arguments[1] == "#lobby", timeout=WAIT
    )
    assert names.arguments[2].split().count("alice") == 1, names.arguments
    nicks = {irc.client.NickMask(e.source).nick for e in bob.events if e.type == "nick"}
    assert not nicks, nicks  # no alice_ on the way


def test_after_a_server_restart_znc_logs_in_again_and_chat_goes_on(bnc: Bouncer) -> None:
    alice = bnc.alice
    logins = bnc.znc.log().count("sasl: Authenticated with mechanism [PLAIN]")
    alice.events.clear()
    bnc.restart_server()
    alice.wait_for(said("Connected!", "*status", "privmsg"), timeout=WAIT)
    alice.wait_for(lambda e: e.type == "join" and e.target == "#lobby", timeout=WAIT)
    assert bnc.znc.log().count("sasl: Authenticated with mechanism [PLAIN]") == logins + 1
    alice.conn.privmsg("#lobby", "back after the restart")
    bnc.bob.wait_for(said("back after the restart", "alice"), timeout=WAIT)
    bnc.bob.conn.privmsg("#lobby", "the server is back")
    alice.wait_for(said("the server is back", "bob"), timeout=WAIT)


def test_a_laptop_logged_in_directly_shares_the_nick_with_znc(bnc: Bouncer) -> None:
    alice, bob = bnc.alice, bnc.bob
    bob.events.clear()
    laptop = bnc.direct("alice")
    assert laptop.conn.get_nickname() == "alice"
    laptop.wait_for(lambda e: e.type == "join" and e.target == "#lobby", timeout=WAIT)
    laptop.conn.privmsg("#lobby", "from the laptop")
    bob.wait_for(said("from the laptop", "alice"), timeout=WAIT)
    alice.wait_for(said("from the laptop", "alice"), timeout=WAIT)  # ZNC sees its user speak
    bob.conn.privmsg("#lobby", "to both devices")
    laptop.wait_for(said("to both devices", "bob"), timeout=WAIT)
    alice.wait_for(said("to both devices", "bob"), timeout=WAIT)
    laptop.close()
    bob.conn.privmsg("#lobby", "after the laptop left")
    alice.wait_for(said("after the laptop left", "bob"), timeout=WAIT)
    kinds = [e.type for e in bob.events if e.type in ("join", "part", "quit", "nick")]
    assert kinds == [], kinds  # bob never saw the laptop come or go


def test_a_private_message_kept_while_znc_was_offline_reaches_it_as_a_notice(
    bnc: Bouncer,
) -> None:
    """ZNC has neither batch nor draft/chathistory: what ChatRoom kept for the account comes
    as server NOTICEs when ZNC logs in again, and ZNC hands them to its client."""
    alice, bob = bnc.alice, bnc.bob
    bob.events.clear()
    alice.conn.send_raw("ZNC Disconnect")
    bob.wait_for(
        lambda e: e.type == "quit" and irc.client.NickMask(e.source).nick == "alice", timeout=WAIT
    )
    bob.conn.privmsg("alice", "kept for you while znc was away")
    bob.wait_for(said("will be delivered when they log in", kind="privnotice"), timeout=WAIT)
    alice.events.clear()
    alice.conn.send_raw("ZNC Connect")
    alice.wait_for(said("While you were away: 1 message(s)", kind="privnotice"), timeout=WAIT)
    alice.wait_for(said("<bob> kept for you while znc was away", kind="privnotice"), timeout=WAIT)
    alice.wait_for(lambda e: e.type == "join" and e.target == "#lobby", timeout=WAIT)


def test_with_a_wrong_password_znc_stops_and_recovers_as_documented(bnc: Bouncer) -> None:
    """RequireAuth: a failed SASL login disables the network instead of going on as a
    guest; the right password and ``Connect`` bring it back (docs/clients.md)."""
    alice, bob = bnc.alice, bnc.bob
    alice.events.clear()
    alice.conn.privmsg("*sasl", "Set alice not-the-password")
    alice.conn.send_raw("ZNC Jump")
    alice.wait_for(said("we require authentication.", "*sasl", "privmsg"), timeout=WAIT)
    bob.events.clear()
    bob.conn.whois(["alice"])
    bob.wait_type("endofwhois")
    assert not [e for e in bob.events if e.type == "whoisuser"]  # no guest alice meanwhile
    alice.conn.privmsg("*sasl", f"Set alice {PASSWORD}")
    alice.conn.privmsg("*status", "Connect")
    alice.wait_for(said("Connected!", "*status", "privmsg"), timeout=WAIT)
    alice.wait_for(lambda e: e.type == "join" and e.target == "#lobby", timeout=WAIT)


def test_znc_refuses_a_server_whose_certificate_is_not_the_pinned_one(bnc: Bouncer) -> None:
    setup = bnc.through_znc()
    setup.wait_type("welcome", timeout=WAIT)
    wrong = ":".join(["AB"] * 32)
    for line in (
        "ZNC AddNetwork impostor",
        "ZNC JumpNetwork impostor",
        f"ZNC AddTrustedServerFingerprint {wrong}",
        f"ZNC AddServer 127.0.0.1 +{bnc.tls_port}",
    ):
        setup.conn.send_raw(line)
    found = bnc.znc.wait_log(r"IRC::alice::impostor == SockError\([^)]*Invalid SSL certificate")
    setup.conn.send_raw("ZNC DelNetwork impostor")
    setup.wait_for(said("Network deleted", "*status", "privmsg"), timeout=WAIT)
    setup.close()
    # ZNC logs a TCP "Connected()" before it checks the certificate; what matters is that
    # it never took a line from that server.
    assert "(alice/impostor) IRC -> ZNC" not in bnc.znc.log()[: found.end()]


def test_chatroom_never_answered_znc_with_an_error(bnc: Bouncer) -> None:
    """Last: ZNC's log of every line ChatRoom sent it during the tests above."""
    complaints = [
        line
        for line in bnc.znc.log().splitlines()
        if re.search(r"IRC -> ZNC \[(@\S+ )?:\S+ ([45]\d\d|FAIL|WARN) ", line)
    ]
    assert complaints == []
    assert "IRC -> ZNC [:chatroom.local CAP alice ACK sasl]" in bnc.znc.log()
