"""Getting in: CAP negotiation, SASL PLAIN, account creation, and the login failures.

Rules this module keeps (ircv3.net "Capability Negotiation", "SASL 3.1/3.2",
"draft/account-registration"):

* ``CAP LS 302`` goes first, then NICK and USER; the server holds registration until
  ``CAP END``, so the password is checked (or the account created) before we are welcomed
  and before any room sees us.
* SASL PLAIN sends ``authzid NUL authcid NUL password`` in base64, cut into 400-byte
  ``AUTHENTICATE`` chunks; when the last chunk is exactly 400 bytes an ``AUTHENTICATE +``
  marks the end.
* ``REGISTER <account> <email|*> <password>`` is sent before ``CAP END`` when the server
  advertises ``before-connect``, otherwise after the welcome; servers without the
  capability get ``/msg NickServ REGISTER`` instead.
* A failed login ends the attempt (QUIT): a user who typed a wrong password wants to fix
  it, not to be let in silently as a guest.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

from chatroom.client.state import AuthFailed, Event, LoggedIn
from chatroom.irc import numerics as n
from chatroom.irc.message import Message

__all__ = ["WANTED_CAPS", "Login", "sasl_plain_chunks"]

WANTED_CAPS = frozenset(
    {
        "away-notify",
        "batch",
        "cap-notify",
        "draft/chathistory",
        "draft/event-playback",
        "draft/message-redaction",
        "draft/multiline",
        "draft/read-marker",
        "echo-message",
        "invite-notify",
        "message-tags",
        "multi-prefix",
        "server-time",
        "userhost-in-names",
    }
)
SASL_CHUNK = 400

_REGISTER_FAILURES = {
    "ACCOUNT_EXISTS": (
        "account_exists",
        "An account named {account} already exists. Log in "
        "with its password, or pick another nickname.",
    ),
    "BAD_ACCOUNT_NAME": ("registration", "{account} cannot be an account name here."),
    "WEAK_PASSWORD": ("registration", "That password is too weak: {text}"),
    "UNACCEPTABLE_PASSWORD": ("registration", "That password is not accepted: {text}"),
    "UNACCEPTABLE_EMAIL": ("registration", "That e-mail address is not accepted: {text}"),
    "TEMPORARILY_UNAVAILABLE": ("throttled", "Registration is unavailable right now: {text}"),
}


def sasl_plain_chunks(account: str, password: str) -> list[str]:
    """The AUTHENTICATE arguments carrying a PLAIN response, in order."""
    raw = f"{account}\0{account}\0{password}".encode()
    encoded = base64.b64encode(raw).decode("ascii")
    chunks = [encoded[i : i + SASL_CHUNK] for i in range(0, len(encoded), SASL_CHUNK)]
    if not chunks or len(chunks[-1]) == SASL_CHUNK:
        chunks.append("+")
    return chunks


class Login:
    """The pre-welcome conversation. ``send(command, *params)`` queues an outgoing line."""

    def __init__(
        self,
        send: Callable[..., None],
        nick: str,
        password: str | None,
        create_account: bool,
        email: str | None,
    ) -> None:
        self._send = send
        self.nick = nick
        self.password = password or None
        self.create_account = create_account and self.password is not None
        self.email = email
        self.available: dict[str, str | None] = {}
        self.enabled: set[str] = set()
        self.account: str | None = None
        self.failed: AuthFailed | None = None
        self._ls_done = False
        self._ended = False
        self._register_sent = False
        self._nickserv_pending = False

    # ------------------------------------------------------------------ capabilities

    def on_cap(self, msg: Message) -> list[Event]:
        """Handle ``CAP <nick> <sub> [*] :<caps>``."""
        if len(msg.params) < 3:
            return []
        sub = msg.params[1].upper()
        more = len(msg.params) > 3 and msg.params[2] == "*"
        tokens = msg.params[-1].split()
        if sub in ("LS", "NEW"):
            for token in tokens:
                name, sep, value = token.partition("=")
                self.available[name] = value if sep else None
            if sub == "LS" and more:
                return []
            if sub == "NEW":
                wanted = sorted(WANTED_CAPS.intersection(t.partition("=")[0] for t in tokens))
                if wanted:
                    self._send("CAP", "REQ", " ".join(wanted))
                return []
            self._ls_done = True
            wanted = sorted(WANTED_CAPS.intersection(self.available))
            if self._wants_sasl():
                wanted.append("sasl")
            if wanted:
                self._send("CAP", "REQ", " ".join(wanted))
            else:
                return self._after_caps()
        elif sub == "ACK":
            for token in tokens:
                name = token.lstrip("-~=")
                if token.startswith("-"):
                    self.enabled.discard(name)
                else:
                    self.enabled.add(name)
            if not self._ended:
                return self._after_caps()
        elif sub == "NAK":
            if not self._ended:
                return self._after_caps()
        elif sub == "DEL":
            for token in tokens:
                self.available.pop(token, None)
                self.enabled.discard(token)
        return []

    def _wants_sasl(self) -> bool:
        return self.password is not None and not self.create_account and "sasl" in self.available

    def _registration_value(self) -> str | None:
        value = self.available.get("draft/account-registration", "")
        return None if "draft/account-registration" not in self.available else (value or "")

    def _after_caps(self) -> list[Event]:
        """All ACK/NAKs are in: authenticate, create the account, or end negotiation."""
        if self.create_account:
            reg = self._registration_value()
            if reg is not None and "before-connect" in reg.split(","):
                return self._send_register(reg)
        elif self._wants_sasl() and "sasl" in self.enabled:
            self._send("AUTHENTICATE", "PLAIN")
            return []
        return self.end()

    def end(self) -> list[Event]:
        if not self._ended:
            self._ended = True
            self._send("CAP", "END")
        return []

    # ------------------------------------------------------------------ SASL

    def on_authenticate(self, msg: Message) -> list[Event]:
        if msg.params[:1] == ("+",) and self.password is not None:
            for chunk in sasl_plain_chunks(self.nick, self.password):
                self._send("AUTHENTICATE", chunk)
        return []

    def on_logged_in(self, msg: Message) -> list[Event]:
        """900 RPL_LOGGEDIN ``<nick> <nick!user@host> <account> :text``."""
        if self.account is not None:
            return []  # already reported by REGISTER SUCCESS
        self.account = msg.params[2] if len(msg.params) > 3 else self.nick
        return [LoggedIn(self.account, created=self._register_sent)]

    def on_sasl_result(self, msg: Message) -> list[Event]:
        if msg.command == n.RPL_SASLSUCCESS:
            return self.end()
        text = msg.params[-1] if msg.params else ""
        if msg.command == n.ERR_SASLFAIL:
            low = text.lower()
            if "too many" in low or "wait" in low or "throttl" in low:
                return self.fail("throttled", "Too many failed logins: wait a while and try again.")
            if "tls" in low:
                return self.fail("unsupported", f"The server refused the password: {text}")
            return self.fail("password", f"Wrong password, or no account named {self.nick}.")
        if msg.command == n.ERR_NICKLOCKED:
            return self.fail("password", f"The account {self.nick} is locked: {text}")
        return []  # 905-908: 904 or 903 follows

    # ------------------------------------------------------------------ account creation

    def _send_register(self, value: str) -> list[Event]:
        assert self.password is not None
        if "email-required" in value.split(",") and not self.email:
            return self.fail("registration", "This server needs an e-mail address to register.")
        self._register_sent = True
        self._send("REGISTER", self.nick, self.email or "*", self.password)
        return []

    def after_welcome(self) -> list[Event]:
        """Login steps that servers allow only once connected."""
        if self.password is None or self.account is not None:
            return []
        if self.create_account and not self._register_sent:
            reg = self._registration_value()
            if reg is not None:
                return self._send_register(reg)
            self._nickserv_pending = True
            self._send("PRIVMSG", "NickServ", f"REGISTER {self.password}")
        elif not self.create_account and "sasl" not in self.enabled:
            self._nickserv_pending = True
            self._send("PRIVMSG", "NickServ", f"IDENTIFY {self.nick} {self.password}")
        return []

    def on_register(self, msg: Message) -> list[Event]:
        """``REGISTER SUCCESS|VERIFICATION_REQUIRED <account> :<message>``."""
        status = msg.params[0].upper() if msg.params else ""
        account = msg.params[1] if len(msg.params) > 1 else self.nick
        if status == "SUCCESS":
            self.account = account
            return [LoggedIn(account, created=True), *self.end()]
        if status == "VERIFICATION_REQUIRED":
            return self.fail("registration", f"Check your e-mail to finish: {msg.params[-1]}")
        return []

    def on_register_fail(self, msg: Message) -> list[Event]:
        """``FAIL REGISTER <code> <account> :<text>``."""
        code = msg.params[1] if len(msg.params) > 1 else ""
        account = msg.params[2] if len(msg.params) > 3 else self.nick
        text = msg.params[-1]
        reason, template = _REGISTER_FAILURES.get(
            code, ("registration", "The account could not be created: {text}")
        )
        return self.fail(reason, template.format(account=account, text=text))

    # ------------------------------------------------------------------ failures

    def fail(self, reason: str, text: str) -> list[Event]:
        """Stop here: report once, and leave so that no half-logged-in session lingers."""
        if self.failed is not None:
            return []
        self.failed = AuthFailed(reason, text)
        self._send("QUIT", "login failed")
        return [self.failed]

    def nick_rejected(self, msg: Message) -> list[Event]:
        """433/432 before the welcome: the nickname cannot be had."""
        wanted = msg.params[1] if len(msg.params) > 2 else self.nick
        if msg.command == n.ERR_NICKNAMEINUSE:
            text = (
                f"The nickname {wanted} is taken: it is in use or registered to an account. "
                "Log in with its password, or pick another nickname."
            )
            return self.fail("nick_taken", text)
        return self.fail("nick_invalid", f"{wanted} is not a valid nickname: {msg.params[-1]}")
