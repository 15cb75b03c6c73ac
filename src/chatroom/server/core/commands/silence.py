"""SILENCE: a user's own server-side block list, for every device at once.

Rules (InspIRCd's and ircu's SILENCE, numerics 271/272/511; ISUPPORT ``SILENCE=<n>``):
- ``SILENCE`` lists the user's masks (``271 <nick> <mask>`` each, then ``272``);
- ``SILENCE +<mask>[,-<mask>...]`` adds, ``-<mask>`` removes (a mask without a sign adds);
  masks are ``nick!user@host`` globs (``bob`` means ``bob!*@*``) or ``a:<account>``; each
  change is confirmed with ``:<you> SILENCE +<mask>`` (or ``-``) to every device; more than
  ``SILENCE_ENTRIES`` masks get ``511``;
- a matching sender's private messages, notices, TAGMSGs (draft/multiline ones too),
  invites and knocks are dropped without telling it: with echo-message it still gets its
  own copy, and ``301`` if the user is away, as if delivered, and nothing is kept in
  history (nor in an offline account's mailbox). Room messages are not filtered (a
  client's ignore does that); operators always get through;
- the list belongs to the user (all its devices share it); an account's is kept with the
  account (the option ``silence``, masks separated by spaces), confirmed once saved and
  back at every login; a guest's ends with its connection.
"""

from __future__ import annotations

from chatroom.irc import numerics as n
from chatroom.irc.masks import normalize_mask
from chatroom.irc.message import Message
from chatroom.server.core.accountbook import SILENCE_ENTRIES, SILENCE_OPTION
from chatroom.server.core.context import Context
from chatroom.server.core.dispatch import command
from chatroom.server.core.session import Session
from chatroom.server.store.base import PutAccountOption

MASK_LENGTH = 200  # characters of one mask


@command("SILENCE")
def silence(ctx: Context, session: Session, msg: Message) -> None:
    """SILENCE [+<mask>|-<mask>[,...]]

    Your server-side block list: private messages and invites from matching people are
    dropped. Without arguments, lists it.
    """
    user = session.owner
    if not msg.params or not msg.params[0]:
        for mask in user.silenced:
            ctx.reply(session, n.RPL_SILELIST, mask)
        ctx.reply(session, n.RPL_ENDOFSILELIST, "End of silence list")
        return
    done: list[str] = []  # "+mask" / "-mask", confirmed once saved
    for word in msg.params[0].split(",")[:SILENCE_ENTRIES]:
        adding = not word.startswith("-")
        mask = _mask(word.lstrip("+-"))
        if not mask:
            continue
        masks = user.silenced
        folded = [ctx.fold(m) for m in masks]
        if adding:
            if ctx.fold(mask) in folded:
                continue
            if len(masks) >= SILENCE_ENTRIES:
                ctx.reply(session, n.ERR_SILELISTFULL, mask, "Your silence list is full")
                continue
            user.silenced = (*masks, mask)
        else:
            if ctx.fold(mask) not in folded:
                continue
            gone = folded.index(ctx.fold(mask))
            mask = masks[gone]
            user.silenced = masks[:gone] + masks[gone + 1 :]
        done.append(("+" if adding else "-") + mask)
    if not done:
        return

    def confirm(error: str | None = None) -> None:
        for change in done:
            ctx.fanout(user.conns, session.prefix, "SILENCE", change, account=session.account)
        if error is not None:
            ctx.notice(session, "Your silence list could not be saved; it holds until you leave.")

    if session.account is None:
        confirm()
        return
    # An account's list is kept with it (an account option) and confirmed once saved.
    key = ctx.fold(session.account)
    value = " ".join(user.silenced) or None
    if value is None:
        ctx.accounts.unchoose(key, SILENCE_OPTION)
    else:
        ctx.accounts.choose(key, SILENCE_OPTION, value)
    ctx.persist([PutAccountOption(key, SILENCE_OPTION, value)], confirm)


def _mask(text: str) -> str:
    text = text[:MASK_LENGTH]
    if not text or any(c in text for c in " \x00\r\n"):
        return ""
    return normalize_mask(text)  # keeps an extban (a:<account>) as given
