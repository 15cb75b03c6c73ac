"""``chatroom admin ban|unban|bans|mute|unmute|audit|oper|rooms|room-drop|room-founder`` as an
administrator types them."""

from __future__ import annotations

import argparse
import io
import json
import sqlite3
import time
from pathlib import Path

import pytest

from chatroom import cli, cli_admin
from chatroom.server.auth.passwords import fast_params_for_tests
from chatroom.server.core.history import HistoryRecord
from chatroom.server.store import schema
from chatroom.server.store.base import (
    AccountMute,
    PutBan,
    PutChannel,
    PutMute,
    RegisteredChannel,
    ServerBan,
)
from chatroom.server.store.history_sqlite import SqliteHistory, history_db_path
from chatroom.server.store.sqlite import SqliteStore, default_db_path


def run(capsys: pytest.CaptureFixture[str], data: Path, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["admin", *argv, "--data-dir", str(data)])
    out, err = capsys.readouterr()
    return code, out, err


def failed(capsys: pytest.CaptureFixture[str], data: Path, *argv: str) -> str:
    """Run a command that must fail with exit code 1; what it wrote to stderr."""
    code, _, err = run(capsys, data, *argv)
    assert code == 1
    return err


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data dir holding the account ``bob`` (argon2 made cheap for the test)."""
    monkeypatch.setattr(cli_admin, "Argon2Params", lambda *a: fast_params_for_tests())
    monkeypatch.setattr("sys.stdin", io.StringIO("long-enough-pw\n"))
    assert (
        cli.main(["admin", "create", "bob", "--password-stdin", "--data-dir", str(tmp_path)]) == 0
    )
    return tmp_path


def stored(data: Path) -> SqliteStore:
    return SqliteStore(default_db_path(data))


def test_ban_of_an_account_name_is_stored_with_reason_and_expiry(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    capsys.readouterr()
    code, out, _ = run(capsys, data, "ban", "Bob", "--reason", "spam", "--duration", "2h")
    assert code == 0
    assert out.startswith("banned account:bob (until ")
    assert "in 2h" in out
    store = stored(data)
    [ban] = store.load().bans
    assert (ban.kind, ban.mask, ban.reason, ban.set_by) == ("account", "bob", "spam", "admin-cli")
    assert ban.expires_at is not None
    assert ban.expires_at - ban.set_at == 7200
    store.close()


@pytest.mark.parametrize(
    ("target", "shown"),
    [
        ("203.0.113.4", "address:203.0.113.4"),
        ("203.0.113.0/24", "cidr:203.0.113.0/24"),
        ("Spam*!*@*", "nick:spam*!*@*"),
        ("stranger", "nick:stranger!*@*"),
    ],
)
def test_ban_targets_of_every_kind(
    capsys: pytest.CaptureFixture[str], data: Path, target: str, shown: str
) -> None:
    capsys.readouterr()
    code, out, _ = run(capsys, data, "ban", target)
    assert (code, out) == (0, f"banned {shown} (permanent)\n")


def test_bans_lists_and_unban_lifts(capsys: pytest.CaptureFixture[str], data: Path) -> None:
    run(capsys, data, "ban", "bob", "--reason", "spam")
    run(capsys, data, "ban", "10.0.0.0/8")
    _, listing, _ = run(capsys, data, "bans")
    rows = [line.split("\t") for line in listing.splitlines()]
    assert [row[1:3] for row in rows] == [["account:bob", "spam"], ["cidr:10.0.0.0/8", "-"]]
    assert run(capsys, data, "unban", "bob")[1] == "lifted the ban on account:bob\n"
    assert run(capsys, data, "unban", rows[1][0])[1] == "lifted the ban on cidr:10.0.0.0/8\n"
    assert run(capsys, data, "bans")[1] == ""


def test_unban_of_nothing_fails_with_a_clear_message(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    assert "no server ban on 'nobody'" in failed(capsys, data, "unban", "nobody")


def test_bad_duration_and_bad_network_are_refused(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    assert "not a duration" in failed(capsys, data, "ban", "bob", "--duration", "soon")
    assert "not a network" in failed(capsys, data, "ban", "10.0.0.0/99")


def test_mute_and_unmute_an_account(capsys: pytest.CaptureFixture[str], data: Path) -> None:
    capsys.readouterr()
    assert run(capsys, data, "mute", "bob", "--reason", "noise")[1] == "muted bob (permanent)\n"
    store = stored(data)
    assert store.load().mutes["bob"].reason == "noise"
    store.close()
    assert run(capsys, data, "unmute", "bob")[1] == "unmuted bob\n"
    assert "not muted" in failed(capsys, data, "unmute", "bob")
    assert "no account named 'ghost'" in failed(capsys, data, "mute", "ghost")


def test_mutes_lists_the_mutes_in_force_tab_separated(
    capsys: pytest.CaptureFixture[str], data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An operator can see who is muted, why, by whom and until when (like ``bans``)."""
    monkeypatch.setattr("sys.stdin", io.StringIO("long-enough-pw\n"))
    assert run(capsys, data, "create", "amy", "--password-stdin")[0] == 0
    assert run(capsys, data, "mute", "bob", "--reason", "noise")[0] == 0
    assert run(capsys, data, "mute", "amy", "--duration", "2h")[0] == 0
    code, out, _ = run(capsys, data, "mutes")
    assert code == 0
    rows = [line.split("\t") for line in out.splitlines()]
    assert [(row[0], row[1], row[2]) for row in rows] == [
        ("amy", "-", "admin-cli"),
        ("bob", "noise", "admin-cli"),
    ]
    assert rows[0][4].startswith("until ")
    assert rows[1][4] == "permanent"
    assert run(capsys, data, "unmute", "bob")[0] == 0
    assert [line.split("\t")[0] for line in run(capsys, data, "mutes")[1].splitlines()] == ["amy"]


