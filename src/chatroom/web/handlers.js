// What each IRC message does to the state. ``app`` is the glue from app.js: it owns the
// state and the client and knows how to show things (post, refresh, notify).

import { actionText, makeFolder, messageTime, parsePrefix, parseSource, stripFormatting } from "./irc.js";
import { channelModesReply, MODE_HANDLERS, userMode } from "./modereplies.js";
import { askWhoIsAway, needsAction, PRESENCE_HANDLERS } from "./presence.js";
import { errorText, replyText } from "./replies.js";
import { SERVER_INFO, serverInfoText } from "./serverinfo.js";
import { mentions } from "./state.js";

const TYPING_ACTIVE_MS = 6000; // the +typing spec: "active" lapses after 6 s, "paused" 30 s
const TYPING_PAUSED_MS = 30000;

// Commands that change who is in a room: the member list is redrawn after them.
const MEMBERSHIP = new Set(["JOIN", "PART", "QUIT", "KICK"]);
// Numerics the UI consumes silently.
const QUIET = new Set(["005", "324", "329", "331", "333", "353", "366", "900", "901", "903", "908", "433", "770", "771", "772", "774"]);

export function handleMessage(app, msg) {
  const handler = HANDLERS[msg.command];
  if (handler) {
    handler(app, msg);
    if (MEMBERSHIP.has(msg.command)) app.refresh();
    return;
  }
  if (/^\d{3}$/.test(msg.command)) numeric(app, msg);
}

function numeric(app, msg) {
  const { state } = app;
  const text = msg.params[msg.params.length - 1] || "";
  if (QUIET.has(msg.command)) return;
  if (SERVER_INFO.has(msg.command)) {
    const line = serverInfoText(msg, state);
    if (line) app.post(state.server, { kind: "event", text: line, time: messageTime(msg.tags) }, false);
    return;
  }
  const said = replyText(msg);
  if (said !== undefined) {
    if (said) app.note(said);
    return;
  }
  // A server that advertises draft/chathistory but refuses a query: no history, no noise.
  if (msg.command === "421" && msg.params[1] === "CHATHISTORY") return;
  const code = Number(msg.command);
  const context = msg.params.slice(1, -1).join(" ");
  // The common refusals in sentences (replies.js); the server's own text for the rest.
  let line = errorText(msg, (name) => state.isChannel(name)) ?? (context ? `${context}: ${text}` : text);
  // KNOCK: 710 <me> <#room> <nick!user@host> :text to the room's operators, 711 to us.
  if (code === 710) {
    const who = (msg.params[2] || "").split("!")[0];
    line = `${who} knocks on ${msg.params[1]} (${text}): /invite ${who} to let them in`;
  }
  // A /command neither this client nor the server knows (it went to the server as typed).
  if (code === 421 && context) line = `/${context.toLowerCase()} is not a command here: /help lists them`;
  const kind = code >= 400 && code < 600 ? "error" : "event";
  // About a room we have a tab for (482 "not channel operator", 404...): said there.
  const room = state.isChannel(msg.params[1]) ? state.find(msg.params[1]) : null;
  if (room) app.post(room, { kind, text: line, time: messageTime(msg.tags) }, false);
  else app.note(line, kind);
}

/**
 * Said by this person: by our nick, or by our account from another device (account-tag),
 * which may hold another nick. One's own lines are never unread.
 */
function fromMe(app, msg, nick) {
  const { state } = app;
  const account = app.client.account;
  return state.isMe(nick) || (!!account && !!msg.tags.account && state.fold(msg.tags.account) === state.fold(account));
}

function entryFor(app, msg, kind, nick, text) {
  const { state } = app;
  const action = kind === "msg" ? actionText(text) : null;
  const clean = stripFormatting(action ?? text);
  const self = fromMe(app, msg, nick);
  return {
    kind: action !== null ? "action" : kind,
    nick,
    text: clean,
    time: messageTime(msg.tags),
    stamp: msg.tags.time || null, // the server's time, as it wrote it: what a read marker names
    msgid: msg.tags.msgid || null,
    self,
    mention: !self && mentions(clean, state.me),
  };
}

