"""What users of The Lounge or a good IRC client expect from the web client: others' away
status (member list, private conversation), why one is ``alice_`` after logging in as
``alice``, NickServ's warnings where they are seen, Escape closing the phone drawers, and
``/mode`` with readable answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.web.web_support import LineClient, People


def _in_lobby(people: People, nick: str, width: int = 1280) -> Page:
    """Log in as ``nick`` (maybe ending up with another nick) and wait for #lobby."""
    page = people.open(width=width)
    people.login(page, nick)
    expect(page.locator("#buffer-name")).to_have_text("#lobby")
    return page


def _joined(client: LineClient, room: str = "#lobby") -> None:
    client.send(f"JOIN {room}")
    client.wait_for(lambda line: f" 366 {client.nick} {room} " in line)


def _ends_with(text: str) -> Callable[[str], bool]:
    return lambda line: line.endswith(text)


def _join_in_page(page: Page, room: str) -> None:
    page.fill("#join-input", room)
    page.press("#join-input", "Enter")
    expect(page.locator("#buffer-name")).to_have_text(room)
    expect(page.locator("#members .member.self")).to_be_visible()


def _alice_runs_den_with_tess(
    people: People, tcp_client: Callable[[str], LineClient]
) -> tuple[Page, LineClient]:
    """alice in the web client opens #den (the first in: its operator); tess joins it."""
    alice = people.join_as("alice")
    _join_in_page(alice, "#den")
    tess = tcp_client("tess")
    _joined(tess, "#den")
    expect(alice.locator('#members .member[data-nick="tess"]')).to_be_visible()
    return alice, tess


def _received(client: LineClient, text: str) -> None:
    """Wait until ``client`` got the private message ``text``."""
    client.wait_for(lambda line: f"PRIVMSG {client.nick} " in line and line.endswith(text))


# ------------------------------------------------------------------ away


def test_web_member_list_dims_an_away_member_with_their_message(
    people: People, tcp_client: Callable[[str], LineClient]
) -> None:
    alice = people.join_as("alice")
    tess = tcp_client("tess")
    _joined(tess)
    member = alice.locator('#members .member[data-nick="tess"]')
    expect(member).to_be_visible()
    expect(member).not_to_have_class("member away")
    tess.send("AWAY :gone for lunch")
    expect(member).to_have_class("member away")
    expect(member).to_have_attribute("title", "Away: gone for lunch")
    expect(member.locator(".away-mark")).to_have_text("away")
    tess.send("AWAY")
    expect(member).to_have_class("member")
    expect(member.locator(".away-mark")).to_have_count(0)


def test_web_member_list_shows_who_was_away_before_we_joined(
    people: People, tcp_client: Callable[[str], LineClient]
) -> None:
    tess = tcp_client("tess")
    tess.send("AWAY :on holiday")
    _joined(tess)
    alice = people.join_as("alice")
    member = alice.locator('#members .member[data-nick="tess"]')
    expect(member).to_have_class("member away")
    expect(alice.locator('#members .member[data-nick="alice"]')).to_have_class("member self")
    # The WHO asked for this is not printed anywhere.
    alice.click('#buffers .buffer[data-name="*server*"]')
    expect(alice.locator("#message-list")).not_to_contain_text("End of WHO")
    expect(alice.locator("#message-list")).not_to_contain_text("~tess")


def test_web_private_conversation_says_once_that_the_other_is_away(
    people: People, tcp_client: Callable[[str], LineClient]
) -> None:
    alice = people.join_as("alice")
    tess = tcp_client("tess")
    _joined(tess)
    tess.send("AWAY :gone for lunch")
    expect(alice.locator('#members .member[data-nick="tess"]')).to_have_class("member away")
    people.say(alice, "/msg tess are you there?")
    expect(alice.locator("#buffer-name")).to_have_text("tess")
    away_line = alice.locator("#message-list .msg-event", has_text="tess is away: gone for lunch")
    expect(away_line).to_have_count(1)
    for text in ("hello?", "anyone?"):
        people.say(alice, text)
        _received(tess, text)
    expect(alice.locator("#message-list .msg-msg", has_text="anyone?")).to_have_count(1)
    expect(away_line).to_have_count(1)  # every PRIVMSG brought a 301; one line says it
    # away-notify: coming back (and going again) is said in the conversation as it happens.
    tess.send("AWAY")
    expect(alice.locator("#message-list .msg-event", has_text="tess is back")).to_have_count(1)
    tess.send("AWAY :meeting")
    expect(
        alice.locator("#message-list .msg-event", has_text="tess is away: meeting")
    ).to_have_count(1)
    people.say(alice, "ok, later")
    _received(tess, "ok, later")
    expect(alice.locator("#message-list .msg-msg", has_text="ok, later")).to_have_count(1)
    expect(alice.locator("#message-list .msg-event", has_text="is away")).to_have_count(2)


