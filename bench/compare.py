"""Run the load scenarios against ChatRoom and peer IRC servers, side by side, in one run.

Why a side-by-side run: absolute numbers on a shared 2-core machine move with whatever
else is running, but servers measured minutes apart under the same conditions can be
compared. Ratios are given against InspIRCd, the fastest widely deployed peer here.

How it keeps the measurement honest:

- Each server is started fresh for each scenario (clean memory baseline for ``idle``),
  pinned to CPU 0 with ``taskset -c 0``; the generator runs on CPU 1 (``--generator-cpus``).
  The generator also reports its own CPU use: near 100 % of its core means the numbers
  are a floor.
- Each server gets a generated minimal config in a temp dir, on a loopback port, with its
  flood and connection limits lifted where it allows that (see ``peer_command`` and
  ``CHATROOM_CONF``). ircd-hybrid, which looks up every client's reverse DNS whatever its
  config says, runs in a private mount namespace whose resolv.conf names a loopback
  responder answering NXDOMAIN at once (``bench/nxdns.py``, see ``hybrid_command``).
- Fan-out runs one row per room size (``--fanout-sizes``), with about the same number of
  deliveries in flight in each (``fanout_window``); a cell whose generator passed 85 % of
  its cores is marked "generator-bound".
- ChatRoom runs as shipped: ``python -m chatroom serve --config ...`` (uvloop, as
  ``chatroom serve`` picks it), with only the ``limits.*`` keys changed.
- The ``login`` scenario (ChatRoom only: the peers have no SASL accounts set up) needs
  accounts before the server starts; they are created in its fresh data dir with
  ``chatroom.admin.create_account`` and the argon2 parameters of the same config file, so
  every login costs what it costs in production.
- Every server process is stopped at the end (SIGTERM, then SIGKILL after a grace period),
  also when a scenario fails; a failure is reported in the table, not raised.

Output: a Markdown table on stdout and, with ``--out``, the raw JSON results.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import pwd
import random
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
PEERS = BENCH / ".peers"
SERVER_CPU = "0"
GENERATOR_CPU = "1"  # default of --generator-cpus
DEFAULT_FANOUT_SIZES = "50,500,2000"
ALL_SERVERS = ("chatroom", "inspircd", "ngircd", "hybrid", "miniircd", "floor")
ALL_SCENARIOS = ("fanout", "latency", "idle", "connect", "login")
# Scenarios a server can run; the peers have no SASL accounts (nor, for some, SASL).
ONLY = {"login": ("chatroom",)}
# "floor" is no server: bench/floor.py writes each line to every member's socket and does
# nothing else, the least any server must do (see its docstring). Latency only.
FLOOR_SCENARIOS = ("latency",)
LOGIN_PASSWORD = "bench-password"
LOGIN_ACCOUNT_PREFIX = "acct"

# ChatRoom's abuse limits lifted, like the peers': every client comes from 127.0.0.1 and
# the senders send unpaced. The web and TLS listeners are off (nothing but 127.0.0.1:port).
CHATROOM_CONF = """\
[server]
data_dir = "{dir}/data"
[listen]
host = "127.0.0.1"
port = 0
http_port = "off"
tls_port = {tls_port}
[limits]
flood_per_second = 0
flood_burst = 1000000
connections_per_address = 1000000
connects_per_address_per_minute = 10000000
connections_total = 1000000
"""

INSPIRCD_CONF = """\
<server name="bench.local" description="bench" network="Bench">
<admin name="bench" nick="bench" email="bench@localhost">
<bind address="127.0.0.1" port="{port}" type="clients">
<connect name="bench" allow="*" timeout="60" pingfreq="120" hardsendq="104857600"
  softsendq="10485760" recvq="10485760" threshold="1000000" commandrate="1000000000"
  fakelag="no" localmax="1000000" globalmax="1000000" maxconnwarn="no" useident="no"
  resolvehostnames="no" limit="1000000">