/** Which buffer a PRIVMSG/NOTICE belongs in, or null for the server buffer. */
function bufferFor(app, msg, nick, target, self) {
  const { state } = app;
  if (state.isChannel(target)) return state.ensure(target, "channel");
  if (!nick || !msg.source.includes("!")) return null; // from the server itself
  const other = self && !state.isMe(target) ? target : nick;
  if (msg.command === "NOTICE" && !state.find(other)) return null;
  return state.ensure(other, "query");
}

/** The entry a PRIVMSG or NOTICE is shown as (live or from history); null for CTCP other than ACTION. */
export function chatEntry(app, msg) {
  const { nick } = parseSource(msg.source);
  const text = msg.params[1] || "";
  if (text.startsWith("\x01") && !text.startsWith("\x01ACTION")) return null;
  const kind = msg.command === "NOTICE" ? "notice" : "msg";
  return entryFor(app, msg, kind, nick || msg.source || app.state.network, text);
}

function chat(app, msg) {
  const { state } = app;
  const { nick } = parseSource(msg.source);
  const entry = chatEntry(app, msg);
  if (!entry) return; // other CTCP
  const buffer = bufferFor(app, msg, nick, msg.params[0], entry.self) || state.server;
  buffer.typing.delete(nick);
  const personal = buffer.kind === "query" && !entry.self;
  app.post(buffer, entry, entry.mention || personal);
  if (entry.mention || personal) app.notify(buffer, entry);
  // NickServ's "identify, or be renamed": also where the user is looking.
  if (buffer === state.server && msg.command === "NOTICE" && needsAction(msg, state)) app.noteSeen({ ...entry }, true);
}

function displayName(app, target, key, value) {
  const { state } = app;
  if (key !== "display-name" || !target || state.isChannel(target)) return;
  if (value) state.displayNames.set(state.fold(target), stripFormatting(value));
  else state.displayNames.delete(state.fold(target));
  app.refresh();
  if (state.active) app.redrawMessages();
}

function event(app, buffer, text, msg) {
  // The msgid lets the same event, replayed from history later (draft/event-playback), show once.
  const stamp = msg.tags.time || null;
  app.post(buffer, { kind: "event", text, time: messageTime(msg.tags), stamp, msgid: msg.tags.msgid || null }, false);
}

// Room events a chathistory batch may hold for a draft/event-playback client.
const ROOM_EVENTS = new Set(["JOIN", "PART", "QUIT", "KICK", "NICK", "TOPIC", "MODE"]);

/**
 * The entry a line of history is shown as: a message, or (draft/event-playback) a room event
 * told as a line of text, which changes nobody's membership or the topic now; null for
 * anything else (a REDACT is applied with ``redact`` instead).
 */
export function historyEntry(app, msg, buffer = null) {
  if (msg.command === "PRIVMSG" || msg.command === "NOTICE") return chatEntry(app, msg);
  if (!ROOM_EVENTS.has(msg.command)) return null;
  const { nick } = parseSource(msg.source);
  if (msg.command === "JOIN" || msg.command === "QUIT") {
    // Back after a server restart: the rejoins (ours, and room-mates' who came back with
    // us) are told neither live nor when the catch-up brings them from history; nor are
    // the QUITs the server kept at its shutdown for those who were here (the banner said
    // why). A QUIT we saw live has the same msgid and shows once anyway.
    const room = msg.command === "JOIN" ? app.state.find(msg.params[0]) : buffer;
    const back = room?.returning;
    if (back && (app.state.isMe(nick) || back.has(app.state.fold(nick)))) return null;
  }
  const p = msg.params;
  const why = (reason) => (reason ? ` (${reason})` : "");
  const texts = {
    JOIN: () => `${nick} joined`,
    PART: () => `${nick} left${why(p[1])}`,
    QUIT: () => `${nick} left${why(p[0])}`,
    KICK: () => `${p[1]} was kicked by ${nick}${why(p[2])}`,
    NICK: () => `${nick} is now known as ${p[0]}`,
    TOPIC: () => (p[1] ? `${nick} changed the topic to: ${stripFormatting(p[1])}` : `${nick} cleared the topic`),
    MODE: () => `${nick || msg.source} sets mode ${p.slice(1).join(" ")}`,
  };
  const stamp = msg.tags.time || null;
  return { kind: "event", text: texts[msg.command](), time: messageTime(msg.tags), stamp, msgid: msg.tags.msgid || null };
}

/**
 * REDACT <target> <msgid> [:reason] (draft/message-redaction): a message was deleted. Its
 * line stays where it was and says who deleted it and why; a msgid we do not show is ignored,
 * as the spec requires. Returns the buffer that changed, or null.
 */
