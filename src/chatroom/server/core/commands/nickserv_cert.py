"""NickServ CERT: the client certificates that may log in to an account (SASL EXTERNAL).

A fingerprint is a password the server never has to see: whoever holds the private key
of a certificate with a registered fingerprint logs in with ``AUTHENTICATE EXTERNAL``.
So the rules are those of a password change:

- only the logged-in owner changes the list, or an operator whose role holds the
  ``accounts`` capability, naming the account first (``CERT ADD <account> <fp>``, as in
  Ergo) to help a user who lost a key; anyone else naming another account is refused and
  nothing changes. The owner is told of an operator's change, since it is a new way in;
- each change is written with an audit entry (its actor is whoever made it) in one
  transaction; the answer waits for the commit;
- a fingerprint logs in exactly one account (the store refuses a shared one too), and
  the refusal does not say whose it is;
- the list is short (``MAX_CERTFPS``) because SASL EXTERNAL looks through every account.

The list is changed in memory before the commit, so a second CERT sent before the first
is saved builds on the first instead of overwriting it; a failed commit undoes it.
"""

from __future__ import annotations

from dataclasses import replace

from chatroom.server.core import opers, sanctions
from chatroom.server.core.nickserv_service import SERVICE, own_account
from chatroom.server.core.session import Session
from chatroom.server.core.world import World
from chatroom.server.store.base import Account, SetAccountCertfps

MAX_CERTFPS = 5
CAPABILITY = "accounts"  # what an operator needs to manage another account's certificates
_HEX_DIGITS = frozenset("0123456789abcdef")
# Arguments after the verb; with the most, the first names the account (LIST <account>,
# ADD <account> <fp>, DEL <account> <fp>). Fingerprints (64 characters) are never
# nicknames, so ``ADD <fp>`` and ``ADD <account> <fp>`` cannot be confused.
_MOST_ARGS = {"LIST": 1, "ADD": 2, "DEL": 2}


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
    "CERT LIST [account] | ADD [fingerprint] | ADD <account> <fingerprint>"
    " | DEL [account] <fingerprint>",
    "Manage the client certificates that log in to your account (SASL EXTERNAL).",
    "ADD without a fingerprint adds the certificate you are connected with.",
    "A fingerprint is the certificate's SHA-256 in hex; colons and capitals are fine.",
    f"An account may have up to {MAX_CERTFPS} fingerprints; each belongs to one account.",
    f"Operators with the '{CAPABILITY}' capability may name another account first:"
    " CERT LIST <account>, CERT ADD <account> <fingerprint>, CERT DEL <account> <fingerprint>.",
)
def _cert(world: World, session: Session, args: list[str]) -> None:
    action = args[0].upper() if args else "LIST"
    rest = args[1:]
    most = _MOST_ARGS.get(action)
    if most is None or len(rest) > most or (action == "DEL" and not rest):
        SERVICE.usage(world, session, "CERT")
        return
    named = rest.pop(0) if rest and len(rest) == most else None
    account = own_account(world, session) if named is None else _named(world, session, named)
    if account is None:
        return
    if action == "LIST":
        _list(world, session, account)
        return
    given = rest[0] if rest else session.certfp
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


def _named(world: World, session: Session, name: str) -> Account | None:
    """The account an operator named, or None after saying why not.

    Naming your own account is the same as naming none. The capability is checked before
    the account is looked up, so a refusal does not tell whether the account exists.
    """
    if session.account is not None and world.fold(name) == world.fold(session.account):
        return own_account(world, session)
    if not opers.may(world, session, CAPABILITY):
        if "o" in session.modes:
            refusal = (
                f"Your operator role ({session.oper_role}) lacks the '{CAPABILITY}'"
                " capability needed to manage another account's certificates."
            )
        else:
            refusal = (
                "Only operators may manage another account's certificates;"
                " leave the account name out to manage your own."
            )
        SERVICE.notice(world, session, refusal)
        return None
    account = world.accounts.get(world.fold(name))
    if account is None:
        # Not quoted back: NickServ never echoes a word that could be a mistyped password.
        SERVICE.notice(world, session, "There is no account of that name.")
    return account


def _is_own(world: World, session: Session, account: Account) -> bool:
    return session.account is not None and world.fold(session.account) == account.key


def _whose(world: World, session: Session, account: Account) -> str:
    return "your account" if _is_own(world, session, account) else account.name


def _list(world: World, session: Session, account: Account) -> None:
    if not account.certfps:
        SERVICE.notice(world, session, f"No certificate fingerprints are on {account.name}.")
        return
    SERVICE.notice(world, session, f"Certificate fingerprints on {account.name}:")
    for fingerprint in account.certfps:
        SERVICE.notice(world, session, f"  {fingerprint}")


def _add(world: World, session: Session, account: Account, fingerprint: str) -> None:
    whose = _whose(world, session, account)
    if fingerprint in account.certfps:
        SERVICE.notice(world, session, f"{fingerprint} is already on {whose}.")
        return
    owner = fingerprint_owner(world, fingerprint)
    if owner is not None:
        # Its owner is named only to an operator, who may see it in WHOIS anyway.
        other = "another account" if _is_own(world, session, account) else owner.name
        SERVICE.notice(world, session, f"That certificate already logs in to {other}.")
        return
    if len(account.certfps) >= MAX_CERTFPS:
        full = f"has {MAX_CERTFPS} fingerprints already; remove one with CERT DEL"
        if _is_own(world, session, account):
            SERVICE.notice(world, session, f"Your account {full}.")
        else:
            SERVICE.notice(world, session, f"{account.name} {full} {account.name} <fingerprint>.")
        return
    updated = replace(account, certfps=(*account.certfps, fingerprint))
    _save(world, session, account, updated, "add", fingerprint)


def _delete(world: World, session: Session, account: Account, fingerprint: str) -> None:
    if fingerprint not in account.certfps:
        SERVICE.notice(
            world, session, f"{fingerprint} is not on {_whose(world, session, account)}."
        )
        return
    kept = tuple(fp for fp in account.certfps if fp != fingerprint)
    _save(world, session, account, replace(account, certfps=kept), "del", fingerprint)


def _save(
    world: World, session: Session, before: Account, after: Account, verb: str, fingerprint: str
) -> None:
    """Apply now, persist with an audit entry, answer after the commit (or undo)."""
    world.accounts.put(after)
    actor = sanctions.actor_name(session)
    by_other = not _is_own(world, session, before)

    def committed(error: str | None) -> None:
        if error is not None:
            _undo(world, before.key, verb, fingerprint)
            SERVICE.notice(world, session, "The change could not be saved; try again later.")
            return
        if verb == "add":
            SERVICE.notice(world, session, f"{fingerprint} added: it now logs in to {before.name}.")
        else:
            SERVICE.notice(world, session, f"{fingerprint} removed from {before.name}.")
        if by_other:
            _tell_owner(world, before.key, actor, verb, fingerprint)

    target = f"{before.name} {fingerprint}"
    sanctions.audit(
        world,
        actor,
        f"account.cert.{verb}",
        target,
        changes=[SetAccountCertfps(after.key, after.certfps)],
        then=committed,
    )


def _tell_owner(world: World, key: str, actor: str, verb: str, fingerprint: str) -> None:
    """An operator changed how the account logs in: its owner, if online, hears of it."""
    done = "added to" if verb == "add" else "removed from"
    text = f"Operator {actor} {done} your account the certificate fingerprint {fingerprint}."
    for other in world.sessions.values():
        if other.account is not None and world.fold(other.account) == key:
            SERVICE.notice(world, other, text)


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
    world.accounts.put(replace(current, certfps=kept))
