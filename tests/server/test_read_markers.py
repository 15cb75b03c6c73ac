"""MARKREAD (IRCv3 draft/read-marker) through the core harness: markers per account and
target, only forward, clamped to now, saved before they are confirmed, shared with the
account's other connections, sent after JOIN before the end of NAMES."""

from __future__ import annotations

from chatroom.irc.message import Message
from chatroom.server.core import readmarkers
from chatroom.server.core.history import format_time, parse_time
from chatroom.server.harness import Harness, SimClient
from chatroom.server.store.base import PutReadMarker
from tests.server.support import codes

CAP = "draft/read-marker"
T1 = "2026-01-02T03:04:05.678Z"
T2 = "2026-01-03T00:00:00.000Z"


def _logged_in(
    h: Harness, nick: str, account: str = "alice", caps: tuple[str, ...] = (CAP,)
) -> SimClient:
    if h.world.accounts.get(account) is None:
        h.add_account(account, "secret-password")
    client = h.connect(nick, caps=caps)
    client.cmd(f"PRIVMSG NickServ :IDENTIFY {account} secret-password")
    assert client.session.account == account
    return client


def _marks(replies: list[Message]) -> list[tuple[str, ...]]:
    return [m.params for m in replies if m.command == "MARKREAD"]


def _fail(replies: list[Message]) -> tuple[str, ...]:
    assert codes(replies) == ["FAIL"], codes(replies)
    assert replies[0].params[0] == "MARKREAD"
    return replies[0].params[1:-1]


def test_the_capability_is_advertised() -> None:
    tokens = [t for m in Harness().connect().cmd("CAP LS 302") for t in m.params[-1].split()]
    assert CAP in tokens


def test_a_target_without_a_marker_answers_star() -> None:
    h = Harness()
    alice = _logged_in(h, "alice")
    assert _marks(alice.cmd("MARKREAD #nowhere")) == [("#nowhere", "*")]
    assert _marks(alice.cmd("MARKREAD bob")) == [("bob", "*")]


def test_a_set_marker_is_answered_saved_and_returned_by_a_get() -> None:
    h = Harness()
    alice = _logged_in(h, "alice")
    assert _marks(alice.cmd(f"MARKREAD #Room timestamp={T1}")) == [("#Room", f"timestamp={T1}")]
    assert _marks(alice.cmd("MARKREAD #room")) == [("#room", f"timestamp={T1}")]
    assert h.store.load().read_markers == {"alice": {"#room": 1767323045.678}}


def test_a_marker_on_a_nick_is_kept_under_the_folded_nick() -> None:
    h = Harness()
    alice = _logged_in(h, "alice")
    alice.cmd(f"MARKREAD Bob timestamp={T1}")
    assert _marks(alice.cmd("MARKREAD BOB")) == [("BOB", f"timestamp={T1}")]
    assert list(h.store.load().read_markers["alice"]) == ["bob"]


def test_a_marker_only_moves_forward_and_an_older_one_is_answered_with_the_stored() -> None:
    h = Harness()
    alice = _logged_in(h, "alice")
    alice.cmd(f"MARKREAD #room timestamp={T2}")
    h.hold_persists = True
    assert _marks(alice.cmd(f"MARKREAD #room timestamp={T1}")) == [("#room", f"timestamp={T2}")]
    assert _marks(alice.cmd(f"MARKREAD #room timestamp={T2}")) == [("#room", f"timestamp={T2}")]
    assert h.held == []  # nothing to save


def test_a_time_after_now_is_clamped_to_now() -> None:
    h = Harness()
    alice = _logged_in(h, "alice")
    now = format_time(h.world.now_ms())
    assert _marks(alice.cmd("MARKREAD #room timestamp=2999-01-01T00:00:00.000Z")) == [
        ("#room", f"timestamp={now}")
    ]


def test_a_move_reaches_every_connection_of_the_account_with_the_capability() -> None:
    h = Harness()
    laptop = _logged_in(h, "alice")
    phone = _logged_in(h, "alice_phone")
    old = _logged_in(h, "alice_old", caps=())
    other = _logged_in(h, "bob", account="bob")
    assert _marks(laptop.cmd(f"MARKREAD #room timestamp={T1}")) == [("#room", f"timestamp={T1}")]
    assert _marks(phone.take()) == [("#room", f"timestamp={T1}")]
    assert old.take() == []
    assert other.take() == []
    # a move backwards tells nobody else
    laptop.cmd("MARKREAD #room timestamp=2020-01-01T00:00:00.000Z")
    assert phone.take() == []


def test_the_answer_and_the_others_wait_for_the_commit() -> None:
    h = Harness()
    laptop = _logged_in(h, "alice")
    phone = _logged_in(h, "alice_phone")
    h.hold_persists = True
    laptop.send(f"MARKREAD #room timestamp={T1}", "PING after")
    assert laptop.take() == []
    assert phone.take() == []
    h.release_persists()
    assert codes(laptop.take()) == ["MARKREAD", "PONG"]
    assert _marks(phone.take()) == [("#room", f"timestamp={T1}")]


