"""The protocol extras over real sockets: WALLOPS, LINKS, STATUSMSG, LIST filters, +C,
ACCOUNTEXTBAN, draft/pre-away, no-implicit-names, sts and the registration settings.

The ``irc`` library drives what it has a method for (OPER, WALLOPS, LINKS, CTCP); raw
lines are used where the order or the exact text on the wire is the point.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest

from chatroom import config as cfg
from chatroom.irc.message import parse
from chatroom.server.core.settings import AccountSettings
from tests.certs import make_self_signed
from tests.integration.moderation_support import PASSWORD, config_with_accounts
from tests.realserver import Client, ServerThread, Wire, guest_wire, make_config


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    config = config_with_accounts(tmp_path, "bob")
    config = replace(config, core=replace(config.core, description="The gardening club"))
    running = ServerThread(config).start()
    yield running
    running.stop()


def _guest(server: ServerThread, wires: list[Wire], nick: str, *caps: str) -> Wire:
    return guest_wire(server.port, wires, nick, *caps)


def _ask(wire: Wire, *lines: str) -> list[str]:
    """Send ``lines`` and a PING; every line that came back before the PONG."""
    wire.write(*lines, "PING barrier")
    return wire.until("PONG")[:-1]


def _cap_ls(wire: Wire) -> dict[str, str | None]:
    offered: dict[str, str | None] = {}
    for line in _ask(wire, "CAP LS 302"):
        for token in parse(line.encode()).params[-1].split():
            name, sep, value = token.partition("=")
            offered[name] = value if sep else None
    return offered


# ----------------------------------------------------------------------------- 005


def test_isupport_advertises_statusmsg_elist_accountextban_and_mode_c(
    server: ServerThread, wires: list[Wire]
) -> None:
    wire = Wire(server.port)
    wires.append(wire)
    wire.write("NICK alice", "USER a 0 * :A")
    tokens = " ".join(line for line in wire.until(" 376 ") if " 005 " in line).split()
    for token in ("STATUSMSG=@+", "ELIST=CMNTU", "ACCOUNTEXTBAN=a", "EXTBAN=,am"):
        assert token in tokens
    chanmodes = next(t for t in tokens if t.startswith("CHANMODES="))
    assert "C" in chanmodes.split(",")[3]


def test_targmax_names_the_tagmsg_target_limit_the_server_enforces(
    server: ServerThread, wires: list[Wire]
) -> None:
    wire = Wire(server.port)
    wires.append(wire)
    wire.write("CAP LS 302", "CAP REQ :message-tags", "NICK alice", "USER a 0 * :A", "CAP END")
    tokens = " ".join(line for line in wire.until(" 376 ") if " 005 " in line).split()
    targmax = next(t for t in tokens if t.startswith("TARGMAX=")).removeprefix("TARGMAX=")
    limits = dict(item.split(":") for item in targmax.split(","))
    limit = int(limits["TAGMSG"])
    too_many = ",".join(f"n{i}" for i in range(limit + 1))
    assert any(" 407 " in line for line in _ask(wire, f"@+typing=active TAGMSG {too_many}"))


# ----------------------------------------------------------------------------- WALLOPS, LINKS


def test_wallops_from_an_operator_reaches_a_client_with_mode_w(server: ServerThread) -> None:
    admin, reader = Client(server.port, "admin"), Client(server.port, "reader")
    try:
        for client in (admin, reader):
            client.wait_type("welcome")
        admin.conn.oper("admin", PASSWORD)
        admin.wait_type("youreoper")
        reader.conn.mode("reader", "+w")
        reader.wait_for(lambda e: e.type == "umode" or e.type == "mode")
        admin.conn.wallops("the server restarts at noon")
        event = reader.wait_type("wallops")
        assert event.target == "the server restarts at noon"  # the library's place for it
        assert str(event.source).startswith("admin!")
    finally:
        admin.close()
        reader.close()


def test_wallops_from_a_plain_user_is_refused(server: ServerThread, wires: list[Wire]) -> None:
    wire = _guest(server, wires, "plain")
    assert any(" 481 plain " in line for line in _ask(wire, "WALLOPS :hello"))


def test_links_names_this_server_with_its_description(server: ServerThread) -> None:
    alice = Client(server.port, "alice")
    try:
        alice.wait_type("welcome")
        alice.conn.links()
        event = alice.wait_type("links")
        assert event.arguments == ["chatroom.local", "chatroom.local", "0 The gardening club"]
        alice.wait_type("endoflinks")
    finally:
        alice.close()


# ----------------------------------------------------------------------------- STATUSMSG, +C


def test_statusmsg_reaches_the_ops_and_not_the_other_members(
    server: ServerThread, wires: list[Wire]
) -> None:
    op = _guest(server, wires, "op")
    _ask(op, "JOIN #garden")
    member, talker = _guest(server, wires, "member"), _guest(server, wires, "talker")
    _ask(member, "JOIN #garden")
    _ask(talker, "JOIN #garden")
    _ask(op)  # the joins
    _ask(talker, "PRIVMSG @#garden :ops only, please")
    assert any(":talker!" in line and "PRIVMSG @#garden :ops only" in line for line in _ask(op))
    assert not any("ops only" in line for line in _ask(member))


def test_no_ctcp_room_refuses_a_ctcp_and_relays_an_action(server: ServerThread) -> None:
    op, talker = Client(server.port, "op"), Client(server.port, "talker")
    try:
        for client in (op, talker):
            client.wait_type("welcome")
            client.conn.join("#quiet")
            client.wait_type("endofnames")
        op.conn.mode("#quiet", "+C")
        talker.wait_for(lambda e: e.type == "mode" and e.arguments == ["+C"])
        talker.conn.ctcp("VERSION", "#quiet")
        refused = talker.wait_type("cannotsendtochan")
        assert refused.arguments[-1] == "Cannot send CTCP to channel (+C)"
        talker.conn.action("#quiet", "waves")
        assert op.wait_type("action").arguments == ["waves"]
        assert not any("VERSION" in e.arguments for e in op.events if e.type == "ctcp")
    finally:
        op.close()
        talker.close()


def test_account_extban_keeps_the_account_out(server: ServerThread, wires: list[Wire]) -> None:
    op = _guest(server, wires, "op")
    _ask(op, "JOIN #garden", "MODE #garden +b a:bob")
    bob = _guest(server, wires, "bob")
    _ask(bob, f"PRIVMSG NickServ :IDENTIFY {PASSWORD}")
    assert any(" 474 bob #garden " in line for line in _ask(bob, "JOIN #garden"))


# ----------------------------------------------------------------------------- LIST filters


def test_list_filters_by_mask_negative_mask_and_user_count(
    server: ServerThread, wires: list[Wire]
) -> None:
    one, two = _guest(server, wires, "one"), _guest(server, wires, "two")
    _ask(one, "JOIN #dev,#dev-ops,#random")
    _ask(two, "JOIN #dev")

    def listed(query: str) -> list[str]:
        return sorted(line.split(" ")[3] for line in _ask(one, f"LIST {query}") if " 322 " in line)

    assert listed("#dev*") == ["#dev", "#dev-ops"]
    assert listed("!#dev*,!#lobby") == ["#random"]
    assert listed(">1") == ["#dev"]
    assert listed("C<60,#r*") == ["#random"]
    assert listed("T<60") == []  # no topic anywhere


# ----------------------------------------------------------------------------- IRCv3 caps


def test_pre_away_before_the_welcome_shows_in_whois(
    server: ServerThread, wires: list[Wire]
) -> None:
    early = Wire(server.port)
    wires.append(early)
    early.write("CAP LS 302", "CAP REQ :draft/pre-away", "AWAY :automated client")
    early.write("NICK early", "USER e 0 * :E", "CAP END")
    got = early.until(" 376 ")
    assert any(" 306 " in line for line in got)
    assert next(i for i, line in enumerate(got) if " 306 " in line) < next(
        i for i, line in enumerate(got) if " 001 " in line
    )
    asker = _guest(server, wires, "asker")
    assert any(" 301 asker early :automated client" in line for line in _ask(asker, "WHOIS early"))


def test_a_pre_away_star_device_never_hides_the_away_message_of_another_device(
    server: ServerThread, wires: list[Wire]
) -> None:
    """draft/pre-away: ``AWAY *`` is "not present, no reason"; the message a person
    wrote on another device of the same user stays the one others see."""
    phone = Wire(server.port)
    wires.append(phone)
    phone.write(f"PASS bob:{PASSWORD}", "NICK bob", "USER b 0 * :B", "AWAY :Gone to lunch")
    phone.until(" 306 ")
    sync = Wire(server.port)
    wires.append(sync)
    sync.write("CAP LS 302", "CAP REQ :draft/pre-away", "AWAY *", f"PASS bob:{PASSWORD}")
    sync.write("NICK bob", "USER b 0 * :B", "CAP END")
    sync.until(" 376 ")
    asker = _guest(server, wires, "asker")
    assert any(" 301 asker bob :Gone to lunch" in line for line in _ask(asker, "WHOIS bob"))


def test_no_implicit_names_joins_without_a_names_burst(
    server: ServerThread, wires: list[Wire]
) -> None:
    quiet = _guest(server, wires, "quiet", "no-implicit-names")
    got = _ask(quiet, "JOIN #lobby")
    assert any(" JOIN " in line for line in got)
    assert not any(" 353 " in line or " 366 " in line for line in got)
    assert any(" 366 " in line for line in _ask(quiet, "NAMES #lobby"))


def test_a_rename_seen_as_part_and_join_sends_no_names_to_a_no_implicit_names_client(
    server: ServerThread, wires: list[Wire]
) -> None:
    renamer = _guest(server, wires, "renamer")
    quiet = _guest(server, wires, "quiet", "no-implicit-names")
    _ask(renamer, "JOIN #old")
    _ask(quiet, "JOIN #old")
    renamer.write("RENAME #old #new :tidier")
    got = quiet.until(" JOIN #new")
    got += _ask(quiet)  # whatever followed the JOIN, up to a PONG
    assert any(" PART #old" in line for line in got)
    assert not any(" 353 " in line or " 366 " in line for line in got), got


def test_the_self_signed_certificate_gets_no_sts_policy(
    server: ServerThread, wires: list[Wire]
) -> None:
    wire = Wire(server.port)
    wires.append(wire)
    offered = _cap_ls(wire)
    assert "sts" not in offered
    assert "draft/pre-away" in offered


def test_an_operator_certificate_gets_an_sts_policy(tmp_path: Path, wires: list[Wire]) -> None:
    """IRCv3 sts: ``port`` (upgrade) on the plain port, ``duration`` (persistence) on TLS."""
    cert, key, _ = make_self_signed(tmp_path, "operator", "localhost")
    config = cfg.load(
        env={},
        flags={
            "listen.port": 0,
            "listen.http_port": "off",
            "listen.tls_port": 0,
            "server.data_dir": str(tmp_path / "data"),
            "tls.cert": str(cert),
            "tls.key": str(key),
            "tls.sts_duration": 600,
        },
    )
    running = ServerThread(config).start()
    try:
        plain = Wire(running.port)
        wires.append(plain)
        assert _cap_ls(plain)["sts"] == f"port={running.tls_port},duration=600"
        tls = ssl.create_default_context(cafile=str(cert))
        secure = Wire(running.tls_port, tls=tls)
        wires.append(secure)
        assert _cap_ls(secure)["sts"] == "duration=600"
    finally:
        running.stop()


def test_a_cap_302_client_keeps_its_version_and_cannot_turn_off_cap_notify(
    server: ServerThread, wires: list[Wire]
) -> None:
    """Capability negotiation: a client may not downgrade its CAP LS version, and a 302
    client's cap-notify may not be disabled."""
    wire = Wire(server.port)
    wires.append(wire)
    assert _cap_ls(wire)["sasl"] is not None
    later: dict[str, str | None] = {}
    for line in _ask(wire, "CAP LS"):
        for token in parse(line.encode()).params[-1].split():
            name, _, value = token.partition("=")
            later[name] = value or None
    assert later["sasl"] == "PLAIN,EXTERNAL,SCRAM-SHA-256"
    assert any(" NAK " in line for line in _ask(wire, "CAP REQ :-cap-notify"))
    listed = " ".join(_ask(wire, "CAP LIST"))
    assert "cap-notify" in listed


