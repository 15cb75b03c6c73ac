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
from chatroom.server.core.context import Context
from chatroom.server.core.nickserv_service import SERVICE, own_account
from chatroom.server.core.session import Session
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


def fingerprint_owner(ctx: Context, fingerprint: str) -> Account | None:
    """The account a fingerprint logs in to, if any."""
    for account in ctx.accounts.values():
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
def _cert(ctx: Context, session: Session, args: list[str]) -> None:
    action = args[0].upper() if args else "LIST"
    rest = args[1:]
    most = _MOST_ARGS.get(action)
    if most is None or len(rest) > most or (action == "DEL" and not rest):
        SERVICE.usage(ctx, session, "CERT")
        return
    named = rest.pop(0) if rest and len(rest) == most else None
    account = own_account(ctx, session) if named is None else _named(ctx, session, named)
    if account is None:
        return
    if action == "LIST":
        _list(ctx, session, account)
        return
    given = rest[0] if rest else session.certfp
    if given is None:
        SERVICE.notice(
            ctx,
            session,
            "You are not connected with a client certificate; name one: CERT ADD <fingerprint>",
        )
        return
    fingerprint = normalise_fingerprint(given)
    if fingerprint is None:
        SERVICE.notice(ctx, session, "That is not a SHA-256 fingerprint (64 hex digits).")
    elif action == "ADD":
        _add(ctx, session, account, fingerprint)
    else:
        _delete(ctx, session, account, fingerprint)


def _named(ctx: Context, session: Session, name: str) -> Account | None:
    """The account an operator named, or None after saying why not.

    Naming your own account is the same as naming none. The capability is checked before
    the account is looked up, so a refusal does not tell whether the account exists.
    """
    if session.account is not None and ctx.fold(name) == ctx.fold(session.account):
        return own_account(ctx, session)
    if not opers.may(ctx, session, CAPABILITY):
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
        SERVICE.notice(ctx, session, refusal)
        return None
    account = ctx.accounts.get(ctx.fold(name))
    if account is None:
        # Not quoted back: NickServ never echoes a word that could be a mistyped password.
        SERVICE.notice(ctx, session, "There is no account of that name.")
    return account


def _is_own(ctx: Context, session: Session, account: Account) -> bool:
    return session.account is not None and ctx.fold(session.account) == account.key


def _whose(ctx: Context, session: Session, account: Account) -> str:
    return "your account" if _is_own(ctx, session, account) else account.name


def _list(ctx: Context, session: Session, account: Account) -> None:
    if not account.certfps:
        SERVICE.notice(ctx, session, f"No certificate fingerprints are on {account.name}.")
        return
    SERVICE.notice(ctx, session, f"Certificate fingerprints on {account.name}:")
    for fingerprint in account.certfps:
        SERVICE.notice(ctx, session, f"  {fingerprint}")


def _add(ctx: Context, session: Session, account: Account, fingerprint: str) -> None:
    whose = _whose(ctx, session, account)
    if fingerprint in account.certfps:
        SERVICE.notice(ctx, session, f"{fingerprint} is already on {whose}.")
        return
    owner = fingerprint_owner(ctx, fingerprint)
    if owner is not None:
        # Its owner is named only to an operator, who may see it in WHOIS anyway.
        other = "another account" if _is_own(ctx, session, account) else owner.name
        SERVICE.notice(ctx, session, f"That certificate already logs in to {other}.")
        return
    if len(account.certfps) >= MAX_CERTFPS:
        full = f"has {MAX_CERTFPS} fingerprints already; remove one with CERT DEL"
        if _is_own(ctx, session, account):
            SERVICE.notice(ctx, session, f"Your account {full}.")
        else:
            SERVICE.notice(ctx, session, f"{account.name} {full} {account.name} <fingerprint>.")
        return
    updated = replace(account, certfps=(*account.certfps, fingerprint))
    _save(ctx, session, account, updated, "add", fingerprint)


def _delete(ctx: Context, session: Session, account: Account, fingerprint: str) -> None:
    if fingerprint not in account.certfps:
        SERVICE.notice(ctx, session, f"{fingerprint} is not on {_whose(ctx, session, account)}.")
        return
    kept = tuple(fp for fp in account.certfps if fp != fingerprint)
    _save(ctx, session, account, replace(account, certfps=kept), "del", fingerprint)


def _save(
    ctx: Context, session: Session, before: Account, after: Account, verb: str, fingerprint: str
) -> None:
    """Apply now, persist with an audit entry, answer after the commit (or undo)."""
    ctx.accounts.put(after)
    actor = sanctions.actor_name(session)
    by_other = not _is_own(ctx, session, before)

    def committed(error: str | None) -> None:
        if error is not None:
            _undo(ctx, before.key, verb, fingerprint)
            SERVICE.notice(ctx, session, "The change could not be saved; try again later.")
            return
        if verb == "add":
            SERVICE.notice(ctx, session, f"{fingerprint} added: it now logs in to {before.name}.")
        else:
            SERVICE.notice(ctx, session, f"{fingerprint} removed from {before.name}.")
        if by_other:
            _tell_owner(ctx, before.key, actor, verb, fingerprint)

    target = f"{before.name} {fingerprint}"
    sanctions.audit(
        ctx,
        actor,
        f"account.cert.{verb}",
        target,
        changes=[SetAccountCertfps(after.key, after.certfps)],
        then=committed,
    )


def _tell_owner(ctx: Context, key: str, actor: str, verb: str, fingerprint: str) -> None:
    """An operator changed how the account logs in: its owner, if online, hears of it."""
    done = "added to" if verb == "add" else "removed from"
    text = f"Operator {actor} {done} your account the certificate fingerprint {fingerprint}."
    for other in ctx.sessions.values():
        if other.account is not None and ctx.fold(other.account) == key:
            SERVICE.notice(ctx, other, text)


def _undo(ctx: Context, key: str, verb: str, fingerprint: str) -> None:
    """Take back one change that the store refused, keeping any made since."""
    current = ctx.accounts.get(key)
    if current is None:
        return  # dropped meanwhile; nothing left to undo
    if verb == "add":
        kept = tuple(fp for fp in current.certfps if fp != fingerprint)
    elif fingerprint_owner(ctx, fingerprint) is None:
        kept = (*current.certfps, fingerprint)
    else:
        return
    ctx.accounts.put(replace(current, certfps=kept))