# ------------------------------------------------------------------ nick taken, NickServ


def test_web_says_the_wanted_nick_was_taken_and_how_to_get_it_back(
    people: People, tcp_client: Callable[[str], LineClient]
) -> None:
    tcp_client("alice")
    page = _in_lobby(people, "alice")
    expect(page.locator("#me")).to_have_text("alice_")
    line = page.locator("#message-list .msg", has_text="The nickname alice is in use")
    expect(line).to_have_count(1)
    expect(line).to_contain_text("so you are alice_ for now")
    expect(line).to_contain_text("log in with its password")
    expect(line).to_contain_text("/nick alice")


def test_web_shows_a_nickserv_warning_in_the_open_room_but_not_other_notices(
    people: People, tcp_client: Callable[[str], LineClient]
) -> None:
    owner = tcp_client("carol")
    owner.send("REGISTER * * :a long enough password")
    owner.wait_for(lambda line: " REGISTER SUCCESS " in line)
    owner.send("NICK somebody")
    owner.wait_for(lambda line: " NICK " in line)
    page = _in_lobby(people, "carol")
    warning = page.locator("#message-list .msg", has_text="This nickname is registered")
    expect(warning).to_have_count(1)
    expect(warning).to_contain_text("NickServ")
    # An ordinary private notice stays in the server tab.
    owner.send("NOTICE carol :just so you know")
    owner.send("JOIN #lobby", "PRIVMSG #lobby :marker line")
    expect(page.locator("#message-list")).to_contain_text("marker line")
    expect(page.locator("#message-list")).not_to_contain_text("just so you know")
    page.click('#buffers .buffer[data-name="*server*"]')
    expect(page.locator("#message-list .msg", has_text="just so you know")).to_have_count(1)
    expect(
        page.locator("#message-list .msg", has_text="This nickname is registered")
    ).to_have_count(1)


def test_web_shows_a_nickserv_warning_after_a_nick_change_in_the_open_room(
    people: People, tcp_client: Callable[[str], LineClient]
) -> None:
    owner = tcp_client("carol")
    owner.send("REGISTER * * :a long enough password")
    owner.wait_for(lambda line: " REGISTER SUCCESS " in line)
    owner.send("NICK somebody")
    owner.wait_for(lambda line: " NICK " in line)
    page = people.join_as("wendy")
    people.say(page, "/nick carol")
    expect(page.locator("#me")).to_have_text("carol")
    warning = page.locator("#message-list .msg", has_text="This nickname is registered")
    expect(warning).to_have_count(1)
    expect(page.locator("#buffer-name")).to_have_text("#lobby")


# ------------------------------------------------------------------ phone drawers


def test_web_escape_closes_the_side_panels_on_a_phone(people: People) -> None:
    page = _in_lobby(people, "wendy", width=390)
    screen = page.locator("#chat-screen")
    for toggle, shown, panel in (
        ("#toggle-sidebar", "show-sidebar", "#sidebar"),
        ("#toggle-members", "show-members", "#members-panel"),
    ):
        page.click(toggle)
        expect(screen).to_have_class(f"screen {shown}")
        expect(page.locator(panel)).to_be_in_viewport()
        page.keyboard.press("Escape")
        expect(screen).to_have_class("screen")
        expect(page.locator(panel)).not_to_be_in_viewport()
        expect(page.locator("#input")).to_be_focused()


# ------------------------------------------------------------------ /mode


