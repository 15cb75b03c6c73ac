"""What a new operator meets first: one-line errors, the config found where init wrote it,
admin commands that never work on a database nobody runs, readable start-up lines."""

from __future__ import annotations

import errno
import io
import os
import pty
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import chatroom
from chatroom.cli import main
from chatroom.client.connection import format_fingerprint


@pytest.fixture
def nowhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with no config, and no user config dir either."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("CHATROOM_CONFIG", raising=False)
    monkeypatch.delenv("CHATROOM_SERVER_DATA_DIR", raising=False)
    return tmp_path


def test_serve_does_not_take_an_abbreviated_flag(
    nowhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["serve", "--tls", "7000"])
    assert stopped.value.code == 2
    assert "unrecognized arguments: --tls" in capsys.readouterr().err


def test_a_bad_log_level_is_one_line_not_a_traceback(
    nowhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--log-level", "LOUD"])
    err = capsys.readouterr().err
    assert "argument --log-level: invalid choice: 'LOUD'" in err
    assert "Traceback" not in err


def test_serve_with_every_listener_off_refuses_to_start(
    nowhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["serve", "--port", "off", "--tls-port", "off", "--http-port", "off"]
    assert main(args) == 2
    assert "every listener is off" in capsys.readouterr().err


def test_a_port_in_use_is_named_with_what_to_do(
    nowhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = ["serve", "--port", str(port), "--tls-port", "off", "--http-port", "off"]
        assert main([*args, "--data-dir", str(nowhere / "data")]) == 2
    err = capsys.readouterr().err
    assert f"127.0.0.1:{port}" in err
    assert "--port PORT" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("host", ["192.0.2.1", "no-such-host.invalid"])
def test_a_listen_address_this_machine_lacks_is_one_line_naming_it(
    nowhere: Path, capsys: pytest.CaptureFixture[str], host: str
) -> None:
    """192.0.2.1 (TEST-NET-1) is on no interface here; .invalid never resolves."""
    args = ["serve", "--host", host, "--port", "0", "--tls-port", "off", "--http-port", "off"]
    assert main([*args, "--data-dir", str(nowhere / "data")]) == 2
    err = capsys.readouterr().err
    assert f"{host!r} is not an address of this machine" in err
    assert "--host" in err
    assert len(err.strip().splitlines()) == 1


def test_an_unknown_config_key_suggests_the_nearest_one(
    nowhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (nowhere / "c.toml").write_text("[listen]\ntls_prot = 7000\n")
    assert main(["serve", "--config", "c.toml"]) == 2
    assert "did you mean 'listen.tls_port'?" in capsys.readouterr().err


def test_admin_in_a_directory_without_a_server_creates_nothing_and_says_where_it_looked(
    nowhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["admin", "list"]) == 1
    err = capsys.readouterr().err
    assert str(nowhere / "chatroom-data") in err
    assert "chatroom.toml" in err
    assert not (nowhere / "chatroom-data").exists()


def test_admin_finds_the_data_directory_of_the_config_in_this_directory(
    nowhere: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (nowhere / "chatroom.toml").write_text('[server]\ndata_dir = "./elsewhere"\n')
    monkeypatch.setattr(sys, "stdin", io.StringIO("long-enough-pw\n"))
    assert main(["admin", "create", "root", "--oper", "--password-stdin"]) == 0
    assert (nowhere / "elsewhere" / "chatroom.db").exists()
    assert main(["admin", "list"]) == 0
    assert "root\toper" in capsys.readouterr().out


def test_admin_with_a_config_from_another_directory_uses_the_data_directory_beside_it(
    nowhere: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``chatroom init`` writes ``data_dir = "./chatroom-data"``; named from elsewhere with
    --config, that is the folder beside the file, where ``serve --config`` looks too."""
    site = nowhere / "site"
    (site / "chatroom-data").mkdir(parents=True)
    (site / "chatroom.toml").write_text('[server]\ndata_dir = "./chatroom-data"\n')
    monkeypatch.chdir(site)
    monkeypatch.setattr(sys, "stdin", io.StringIO("long-enough-pw\n"))
    assert main(["admin", "create", "root", "--oper", "--password-stdin"]) == 0
    monkeypatch.chdir(nowhere)
    assert main(["admin", "list", "--config", "site/chatroom.toml"]) == 0
    assert "root\toper" in capsys.readouterr().out
    assert not (nowhere / "chatroom-data").exists()


def test_admin_create_without_a_terminal_asks_for_password_stdin(
    nowhere: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert main(["admin", "create", "root", "--data-dir", "data"]) == 1
    err = capsys.readouterr().err
    assert "--password-stdin" in err
    assert "Traceback" not in err


class Terminal:
    """The leader side of a pseudo-terminal, read up to one expected text at a time."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.pending = b""

    def expect(self, needle: bytes, limit: float = 20.0) -> None:
        deadline = time.monotonic() + limit
        while needle not in self.pending:
            left = max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                raise AssertionError(f"never saw {needle!r}; got {self.pending[-300:]!r}")
            self.pending += os.read(self.fd, 4096)
        self.pending = self.pending.split(needle, 1)[1]

    def type(self, text: bytes) -> None:
        os.write(self.fd, text + b"\r")


def test_init_on_a_terminal_asks_again_for_a_too_short_password(nowhere: Path) -> None:
    """At a terminal, a short password is asked again at once, not refused at the end."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "chatroom", "init"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=nowhere,
        start_new_session=True,
        env={**os.environ, "XDG_CONFIG_HOME": str(nowhere / "xdg")},
    )
    os.close(follower)
    tty = Terminal(leader)
    try:
        for _ in range(8):  # address, ports, data dir, policy, guests, admin name: defaults
            tty.expect(b"]: ")
            tty.type(b"")
        tty.expect(b"Admin password")
        tty.type(b"short")
        tty.expect(b"at least 8 characters\r\n")
        tty.expect(b"Admin password")
        tty.type(b"long-enough-pw")
        tty.expect(b"Again")
        tty.type(b"long-enough-pw")
        tty.expect(b"wrote chatroom.toml")
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        os.close(leader)
    assert (nowhere / "chatroom.toml").exists()


def test_first_start_prints_the_first_admin_hint_and_the_fingerprint_in_each_clients_form(
    nowhere: Path,
) -> None:
    ports = ["--port", "0", "--tls-port", "0", "--http-port", "off"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "chatroom", "serve", *ports, "--data-dir", str(nowhere / "data")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=nowhere,
    )
    try:
        assert proc.stdout is not None
        seen: list[str] = []
        deadline = time.monotonic() + 20
        while not any("no accounts yet" in line for line in seen):
            assert time.monotonic() < deadline, seen
            seen.append(proc.stdout.readline())
        plain = next(line for line in seen if "certificate SHA-256" in line).split()[-1]
        colon = next(line for line in seen if "in colon form" in line).split()[-1]
        assert len(colon) == 95
        assert colon.count(":") == 31
        assert colon == colon.upper()
        assert colon.replace(":", "").lower() == plain
        # The form `chatroom connect` asks the user to compare, word for word.
        ours = next(line for line in seen if "as chatroom connect shows it" in line)
        assert ours.rstrip("\n").endswith(format_fingerprint(plain))
        hint = next(line for line in seen if "no accounts yet" in line)
        assert "chatroom admin create NAME --oper" in hint
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    logged = [line for line in err.splitlines() if line.strip()]
    assert logged
    assert not any(line.lstrip().startswith("{") for line in logged)
    assert any(" INFO listening " in line for line in logged)


def test_first_admin_hint_names_the_program_by_its_path_when_a_shell_would_not_find_it(
    nowhere: Path,
) -> None:
    """``make serve`` runs ``.venv/bin/chatroom``; a second terminal has no ``chatroom`` on
    its PATH, so the hint to copy is the path the server was started by."""
    program = Path(sys.executable).parent / "chatroom"
    if not program.exists():
        pytest.skip("no chatroom console script beside this Python")
    ports = ["--port", "0", "--tls-port", "off", "--http-port", "off"]
    path = os.pathsep.join(
        d for d in os.environ.get("PATH", "").split(os.pathsep) if Path(d) != program.parent
    )
    proc = subprocess.Popen(
        [str(program), "serve", *ports, "--data-dir", str(nowhere / "data")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=nowhere,
        # This checkout's code, whichever one the venv's script was installed from.
        env={**os.environ, "PATH": path, "PYTHONPATH": str(Path(chatroom.__file__).parents[1])},
    )
    try:
        assert proc.stdout is not None
        hint = ""
        deadline = time.monotonic() + 20
        while "no accounts yet" not in hint:
            assert time.monotonic() < deadline
            hint = proc.stdout.readline()
        assert f" {program} admin create NAME --oper" in hint
    finally:
        proc.terminate()
        proc.communicate(timeout=20)


def test_a_privileged_port_refused_says_to_pick_one_from_1024_up() -> None:
    """What a non-root `serve --port 80` meets (these tests may run as root: raised here)."""
    from chatroom.config import ConfigError
    from chatroom.server.net.shell import _port_in_use

    with (
        pytest.raises(ConfigError) as refused,
        _port_in_use("127.0.0.1", 80, "plain IRC", "listen.port", "--port"),
    ):
        raise PermissionError(errno.EACCES, "Permission denied")
    assert "ports below 1024 need root" in str(refused.value)
    assert "--port PORT" in str(refused.value)


def test_a_tls_certificate_that_cannot_be_loaded_is_one_line_naming_the_keys(
    nowhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (nowhere / "junk.pem").write_text("not a certificate\n")
    (nowhere / "c.toml").write_text('[tls]\ncert = "junk.pem"\nkey = "missing-key.pem"\n')
    ports = ["--port", "off", "--tls-port", "0", "--http-port", "off"]
    args = ["serve", "--config", "c.toml", *ports, "--data-dir", str(nowhere / "data")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "config keys 'tls.cert' and 'tls.key': cannot load" in err
    assert "junk.pem" in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_a_data_directory_that_cannot_be_made_is_one_line(
    nowhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (nowhere / "a-file").write_text("")
    ports = ["--port", "0", "--tls-port", "off", "--http-port", "off"]
    assert main(["serve", *ports, "--data-dir", str(nowhere / "a-file" / "data")]) == 2
    err = capsys.readouterr().err
    assert "config key 'server.data_dir': cannot make" in err
    assert len(err.strip().splitlines()) == 1


def test_admin_with_a_data_directory_that_cannot_be_made_is_one_line(
    nowhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (nowhere / "a-file").write_text("")
    assert main(["admin", "list", "--data-dir", str(nowhere / "a-file" / "data")]) == 2
    err = capsys.readouterr().err
    assert "config key 'server.data_dir': cannot make" in err
    assert len(err.strip().splitlines()) == 1


def test_extra_words_are_refused_with_the_usage_of_the_subcommand_that_was_run(
    nowhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`chatroom admin ban vic 1h spam`, as IRC's BAN is written: the error shows how
    `chatroom admin ban` is called (--duration, --reason), not the top-level usage."""
    with pytest.raises(SystemExit) as stopped:
        main(["admin", "ban", "vic", "1h", "spam"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "usage: chatroom admin ban" in err
    assert "--duration" in err
    assert "chatroom admin ban: error: unrecognized arguments: 1h spam" in err
