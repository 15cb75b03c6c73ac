"""A loopback DNS responder that answers NXDOMAIN to every query, at once.

Why: ircd-hybrid looks up every client's reverse DNS (``*** Looking up your hostname``)
and has no setting to skip it. On a machine whose resolver is slow, remote or missing,
every registration would wait for that lookup to time out, and the benchmark would
measure the resolver. ``compare.py`` runs hybrid in a private mount namespace whose
``/etc/resolv.conf`` names this responder, so each lookup costs one loopback round trip
and fails cleanly ("Couldn't look up your hostname"), as it would for an address
without a PTR record.

It parses only what it must: the 12-byte header and the question section, which it
echoes back with RCODE 3 (NXDOMAIN), QR and RA set, no records. Anything shorter than a
header is ignored. Only UDP: hybrid's resolver asks over UDP.

Run: ``python bench/nxdns.py --host 127.45.0.1 --port 53`` (port 53 needs root: a
resolv.conf cannot name another port). It prints ``ready HOST PORT`` once bound, and
stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import signal
import socket
import struct
import sys
from types import FrameType

HEADER = struct.Struct("!HHHHHH")  # id, flags, qdcount, ancount, nscount, arcount
QR = 0x8000
OPCODE_MASK = 0x7800
RD = 0x0100
RA = 0x0080
NXDOMAIN = 3


def question_end(packet: bytes) -> int:
    """Offset just past the first question (name, type, class), or the packet's length."""
    i = HEADER.size
    while i < len(packet):
        length = packet[i]
        if length == 0:
            return min(len(packet), i + 1 + 4)
        if length & 0xC0:  # a compression pointer ends the name (unusual in a question)
            return min(len(packet), i + 2 + 4)
        i += 1 + length
    return len(packet)


def nxdomain(query: bytes) -> bytes | None:
    """The NXDOMAIN answer to ``query``, or None when it is not a DNS query at all."""
    if len(query) < HEADER.size:
        return None
    ident, flags, qdcount, _, _, _ = HEADER.unpack_from(query)
    if flags & QR:
        return None  # a response, not a query
    answer_flags = QR | (flags & (OPCODE_MASK | RD)) | RA | NXDOMAIN
    if qdcount == 0:
        return HEADER.pack(ident, answer_flags, 0, 0, 0, 0)
    question = query[HEADER.size : question_end(query)]
    return HEADER.pack(ident, answer_flags, 1, 0, 0, 0) + question


def serve(host: str, port: int) -> int:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((host, port))
    print(f"ready {host} {sock.getsockname()[1]}", flush=True)
    answered = 0

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while True:
            query, peer = sock.recvfrom(4096)
            reply = nxdomain(query)
            if reply is not None:
                sock.sendto(reply, peer)
                answered += 1
    finally:
        sock.close()
        print(f"answered {answered} queries", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--host", default="127.45.0.1", help="loopback address to answer on")
    p.add_argument("--port", type=int, default=53)
    a = p.parse_args(argv)
    if not a.host.startswith("127."):
        raise SystemExit("nxdns only answers on loopback addresses (127.0.0.0/8)")
    return serve(a.host, a.port)


if __name__ == "__main__":
    raise SystemExit(main())
