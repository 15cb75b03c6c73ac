"""IRCv3 draft/pre-away, no-implicit-names and sts, and CAP LS offering exactly what exists."""

from __future__ import annotations

from pathlib import Path

from chatroom.irc import numerics as n
from chatroom.server.harness import Harness, SimClient
from tests.server.support import codes, one

COMMANDS_DOC = Path(__file__).resolve().parents[2] / "docs" / "commands.md"


def _cap_ls(client: SimClient) -> dict[str, str | None]:
    """CAP LS 302 as name -> value (None when the cap has no value)."""
    offered: dict[str, str | None] = {}
    for msg in client.cmd("CAP LS 302"):
        for token in msg.params[-1].split():
            name, sep, value = token.partition("=")
            offered[name] = value if sep else None
    return offered


# ----------------------------------------------------------------------------- CAP LS


def test_cap_ls_offers_exactly_the_documented_capabilities() -> None:
    """Each capability offered is listed in docs/commands.md, and each new one is offered."""
    offered = _cap_ls(Harness().connect())
    doc = COMMANDS_DOC.read_text()
    assert [name for name in offered if f"`{name}`" not in doc] == []
    for name in ("draft/pre-away", "no-implicit-names", "draft/no-implicit-names"):
        assert name in offered
    assert "sts" not in offered  # no operator certificate: no policy


# ----------------------------------------------------------------------------- pre-away


def test_pre_away_lets_away_come_before_the_welcome() -> None:
    """draft/pre-away: "servers MUST accept the AWAY command before connection
    registration has completed"; the away state then holds once registered."""
    h = Harness()
    c = h.connect()
    c.send("CAP LS 302", "CAP REQ :draft/pre-away")
    assert codes(c.cmd("AWAY :back after lunch")) == [n.RPL_NOWAWAY]
    c.send("NICK early", "USER early 0 * :Early", "CAP END")
    asker = h.connect("asker")
    reply = one(asker.cmd("WHOIS early"), n.RPL_AWAY)
    assert reply.params[1:] == ("early", "back after lunch")


def test_pre_away_star_means_away_for_no_stated_reason() -> None:
    h = Harness()
    c = h.connect()
    c.send("CAP LS 302", "CAP REQ :draft/pre-away", "AWAY *")
    c.send("NICK bouncer", "USER b 0 * :B", "CAP END")
    watcher = h.connect("watcher", caps=["away-notify"])
    watcher.send("JOIN #lobby")
    watcher.take()
    c.send("JOIN #lobby")
    away = one(watcher.take(), "AWAY")
    assert away.params == ("*",)


def test_away_before_the_welcome_without_the_cap_is_refused() -> None:
    h = Harness()
    c = h.connect()
    c.send("NICK early")
    assert codes(c.cmd("AWAY :gone")) == [n.ERR_NOTREGISTERED]
    assert c.session.away is None


def test_pre_away_tells_no_monitor_watcher_before_the_nick_is_online() -> None:
    """The spec: pre-registration AWAY "does not inhibit reporting of the change in nickname
    status" - watchers hear of the nick coming online, not of an away change before it."""
    h = Harness()
    watcher = h.connect("watcher", caps=["away-notify", "extended-monitor"])
    watcher.cmd("MONITOR + early")
    c = h.connect()
    c.send("CAP LS 302", "CAP REQ :draft/pre-away", "NICK early")
    assert codes(c.cmd("AWAY :not yet")) == [n.RPL_NOWAWAY]
    assert watcher.take() == []
    c.send("USER early 0 * :Early", "CAP END")
    assert codes(watcher.take()) == [n.RPL_MONONLINE]


# ----------------------------------------------------------------------------- no-implicit-names


def test_no_implicit_names_leaves_out_the_names_after_join() -> None:
    """no-implicit-names: "servers MUST NOT send an implicit NAMES reply after sending a
    JOIN message. Servers MUST reply to explicit NAMES commands sent by the client"."""
    h = Harness()
    for cap in ("no-implicit-names", "draft/no-implicit-names"):
        c = h.connect(f"quiet{len(cap)}", caps=[cap])
        got = codes(c.cmd("JOIN #lobby"))
        assert "JOIN" in got
        assert n.RPL_NAMREPLY not in got
        assert n.RPL_ENDOFNAMES not in got
        assert codes(c.cmd("NAMES #lobby"))[-1] == n.RPL_ENDOFNAMES


def test_without_the_cap_join_still_sends_names() -> None:
    h = Harness()
    c = h.connect("plain")
    assert codes(c.cmd("JOIN #lobby"))[-2:] == [n.RPL_NAMREPLY, n.RPL_ENDOFNAMES]


# ----------------------------------------------------------------------------- sts


def test_sts_gives_plain_connections_the_port_and_tls_ones_the_duration() -> None:
    """IRCv3 sts: an upgrade policy (``port``) on insecure connections, a persistence
    policy (``duration``) on secure ones."""
    h = Harness()
    h.world.sts_policy = (6697, 2592000)  # what the shell sets for an operator's certificate
    assert _cap_ls(h.connect())["sts"] == "port=6697,duration=2592000"
    assert _cap_ls(h.connect(secure=True))["sts"] == "duration=2592000"


def test_sts_cannot_be_requested() -> None:
    """The spec: clients MUST NOT request sts; servers MAY answer NAK."""
    h = Harness()
    h.world.sts_policy = (6697, 60)
    c = h.connect()
    assert "sts" in _cap_ls(c)
    assert one(c.cmd("CAP REQ :sts"), "CAP").params[1] == "NAK"