def test_an_expired_ban_or_mute_is_no_longer_listed(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    """A timed ban or mute whose time is up is over: the listings show what is in force."""
    past = time.time() - 60
    store = stored(data)
    store.apply(
        [
            PutBan(ServerBan(None, "nick", "old!*@*", "was", "oper", past - 3600, past)),
            PutBan(ServerBan(None, "nick", "new!*@*", "is", "oper", past, None)),
            PutMute(AccountMute("bob", "bob", "was", "oper", past - 3600, past)),
        ]
    )
    store.close()
    capsys.readouterr()
    bans = run(capsys, data, "bans")[1].splitlines()
    assert [line.split("\t")[1] for line in bans] == ["nick:new!*@*"]
    assert run(capsys, data, "mutes") == (0, "", "")


def test_audit_lists_every_action_and_since_filters(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    run(capsys, data, "ban", "bob", "--reason", "spam")
    run(capsys, data, "unban", "bob")
    _, out, _ = run(capsys, data, "audit")
    actions = [line.split("\t")[1:4] for line in out.splitlines()]
    assert actions == [
        ["admin-cli", "account.create", "bob"],
        ["admin-cli", "ban.add", "account:bob"],
        ["admin-cli", "ban.remove", "account:bob"],
    ]
    assert [line.count("\t") for line in out.splitlines()] == [4, 4, 4]  # 5 columns
    assert [line.split("\t")[4] for line in out.splitlines()] == ["-", "spam (permanent)", "spam"]
    assert len(run(capsys, data, "audit", "--since", "1h")[1].splitlines()) == 3
    assert run(capsys, data, "audit", "--since", "2999-01-01")[1] == ""
    assert "--since" in failed(capsys, data, "audit", "--since", "yesterday")


# ----------------------------------------------------------------------------- operator roles


def roles_config(tmp_path: Path) -> Path:
    conf = tmp_path / "roles.toml"
    conf.write_text('[opers]\nroles = ["moderator:kick,mute"]\n')
    return conf


def test_create_with_a_configured_role_and_list_shows_it(
    capsys: pytest.CaptureFixture[str], data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    capsys.readouterr()
    conf = str(roles_config(data))
    monkeypatch.setattr("sys.stdin", io.StringIO("long-enough-pw\n"))
    code, out, _ = run(
        capsys, data, "create", "mod", "--role", "moderator", "--password-stdin", "--config", conf
    )
    assert (code, out) == (0, "created account mod (server operator, role moderator)\n")
    code, out, _ = run(capsys, data, "list")
    assert "mod\tmoderator\t" in out
    assert "bob\t-\t" in out


def test_oper_on_with_a_role_then_off(capsys: pytest.CaptureFixture[str], data: Path) -> None:
    capsys.readouterr()
    conf = str(roles_config(data))
    code, out, _ = run(capsys, data, "oper", "bob", "on", "--role", "moderator", "--config", conf)
    assert (code, out) == (0, "bob is now a server operator (role moderator)\n")
    code, out, _ = run(capsys, data, "oper", "bob", "on")
    assert (code, out) == (0, "bob is now a server operator (role oper)\n")
    code, out, _ = run(capsys, data, "oper", "bob", "off")
    assert (code, out) == (0, "bob is no longer a server operator\n")
    backend = stored(data)
    assert backend.load().accounts["bob"].oper_role is None
    backend.close()


def test_a_role_the_config_does_not_define_is_refused(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    err = failed(capsys, data, "oper", "bob", "on", "--role", "moderator")
    assert "no operator role 'moderator'" in err
    assert "roles: oper" in err
    backend = stored(data)
    assert backend.load().accounts["bob"].oper_role is None
    backend.close()


# ----------------------------------------------------------------------------- registered rooms

REGISTERED_AT = 1_900_000_000.0  # 2030-03-17 17:46 UTC


def with_rooms(
    capsys: pytest.CaptureFixture[str], data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The account ``carol`` too, and the rooms #Club (bob's) and #art (carol's), as
    ChanServ REGISTER saves them; what the setup printed is discarded."""
    monkeypatch.setattr("sys.stdin", io.StringIO("long-enough-pw\n"))
    assert cli.main(["admin", "create", "carol", "--password-stdin", "--data-dir", str(data)]) == 0
    store = stored(data)
    store.apply(
        [
            PutChannel(RegisteredChannel("#club", "#Club", "bob", REGISTERED_AT, ops=("carol",))),
            PutChannel(RegisteredChannel("#art", "#art", "carol", REGISTERED_AT + 60)),
        ]
    )
    store.close()
    capsys.readouterr()


def test_rooms_lists_registered_rooms_with_founder_and_registration_time(
    capsys: pytest.CaptureFixture[str], data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    capsys.readouterr()
    assert run(capsys, data, "rooms") == (0, "", "")
    with_rooms(capsys, data, monkeypatch)
    code, out, _ = run(capsys, data, "rooms")
    assert code == 0
    assert out.splitlines() == [
        "#art\tcarol\t2030-03-17 17:47 UTC",
        "#Club\tbob\t2030-03-17 17:46 UTC",
    ]


def test_delete_of_a_founder_is_refused_until_its_rooms_are_given_away(
    capsys: pytest.CaptureFixture[str], data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A founder is kept by name: deleting CAROL would hand #art to whoever registers
    'carol' next. The operator transfers (or drops) the room first."""
    with_rooms(capsys, data, monkeypatch)
    err = failed(capsys, data, "delete", "CAROL")
    assert err.startswith("chatroom admin: carol founds #art: give each to another account")
    assert "carol" in run(capsys, data, "list")[1]
    assert run(capsys, data, "room-founder", "#art", "bob")[0] == 0
    assert run(capsys, data, "delete", "carol")[1] == "deleted account carol\n"
    assert [line.split("\t")[1] for line in run(capsys, data, "rooms")[1].splitlines()] == [
        "bob",
        "bob",
    ]


def test_room_drop_unregisters_the_room_and_is_audited(
    capsys: pytest.CaptureFixture[str], data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_rooms(capsys, data, monkeypatch)
    code, out, _ = run(capsys, data, "room-drop", "#CLUB")
    assert (code, out) == (0, "dropped the registration of #Club (founder bob)\n")
    backend = stored(data)
    assert list(backend.load().channels) == ["#art"]
    entry = backend.audit()[-1]
    assert (entry.actor, entry.action, entry.target, entry.reason) == (
        "admin-cli",
        "channel.drop",
        "#Club",
        "bob",
    )
    backend.close()


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (
            ("room-drop", "#nowhere"),
            "#nowhere is not a registered room; see 'chatroom admin rooms'",
        ),
        (("room-drop", "club"), "'club' is not a room name (rooms start with '#')"),
        (("room-founder", "#nowhere", "bob"), "#nowhere is not a registered room"),
        (("room-founder", "#club", "ghost"), "no account named 'ghost'"),
        (("room-founder", "bob", "#club"), "'bob' is not a room name"),
    ],
)
def test_room_commands_refuse_bad_names_with_a_clear_message_and_change_nothing(
    capsys: pytest.CaptureFixture[str],
    data: Path,
    monkeypatch: pytest.MonkeyPatch,
    argv: tuple[str, ...],
    problem: str,
) -> None:
    with_rooms(capsys, data, monkeypatch)
    backend = stored(data)
    before = (backend.load().channels, len(backend.audit()))
    backend.close()
    code, out, err = run(capsys, data, *argv)
    assert (code, out) == (1, "")
    assert err.startswith("chatroom admin: ")
    assert problem in err
    assert "Traceback" not in err
    backend = stored(data)
    assert (backend.load().channels, len(backend.audit())) == before
    backend.close()


def test_room_founder_transfers_the_room_to_an_existing_account_and_is_audited(
    capsys: pytest.CaptureFixture[str], data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_rooms(capsys, data, monkeypatch)
    code, out, _ = run(capsys, data, "room-founder", "#club", "CAROL")
    assert (code, out) == (0, "#Club now belongs to carol (was bob)\n")
    backend = stored(data)
    room = backend.load().channels["#club"]
    assert (room.founder, room.registered_at, room.ops) == ("carol", REGISTERED_AT, ("carol",))
    entry = backend.audit()[-1]
    assert (entry.actor, entry.action, entry.target, entry.reason) == (
        "admin-cli",
        "channel.founder",
        "#Club carol",
        "was bob",
    )
    backend.close()
    assert run(capsys, data, "rooms")[1].splitlines()[1] == "#Club\tcarol\t2030-03-17 17:46 UTC"


def test_room_founder_to_the_founder_it_has_changes_nothing(
    capsys: pytest.CaptureFixture[str], data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_rooms(capsys, data, monkeypatch)
    backend = stored(data)
    logged = len(backend.audit())
    backend.close()
    code, out, _ = run(capsys, data, "room-founder", "#club", "bob")
    assert (code, out) == (0, "bob is already the founder of #Club\n")
    backend = stored(data)
    assert len(backend.audit()) == logged
    backend.close()


@pytest.mark.parametrize(
    "argv",
    [("ban", "bob"), ("mute", "bob"), ("oper", "bob", "on"), ("delete", "bob")],
)
def test_a_write_the_database_refuses_prints_an_error_and_no_confirmation(
    capsys: pytest.CaptureFixture[str],
    data: Path,
    monkeypatch: pytest.MonkeyPatch,
    argv: tuple[str, ...],
) -> None:
    """Another process holds the write lock past the busy timeout: the command must not
    print its confirmation (nothing was committed), nor a traceback."""
    monkeypatch.setattr(schema, "BUSY_TIMEOUT_MS", 50)
    capsys.readouterr()
    store = stored(data)
    before = store.load()
    holder = sqlite3.connect(default_db_path(data), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        code, out, err = run(capsys, data, *argv)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert code == 1
    assert out == ""
    assert "nothing was changed" in err
    assert "database is locked" in err
    assert store.load() == before
    store.close()


def _line(n: int, at_ms: int) -> HistoryRecord:
    return HistoryRecord(
        target="#lobby",
        msgid=f"m{n}",
        at=at_ms,
        sender="a:bob",
        recipient="",
        source="bob!~bob@host",
        command="PRIVMSG",
        target_name="#lobby",
        text=f"line {n}",
    )


def test_purge_before_a_date_deletes_only_older_lines_and_says_how_many(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    history = SqliteHistory(history_db_path(data))
    history.append([_line(1, 1_893_456_000_000), _line(2, 1_925_078_400_000)])  # 2030, 2031
    history.close()
    capsys.readouterr()
    code, out, _ = run(capsys, data, "purge", "#lobby", "--before", "2030-06-01")
    assert (code, out) == (0, "deleted 1 lines of #lobby\n")
    exported = run(capsys, data, "export", "#lobby")[1]
    assert [json.loads(line)["text"] for line in exported.splitlines()] == ["line 2"]
    assert run(capsys, data, "purge", "#lobby")[1] == "deleted 1 lines of #lobby\n"
    assert run(capsys, data, "export", "#lobby")[1] == ""


def test_purge_with_a_bad_before_names_the_before_option(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    err = failed(capsys, data, "purge", "#lobby", "--before", "someday")
    assert err.startswith("chatroom admin: --before 'someday': use a duration")


def test_every_admin_argument_says_in_its_help_what_it_takes() -> None:
    """``chatroom admin backup --help`` listed ``file`` with no word on what it is."""
    parser = cli.build_parser()
    admin = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    commands = next(
        a for a in admin.choices["admin"]._actions if isinstance(a, argparse._SubParsersAction)
    )
    bare = [
        f"{name} {action.dest}"
        for name, command in commands.choices.items()
        for action in command._actions
        if not action.help
    ]
    assert bare == []


def test_the_first_admin_command_after_an_upgrade_says_it_upgraded_the_store(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = default_db_path(tmp_path)
    old = schema.available_migrations()[:1]
    schema.open_database(path, synchronous="FULL", migrations=old).close()  # a 1st-schema store
    latest = schema.available_migrations()[-1].number
    code, _, err = run(capsys, tmp_path, "list")
    assert code == 0
    assert f"upgraded the database schema of {path} from 1 to {latest}" in err
    code, _, err = run(capsys, tmp_path, "list")  # already current: nothing more to say
    assert "upgraded" not in err
