// Who is away, and notices the user has to act on.
//
// Away: IRCv3 away-notify tells us when someone in a shared room goes away or comes back
// (AWAY [:message]); a WHO on each room we join says who was away already ("G" in the
// flags of RPL_WHOREPLY, without the message). The member list dims away people, with
// their message as the title; a private conversation with an away person says so once,
// from RPL_AWAY (301, the answer to every PRIVMSG we send them) or from away-notify, and
// again only when it changes, not after every message.
//
// Notices from services (NickServ: "this nickname is registered, identify…") ask the
// user to do something soon. They belong in the server tab like other notices, but nobody
// looks there: they are shown in the open conversation as well.

import { messageTime, parseSource, stripFormatting } from "./irc.js";

const SERVICE_HOST = "services."; // ChatRoom's services speak as Name!Name@services.

/** Someone's away state changed (``message`` null: back). Returns true if it changed. */
export function setAway(app, nick, message, time = new Date()) {
  const { state } = app;
  const key = state.fold(nick);
  const before = state.away.has(key) ? state.away.get(key) : null;
  if (message === null) state.away.delete(key);
  else state.away.set(key, message);
  if (before !== message) app.refresh();
  tellConversation(app, nick, message, time);
  return before !== message;
}

/** In a private conversation with ``nick``: one line when their away state differs from
 * the one last shown there. */
function tellConversation(app, nick, message, time) {
  const { state } = app;
  const buffer = state.find(nick);
  if (!buffer || buffer.kind !== "query" || state.isMe(nick)) return;
  const shown = buffer.awayShown === undefined ? null : buffer.awayShown;
  // A message we do not know (WHO says only "away") never replaces one we do.
  if (message === shown || (message === "" && shown)) return;
  if (message === null && buffer.awayShown === undefined) return; // never said away here
  buffer.awayShown = message;
  const text = message === null ? `${nick} is back` : message ? `${nick} is away: ${message}` : `${nick} is away`;
  app.post(buffer, { kind: "event", text, time }, false);
}

export const PRESENCE_HANDLERS = {
  AWAY(app, msg) {
    const { nick } = parseSource(msg.source);
    if (!nick || app.state.isMe(nick)) return;
    const message = msg.params.length ? stripFormatting(msg.params[0] || "") : null;
    setAway(app, nick, message, messageTime(msg.tags));
  },
  "301"(app, msg) {
    // RPL_AWAY <me> <nick> :<message>: the answer to a PRIVMSG (or WHOIS) to an away person.
    const [, nick, text = ""] = msg.params;
    if (!nick) return;
    const buffer = app.state.find(nick);
    const message = stripFormatting(text);
    if (buffer && buffer.kind === "query") setAway(app, nick, message);
    else if (app.state.away.get(app.state.fold(nick)) !== message) {
      setAway(app, nick, message);
      app.note(`${nick} is away: ${message}`);
    }
  },
  "352"(app, msg) {
    // RPL_WHOREPLY <me> <channel> <user> <host> <server> <nick> <flags> :<hops> <realname>
    const { state } = app;
    const [, channel, , , , nick, flags = ""] = msg.params;
    if (!state.pendingWho.has(state.fold(channel || ""))) {
      // A WHO the user typed: shown as any other answer.
      app.note(`${msg.params.slice(1, -1).join(" ")}: ${msg.params[msg.params.length - 1]}`);
      return;
    }
    if (!nick || state.isMe(nick)) return;
    // Kept quiet: a big room's list is drawn once, at the end (315); and "away" without
    // the message is not worth a line in a private conversation.
    const key = state.fold(nick);
    if (flags.startsWith("G")) state.away.set(key, state.away.get(key) || "");
    else if (flags.startsWith("H")) state.away.delete(key);
  },
  "315"(app, msg) {
    // RPL_ENDOFWHO: the WHO we sent on joining is answered; one the user typed ends here.
    const { state } = app;
    const key = state.fold(msg.params[1] || "");
    if (state.pendingWho.delete(key)) app.refresh();
    else app.note(msg.params[msg.params.length - 1] || "End of WHO list");
  },
};

// A WHO of a big room is a line per member for the server and for us: as WeeChat's away
// check, bigger rooms get their away marks from away-notify alone.
export const WHO_LIMIT = 100;

/** After joining ``buffer`` and reading its members: ask who is away there (only useful
 * with away-notify, which keeps it up to date afterwards), if the room is small enough. */
export function askWhoIsAway(app, buffer) {
  if (!app.client.has("away-notify") || buffer.members.size > WHO_LIMIT) return;
  app.state.pendingWho.add(app.state.fold(buffer.name));
  app.client.send("WHO", [buffer.name]);
}

/** A NOTICE to us from a service, which usually asks us to do something (identify). */
export function needsAction(msg, state) {
  const { nick, host } = parseSource(msg.source || "");
  return !!nick && host === SERVICE_HOST && state.isMe(msg.params[0] || "");
}
