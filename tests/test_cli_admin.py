"""``chatroom admin ban|unban|bans|mute|unmute|audit`` as an administrator types them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from chatroom import cli, cli_admin
from chatroom.server.auth.passwords import fast_params_for_tests
from chatroom.server.store.sqlite import SqliteStore, default_db_path


def run(capsys: pytest.CaptureFixture[str], data: Path, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["admin", *argv, "--data-dir", str(data)])
    out, err = capsys.readouterr()
    return code, out, err


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
    code, _, err = run(capsys, data, "unban", "nobody")
    assert code == 1
    assert "no server ban on 'nobody'" in err


def test_bad_duration_and_bad_network_are_refused(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    code, _, err = run(capsys, data, "ban", "bob", "--duration", "soon")
    assert code == 1
    assert "not a duration" in err
    code, _, err = run(capsys, data, "ban", "10.0.0.0/99")
    assert code == 1
    assert "not a network" in err


def test_mute_and_unmute_an_account(capsys: pytest.CaptureFixture[str], data: Path) -> None:
    capsys.readouterr()
    assert run(capsys, data, "mute", "bob", "--reason", "noise")[1] == "muted bob (permanent)\n"
    store = stored(data)
    assert store.load().mutes["bob"].reason == "noise"
    store.close()
    assert run(capsys, data, "unmute", "bob")[1] == "unmuted bob\n"
    code, _, err = run(capsys, data, "unmute", "bob")
    assert code == 1
    assert "not muted" in err
    code, _, err = run(capsys, data, "mute", "ghost")
    assert code == 1
    assert "no account named 'ghost'" in err


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
    assert len(run(capsys, data, "audit", "--since", "1h")[1].splitlines()) == 3
    assert run(capsys, data, "audit", "--since", "2999-01-01")[1] == ""
    code, _, err = run(capsys, data, "audit", "--since", "yesterday")
    assert code == 1
    assert "--since" in err


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
    assert "bob\tuser\t" in out


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
    code, _, err = run(capsys, data, "oper", "bob", "on", "--role", "moderator")
    assert code == 1
    assert "no operator role 'moderator'" in err
    assert "roles: oper" in err
    backend = stored(data)
    assert backend.load().accounts["bob"].oper_role is None
    backend.close()
