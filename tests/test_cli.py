"""The ``chatroom`` command as an operator uses it: serve, config, init, admin."""

from __future__ import annotations

import io
import os
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chatroom.cli import main


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))


def test_serve_starts_on_defaults_and_shuts_down_gracefully_on_sigterm(tmp_path: Path) -> None:
    """The real command in a subprocess: a client is told why it is disconnected."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "chatroom",
            "serve",
            "--port",
            "0",
            "--tls-port",
            "0",
            "--http-port",
            "off",
            "--data-dir",
            str(tmp_path / "data"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = 0
        fingerprint = ""
        deadline = time.monotonic() + 20
        while (not port or not fingerprint) and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if "listening for IRC on" in line:
                port = int(line.rsplit(":", 1)[1])
            if "SHA-256" in line:
                fingerprint = line.split()[-1]
        assert port, "server never said where it listens"
        assert len(fingerprint) == 64
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"NICK alice\r\nUSER a 0 * :A\r\nJOIN #lobby\r\n")
            data = b""
            while b" 366 " not in data:
                data += sock.recv(4096)
            proc.send_signal(signal.SIGTERM)
            while b"ERROR" not in data:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
            assert b"Server shutting down" in data
        assert proc.wait(timeout=20) == 0
        assert (tmp_path / "data" / "tls-cert.pem").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_bad_config_value_names_the_key_and_what_is_allowed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conf = tmp_path / "c.toml"
    conf.write_text('[listen]\nport = "sixty"\n')
    assert main(["serve", "--config", str(conf)]) == 2
    err = capsys.readouterr().err
    assert "'listen.port'" in err
    assert "port number" in err


def test_unknown_config_key_is_refused_with_the_known_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conf = tmp_path / "c.toml"
    conf.write_text("[listen]\nprot = 7000\n")
    assert main(["serve", "--config", str(conf)]) == 2
    assert "unknown key 'listen.prot'" in capsys.readouterr().err


def test_flags_beat_environment_beats_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from chatroom import config as cfg

    conf = tmp_path / "c.toml"
    conf.write_text('[listen]\nport = 7000\nhost = "127.0.0.2"\n[server]\nname = "file.example"\n')
    env = {"CHATROOM_LISTEN_PORT": "7001", "CHATROOM_SERVER_NAME": "env.example"}
    loaded = cfg.load(conf, env=env, flags={"listen.port": "7002"})
    assert loaded.listen.port == 7002
    assert loaded.core.server_name == "env.example"
    assert loaded.listen.host == "127.0.0.2"


def test_config_defaults_is_valid_toml_that_loads_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["config", "--defaults"]) == 0
    conf = tmp_path / "defaults.toml"
    conf.write_text(capsys.readouterr().out)
    assert main(["config", "--config", str(conf)]) == 0


def test_admin_create_list_oper_delete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = ["--data-dir", str(tmp_path)]
    _stdin(monkeypatch, "a-good-password\n")
    assert main(["admin", "create", "root", "--oper", "--password-stdin", *data]) == 0
    assert main(["admin", "list", *data]) == 0
    assert "root\toper" in capsys.readouterr().out
    assert main(["admin", "oper", "root", "off", *data]) == 0
    assert main(["admin", "delete", "root", *data]) == 0
    assert main(["admin", "list", *data]) == 0
    assert "root" not in capsys.readouterr().out.split("deleted account root")[-1]


def test_admin_refuses_a_short_password_and_a_duplicate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = ["--data-dir", str(tmp_path)]
    _stdin(monkeypatch, "short\n")
    assert main(["admin", "create", "bob", "--password-stdin", *data]) == 1
    assert "at least 8" in capsys.readouterr().err
    _stdin(monkeypatch, "a-good-password\n")
    assert main(["admin", "create", "bob", "--password-stdin", *data]) == 0
    _stdin(monkeypatch, "a-good-password\n")
    assert main(["admin", "create", "BOB", "--password-stdin", *data]) == 1
    assert "already exists" in capsys.readouterr().err


def test_admin_stores_only_an_argon2id_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stdin(monkeypatch, "a-good-password\n")
    assert main(["admin", "create", "root", "--password-stdin", "--data-dir", str(tmp_path)]) == 0
    with sqlite3.connect(tmp_path / "chatroom.db") as conn:
        (stored,) = conn.execute("SELECT password_hash FROM accounts").fetchone()
    assert stored.startswith("$argon2id$")
    assert b"a-good-password" not in (tmp_path / "chatroom.db").read_bytes()


def test_admin_backup_copies_a_consistent_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    _stdin(monkeypatch, "a-good-password\n")
    assert main(["admin", "create", "root", "--password-stdin", *data]) == 0
    target = tmp_path / "backups" / "chat.db"
    assert main(["admin", "backup", str(target), *data]) == 0
    with sqlite3.connect(target) as conn:
        names = [row[0] for row in conn.execute("SELECT name FROM accounts")]
    assert names == ["root"]


def test_init_writes_a_config_that_serve_accepts_and_creates_the_admin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    answers = ["", "7000", "off", "0", "./data", "closed", "false", "root"]
    _stdin(monkeypatch, "\n".join([*answers, "supersecret1", "supersecret1", ""]))
    assert main(["init"]) == 0
    from chatroom import config as cfg

    loaded = cfg.load(tmp_path / "chatroom.toml", env={})
    assert loaded.listen.port == 7000
    assert loaded.tls.port is None
    assert loaded.core.accounts.registration == "closed"
    assert loaded.core.accounts.guests is False
    assert "supersecret1" not in (tmp_path / "chatroom.toml").read_text()
    # serve finds ./chatroom.toml by itself: the hint needs no --config.
    assert "start the server with: chatroom serve\n" in capsys.readouterr().out
    assert main(["admin", "list", "--config", "chatroom.toml"]) == 0
    assert "root\toper" in capsys.readouterr().out


def test_init_into_another_folder_creates_the_admin_where_that_config_keeps_its_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`init --config site/chatroom.toml` writes ``data_dir = "./chatroom-data"``, which
    serve and admin read from the file's folder: the admin account is made there too."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "site").mkdir()
    answers = ["", "", "", "", "", "", "", "root"]
    _stdin(monkeypatch, "\n".join([*answers, "supersecret1", "supersecret1", ""]))
    assert main(["init", "--config", "site/chatroom.toml"]) == 0
    assert "start the server with: chatroom serve --config site/chatroom.toml" in (
        capsys.readouterr().out
    )
    assert (tmp_path / "site" / "chatroom-data" / "chatroom.db").exists()
    assert not (tmp_path / "chatroom-data").exists()
    monkeypatch.chdir(tmp_path / "site")
    assert main(["admin", "list"]) == 0
    assert "root\toper" in capsys.readouterr().out


def test_init_writes_its_config_private_under_a_loose_umask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under umask 000 the config was 0666: any local user could rewrite it."""
    monkeypatch.chdir(tmp_path)
    answers = ["", "7000", "off", "0", "./data", "closed", "false", "root"]
    _stdin(monkeypatch, "\n".join([*answers, "supersecret1", "supersecret1", ""]))
    previous = os.umask(0)
    try:
        assert main(["init"]) == 0
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "chatroom.toml").stat().st_mode) == 0o600