# ----------------------------------------------------------------------------- registration


@pytest.fixture
def strict_server(tmp_path: Path) -> Iterator[ServerThread]:
    """REGISTER only after the welcome, and only with an address."""
    config = make_config(tmp_path)
    accounts = AccountSettings(registration_before_connect=False, require_email=True)
    running = ServerThread(replace(config, core=replace(config.core, accounts=accounts))).start()
    yield running
    running.stop()


def test_registration_settings_show_in_the_cap_and_in_register(
    strict_server: ServerThread, wires: list[Wire]
) -> None:
    early = Wire(strict_server.port)
    wires.append(early)
    assert _cap_ls(early)["draft/account-registration"] == "email-required"
    early.write("CAP REQ :draft/account-registration", "NICK dana")
    got = _ask(early, f"REGISTER * dana@example.org {PASSWORD}")
    assert any("FAIL REGISTER COMPLETE_CONNECTION_REQUIRED" in line for line in got)
    early.write("USER d 0 * :D", "CAP END")
    early.until(" 376 ")
    assert any(
        "FAIL REGISTER NEED_EMAIL dana" in line for line in _ask(early, f"REGISTER * * {PASSWORD}")
    )
    got = _ask(early, f"REGISTER * dana@example.org {PASSWORD}")
    assert any("REGISTER SUCCESS dana" in line for line in got)