<pid file="{dir}/inspircd.pid">
<log method="file" type="* -USERINPUT -USEROUTPUT" level="default" target="{dir}/ircd.log">
<performance netbuffersize="65536" somaxconn="1024" softlimit="20000" clonesonconnect="no"
  quietbursts="yes" nouserdns="yes">
<limits maxnick="30">
"""

# ircd-hybrid 8.2: one class and auth block for everybody, with the flood, clone and
# throttle limits lifted (``can_flood``, ``exceed_limit``, ``throttle_time = 0``, no ident).
# Reverse DNS cannot be switched off: see ``hybrid_command``.
HYBRID_CONF = """\
serverinfo {{
	name = "bench.local"; description = "bench"; network_name = "Bench";
	hub = no; default_max_clients = 19000; max_nick_length = 30;
}};
admin {{ name = "bench"; description = "bench"; email = "<bench@localhost>"; }};
class {{
	name = "users"; ping_time = 120 seconds;
	number_per_ip_local = 1000000; number_per_ip_global = 1000000; max_number = 1000000;
	cidr_bitlen_ipv4 = 32; number_per_cidr = 1000000;
	sendq = 100 megabytes; recvq = 10 megabytes; max_channels = 100;
}};
listen {{ host = "127.0.0.1"; port = {port}; }};
auth {{
	user = "*@*"; class = "users";
	flags = exceed_limit, can_flood, kline_exempt, xline_exempt, resv_exempt;
}};
channel {{
	max_channels = 100; default_join_flood_count = 0; default_join_flood_time = 0 seconds;
}};
general {{
	disable_auth = yes; throttle_count = 1000000; throttle_time = 0 seconds;
	anti_nick_flood = no; default_floodcount = 0; default_floodtime = 0 seconds;
	ping_cookie = no; short_motd = yes; max_targets = 100; invisible_on_connect = no;
	pace_wait = 0 seconds; pace_wait_simple = 0 seconds; warn_no_connect_block = no;
}};
log {{ use_logging = no; }};
"""
# The loopback address the NXDOMAIN responder (bench/nxdns.py) answers on, for hybrid.
NXDNS_HOST = "127.45.0.1"
HYBRID_ROOT = PEERS / "hybrid"
HYBRID_USER = "nobody"  # hybrid refuses to run as root

NGIRCD_CONF = """\
[Global]
	Name = bench.local
	Info = bench
	Listen = 127.0.0.1
	Ports = {port}
	PidFile = {dir}/ngircd.pid
	MotdPhrase = bench
[Limits]
	MaxConnections = 0
	MaxConnectionsIP = 0
	MaxJoins = 0
	MaxNickLength = 30
	MaxPenaltyTime = 0
	PingTimeout = 120
	PongTimeout = 60
[Options]
	DNS = no
	Ident = no
	PAM = no
"""


def free_port() -> int:
    """A free loopback port for a peer that cannot bind port 0 and tell us."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listening on {port} after {timeout} s")


