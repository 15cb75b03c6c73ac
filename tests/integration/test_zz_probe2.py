import base64, time
from dataclasses import replace
from tests.integration.devices_support import device
from tests.integration.moderation_support import config_with_accounts, PASSWORD
from tests.realserver import ServerThread, Wire, guest_wire

def half(port, wires, account, caps=()):
    wire = Wire(port); wires.append(wire)
    plain = base64.b64encode(f"{account}\0{account}\0{PASSWORD}".encode()).decode()
    wire.write("CAP LS 302", f"CAP REQ :{' '.join(('sasl', *caps))}")
    wire.until(" ACK ")
    wire.write("AUTHENTICATE PLAIN"); wire.until("AUTHENTICATE +")
    wire.write(f"AUTHENTICATE {plain}"); wire.until(" 903 ")
    return wire

def test_probe(tmp_path):
    config = config_with_accounts(tmp_path, "alice", "carol", "dave")
    config = replace(config, core=replace(config.core, accounts=replace(config.core.accounts, offline_messages=3)))
    s = ServerThread(config).start()
    wires = []
    try:
        c = device(s.port, wires, "carol", "carol"); d = device(s.port, wires, "dave", "dave")
        for i in range(5):
            w = c if i % 2 == 0 else d
            w.write(f"PRIVMSG alice :m{i}"); print(w.until(("kept", "too many", " 401 "))[-1])
        a1 = half(s.port, wires, "alice"); a2 = half(s.port, wires, "alice", ("batch", "server-time"))
        a1.write("CAP END", "NICK alice", "USER a 0 * :a"); a2.write("CAP END", "NICK alice", "USER a 0 * :a")
        a1.write("PING z"); a2.write("PING z")
        print("A1", "\n".join(a1.until("PONG")[-12:]))
        print("A2", "\n".join(a2.until("PONG")[-12:]))
        # markread
        m1 = device(s.port, wires, "carol", "carol", "draft/read-marker")
        m1.write("MARKREAD #nowhere", "MARKREAD #nowhere timestamp=2026-01-01T00:00:00.000Z", "MARKREAD #nowhere timestamp=2025-01-01T00:00:00.000Z", "MARKREAD #nowhere timestamp=2099-01-01T00:00:00.000Z", "MARKREAD nobody timestamp=2026-01-02T00:00:00.000Z", "PING m")
        print("M1", "\n".join(m1.until("PONG")[-8:]))
        print("C (carol other device):", "\n".join(c.until("PONG", 1) if False else []))
        m2 = device(s.port, wires, "carol", "carol", "draft/read-marker")
        m2.write("JOIN #nowhere", "MARKREAD nobody", "PING n")
        print("M2", "\n".join(m2.until("PONG")))
    finally:
        s.stop()
