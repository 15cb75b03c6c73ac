"""LIST search extensions advertised in ELIST=CMNTU (modern.ircdocs.horse, ELIST):
masks, negative masks, creation time, topic time and user count."""

from __future__ import annotations

from chatroom.irc import numerics as n
from chatroom.server.core.replies import isupport_tokens
from chatroom.server.harness import Harness, SimClient
from tests.server.support import codes


def _listed(client: SimClient, query: str) -> list[str]:
    msgs = client.cmd(f"LIST {query}" if query else "LIST")
    assert codes(msgs)[0] == n.RPL_LISTSTART
    assert codes(msgs)[-1] == n.RPL_LISTEND
    return sorted(m.params[1] for m in msgs if m.command == n.RPL_LIST)


def _rooms(h: Harness, *names: str) -> SimClient:
    """A client sitting in each room of ``names`` (and #lobby exists as ever)."""
    owner = h.connect("owner")
    for name in names:
        owner.send(f"JOIN {name}")
    owner.take()
    return owner


def test_elist_advertises_every_filter_list_understands() -> None:
    assert isupport_tokens(Harness().world)["ELIST"] == "CMNTU"


def test_mask_lists_the_rooms_whose_name_matches() -> None:
    """M: a glob on the room name, case-folded like every name."""
    h = Harness()
    owner = _rooms(h, "#dev", "#Dev-ops", "#random")
    assert _listed(owner, "#dev*") == ["#Dev-ops", "#dev"]
    assert _listed(owner, "#r?ndom,#dev") == ["#dev", "#random"]


def test_negative_mask_leaves_out_the_rooms_whose_name_matches() -> None:
    """N: ``!mask`` lists the rooms that do not match."""
    h = Harness()
    owner = _rooms(h, "#dev", "#dev-ops", "#random")
    assert _listed(owner, "!#dev*") == ["#lobby", "#random"]
    assert _listed(owner, "#*,!#dev-*,!#lobby") == ["#dev", "#random"]


def test_creation_time_filters_count_minutes_ago() -> None:
    """C: ``C<n`` created less than n minutes ago, ``C>n`` more than n minutes ago (the
    modern docs warn that some servers swap them; these are the documented meanings)."""
    h = Harness()
    owner = _rooms(h, "#old")
    h.clock.advance(30 * 60)
    owner.cmd("JOIN #new")
    assert _listed(owner, "C<10") == ["#new"]
    assert _listed(owner, "C>10") == ["#lobby", "#old"]
    assert _listed(owner, "c>10,!#lobby") == ["#old"]  # letters are case-insensitive


def test_topic_time_filters_count_minutes_ago_and_need_a_topic() -> None:
    """T: ``T<n`` topic set less than n minutes ago, ``T>n`` more; no topic, no match."""
    h = Harness()
    owner = _rooms(h, "#stale", "#fresh", "#bare")
    owner.cmd("TOPIC #stale :set long ago")
    h.clock.advance(60 * 60)
    owner.cmd("TOPIC #fresh :just set")
    assert _listed(owner, "T<5") == ["#fresh"]
    assert _listed(owner, "T>5") == ["#stale"]


def test_filters_combine_and_all_must_hold() -> None:
    h = Harness()
    owner = _rooms(h, "#busy", "#quiet")
    h.connect("guest").send("JOIN #busy")
    assert _listed(owner, "#*,>1") == ["#busy"]
    assert _listed(owner, "C<5,<2,!#lobby") == ["#quiet"]


def test_filters_never_reveal_a_secret_room_to_outsiders() -> None:
    h = Harness()
    owner = _rooms(h, "#hidden")
    owner.cmd("MODE #hidden +s")
    outsider = h.connect("outsider")
    assert _listed(outsider, "#hid*") == []
    assert _listed(outsider, "!#lobby") == []
    assert _listed(owner, "#hid*") == ["#hidden"]


def test_a_room_named_twice_is_listed_once() -> None:
    h = Harness()
    owner = _rooms(h, "#dev")
    assert _listed(owner, "#dev,#DEV") == ["#dev"]