def test_a_register_before_user_names_the_login_mask_without_an_empty_user(
    server: ServerThread, wires: list[Wire]
) -> None:
    early = Wire(server.port)
    wires.append(early)
    early.write("CAP LS 302", "CAP REQ :draft/account-registration", "NICK erin")
    logged_in = next(line for line in _ask(early, f"REGISTER * * {PASSWORD}") if " 900 " in line)
    assert parse(logged_in.encode()).params[1] == "erin!*@127.0.0.1", logged_in


# ----------------------------------------------------------------------------- WebSocket


def test_over_websocket_statusmsg_and_the_new_caps_work(
    server: ServerThread, wires: list[Wire]
) -> None:
    op = _guest(server, wires, "op")
    _ask(op, "JOIN #garden")

    async def talk() -> dict[str, str | None]:
        url = f"http://127.0.0.1:{server.http_port}/ws"
        origin = f"http://127.0.0.1:{server.http_port}"
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(url, protocols=("text.ircv3.net",), origin=origin) as ws,
        ):

            async def until(needle: str) -> list[str]:
                got: list[str] = []
                while not any(needle in line for line in got):
                    got.append((await ws.receive(timeout=10)).data)
                return got

            await ws.send_str("CAP LS 302")
            await ws.send_str("PING listed")
            replies = [parse(line.encode()) for line in await until("PONG")]
            ls = " ".join(m.params[-1] for m in replies if m.command == "CAP")
            for line in ("CAP REQ :no-implicit-names", "CAP END", "NICK webby", "USER w 0 * :W"):
                await ws.send_str(line)
            await until(" 376 ")
            await ws.send_str("JOIN #garden")
            await ws.send_str("PING joined")
            assert not any(" 353 " in line for line in await until("PONG"))
            await ws.send_str("PRIVMSG @#garden :from the web")
            await ws.send_str("PING sent")
            await until("PONG")
            return {t.partition("=")[0]: t.partition("=")[2] for t in ls.split()}

    offered = asyncio.run(talk())
    assert "draft/pre-away" in offered
    assert "draft/no-implicit-names" in offered
    assert any("PRIVMSG @#garden :from the web" in line for line in _ask(op))