def test_web_mode_command_changes_and_shows_room_and_user_modes(
    people: People, tcp_client: Callable[[str], LineClient]
) -> None:
    alice, tess = _alice_runs_den_with_tess(people, tcp_client)
    messages = alice.locator("#message-list")

    people.say(alice, "/mode +m")
    tess.wait_for(_ends_with("MODE #den +m"))
    expect(messages).to_contain_text("alice sets mode +m")
    people.say(alice, "/mode #den +b spammer!*@*")
    tess.wait_for(_ends_with("MODE #den +b spammer!*@*"))
    expect(messages).to_contain_text("alice sets mode +b spammer!*@*")
    people.say(alice, "/mode")
    expect(messages.locator(".msg-event", has_text="#den has modes +")).to_contain_text("m")
    people.say(alice, "/mode #den +b")
    expect(messages).to_contain_text("#den bans spammer!*@* (set by alice")
    people.say(alice, "/mode alice +i")
    expect(messages).to_contain_text("Your modes changed: +i")
    people.say(alice, "/mode alice")
    expect(messages).to_contain_text("Your modes: +i")

    # Not an operator: the refusal is said, in words, in the room it is about.
    bob = people.join_as("bob")
    _join_in_page(bob, "#den")
    _join_in_page(bob, "#side")
    people.say(bob, "/mode #den -m")
    bob.click('#buffers .buffer[data-name="#den"]')
    refusal = bob.locator(
        "#message-list .msg-error",
        has_text="You need to be a room operator (@) in #den to do that.",
    )
    expect(refusal).to_have_count(1)
    people.say(bob, "/mode +Z")
    expect(bob.locator("#message-list .msg-error", has_text="Unknown mode: Z")).to_have_count(1)

    people.say(bob, "/help")
    expect(bob.locator("#message-list")).to_contain_text("/mode [#room|nick]")


def test_web_ban_mute_and_their_undoing_set_list_modes_on_the_nicks_mask(
    people: People, tcp_client: Callable[[str], LineClient]
) -> None:
    alice, tess = _alice_runs_den_with_tess(people, tcp_client)
    for typed, sent in (
        ("/ban pest", "MODE #den +b pest!*@*"),
        ("/unban pest", "MODE #den -b pest!*@*"),
        ("/mute loud", "MODE #den +q loud!*@*"),
        ("/unmute loud", "MODE #den -q loud!*@*"),
    ):
        people.say(alice, typed)
        tess.wait_for(_ends_with(sent))
    people.say(alice, "/mute")
    expect(alice.locator("#message-list")).to_contain_text("Usage: /mute nick")
    alice.locator("#buffers .buffer").first.click()  # the server tab: no room to ban in
    people.say(alice, "/ban pest")
    expect(alice.locator("#message-list")).to_contain_text("That command works in a room.")


# ------------------------------------------------------------------ other commands


def test_web_says_common_refusals_in_sentences_not_in_irc_words(
    people: People, tcp_client: Callable[[str], LineClient]
) -> None:
    """A message to a moderated room, a message to nobody, a kick without being an
    operator, a room one is not in: each refusal is a sentence, not the server's IRC text
    ("No such nick/channel", "Cannot send to channel (+m)", "You're not channel
    operator")."""
    tess = tcp_client("tess")
    _joined(tess, "#den")  # the first in #den: its operator
    tess.send("MODE #den +m")
    tess.wait_for(_ends_with("MODE #den +m"))
    bob = _in_lobby(people, "bob")
    _join_in_page(bob, "#den")
    errors = bob.locator("#message-list .msg-error")

    people.say(bob, "can anyone hear me")
    expect(errors.last).to_have_text(
        re.compile(
            r"Your message to #den was not delivered: the room is moderated, only people "
            r"with a voice \(\+\) or operators speak\.$"
        )
    )
    people.say(bob, "/kick tess")
    expect(errors.last).to_contain_text("You need to be a room operator (@) in #den to do that.")
    _joined(tess, "#side")
    people.say(bob, "/quote PART #side")
    expect(errors.last).to_contain_text("You are not in #side.")
    people.say(bob, "/quote PART #nowhere")
    expect(errors.last).to_contain_text("There is no room called #nowhere.")
    people.say(bob, "/msg ghost are you there")
    expect(errors.last).to_contain_text("There is nobody called ghost here.")
    shown = bob.locator("#message-list").inner_text()
    for raw in ("No such nick", "Cannot send to channel", "You're not channel operator"):
        assert raw not in shown


