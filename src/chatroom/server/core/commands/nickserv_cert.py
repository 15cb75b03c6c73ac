"""NickServ CERT: the client certificates that may log in to an account (SASL EXTERNAL).

A fingerprint is a password the server never has to see: whoever holds the private key
of a certificate with a registered fingerprint logs in with ``AUTHENTICATE EXTERNAL``.
So the rules are those of a password change:

- only the logged-in owner changes the list, and each change is written with an audit
  entry in one transaction; the answer waits for the commit;
- a fingerprint logs in exactly one account (the store refuses a shared one too), and
  the refusal does not say whose it is;
- the list is short (``MAX_CERTFPS``) because SASL EXTERNAL looks through every account.

The list is changed in memory before the commit, so a second CERT sent before the first
is saved builds on the first instead of overwriting it; a failed commit undoes it.
"""

from __future__ import annotations

from dataclasses import replace

from chatroom.server.core.commands.nickserv import SERVICE, own_account
from chatroom.server.core.session import Session
from chatroom.server.core.world import World
from chatroom.server.store.base import Account, AppendAudit, AuditEntry, PutAccount

MAX_CERTFPS = 5
_HEX_DIGITS = frozenset("0123456789abcdef")


def normalise_fingerprint(text: str) -> str | None:
    """The stored form (SHA-256, lowercase hex, no colons), or None if ``text`` is not one.

    Clients and ``openssl x509 -fingerprint`` print colons and capitals; the TLS layer
    computes the bare lowercase form, and only that form can ever match.
    """
    fingerprint = text.replace(":", "").lower()
    if len(fingerprint) != 64 or not _HEX_DIGITS.issuperset(fingerprint):
        return None
    return fingerprint


def fingerprint_owner(world: World, fingerprint: str) -> Account | None:
    """The account a fingerprint logs in to, if any."""
    for account in world.accounts.values():
        if fingerprint in account.certfps:
            return account
    return None


@SERVICE.subcommand(
    "CERT",
    "CERT LIST | ADD [fingerprint] | DEL <fingerprint>",
    "Manage the client certificates that log in to your account (SASL EXTERNAL).",
    "ADD without a fingerprint adds the certificate you are connected with.",
    "A fingerprint is the certificate's SHA-256 in hex; colons and capitals are fine.",
    f"An account may have up to {MAX_CERTFPS} fingerprints; each belongs to one account.",
)
def _cert(world: World, session: Session, args: list[str]) -> None:
    action = args[0].upper() if args else "LIST"
    allowed = {"LIST": (0, 0), "ADD": (0, 1), "DEL": (1, 1)}.get(action)
    if allowed is None or not allowed[0] <= max(len(args) - 1, 0) <= allowed[1]:
        SERVICE.usage(world, session, "CERT")
        return
    account = own_account(world, session)
    if account is None:
        return
    if action == "LIST":
        _list(world, session, account)
        return
    given = args[1] if len(args) > 1 else session.certfp
    if given is None:
        SERVICE.notice(
            world,
            session,
            "You are not connected with a client certificate; name one: CERT ADD <fingerprint>",
        )
        return
    fingerprint = normalise_fingerprint(given)
    if fingerprint is None:
        SERVICE.notice(world, session, "That is not a SHA-256 fingerprint (64 hex digits).")
    elif action == "ADD":
        _add(world, session, account, fingerprint)
    else:
        _delete(world, session, account, fingerprint)


def _list(world: World, session: Session, account: Account) -> None:
    if not account.certfps:
        SERVICE.notice(world, session, f"No certificate fingerprints are on {account.name}.")
        return
    SERVICE.notice(world, session, f"Certificate fingerprints on {account.name}:")
    for fingerprint in account.certfps:
        SERVICE.notice(world, session, f"  {fingerprint}")


def _add(world: World, session: Session, account: Account, fingerprint: str) -> None:
    if fingerprint in account.certfps:
        SERVICE.notice(world, session, f"{fingerprint} is already on your account.")
        return
    if fingerprint_owner(world, fingerprint) is not None:
        SERVICE.notice(world, session, "That certificate already logs in to another account.")
        return
    if len(account.certfps) >= MAX_CERTFPS:
        SERVICE.notice(
            world,
            session,
            f"Your account has {MAX_CERTFPS} fingerprints already; remove one with CERT DEL.",
        )
        return
    updated = replace(account, certfps=(*account.certfps, fingerprint))
    _save(world, session, account, updated, "add", fingerprint)


def _delete(world: World, session: Session, account: Account, fingerprint: str) -> None:
    if fingerprint not in account.certfps:
        SERVICE.notice(world, session, f"{fingerprint} is not on your account.")
        return
    kept = tuple(fp for fp in account.certfps if fp != fingerprint)
    _save(world, session, account, replace(account, certfps=kept), "del", fingerprint)


def _save(
    world: World, session: Session, before: Account, after: Account, verb: str, fingerprint: str
) -> None:
    """Apply now, persist with an audit entry, answer after the commit (or undo)."""
    world.accounts[after.key] = after
    entry = AuditEntry(
        None, world.clock(), before.name, f"account.cert.{verb}", f"{before.name} {fingerprint}", ""
    )

    def committed(error: str | None) -> None:
        if error is not None:
            _undo(world, before.key, verb, fingerprint)
            SERVICE.notice(world, session, "The change could not be saved; try again later.")
        elif verb == "add":
            SERVICE.notice(world, session, f"{fingerprint} added: it now logs in to {before.name}.")
        else:
            SERVICE.notice(world, session, f"{fingerprint} removed from {before.name}.")

    world.persist([PutAccount(after), AppendAudit(entry)], committed)


def _undo(world: World, key: str, verb: str, fingerprint: str) -> None:
    """Take back one change that the store refused, keeping any made since."""
    current = world.accounts.get(key)
    if current is None:
        return  # dropped meanwhile; nothing left to undo
    if verb == "add":
        kept = tuple(fp for fp in current.certfps if fp != fingerprint)
    elif fingerprint_owner(world, fingerprint) is None:
        kept = (*current.certfps, fingerprint)
    else:
        return
    world.accounts[key] = replace(current, certfps=kept)