def test_a_refused_commit_fails_and_takes_the_marker_back() -> None:
    h = Harness()
    alice = _logged_in(h, "alice")
    alice.cmd(f"MARKREAD #room timestamp={T1}")
    h.store_fails = True
    assert _fail(alice.cmd(f"MARKREAD #room timestamp={T2}")) == ("INTERNAL_ERROR", "#room")
    h.store_fails = False
    assert _marks(alice.cmd("MARKREAD #room")) == [("#room", f"timestamp={T1}")]


def test_a_guest_is_refused_and_sees_star_on_join() -> None:
    h = Harness()
    guest = h.connect("guest", caps=[CAP])
    assert _fail(guest.cmd(f"MARKREAD #room timestamp={T1}")) == (
        "INTERNAL_ERROR",
        "#room",
        "ACCOUNT_REQUIRED",
    )
    assert _fail(guest.cmd("MARKREAD #room"))[0] == "INTERNAL_ERROR"
    joined = guest.cmd("JOIN #room")
    assert _marks(joined) == [("#room", "*")]


def test_bad_parameters_get_the_specs_codes() -> None:
    h = Harness()
    alice = _logged_in(h, "alice")
    assert _fail(alice.cmd("MARKREAD")) == ("NEED_MORE_PARAMS",)
    assert _fail(alice.cmd("MARKREAD #room *")) == ("INVALID_PARAMS", "*")
    assert _fail(alice.cmd("MARKREAD #room timestamp=yesterday")) == (
        "INVALID_PARAMS",
        "timestamp=yesterday",
    )
    assert _fail(alice.cmd(f"MARKREAD #room {T1}")) == ("INVALID_PARAMS", T1)
    assert _fail(alice.cmd("MARKREAD bad,nick")) == ("INVALID_PARAMS", "bad,nick")


def test_join_sends_the_marker_after_join_and_before_the_end_of_names() -> None:
    h = Harness()
    alice = _logged_in(h, "alice")
    alice.cmd(f"MARKREAD #room timestamp={T1}")
    joined = alice.cmd("JOIN #Room")
    order = codes(joined)
    assert order.index("JOIN") < order.index("MARKREAD") < order.index("366")
    assert _marks(joined) == [("#Room", f"timestamp={T1}")]


def test_join_without_names_still_sends_the_marker() -> None:
    h = Harness()
    alice = _logged_in(h, "alice", caps=(CAP, "no-implicit-names"))
    assert codes(alice.cmd("JOIN #room")) == ["JOIN", "MARKREAD"]


def test_clients_without_the_capability_get_no_marker_on_join() -> None:
    h = Harness()
    alice = _logged_in(h, "alice", caps=())
    alice.cmd(f"MARKREAD #room timestamp={T1}")  # an answer to its own command is fine
    assert "MARKREAD" not in codes(alice.cmd("JOIN #room"))


def test_markers_survive_a_restart() -> None:
    h = Harness()
    alice = _logged_in(h, "alice")
    alice.cmd(f"MARKREAD #room timestamp={T1}")
    restarted = Harness()
    restarted.store = h.store
    restarted.world.load_snapshot(h.store.load())
    again = _logged_in(restarted, "alice")
    assert _marks(again.cmd("MARKREAD #room")) == [("#room", f"timestamp={T1}")]


def test_a_reload_keeps_the_later_marker_and_forgets_dropped_accounts() -> None:
    h = Harness()
    alice = _logged_in(h, "alice")
    alice.cmd(f"MARKREAD #room timestamp={T2}")
    h.store.apply([PutReadMarker("alice", "#room", 1.0), PutReadMarker("alice", "#b", 2.0)])
    h.world.load_snapshot(h.store.load())
    assert h.world.read_markers.accounts["alice"] == {"#room": parse_time(T2), "#b": 2000}
    assert _marks(alice.cmd("MARKREAD #room")) == [("#room", f"timestamp={T2}")]
    alice.cmd("PRIVMSG NickServ :DROP alice")
    assert "alice" not in h.world.read_markers.accounts
    assert h.store.load().read_markers == {}


def test_an_account_holds_markers_on_a_bounded_number_of_targets() -> None:
    h = Harness()
    alice = _logged_in(h, "alice")
    markers = h.world.read_markers
    for i in range(readmarkers.MAX_TARGETS):
        markers.put("alice", f"#r{i}", 1000)
    assert _fail(alice.cmd(f"MARKREAD #new timestamp={T1}")) == (
        "INTERNAL_ERROR",
        "#new",
        "TOO_MANY_TARGETS",
    )
    assert _marks(alice.cmd(f"MARKREAD #r1 timestamp={T1}")) == [("#r1", f"timestamp={T1}")]
