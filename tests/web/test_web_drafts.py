"""The web client in a real Chromium with the IRCv3 drafts: a pasted block goes out as one
draft/multiline message and is shown as one, display-names (draft/metadata-2) appear
beside nicks, and a renamed room (RENAME, without the capability) follows its new name."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.web.web_support import LineClient, People

PASTE = "first line\n\n    indented line\nlast line"


def _lobby(client: LineClient) -> None:
    client.send("JOIN #lobby")
    client.wait_for(lambda line: f" 366 {client.nick} #lobby " in line)


def _paste_and_send(page: Page, text: str) -> None:
    """What pasting does: the text lands in the box at once, line breaks and all."""
    page.focus("#input")
    page.keyboard.insert_text(text)
    page.press("#input", "Enter")


def test_web_a_pasted_block_goes_out_as_one_multiline_message(
    people: People, tcp_client: Callable[..., LineClient]
) -> None:
    alice = people.join_as("alice")
    bob = people.join_as("bob")
    modern = tcp_client("modern", "draft/multiline batch")
    _lobby(modern)
    plain = tcp_client("plain")
    _lobby(plain)
    _paste_and_send(alice, PASTE)

    modern.wait_for(lambda line: bool(_ref(modern)) and line.endswith("BATCH -" + _ref(modern)))
    start = next(i for i, line in enumerate(modern.lines) if "draft/multiline #lobby" in line)
    inside = modern.lines[start + 1 : start + 5]
    assert [line.split(" PRIVMSG #lobby ", 1)[1] for line in inside] == [
        ":first line",
        ":",
        ":    indented line",
        ":last line",
    ]
    # Without the capability: the same lines one by one, the blank one left out.
    plain.wait_for(lambda line: line.endswith("PRIVMSG #lobby :last line"))
    said = [line.split(" :", 1)[1] for line in plain.lines if " PRIVMSG #lobby " in line]
    assert said == ["first line", "    indented line", "last line"]

    for page in (alice, bob):
        entry = page.locator("#message-list .msg-msg", has_text="indented line")
        expect(entry).to_have_count(1)
        expect(entry.locator(".nick")).to_have_text("alice")
        expect(entry.locator(".text")).to_have_text(PASTE)
    expect(alice.locator("#input")).to_have_value("")


def _ref(client: LineClient) -> str:
    opening = next((line for line in client.lines if "draft/multiline #lobby" in line), "")
    return opening.split("BATCH +", 1)[1].split(" ", 1)[0] if opening else ""


def test_web_a_multiline_message_is_shown_as_one_live_and_from_history(
    people: People, tcp_client: Callable[..., LineClient]
) -> None:
    alice = people.join_as("alice")
    paster = tcp_client("paster", "draft/multiline batch")
    _lobby(paster)
    paster.send(
        "BATCH +p draft/multiline #lobby",
        "@batch=p PRIVMSG #lobby :select *",
        "@batch=p PRIVMSG #lobby :from people ",
        "@batch=p;draft/multiline-concat PRIVMSG #lobby :where nice",
        "BATCH -p",
    )
    expected = "select *\nfrom people where nice"
    entry = alice.locator("#message-list .msg-msg", has_text="select *")
    expect(entry).to_have_count(1)
    expect(entry.locator(".text")).to_have_text(expected)
    expect(entry.locator(".nick")).to_have_text("paster")
    # Someone arriving later reads it from history (CHATHISTORY), still as one message.
    late = people.join_as("late")
    late_entry = late.locator("#message-list .msg-msg", has_text="select *")
    expect(late_entry).to_have_count(1)
    expect(late_entry.locator(".text")).to_have_text(expected)


def test_web_shows_display_names_and_sets_its_own(
    people: People, tcp_client: Callable[..., LineClient]
) -> None:
    tess = tcp_client("tess", "draft/metadata-2 batch")
    tess.send("METADATA * SET display-name :Tess Tester", "METADATA * SUB display-name")
    tess.wait_for(lambda line: " 770 tess " in line)
    _lobby(tess)
    alice = people.join_as("alice")
    member = alice.locator('#members .member[data-nick="tess"]')
    expect(member.locator(".display-name")).to_have_text("Tess Tester")
    tess.send("PRIVMSG #lobby :hello there")
    entry = alice.locator("#message-list .msg-msg", has_text="hello there")
    expect(entry.locator(".display-name")).to_have_text("Tess Tester")
    expect(entry.locator(".nick")).to_have_text("tess")

    people.say(alice, "/displayname Alice Liddell")
    tess.wait_for(lambda line: line.endswith("METADATA alice display-name * :Alice Liddell"))
    mine = alice.locator('#members .member[data-nick="alice"] .display-name')
    expect(mine).to_have_text("Alice Liddell")


def test_web_follows_a_room_renamed_by_its_operator(
    people: People, tcp_client: Callable[..., LineClient]
) -> None:
    """The browser did not ask for draft/channel-rename: it sees itself leave the old name
    and join the new one, which is what the room list then shows."""
    owner = tcp_client("owner")
    owner.send("JOIN #den")
    owner.wait_for(lambda line: " 366 owner #den " in line)
    alice = people.join_as("alice")
    people.say(alice, "/join #den")
    expect(alice.locator('#buffers .buffer[data-name="#den"]')).to_be_visible()
    expect(alice.locator('#members .member[data-nick="owner"]')).to_be_visible()
    owner.send("RENAME #den #study :quieter name")
    expect(alice.locator('#buffers .buffer[data-name="#study"]')).to_be_visible()
    expect(alice.locator('#buffers .buffer[data-name="#den"]')).to_have_count(0)
    people.say(alice, "/join #study")
    expect(alice.locator("#buffer-name")).to_have_text("#study")
    people.say(alice, "still here")
    owner.wait_for(lambda line: line.endswith("PRIVMSG #study :still here"))
