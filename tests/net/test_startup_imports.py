"""A started server loads the optional parts only when configured.

aiohttp and prometheus_client (the web client, /metrics) take about 15 MB resident once
imported, cryptography about 10 MB, and cryptography is needed only to make the
self-signed certificate on the very first start. Each case runs in a fresh interpreter
(this one has imported everything already), starts the real ``Shell`` and lists the
top-level packages it has loaded.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from chatroom.server.net.tls import ensure_self_signed

SRC = Path(__file__).resolve().parents[2] / "src"
OPTIONAL = {"aiohttp", "prometheus_client", "cryptography"}

STARTED = """
import asyncio, sys
from pathlib import Path
from chatroom.config import load
from chatroom.server.net.shell import Shell

async def main() -> None:
    shell = Shell(load(Path(sys.argv[1]), env={}))
    await shell.start()
    try:
        print(" ".join(sorted({name.split(".")[0] for name in sys.modules})))
    finally:
        await shell.shutdown()

asyncio.run(main())
"""


def _loaded_after_start(tmp_path: Path, http_port: str, tls_port: str) -> set[str]:
    conf = tmp_path / "chatroom.toml"
    conf.write_text(
        f'[server]\ndata_dir = "{tmp_path / "data"}"\n'
        f'[listen]\nhost = "127.0.0.1"\nport = 0\nhttp_port = {http_port}\n'
        f"tls_port = {tls_port}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATROOM_")}
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-c", STARTED, str(conf)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_irc_alone_loads_neither_the_web_server_nor_cryptography(tmp_path: Path) -> None:
    loaded = _loaded_after_start(tmp_path, '"off"', '"off"')
    assert "chatroom" in loaded
    assert loaded & OPTIONAL == set()


def test_tls_with_its_certificate_made_already_loads_no_cryptography(tmp_path: Path) -> None:
    ensure_self_signed(tmp_path / "data", "localhost")  # what the first start made
    loaded = _loaded_after_start(tmp_path, '"off"', "0")
    assert "ssl" in loaded
    assert loaded & OPTIONAL == set()


def test_the_web_client_loads_its_server_when_it_is_on(tmp_path: Path) -> None:
    loaded = _loaded_after_start(tmp_path, "0", '"off"')
    assert {"aiohttp", "prometheus_client"} <= loaded
    assert "cryptography" not in loaded  # plain HTTP on loopback
