"""The web client as one of an account's devices: the rooms it is in after its
connection drops are the server's (the account's user, which other devices changed
meanwhile), not the ones this browser had open."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.integration.devices_support import device
from tests.integration.moderation_support import PASSWORD
from tests.realserver import ServerThread, Wire
from tests.web.web_support import People


def test_web_after_a_drop_does_not_rejoin_a_room_another_device_left_meanwhile(
    people: People, web_server: ServerThread
) -> None:
    page = people.join_as("erin", PASSWORD, create=True)
    people.say(page, "/join #garden")
    expect(page.locator("#buffer-name")).to_have_text("#garden")
    wires: list[Wire] = []
    try:
        phone = device(web_server.port, wires, "erin", "erin")  # attaches: same user
        shell = web_server.shell
        assert shell is not None
        assert shell._loop is not None
        web_id = min(shell.connections)  # the browser's connection came first
        shell._loop.call_soon_threadsafe(shell.connections[web_id].abort)
        expect(page.locator("#status-banner")).to_contain_text("Reconnecting in")
        phone.write("PART #garden :done here")  # while the browser is away
        phone.until(" PART #garden")
        expect(page.locator("#status-banner")).to_be_hidden()  # back, attached again
        page.wait_for_timeout(1000)  # time for any JOIN it would send at its welcome
        phone.write("PING settled")
        seen = phone.until("PONG")
        assert not [line for line in seen if " JOIN #garden" in line]
        phone.write("WHOIS erin")
        rooms = [line for line in phone.until(" 318 ") if " 319 " in line]
        assert all("#garden" not in line for line in rooms)
    finally:
        for wire in wires:
            wire.close()