export function redact(app, msg) {
  const { state } = app;
  const { nick } = parseSource(msg.source);
  const [target, msgid, reason = ""] = msg.params;
  if (!target || !msgid) return null;
  const buffer = state.find(state.isChannel(target) || state.isMe(nick) ? target : nick);
  const entry = buffer && buffer.messages.find((m) => m.msgid === msgid && !m.deleted && CHAT.has(m.kind));
  if (!entry) return null;
  entry.deleted = { by: state.fold(nick) === state.fold(entry.nick) ? "" : nick, reason };
  entry.text = "";
  return buffer;
}

const CHAT = new Set(["msg", "action", "notice"]);

function channelModes(app, msg) {
  const { state } = app;
  const [target, modestring = "", ...args] = msg.params;
  const buffer = state.find(target);
  if (!buffer || buffer.kind !== "channel") return;
  const chanmodes = (app.client.isupport.get("CHANMODES") || "beIq,k,l,imnpst").split(",");
  const [listModes = "", always = "", whenSet = ""] = chanmodes;
  let adding = true;
  let i = 0;
  for (const letter of modestring) {
    if (letter === "+" || letter === "-") {
      adding = letter === "+";
      continue;
    }
    if (state.prefix.modes.includes(letter)) {
      const member = state.member(buffer, args[i++] || "");
      if (member) {
        member.modes = adding ? member.modes.replace(letter, "") + letter : member.modes.replace(letter, "");
      }
    } else if (listModes.includes(letter)) {
      const mask = args[i++] || "";
      if (letter === "q") {
        if (adding) buffer.mutes.add(mask);
        else buffer.mutes.delete(mask);
      }
    } else if (always.includes(letter) || (whenSet.includes(letter) && adding)) {
      i++;
    } else if (adding) buffer.modes.add(letter);
    else buffer.modes.delete(letter);
  }
}