def test_web_knocks_and_sends_a_command_it_does_not_know_to_the_server(
    people: People, tcp_client: Callable[[str], LineClient]
) -> None:
    alice = people.join_as("alice")
    tess = tcp_client("tess")
    _joined(tess, "#closed")
    tess.send("MODE #closed +i")
    tess.wait_for(_ends_with("MODE #closed +i"))
    people.say(alice, "/knock #closed may I come in?")
    tess.wait_for(lambda line: " 710 tess #closed alice!" in line and "may I come in?" in line)
    expect(alice.locator("#message-list")).to_contain_text("Your KNOCK has been delivered")
    people.say(alice, "/silence +pest")
    expect(alice.locator("#message-list")).to_contain_text(
        "You will not get private messages or invites from pest!*@*."
    )
    people.say(alice, "/whowas nobody-here")  # not one of the client's: sent as typed
    expect(alice.locator("#message-list")).to_contain_text("nobody-here")
    people.say(alice, "/frobnicate")
    expect(
        alice.locator("#message-list .msg-error", has_text="/frobnicate is not a command here")
    ).to_have_count(1)


def test_web_shows_a_knock_in_the_room_it_is_for_with_how_to_let_them_in(
    people: People, tcp_client: Callable[[str], LineClient]
) -> None:
    alice = people.join_as("alice")
    _join_in_page(alice, "#closed")  # the first in #closed: its operator
    people.say(alice, "/mode +i")
    expect(alice.locator("#message-list")).to_contain_text("alice sets mode +i")
    visitor = tcp_client("visitor")
    visitor.send("KNOCK #closed :from the meetup")
    visitor.wait_for(lambda line: " 711 visitor #closed " in line)
    knock = alice.locator("#message-list", has_text="visitor knocks on #closed")
    expect(knock).to_contain_text("/invite visitor")
    people.say(alice, "/invite visitor")  # what the line says to type: it works
    visitor.wait_for(lambda line: " INVITE visitor " in line and "#closed" in line)


def test_web_answers_whois_list_and_topic_in_words_and_invites_to_the_room_shown(
    people: People, tcp_client: Callable[[str], LineClient]
) -> None:
    """As the terminal client says them: /whois, /list and /topic answered in sentences
    (they were IRC's layout, "bob 2 1796470769: seconds idle, signon time", and /topic
    showed nothing at all); ``/invite nick`` in a room invites to it (it went to the
    server without the room, which answered "Not enough parameters")."""
    alice = people.join_as("alice")
    _join_in_page(alice, "#den")
    bob = tcp_client("bob")
    _joined(bob)
    log = alice.locator("#message-list")

    people.say(alice, "/whois bob")
    expect(log).to_contain_text("bob is in #lobby")
    expect(log).to_contain_text("bob is ~bob@127.0.0.1 (bob)")
    expect(log).to_contain_text("bob has been idle for ")
    expect(log).not_to_contain_text("seconds idle, signon time")
    expect(log).not_to_contain_text("End of /WHOIS")

    people.say(alice, "/list")
    expect(log).to_contain_text("Rooms on this server:")
    expect(log).to_contain_text("#den (1 person)")
    expect(log).to_contain_text("End of room list. /join a room to enter it.")

    people.say(alice, "/topic")
    expect(log).to_contain_text("#den has no topic. /topic TEXT sets one.")
    people.say(alice, "/topic plans for the weekend")
    expect(log).to_contain_text("alice changed the topic to: plans for the weekend")
    people.say(alice, "/topic")
    expect(log).to_contain_text("Topic of #den: plans for the weekend")

    people.say(alice, "/invite bob")
    bob.wait_for(lambda line: line.endswith(("INVITE bob #den", "INVITE bob :#den")))
    expect(log).to_contain_text("You invited bob to #den.")

    people.say(alice, "/names")
    expect(log).to_contain_text("In #den: @alice")
    people.say(alice, "/names #lobby")  # a room shown in another tab: said here too
    expect(log).to_contain_text(re.compile(r"In #lobby: (alice bob|bob alice)"))


