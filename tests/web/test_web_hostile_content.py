"""A hostile user of the same server against the web client in a real Chromium: what anyone
may choose (a display-name, an avatar, message text, a quit reason) must not break the page
for the others, make a link look like another, or make their browser fetch anything.

The hostile user is a bare TCP client (``eve``), so nothing a browser would clean up first
gets in the way.
"""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import FloatRect, Page, expect

from tests.web.web_support import LineClient, People, drawn_box, http_url

CAPS = "message-tags server-time draft/metadata-2"


def _eve_in_lobby(tcp_client: Callable[..., LineClient], alice: Page) -> LineClient:
    eve = tcp_client("eve", CAPS)
    eve.send("JOIN #lobby")
    eve.wait_for(lambda line: " 366 eve #lobby " in line)
    expect(alice.locator('#members .member[data-nick="eve"]')).to_be_visible()
    return eve


def _box(page: Page, selector: str) -> FloatRect:
    return drawn_box(page.locator(selector).last)


def test_a_300_byte_display_name_leaves_room_for_the_messages_beside_it(
    people: People, tcp_client: Callable[..., LineClient]
) -> None:
    alice = people.join_as("alice")
    eve = _eve_in_lobby(tcp_client, alice)
    eve.send("METADATA * SET display-name :" + "W" * 300)
    eve.wait_for(lambda line: " 761 eve " in line)
    eve.send("PRIVMSG #lobby :can you read this line?")
    line = alice.locator("#message-list .msg-msg", has_text="can you read this line?")
    expect(line.locator(".display-name")).to_have_text("W" * 300)  # all there, cut when drawn

    # Before: the nick column took the name's 4,000 px, the line was squeezed to a letter a
    # row (a blank block as tall as the screen), and the conversation scrolled sideways.
    widths = alice.evaluate(
        "['messages', 'members-panel'].map((id) => {"
        "  const box = document.getElementById(id); return [box.scrollWidth, box.clientWidth]; })"
    )
    for scroll_width, client_width in widths:
        assert scroll_width <= client_width
    text = _box(alice, "#message-list .msg-msg .text")
    assert text["width"] > 300
    assert text["height"] < 40  # one line
    assert _box(alice, "#message-list .msg-msg .nick")["width"] > 0  # eve's nick still shows
    eve_nick = _box(alice, '#members .member[data-nick="eve"] .nick')
    alice_nick = _box(alice, '#members .member[data-nick="alice"] .nick')
    assert eve_nick["x"] == alice_nick["x"]  # the name gave way, not eve's place in the list

    # The same name in a /me line: star, name, nick and words on one line (were three).
    eve.send("PRIVMSG #lobby :\x01ACTION waves\x01")
    action = alice.locator("#message-list .msg-action", has_text="waves")
    expect(action).to_be_visible()
    assert _box(alice, "#message-list .msg-action")["height"] < 40


def test_an_avatar_url_someone_sets_is_never_fetched_by_other_browsers(
    people: People, tcp_client: Callable[..., LineClient]
) -> None:
    alice = people.join_as("alice")
    fetched: list[str] = []
    alice.on("request", lambda request: fetched.append(request.url))
    eve = _eve_in_lobby(tcp_client, alice)
    beacon = http_url(people.server) + "/static/beacon.png"  # would show in ``fetched``
    eve.send(f"METADATA * SET avatar :{beacon}", "METADATA * SET display-name :Evelyn")
    eve.send(f"PRIVMSG #lobby :look at my picture {beacon}")
    expect(alice.locator("#message-list .msg-msg", has_text="look at my picture")).to_be_visible()
    expect(alice.locator('#members .member[data-nick="eve"] .display-name')).to_have_text("Evelyn")
    assert fetched == []  # the viewer's address goes to nobody, this server included
    assert alice.locator("img").count() == 0


