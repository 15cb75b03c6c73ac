"""Room moderation over real sockets: quiets, server mutes, timed bans, registered rooms."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatroom import cli
from chatroom.config import Config
from chatroom.server.store.factory import open_store
from tests.integration.moderation_support import PASSWORD, config_with_accounts
from tests.realserver import Client, ServerThread


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return config_with_accounts(tmp_path, "carol", "alice")


@pytest.fixture
def server(config: Config) -> Iterator[ServerThread]:
    running = ServerThread(config).start()
    yield running
    running.stop()


def join(server: ServerThread, clients: list[Client], nick: str, room: str, login: bool) -> Client:
    client = Client(server.port, nick, f"{nick}:{PASSWORD}" if login else None)
    clients.append(client)
    client.wait_type("welcome")
    client.conn.join(room)
    client.wait_type("endofnames")
    return client


def test_room_op_quiets_carol_who_still_reads_but_cannot_speak(
    server: ServerThread, clients: list[Client]
) -> None:
    alice = join(server, clients, "alice", "#room", login=False)  # first in: op
    carol = join(server, clients, "carol", "#room", login=False)
    alice.conn.mode("#room", "+q carol")
    carol.wait_for(lambda e: e.type == "mode" and "+q" in e.arguments)
    carol.conn.privmsg("#room", "hello?")
    refusal = carol.wait_type("cannotsendtochan")
    assert refusal.arguments == ["#room", "Cannot send to channel (+q)"]
    alice.conn.privmsg("#room", "you can still read this")
    seen = carol.wait_type("pubmsg")
    assert seen.arguments == ["you can still read this"]
    alice.pump(0.2)
    assert not [e for e in alice.events if e.type == "pubmsg"]


def test_server_mute_refuses_every_message_with_the_reason(
    server: ServerThread, clients: list[Client]
) -> None:
    boss = join(server, clients, "admin", "#lobby", login=True)
    carol = join(server, clients, "carol", "#lobby", login=True)
    boss.conn.send_raw("MUTE carol 1h :flooding the lobby")
    carol.wait_for(lambda e: e.type == "privnotice" and "muted" in e.arguments[0])
    carol.conn.privmsg("#lobby", "still here")
    refusal = carol.wait_type("cannotsendtochan")
    assert refusal.arguments[0] == "#lobby"
    assert "muted on this server: flooding the lobby (until " in refusal.arguments[1]
    carol.conn.privmsg("admin", "please unmute me")
    assert boss.wait_type("privmsg").arguments == ["please unmute me"]


def test_timed_room_ban_lifts_itself_and_is_announced(
    server: ServerThread, clients: list[Client]
) -> None:
    alice = join(server, clients, "alice", "#room", login=False)
    alice.conn.send_raw("TBAN #room 1s dave")
    alice.wait_for(lambda e: e.type == "mode" and e.arguments == ["+b", "dave!*@*"])
    lifted = alice.wait_for(lambda e: e.type == "mode" and e.arguments == ["-b", "dave!*@*"])
    assert str(lifted.source) == "chatroom.local"


def test_registered_room_keeps_topic_and_founder_ops_across_a_restart(
    config: Config, clients: list[Client]
) -> None:
    server = ServerThread(config).start()
    try:
        alice = join(server, clients, "alice", "#club", login=True)
        alice.conn.privmsg("ChanServ", "REGISTER #club")
        alice.wait_for(lambda e: e.type == "privnotice" and "now registered" in e.arguments[0])
        alice.conn.topic("#club", "Members only, be nice")
        alice.wait_type("topic")
    finally:
        server.stop()
    server = ServerThread(config).start()
    try:
        carol = join(server, clients, "carol", "#club", login=True)
        assert carol.wait_type("currenttopic").arguments == ["#club", "Members only, be nice"]
        names = [e for e in carol.events if e.type == "namreply"]
        assert names[-1].arguments[2] == "carol"  # no ops for her: the room is not new
        alice = join(server, clients, "alice", "#club", login=True)
        assert "@alice" in [e for e in alice.events if e.type == "namreply"][-1].arguments[2]
    finally:
        server.stop()


def chanserv(client: Client, text: str, expect: str) -> str:
    """Send ``text`` to ChanServ; the first answer containing ``expect``."""
    earlier = {id(e) for e in client.events}
    client.conn.privmsg("ChanServ", text)
    notice = client.wait_for(
        lambda e: id(e) not in earlier and e.type == "privnotice" and expect in e.arguments[0]
    )
    return str(notice.arguments[0])


def until_chanserv_says(client: Client, text: str, wanted: str, timeout: float = 10.0) -> None:
    """Ask ChanServ again until the running server has reloaded what the shell wrote."""
    deadline = time.monotonic() + timeout
    while wanted not in chanserv(client, text, "registered"):
        assert time.monotonic() < deadline, f"ChanServ never said {wanted!r}"
        client.pump(0.3)


def registered_rooms(config: Config) -> list[str]:
    store = open_store(config.store)
    try:
        return list(store.load().channels)
    finally:
        store.close()


def shell(config: Config, *argv: str) -> None:
    """``chatroom admin ...`` once the server has saved the room (it writes behind)."""
    deadline = time.monotonic() + 5
    while "#club" not in registered_rooms(config):
        assert time.monotonic() < deadline, "the server never saved #club"
        time.sleep(0.05)
    named = ["--data-dir", str(config.data_dir), "--store", config.store_url]
    assert cli.main(["admin", *argv, *named]) == 0


def test_chatroom_admin_room_founder_moves_chanserv_rights_on_a_running_server(
    server: ServerThread, config: Config, clients: list[Client]
) -> None:
    alice = join(server, clients, "alice", "#club", login=True)
    chanserv(alice, "REGISTER #club", "now registered")
    carol = join(server, clients, "carol", "#lobby", login=True)
    assert "Only the founder" in chanserv(carol, "ACCESS #club ADD admin", "#club")
    shell(config, "room-founder", "#club", "carol")
    until_chanserv_says(carol, "INFO #club", "registered to carol")
    assert "admin added to the op list" in chanserv(carol, "ACCESS #club ADD admin", "#club")
    assert "Only the founder" in chanserv(alice, "ACCESS #club DEL admin", "#club")
    assert "Only the founder" in chanserv(alice, "DROP #club", "#club")


def test_chatroom_admin_room_drop_unregisters_on_a_running_server(
    server: ServerThread, config: Config, clients: list[Client]
) -> None:
    alice = join(server, clients, "alice", "#club", login=True)
    chanserv(alice, "REGISTER #club", "now registered")
    shell(config, "room-drop", "#club")
    alice.conn.topic("#club", "saved before the server reloads")  # must not re-register it
    alice.wait_type("topic")
    until_chanserv_says(alice, "INFO #club", "is not registered")
    assert "#club" not in registered_rooms(config)


def test_registered_only_modes_keep_a_guest_wave_out_of_a_room_and_a_users_messages(
    server: ServerThread, clients: list[Client]
) -> None:
    alice = join(server, clients, "alice", "#members", login=True)
    alice.conn.mode("#members", "+RM")
    alice.wait_for(lambda e: e.type == "mode" and "+RM" in e.arguments)
    alice.conn.mode("alice", "+R")
    alice.wait_for(lambda e: e.type == "umode" and "+R" in e.arguments)
    guest = Client(server.port, "drifter")
    clients.append(guest)
    guest.wait_type("welcome")
    guest.conn.join("#members")
    refused = guest.wait_type("nochanmodes")  # 477, ERR_NEEDREGGEDNICK
    assert refused.arguments[0] == "#members"
    assert "+R" in refused.arguments[1]
    guest.conn.privmsg("alice", "let me in")
    refused = guest.wait_for(lambda e: e.type == "nochanmodes" and e.arguments[0] == "alice")
    assert "+R" in refused.arguments[1]
    carol = join(server, clients, "carol", "#members", login=True)
    carol.conn.privmsg("alice", "an account may write")
    assert alice.wait_type("privmsg").arguments == ["an account may write"]
    assert not [e for e in alice.events if e.arguments == ["let me in"]]


def test_a_knock_on_an_invite_only_room_reaches_its_operator_who_invites(
    server: ServerThread, clients: list[Client]
) -> None:
    alice = join(server, clients, "alice", "#private", login=False)
    alice.conn.mode("#private", "+i")
    alice.wait_for(lambda e: e.type == "mode" and "+i" in e.arguments)
    visitor = Client(server.port, "visitor")
    clients.append(visitor)
    visitor.wait_type("welcome")
    visitor.conn.send_raw("KNOCK #private :let me in please")
    assert visitor.wait_type("711").arguments[0] == "#private"
    knocked = alice.wait_type("710")
    assert knocked.arguments[:2] == ["#private", "visitor!~visitor@127.0.0.1"]
    assert knocked.arguments[2] == "has asked for an invite: let me in please"
    alice.conn.invite("visitor", "#private")
    visitor.wait_type("invite")
    visitor.conn.join("#private")
    visitor.wait_type("endofnames")


def test_silence_drops_a_pests_private_messages_over_real_sockets(
    server: ServerThread, clients: list[Client]
) -> None:
    alice = join(server, clients, "alice", "#lobby", login=True)
    alice.conn.send_raw("SILENCE +pest")
    alice.wait_for(lambda e: e.type == "silence" and e.target == "+pest!*@*")
    pest = join(server, clients, "pest", "#lobby", login=False)
    carol = join(server, clients, "carol", "#lobby", login=True)
    pest.conn.privmsg("alice", "you cannot hide")
    carol.conn.privmsg("alice", "lunch?")
    assert alice.wait_type("privmsg").arguments == ["lunch?"]
    alice.pump(0.3)
    assert [e.arguments for e in alice.events if e.type == "privmsg"] == [["lunch?"]]


def test_an_operator_watching_server_notices_sees_a_client_come_and_go(
    server: ServerThread, clients: list[Client]
) -> None:
    boss = join(server, clients, "admin", "#lobby", login=True)
    boss.conn.mode("admin", "+s")
    assert boss.wait_type("008").arguments == ["+ac", "Server notice mask"]
    visitor = Client(server.port, "visitor")
    clients.append(visitor)
    visitor.wait_type("welcome")
    visitor.conn.quit("see you")
    came = boss.wait_for(lambda e: e.type == "privnotice" and "connecting" in e.arguments[0])
    assert "visitor!~visitor@127.0.0.1 [127.0.0.1]" in came.arguments[0]
    went = boss.wait_for(lambda e: e.type == "privnotice" and "exiting" in e.arguments[0])
    assert "(Quit: see you)" in went.arguments[0]


def test_an_accounts_silence_list_survives_a_restart(config: Config, clients: list[Client]) -> None:
    first = ServerThread(config).start()
    try:
        alice = join(first, clients, "alice", "#lobby", login=True)
        alice.conn.send_raw("SILENCE +pest")
        alice.wait_for(lambda e: e.type == "silence" and e.target == "+pest!*@*")
    finally:
        first.stop()
    second = ServerThread(config).start()
    try:
        again = join(second, clients, "alice", "#lobby", login=True)
        again.conn.send_raw("SILENCE")
        listed = again.wait_type("271")
        assert listed.arguments == ["pest!*@*"]
    finally:
        second.stop()