def raise_nofile_for_children() -> None:
    """Children inherit our fd limit: 10,000 idle connections need more than 1024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def peer_command(name: str, tmp: Path, port: int) -> list[str]:
    """Command line (and config file) for one peer, limits lifted where it allows.

    InspIRCd: connect class with huge threshold/commandrate/sendq/recvq, fakelag off, no
    DNS/ident. ngIRCd: no connection limits, MaxPenaltyTime = 0 (no penalty delays), no
    DNS/ident/PAM; it still reads a bounded number of commands per connection per loop pass,
    which cannot be configured. miniircd: has no limits; it refuses to run as root without
    ``--setuid``, so it drops to nobody (like ngIRCd does on its own).
    """
    if name == "inspircd":
        conf = tmp / "inspircd.conf"
        conf.write_text(INSPIRCD_CONF.format(port=port, dir=tmp))
        return ["inspircd", "--nofork", "--runasroot", f"--config={conf}"]
    if name == "ngircd":
        conf = tmp / "ngircd.conf"
        conf.write_text(NGIRCD_CONF.format(port=port, dir=tmp))
        return ["ngircd", "--nodaemon", "--config", str(conf)]
    if name == "miniircd":
        exe = PEERS / "bin" / "miniircd"
        return [str(exe), "--listen", "127.0.0.1", "--ports", str(port), "--setuid", "nobody"]
    if name == "hybrid":
        return hybrid_command(tmp, port)
    raise ValueError(name)


def hybrid_command(tmp: Path, port: int) -> list[str]:
    """ircd-hybrid, as user nobody, in a mount namespace where resolv.conf names nxdns.

    ``unshare --mount`` gives the process its own mount table (private propagation: no
    mount made in it shows outside). In it, ``sh`` bind-mounts the generated resolv.conf
    over ``/etc/resolv.conf``, lays the unpacked package's ``usr/lib`` over ``/usr/lib``
    (a read-only overlay: hybrid loads its modules from the compiled-in
    ``/usr/lib/ircd-hybrid``, which a config cannot change, and the package is unpacked,
    not installed, see the Makefile), then execs ``setpriv``, which drops to nobody (hybrid
    refuses root) and execs hybrid. Every step execs, so the PID we started is hybrid's.
    The temp dir becomes nobody's: hybrid writes its pid file and ban databases there.
    """
    exe = HYBRID_ROOT / "usr" / "sbin" / "ircd-hybrid"
    if not exe.exists():
        raise RuntimeError(f"{exe} missing: run `make bench-peers`")
    libs = HYBRID_ROOT / "usr" / "lib"
    if any(c in str(libs) for c in ":,\\"):
        raise RuntimeError(f"{libs}: an overlay lowerdir cannot contain ':', ',' or '\\'")
    conf = tmp / "ircd.conf"
    conf.write_text(HYBRID_CONF.format(port=port))
    resolv = tmp / "resolv.conf"
    resolv.write_text(f"nameserver {nxdns_host(tmp)}\noptions timeout:1 attempts:1\n")
    user = pwd.getpwnam(HYBRID_USER)
    for path in (tmp, *tmp.iterdir()):
        os.chown(path, user.pw_uid, user.pw_gid)
    files = []
    for flag, name in (("-pidfile", "ircd.pid"), ("-logfile", "ircd.log")):
        files += [flag, str(tmp / name)]
    for kind in ("kline", "dline", "xline", "resv"):
        files += [f"-{kind}file", str(tmp / f"{kind}.db")]
    bind = (
        'mount --bind "$0" /etc/resolv.conf && '
        'mount -t overlay overlay -o "lowerdir=$1:/usr/lib" /usr/lib && shift && exec "$@"'
    )
    drop = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]
    return [
        *("unshare", "--mount", "--", "sh", "-c", bind, str(resolv), str(libs)),
        *drop,
        *(str(exe), "-foreground", "-configfile", str(conf), *files),
    ]


def nxdns_host(tmp: Path) -> str:
    """The responder's address for this server, recorded next to its config by ``Server``."""
    return (tmp / "nxdns.host").read_text().strip()


def start_nxdns(tmp: Path) -> subprocess.Popen[bytes]:
    """bench/nxdns.py on a loopback address of its own (port 53: resolv.conf has no port).

    A random 127.45.x.y, so two runs on one machine do not collide; tried a few times.
    """
    for _ in range(5):
        host = f"{NXDNS_HOST.rsplit('.', 2)[0]}.{random.randrange(256)}.{random.randrange(1, 255)}"
        cmd = [str(PYTHON), str(BENCH / "nxdns.py"), "--host", host, "--port", "53"]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert proc.stdout is not None
        if proc.stdout.readline().startswith(b"ready"):  # EOF (b"") if it could not bind
            (tmp / "nxdns.host").write_text(host)
            return proc
        stop_process(proc)
    raise RuntimeError("bench/nxdns.py could not bind port 53 on loopback (root needed)")


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after a grace period; closes its stdout pipe."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    if proc.stdout is not None:
        proc.stdout.close()