def test_web_alt_arrows_switch_conversations_and_page_keys_scroll_the_messages(
    people: People, tcp_client: Callable[[str], LineClient]
) -> None:
    """With the focus in the message box, as in The Lounge: Alt+↑/↓ go to the previous or
    next conversation, Page Up/Down scroll the messages (they did nothing)."""
    alice = people.open(width=1280, height=420)
    people.login(alice, "alice")
    expect(alice.locator("#buffer-name")).to_have_text("#lobby")
    _join_in_page(alice, "#den")
    bob = tcp_client("bob")
    _joined(bob, "#den")
    bob.send(*(f"PRIVMSG #den :line {n}" for n in range(30)))
    expect(alice.locator("#message-list .msg-msg").last).to_have_text(re.compile("line 29"))
    box = alice.locator("#messages")

    def scroll() -> float:
        return float(box.evaluate("(el) => el.scrollTop"))

    def bottom() -> float:
        return float(box.evaluate("(el) => el.scrollHeight - el.clientHeight"))

    alice.focus("#input")
    alice.wait_for_function(
        "() => { const b = document.getElementById('messages');"
        " return b.scrollHeight - b.clientHeight - b.scrollTop < 2; }"
    )
    alice.keyboard.press("PageUp")
    alice.wait_for_function(
        "() => { const b = document.getElementById('messages');"
        " return b.scrollHeight - b.clientHeight - b.scrollTop > 100; }"
    )
    assert scroll() < bottom()
    alice.keyboard.press("PageDown")
    alice.keyboard.press("PageDown")
    alice.wait_for_function(
        "() => { const b = document.getElementById('messages');"
        " return b.scrollHeight - b.clientHeight - b.scrollTop < 2; }"
    )

    alice.keyboard.press("Alt+ArrowUp")
    expect(alice.locator("#buffer-name")).to_have_text("ChatRoom")
    alice.keyboard.press("Alt+ArrowDown")
    expect(alice.locator("#buffer-name")).to_have_text("#den")
    alice.keyboard.press("Alt+ArrowDown")
    expect(alice.locator("#buffer-name")).to_have_text("#lobby")
    assert alice.input_value("#input") == ""  # no history walked meanwhile


def test_web_join_of_several_rooms_joins_each_and_shows_the_first(people: People) -> None:
    """``/join #a,b`` joins #a and #b, as IRC and the terminal client read it; it used to
    open a tab "#a,b" that no room would ever fill, and ask for "b" without its #."""
    alice = people.join_as("alice")
    people.say(alice, "/join #alpha,beta")
    expect(alice.locator("#buffer-name")).to_have_text("#alpha")
    for room in ("#alpha", "#beta"):
        expect(alice.locator(f'#buffers .buffer[data-name="{room}"]')).to_have_count(1)
    expect(alice.locator('#buffers .buffer[data-name="#alpha,beta"]')).to_have_count(0)
    alice.click('#buffers .buffer[data-name="#beta"]')
    expect(alice.locator('#members .member[data-nick="alice"]')).to_be_visible()


def test_web_part_or_close_in_a_private_conversation_closes_it(
    people: People, tcp_client: Callable[[str], LineClient]
) -> None:
    """A private conversation could not be closed at all: /part said "That command works
    in a room." and /close went to the server. Now both close it, as in the terminal
    client (and The Lounge's /close)."""
    alice = people.join_as("alice")
    tcp_client("bob")
    tcp_client("carl")
    for who, how in (("bob", "/part"), ("carl", "/close")):
        people.say(alice, f"/query {who}")
        expect(alice.locator("#buffer-name")).to_have_text(who)
        people.say(alice, how)
        expect(alice.locator(f'#buffers .buffer[data-name="{who}"]')).to_have_count(0)
        expect(alice.locator("#buffer-name")).to_have_text("#lobby")
    expect(alice.locator("#message-list")).not_to_contain_text("not a command")