def test_init_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    existing = tmp_path / "chatroom.toml"
    existing.write_text("# mine\n")
    assert main(["init", "--config", str(existing)]) == 1
    assert existing.read_text() == "# mine\n"


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for name in ("serve", "init", "admin", "config"):
        assert name in out


def test_example_config_is_the_documented_defaults() -> None:
    """chatroom.example.toml is the config reference; it must not drift from the code."""
    from chatroom import config as cfg

    example = Path(__file__).resolve().parent.parent / "chatroom.example.toml"
    assert example.read_text() == cfg.defaults_toml(), (
        "regenerate it: chatroom config --defaults > chatroom.example.toml"
    )


def test_init_run_again_for_an_existing_admin_says_what_to_do_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`init --force` run again to change the ports, answering the admin it made the first
    time, ended with only "account 'root' already exists"."""
    monkeypatch.chdir(tmp_path)
    answers = ["", "7000", "off", "0", "./data", "", "", "root"]
    _stdin(monkeypatch, "\n".join([*answers, "supersecret1", "supersecret1", ""]))
    assert main(["init"]) == 0
    first = (tmp_path / "chatroom.toml").read_text()
    answers[1] = "7001"
    _stdin(monkeypatch, "\n".join([*answers, "supersecret2", "supersecret2", ""]))
    assert main(["init", "--force"]) == 1
    err = capsys.readouterr().err
    assert "account 'root' already exists in " in err
    assert "nothing was written: answer another name for a new admin" in err
    assert "admin passwd root` sets its password" in err
    assert (tmp_path / "chatroom.toml").read_text() == first