def test_a_link_after_a_right_to_left_override_reads_as_the_address_it_opens(
    people: People, tcp_client: Callable[..., LineClient]
) -> None:
    alice = people.join_as("alice")
    eve = _eve_in_lobby(tcp_client, alice)
    # Reversed by the override, this read "https://www.bank.example/elpmaxe.live//:sptth".
    url = "https://evil.example/elpmaxe.knab.www//:sptth"
    eve.send(f"PRIVMSG #lobby :\u202e{url}")
    expect(alice.locator("#message-list .msg-msg a").last).to_have_attribute("href", url)
    # Measured in one step on the link shown now: the list may be redrawn at any moment,
    # and a replaced node measures as nothing (see ``drawn_box``).
    first_last = alice.wait_for_function(
        """(url) => {
          const links = [...document.querySelectorAll("#message-list .msg-msg a")]
            .filter((a) => a.getAttribute("href") === url);
          const text = links.length ? links[links.length - 1].firstChild : null;
          if (!text) return null;
          const range = document.createRange(), x = [];
          for (const at of [0, text.length - 1]) {
            range.setStart(text, at); range.setEnd(text, at + 1);
            const box = range.getBoundingClientRect();
            if (box.width === 0) return null;
            x.push(box.left);
          }
          return x;
        }""",
        arg=url,
    ).json_value()
    assert first_last[0] < first_last[1]  # "h" of https is drawn first, on the left

    # An override or zero-width character inside an address ends the link there.
    eve.send("PRIVMSG #lobby :get https://evil.example/\u202egpj.exe now")
    link = alice.locator("#message-list .msg-msg a").last
    expect(link).to_have_attribute("href", "https://evil.example/")
    expect(link).to_have_text("https://evil.example/")


def test_control_characters_in_a_topic_display_name_and_reasons_are_not_drawn(
    people: People, tcp_client: Callable[..., LineClient]
) -> None:
    alice = people.join_as("alice")
    eve = _eve_in_lobby(tcp_client, alice)
    eve.send("METADATA * SET display-name :Eve\x07lyn\x1b")
    expect(alice.locator('#members .member[data-nick="eve"] .display-name')).to_have_text("Evelyn")
    eve.send("JOIN #den")  # eve's room: she is its operator
    eve.wait_for(lambda line: " 366 eve #den " in line)
    people.say(alice, "/join #den")
    expect(alice.locator('#members .member[data-nick="alice"]')).to_be_visible()
    eve.send("TOPIC #den :\x07ring \x02the\x02 bell\x1b")
    expect(alice.locator("#topic")).to_have_text("ring the bell")
    alice.locator('#buffers .buffer[data-name="#lobby"]').click()
    eve.send("PART #lobby :\x02bold\x02 \x1b]0;title\x07", "JOIN #lobby")
    parted = alice.locator("#message-list .msg-event", has_text="eve left")
    expect(parted.locator(".text")).to_have_text("eve left (bold ]0;title)")
    expect(alice.locator("#message-list .msg-event", has_text="eve joined")).to_have_count(2)
    eve.send("QUIT :\x034red\x03 \x07bell \x1b[2Jclear\x01")
    line = alice.locator("#message-list .msg-event", has_text="Quit:")
    # Before: "Quit: \x034red\x03 \x07bell \x1b[2Jclear\x01", each control a box.
    expect(line.locator(".text")).to_have_text("eve left (Quit: red bell [2Jclear)")


def test_a_50_character_room_name_stays_inside_the_header(
    people: People, tcp_client: Callable[..., LineClient]
) -> None:
    room = "#" + "W" * 49  # the longest name the server allows (CHANNELLEN 50)
    eve = tcp_client("eve", CAPS)
    eve.send(f"JOIN {room}")
    eve.wait_for(lambda line: f" 366 eve {room} " in line)
    phone = people.open(width=390, height=800)
    people.login(phone, "alice")
    expect(phone.locator("#buffer-name")).to_have_text("#lobby")
    people.say(phone, f"/join {room}")
    expect(phone.locator("#buffer-name")).to_have_text(room)
    members = _box(phone, "#toggle-members")
    assert members["x"] + members["width"] <= 390
    phone.set_viewport_size({"width": 1280, "height": 800})
    # Before: the name ran 117 px out of the header, under the member list.
    scroll_width, client_width = phone.evaluate(
        "(() => { const bar = document.getElementById('topbar');"
        " return [bar.scrollWidth, bar.clientWidth]; })()"
    )
    assert scroll_width <= client_width