def create_accounts(conf: Path, count: int) -> None:
    """SASL accounts for the login scenario, hashed as the server configured by ``conf`` would.

    The same code path as ``chatroom admin create`` (one process here instead of ``count``
    CLI runs, which would spend most of their time starting Python).
    """
    from chatroom import admin
    from chatroom import config as cfg
    from chatroom.irc.casemap import casefolder
    from chatroom.server.auth.passwords import Argon2Params, PasswordHasher
    from chatroom.server.store.factory import open_store

    config = cfg.load(conf, env={})
    config.data_dir.mkdir(parents=True, exist_ok=True)
    hasher = PasswordHasher(Argon2Params(*config.argon2))
    fold = casefolder(config.core.casemapping)
    store = open_store(config.store)
    try:
        for i in range(count):
            name = f"{LOGIN_ACCOUNT_PREFIX}{i}"
            admin.create_account(store, hasher, name, LOGIN_PASSWORD, fold=fold)
    finally:
        store.close()


class Server:
    """One server process, pinned to the server CPU, always stopped on exit."""

    def __init__(self, name: str, accounts: int = 0, tls: bool = False) -> None:
        self.name = name
        self.tls = tls  # ChatRoom only: the generator connects to its TLS port
        self.accounts = accounts  # ChatRoom only: SASL accounts to create before starting
        self.tmp = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
        self.proc: subprocess.Popen[bytes] | None = None
        self.helper: subprocess.Popen[bytes] | None = None  # hybrid's DNS responder
        self.log: IO[bytes] | None = None
        self.port = 0

    def __enter__(self) -> Server:
        try:
            self._start()
        except BaseException:
            self.__exit__()  # a server (or hybrid's DNS responder) that did start stops
            raise
        return self

    def _start(self) -> None:
        pin = ["taskset", "-c", SERVER_CPU]
        # Closed in __exit__, which also runs when starting fails.
        log = self.log = open(self.tmp / "server.log", "wb")  # noqa: SIM115
        if self.name == "chatroom":
            conf = self.tmp / "chatroom.toml"
            tls_port = "0" if self.tls else '"off"'
            conf.write_text(CHATROOM_CONF.format(dir=self.tmp, tls_port=tls_port))
            if self.accounts:
                create_accounts(conf, self.accounts)
            cmd = [str(PYTHON), "-m", "chatroom", "serve", "--config", str(conf)]
            cmd += ["--log-level", "WARNING"]
            # Only the generated file configures it: no CHATROOM_* from our environment.
            env = {k: v for k, v in os.environ.items() if not k.startswith("CHATROOM_")}
            self.proc = subprocess.Popen(pin + cmd, stdout=subprocess.PIPE, stderr=log, env=env)
            assert self.proc.stdout is not None
            wanted = "listening for IRC over TLS on" if self.tls else "listening for IRC on"
            seen = []
            for _ in range(10):  # bounded; EOF (b"") if it exits
                line = self.proc.stdout.readline().decode()
                seen.append(line.strip())
                if wanted in line or not line:
                    break
            if wanted not in line:
                self.stop()
                raise RuntimeError(f"chatroom did not start: {seen!r}")
            self.port = int(line.rsplit(":", 1)[1])
        else:
            self.port = free_port()
            if self.name == "hybrid":
                self.helper = start_nxdns(self.tmp)
            cmd = peer_command(self.name, self.tmp, self.port)
            self.proc = subprocess.Popen(pin + cmd, stdout=log, stderr=subprocess.STDOUT)
        wait_listening(self.port, self.proc)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid  # taskset and the venv script exec, so this is the server

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def __exit__(self, *exc: object) -> None:
        self.stop()
        if self.helper is not None:
            stop_process(self.helper)
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        if self.log is not None:
            self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def fanout_senders(members: int, a: argparse.Namespace) -> int:
    """``--fanout-senders``, or a tenth of the room capped at 10 (50 → 5, 500 → 10)."""
    if a.fanout_senders:
        return int(a.fanout_senders)
    return max(1, min(10, members // 10))


def fanout_window(members: int, a: argparse.Namespace) -> int:
    """``--window``, or the window that keeps about ``--in-flight`` deliveries in flight.

    A fixed window per sender puts senders * window * (members - 1) deliveries in flight:
    right for a small room, seconds of backlog in a big one (the 1 s stall timeout then
    fires and latency measures the queue). 49,000 gives the issue's window 200 in the
    50-member room (5 senders), 10 at 500 members and 2 at 2,000.
    """
    if a.window:
        return int(a.window)
    per_line = fanout_senders(members, a) * (members - 1)
    return max(2, round(int(a.in_flight) / per_line))


def generator_procs(a: argparse.Namespace) -> int:
    """At least one fan-out generator process per generator CPU, so each core is used."""
    return max(int(a.procs), len(a.generator_cpus.split(",")))


def loadgen_args(scenario: str, a: argparse.Namespace, members: int = 0) -> list[str]:
    if scenario == "fanout":
        return [
            "fanout",
            *("--clients", str(members), "--senders", str(fanout_senders(members, a))),
            *("--seconds", str(a.seconds), "--procs", str(generator_procs(a))),
            *("--window", str(fanout_window(members, a))),
        ]
    if scenario == "latency":
        return [
            "fanout",
            *("--clients", str(a.latency_clients), "--senders", "10"),
            *("--rate", str(a.latency_rate), "--seconds", str(a.seconds)),
            *("--samples", "50"),
        ]
    if scenario == "idle":
        return ["idle", "--connections", str(a.idle_connections)]
    if scenario == "connect":
        return [
            "connect",
            *("--concurrency", str(a.connect_concurrency), "--seconds", str(a.seconds)),
        ]
    if scenario == "login":
        return [
            "login",
            *("--clients", str(a.latency_clients), "--rate", str(a.latency_rate)),
            *("--seconds", str(a.seconds), "--workers", str(a.login_workers)),
            *("--accounts", str(a.login_accounts), "--password", LOGIN_PASSWORD),
            *("--account-prefix", LOGIN_ACCOUNT_PREFIX),
        ]
    raise ValueError(scenario)


def run_floor(a: argparse.Namespace) -> dict[str, Any]:
    """The latency scenario's floor: the same room and rate, bare sends and nothing else."""
    cmd = [str(PYTHON), str(BENCH / "floor.py"), "--members", str(a.latency_clients)]
    cmd += ["--rate", str(a.latency_rate), "--seconds", str(a.seconds), "--samples", "50"]
    cmd += ["--writer-cpu", SERVER_CPU, "--reader-cpu", a.generator_cpus.split(",")[0]]
    print(f"# floor latency: {shlex.join(cmd)}", file=sys.stderr, flush=True)
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=a.timeout)
    except subprocess.TimeoutExpired as err:
        return {"error": str(err)[:200]}
    if done.returncode != 0:
        return {"error": ((done.stderr.strip().splitlines() or ["?"])[-1])[:200]}
    print("  " + done.stderr.strip().splitlines()[-1], file=sys.stderr, flush=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    expected = result["expected_lines"]
    result["loss"] = 1 - result["received_lines"] / expected if expected else 0.0
    return result


def run_one(name: str, scenario: str, a: argparse.Namespace, members: int = 0) -> dict[str, Any]:
    if name not in ONLY.get(scenario, (name,)):
        return {"skipped": f"{scenario} is run for {', '.join(ONLY[scenario])} only"}
    if name == "floor":
        if scenario not in FLOOR_SCENARIOS:
            return {"skipped": "the floor is measured for latency only"}
        return run_floor(a)
    if a.tls and name != "chatroom":
        return {"skipped": "--tls is measured for ChatRoom only"}
    accounts = a.login_accounts if scenario == "login" else 0
    try:
        with Server(name, accounts, a.tls) as server:
            cmd = ["taskset", "-c", a.generator_cpus, str(PYTHON), str(BENCH / "loadgen.py")]
            cmd += loadgen_args(scenario, a, members) + (["--tls"] if a.tls else [])
            cmd += ["--port", str(server.port), "--pid", str(server.pid)]
            print(f"# {name} {scenario}: {shlex.join(cmd)}", file=sys.stderr, flush=True)
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=a.timeout)
            if done.returncode != 0:
                tail = (done.stderr.strip().splitlines() or ["?"])[-1]
                return {"error": tail[:200]}
            result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
            print("  " + done.stderr.strip().splitlines()[-1], file=sys.stderr, flush=True)
            return result
    except (RuntimeError, OSError, subprocess.TimeoutExpired, ValueError) as err:
        return {"error": str(err)[:200]}


# Which number of each scenario goes in the table, and whether bigger is better.
HEADLINE = {
    "fanout": ("deliveries_per_s", True, "deliveries/s"),
    "latency": ("p99_ms", False, "p99 ms"),
    "idle": ("bytes_per_connection", False, "RSS B/conn"),
    "connect": ("registrations_per_s", True, "registrations/s"),
    "login": ("logins_per_s", True, "SASL PLAIN logins/s"),
}


def fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if value < 10 else f"{value:,.0f}"
    return str(value)


def table(results: dict[str, dict[str, dict[str, Any]]], servers: list[str]) -> str:
    """Markdown table: one row per scenario, one column per server, ratio to InspIRCd."""
    head = "| scenario | " + " | ".join(servers) + " |"
    rows = [head, "|" + "---|" * (len(servers) + 1)]
    for row, per_server in results.items():
        scenario, _, members = row.partition("-")  # "fanout-500": the 500-member room
        key, _, label = HEADLINE[scenario]
        title = f"{scenario}, {members} members" if members else scenario
        ref = per_server.get("inspircd", {}).get(key)
        cells = []
        for name in servers:
            r = per_server.get(name, {})
            if "error" in r:
                cells.append("failed: " + str(r["error"])[:60].replace("|", "/"))
                continue
            if "skipped" in r or not r:
                cells.append("n/a")
                continue
            value = r.get(key)
            cell = fmt(value)
            if isinstance(value, (int, float)) and isinstance(ref, (int, float)) and ref:
                cell += f" ({value / ref:.2f}x)"
            extra = []
            if scenario in ("fanout", "latency") and "loss" in r:
                extra.append(f"loss {r['loss']:.4f}")
                extra.append(f"p50 {r['p50_ms']} ms")
                if scenario == "fanout":
                    extra.append(f"p99 {r['p99_ms']} ms")
            if scenario == "login":
                extra.append(f"login p50 {r['login_p50_ms']} ms, p99 {r['login_p99_ms']} ms")
                extra.append(
                    f"chat p50/p99 {r['chat_p50_baseline_ms']}/{r['chat_p99_baseline_ms']} ms"
                    f" alone, {r['chat_p50_during_ms']}/{r['chat_p99_during_ms']} ms during"
                )
                extra.append(f"server CPU {r['server_cpu_during']:.0%}")
            if scenario == "fanout":
                extra.append(f"{fmt(r.get('server_ns_per_delivery'))} ns server CPU/delivery")
                extra.append(f"server CPU {r.get('server_cpu', 0):.0%}")
            if "per_send_us" in r:
                extra.append(f"{r['per_send_us']:.1f} µs per send")
            if "generator_cpu" in r:
                extra.append(f"gen CPU {r['generator_cpu']:.0%}")
            if r.get("stalls"):
                extra.append(f"{r['stalls']} stalls")
            if r.get("generator_limited"):
                extra.append("**generator-bound**")
            if extra:
                cell += "<br>" + ", ".join(extra)
            cells.append(cell)
        rows.append(f"| {title} ({label}) | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def machine_facts() -> str:
    model = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for row in f:
            if row.startswith("model name"):
                model = row.split(":", 1)[1].strip()
                break
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"{date}; nproc {os.cpu_count()}; CPU {model}; Linux {platform.release()}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="ChatRoom vs peer IRC servers, side by side")
    p.add_argument("--servers", default=",".join(ALL_SERVERS))
    p.add_argument("--scenarios", default=",".join(ALL_SCENARIOS))
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument(
        "--fanout-sizes",
        default=DEFAULT_FANOUT_SIZES,
        help="room sizes for fanout, comma-separated: one row each",
    )
    p.add_argument("--fanout-clients", type=int, help="one fanout room of this size (old form)")
    p.add_argument("--fanout-senders", type=int, default=0, help="0: a tenth of the room, ≤ 10")
    p.add_argument("--window", type=int, default=0, help="fanout: lines in flight per sender")
    p.add_argument(
        "--in-flight",
        type=int,
        default=49_000,
        help="fanout without --window: deliveries in flight (window = this / senders / members)",
    )
    p.add_argument("--latency-clients", type=int, default=200)
    p.add_argument("--latency-rate", type=float, default=200.0)
    p.add_argument("--idle-connections", type=int, default=10_000)
    p.add_argument("--connect-concurrency", type=int, default=50)
    p.add_argument("--procs", type=int, default=1, help="generator processes for fanout")
    p.add_argument(
        "--generator-cpus",
        default=GENERATOR_CPU,
        help="CPUs the generator is pinned to (taskset list, e.g. 1,2); fanout runs at least "
        "one process per CPU",
    )
    p.add_argument("--login-workers", type=int, default=8, help="concurrent SASL login loops")
    p.add_argument("--login-accounts", type=int, default=200, help="accounts created first")
    p.add_argument("--timeout", type=float, default=300.0, help="per-scenario limit")
    p.add_argument("--out", type=Path, help="write raw JSON results here")
    p.add_argument("--tls", action="store_true", help="ChatRoom over TLS (peers skipped)")
    a = p.parse_args(argv)
    servers = [s for s in a.servers.split(",") if s]
    scenarios = [s for s in a.scenarios.split(",") if s]
    for s in servers:
        if s not in ALL_SERVERS:
            raise SystemExit(f"unknown server {s!r}")
    for s in scenarios:
        if s not in ALL_SCENARIOS:
            raise SystemExit(f"unknown scenario {s!r}")
    if a.fanout_clients:
        a.fanout_sizes = str(a.fanout_clients)
    try:
        sizes = [int(s) for s in a.fanout_sizes.split(",") if s]
    except ValueError:
        raise SystemExit(f"--fanout-sizes: not a list of numbers: {a.fanout_sizes!r}") from None
    if not sizes or any(n < 3 for n in sizes):
        raise SystemExit("--fanout-sizes: every room needs at least 3 members")
    if SERVER_CPU in a.generator_cpus.split(","):
        raise SystemExit(f"--generator-cpus must leave CPU {SERVER_CPU} to the server")
    raise_nofile_for_children()
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for scenario in scenarios:
        for members in sizes if scenario == "fanout" else [0]:
            row = f"{scenario}-{members}" if members else scenario
            results[row] = {}
            for name in servers:
                results[row][name] = run_one(name, scenario, a, members)
    facts = machine_facts()
    command = "python bench/compare.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    print(f"Run: `{command.strip()}`\n\nMachine: {facts}\n")
    print(table(results, servers))
    if a.out is not None:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        payload = {"command": command, "machine": facts, "results": results}
        a.out.write_text(json.dumps(payload, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