const HANDLERS = {
  ...PRESENCE_HANDLERS,
  ...MODE_HANDLERS,
  "001"(app, msg) {
    app.state.me = msg.params[0];
    numeric(app, msg);
  },
  "005"(app) {
    const { state, client } = app;
    state.fold = makeFolder(client.isupport.get("CASEMAPPING") || "rfc1459");
    state.prefix = parsePrefix(client.isupport.get("PREFIX"));
    state.chantypes = client.isupport.get("CHANTYPES") || "#&";
    state.network = client.isupport.get("NETWORK") || state.network;
    state.historyAvailable = app.client.has("draft/chathistory");
    state.canRedact = app.client.has("draft/message-redaction");
  },
  JOIN(app, msg) {
    const { state } = app;
    const { nick } = parseSource(msg.source);
    const buffer = state.ensure(msg.params[0], "channel");
    if (state.isMe(nick)) {
      buffer.name = msg.params[0];
      buffer.joined = true;
      buffer.members.clear();
      app.joined(buffer);
    } else {
      state.setMember(buffer, nick);
      state.away.delete(state.fold(nick)); // away-notify follows the JOIN of someone away
      // Back after a server restart like us: they never really left, so no "joined" line.
      // Kept for the whole window: the catch-up may bring the same JOIN from history.
      if (buffer.returning && buffer.returning.has(state.fold(nick))) return;
      event(app, buffer, `${nick} joined`, msg);
    }
  },
  PART(app, msg) {
    const { state } = app;
    const { nick } = parseSource(msg.source);
    const buffer = state.find(msg.params[0]);
    if (!buffer) return;
    const reason = msg.params[1] ? ` (${msg.params[1]})` : "";
    if (state.isMe(nick)) {
      buffer.joined = false;
      buffer.members.clear();
      app.left(buffer);
    } else {
      state.dropMember(buffer, nick);
      event(app, buffer, `${nick} left${reason}`, msg);
    }
  },
  QUIT(app, msg) {
    const { state } = app;
    const { nick } = parseSource(msg.source);
    const reason = msg.params[0] ? ` (${msg.params[0]})` : "";
    for (const buffer of state.buffers.values()) {
      if (buffer.kind === "channel" && state.member(buffer, nick)) {
        state.dropMember(buffer, nick);
        event(app, buffer, `${nick} left${reason}`, msg);
      }
    }
    state.away.delete(state.fold(nick));
    // Whoever has gone types no more, in a private conversation either.
    for (const buffer of state.buffers.values()) buffer.typing.delete(nick);
  },
  KICK(app, msg) {
    const { state } = app;
    const { nick } = parseSource(msg.source);
    const [channel, victim, why] = msg.params;
    const buffer = state.find(channel);
    if (!buffer) return;
    const reason = why ? ` (${why})` : "";
    if (state.isMe(victim)) {
      buffer.joined = false;
      buffer.members.clear();
      event(app, buffer, `You were kicked from ${channel} by ${nick}${reason}`, msg);
      app.left(buffer, true);
    } else {
      state.dropMember(buffer, victim);
      event(app, buffer, `${victim} was kicked by ${nick}${reason}`, msg);
    }
  },
  NICK(app, msg) {
    const { state } = app;
    const { nick } = parseSource(msg.source);
    const now = msg.params[0];
    const wasMe = state.isMe(nick);
    const shown = state.displayNames.get(state.fold(nick));
    if (shown !== undefined) {
      state.displayNames.delete(state.fold(nick));
      state.displayNames.set(state.fold(now), shown);
    }
    if (wasMe) state.me = now;
    if (state.away.has(state.fold(nick))) {
      state.away.set(state.fold(now), state.away.get(state.fold(nick)));
      state.away.delete(state.fold(nick));
    }
    for (const buffer of state.buffers.values()) {
      const member = buffer.kind === "channel" ? state.member(buffer, nick) : null;
      if (member) {
        state.dropMember(buffer, nick);
        state.setMember(buffer, now, member.modes);
        event(app, buffer, wasMe ? `You are now known as ${now}` : `${nick} is now known as ${now}`, msg);
      }
    }
    for (const buffer of state.buffers.values()) buffer.typing.delete(nick);
    const query = state.find(nick);
    if (query && query.kind === "query" && !wasMe) {
      state.buffers.delete(state.fold(nick));
      query.name = now;
      state.buffers.set(state.fold(now), query);
    }
    app.refresh();
  },
  MODE(app, msg) {
    const { state } = app;
    const { nick } = parseSource(msg.source);
    if (!state.isChannel(msg.params[0])) return userMode(app, msg);
    channelModes(app, msg);
    const buffer = state.find(msg.params[0]);
    if (buffer) event(app, buffer, `${nick || msg.source} sets mode ${msg.params.slice(1).join(" ")}`, msg);
    app.refresh();
  },
  "324"(app, msg) {
    channelModes(app, { ...msg, params: msg.params.slice(1) });
    channelModesReply(app, msg);
    app.refresh();
  },
  TOPIC(app, msg) {
    const { state } = app;
    const { nick } = parseSource(msg.source);
    const buffer = state.find(msg.params[0]);
    if (!buffer) return;
    buffer.topic = stripFormatting(msg.params[1] || "");
    const text = buffer.topic ? `${nick} changed the topic to: ${buffer.topic}` : `${nick} cleared the topic`;
    event(app, buffer, text, msg);
    app.refresh();
  },
  "332"(app, msg) {
    const { state } = app;
    const buffer = state.find(msg.params[1]);
    if (buffer) buffer.topic = stripFormatting(msg.params[2] || "");
    // The topic after a JOIN is in the header; one asked for with /topic is said too.
    if (state.topicAsked.delete(state.fold(msg.params[1] || ""))) {
      const text = `Topic of ${msg.params[1]}: ${stripFormatting(msg.params[2] || "")}`;
      if (buffer) app.post(buffer, { kind: "event", text, time: messageTime(msg.tags) }, false);
      else app.note(text);
    }
    app.refresh();
  },
  "331"(app, msg) {
    // RPL_NOTOPIC: sent when asked (/topic); without a line the user would see nothing.
    const { state } = app;
    if (state.topicAsked.delete(state.fold(msg.params[1] || ""))) app.note(`${msg.params[1]} has no topic. /topic TEXT sets one.`);
  },
  "353"(app, msg) {
    const { state } = app;
    const asked = state.namesAsked.get(state.fold(msg.params[2] || ""));
    // "@alice!alice@host" (userhost-in-names): the nick with its rank is what is shown.
    if (asked) asked.push(...(msg.params[3] || "").split(" ").filter(Boolean).map((name) => name.split("!")[0]));
    const buffer = state.find(msg.params[2]);
    if (!buffer) return;
    buffer.pendingNames = buffer.pendingNames || new Map();
    for (const name of (msg.params[3] || "").split(" ").filter(Boolean)) {
      const { nick, modes } = state.parseName(name);
      buffer.pendingNames.set(state.fold(nick), { nick, modes });
    }
  },
  "366"(app, msg) {
    const { state } = app;
    const room = msg.params[1] || "";
    const asked = state.namesAsked.get(state.fold(room));
    if (asked) {
      // A /names typed: said in words (the member list only shows a room one is in).
      state.namesAsked.delete(state.fold(room));
      app.note(asked.length ? `In ${room}: ${asked.join(" ")}` : `Nobody you can see is in ${room}.`);
    }
    const buffer = app.state.find(msg.params[1]);
    if (!buffer || !buffer.pendingNames) return;
    buffer.members = buffer.pendingNames;
    buffer.pendingNames = null;
    app.refresh();
    if (buffer.wantWho) {
      buffer.wantWho = false;
      askWhoIsAway(app, buffer); // now that the room's size is known
    }
  },
  PRIVMSG: chat,
  NOTICE: chat,
  REDACT(app, msg) {
    const buffer = redact(app, msg);
    if (buffer) app.redrawMessages(buffer);
  },
  TAGMSG(app, msg) {
    const { state } = app;
    const typing = msg.tags["+typing"];
    const { nick } = parseSource(msg.source);
    if (!typing || state.isMe(nick)) return;
    const target = msg.params[0];
    const buffer = state.find(state.isChannel(target) ? target : nick);
    if (!buffer) return;
    if (typing === "done") buffer.typing.delete(nick);
    else buffer.typing.set(nick, Date.now() + (typing === "paused" ? TYPING_PAUSED_MS : TYPING_ACTIVE_MS));
    app.refreshTyping();
  },
  SILENCE(app, msg) {
    // The server confirms a change of our block list (/silence +mask, -mask).
    const change = msg.params[0] || "";
    if (change.startsWith("+")) app.note(`You will not get private messages or invites from ${change.slice(1)}.`);
    else if (change.startsWith("-")) app.note(`${change.slice(1)} may send you private messages again.`);
  },
  INVITE(app, msg) {
    const { nick } = parseSource(msg.source);
    app.note(`${nick} invites you to ${msg.params[1]} — type /join ${msg.params[1]}`);
  },
  FAIL(app, msg) {
    // FAIL CHATHISTORY <code> <subcommand> <target> <text>: that conversation's history stops.
    if (msg.params[0] === "CHATHISTORY") app.historyFailed(msg.params[1], msg.params[3]);
    // A read marker that could not be moved stays moved here; nothing the user can do about it.
    else if (msg.params[0] !== "REGISTER" && msg.params[0] !== "MARKREAD") app.note(msg.params[msg.params.length - 1], "error");
  },
  WARN(app, msg) {
    app.note(msg.params[msg.params.length - 1]);
  },
  NOTE(app, msg) {
    app.note(msg.params[msg.params.length - 1]);
  },
  METADATA(app, msg) {
    // METADATA <target> <key> <visibility> [value]: only display-name is shown, for people.
    displayName(app, msg.params[0], msg.params[1], msg.params[3]);
  },
  "761"(app, msg) {
    // RPL_KEYVALUE <me> <target> <key> <visibility> [value]: our own change, or a GET.
    displayName(app, msg.params[1], msg.params[2], msg.params[4]);
  },
  "766"(app, msg) {
    displayName(app, msg.params[1], msg.params[2], undefined); // RPL_KEYNOTSET
  },
  REGISTER(app, msg) {
    if (msg.params[0] === "SUCCESS") {
      app.note(`Account ${msg.params[1]} created. You are logged in.`);
      app.accountCreated();
    }
  },
  MARKREAD(app, msg) {
    // MARKREAD <target> timestamp=<time>|* (draft/read-marker): where this account stopped reading.
    app.markers.received(msg.params[0], msg.params[1]);
  },
  PONG(app, msg) {
    app.pong(msg.params[msg.params.length - 1]);
  },
  ERROR() {
    // The server is closing the connection: the banner says why and that we reconnect
    // (client.js keeps the reason), so no red "Closing Link" line in the conversation.
  },
};
