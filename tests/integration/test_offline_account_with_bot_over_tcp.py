"""Private messages to an account whose own user is gone while another user of the
account (a bot logged in to it under another nick) stays, against a real server: the
account's nick is offline, so they go to its mailbox; the account's user renamed is
online under another nick, and the old nick gets 401."""

from __future__ import annotations

from pathlib import Path

from tests.integration.devices_support import device
from tests.integration.moderation_support import config_with_accounts
from tests.integration.restart_support import running
from tests.realserver import Wire


def test_a_message_to_an_account_whose_user_left_but_whose_bot_stays_is_kept(
    tmp_path: Path, wires: list[Wire]
) -> None:
    with running(config_with_accounts(tmp_path, "alice", "bob")) as server:
        alice = device(server.port, wires, "alice", "alice")
        bot = device(server.port, wires, "alice", "alicebot")
        alice.write("QUIT :bye")
        alice.until("ERROR")
        bob = device(server.port, wires, "bob", "bob")
        bob.write("PRIVMSG alice :are you there?")
        assert "alice is offline; your message was kept" in bob.until(" NOTICE bob ")[-1]
        bot.write("PING quiet")
        assert not any("are you there?" in line for line in bot.until("PONG"))
        back = device(server.port, wires, "alice", "alice")
        back.write("PING back")
        assert any("are you there?" in line for line in back.until("PONG"))


def test_a_message_to_the_old_nick_of_an_accounts_renamed_user_gets_401(
    tmp_path: Path, wires: list[Wire]
) -> None:
    with running(config_with_accounts(tmp_path, "alice", "bob")) as server:
        alice = device(server.port, wires, "alice", "alice")
        alice.write("NICK ally")
        alice.until(" NICK ")
        bob = device(server.port, wires, "bob", "bob")
        bob.write("PRIVMSG alice :are you there?")
        assert " 401 bob alice " in bob.until(" 401 ")[-1]
