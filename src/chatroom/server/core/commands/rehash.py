"""REHASH: an operator has the server read its config file again, nobody disconnected.

Rules (RFC 2812 4.2 "Rehash message", modern.ircdocs.horse "REHASH"; what the file can
change at once is core/reconfigure.py's):
- operators whose role holds ``admin`` only; others get ``481``;
- once the file is read and applied: ``382 <nick> <file> :Rehashing``, then one NOTICE
  naming the changed keys that take effect only at the next start, if any;
- a file with an error changes nothing: ``FAIL REHASH CONFIG_ERROR :<error>`` (the error
  names the key and the fix, as at start), written to the audit log like a success;
- the operator's next lines wait for the answer (replies in order).
"""

from __future__ import annotations

from chatroom.irc import numerics as n
from chatroom.irc.message import Message, format_line
from chatroom.server.core import opers, sanctions
from chatroom.server.core.context import Context
from chatroom.server.core.dispatch import command
from chatroom.server.core.reconfigure import Reloaded
from chatroom.server.core.session import Session


@command("REHASH")
def rehash(ctx: Context, session: Session, msg: Message) -> None:
    """REHASH

    Operators with the ``admin`` capability: read the config file again and apply it.
    """
    opers.require(ctx, session, "admin")

    def reloaded(outcome: Reloaded) -> None:
        actor = sanctions.actor_name(session)
        if outcome.settings is None:
            error = outcome.error or "the config file could not be read"
            sanctions.audit(ctx, actor, "config.rehash", outcome.source, f"refused: {error}", [])
            session.send(format_line(ctx.name, "FAIL", "REHASH", "CONFIG_ERROR", error))
            return
        ctx.adopt_settings(outcome.settings)
        sanctions.audit(ctx, actor, "config.rehash", outcome.source, "", [])
        ctx.reply(session, n.RPL_REHASHING, outcome.source, "Rehashing")
        if outcome.restart_keys:
            keys = ", ".join(outcome.restart_keys)
            ctx.notice(session, f"These changed keys take effect at the next start: {keys}")

    ctx.reload_config(reloaded)
