// The web client's entry point: the login form, the chat screen and the glue between the
// IRC connection (client.js), the state (state.js), what messages do (handlers.js) and
// drawing (view.js). Loaded as an ES module; no build step, nothing from a CDN.

import { IrcClient } from "./client.js";
import { nickMask, runInput } from "./commands.js";
import { chatEntry, handleMessage } from "./handlers.js";
import { parseLine } from "./irc.js";
import { ChatState, historyRef } from "./state.js";
import * as view from "./view.js";

const $ = (id) => document.getElementById(id);
const TYPING_EVERY_MS = 3000; // +typing=active at most this often while typing
const MAX_TEXT = 400; // bytes of text per PRIVMSG, leaving room for the prefix
const HISTORY_PAGE = 50; // lines asked for per CHATHISTORY request (less if the server says so)
const HISTORY_AT_ONCE = 2; // CHATHISTORY requests unanswered at once; the server refuses more than a few

const wsUrl = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
const client = new IrcClient(wsUrl);
let state = new ChatState();
let lastTyping = 0;
let createMode = false;
let historyQueue = []; // buffers whose history request waits for an earlier one's answer
let historyBusy = 0; // requests sent and not yet answered
let awaySince = null; // when the connection dropped, until the conversations have caught up
let targetsSince = null; // the start of the CHATHISTORY TARGETS request in flight

const store = {
  get(key, fallback) {
    try {
      const raw = localStorage.getItem(`chatroom.${key}`);
      return raw === null ? fallback : JSON.parse(raw);
    } catch {
      return fallback;
    }
  },
  set(key, value) {
    try {
      localStorage.setItem(`chatroom.${key}`, JSON.stringify(value));
    } catch {
      /* private mode: remembering is a nicety */
    }
  },
};

// ------------------------------------------------------------------ the glue for handlers

const app = {
  get state() {
    return state;
  },
  client,
  /** Add an entry to a buffer, count it as unread elsewhere, draw it if visible. */
  post(buffer, entry, important) {
    if (!buffer.add(entry)) return;
    if (buffer === state.active) view.appendMessage(entry, state);
    if ((buffer !== state.active || document.hidden) && entry.kind !== "event") {
      buffer.unread += 1;
      buffer.mention = buffer.mention || important;
      view.renderBuffers(state, select);
    }
  },
  note(text, kind = "event") {
    app.post(state.active || state.server, { kind, text, time: new Date() }, false);
  },
  notify(buffer, entry) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    if (!document.hidden && buffer === state.active) return;
    const title = buffer.kind === "query" ? entry.nick : `${entry.nick} in ${buffer.name}`;
    const note = new Notification(title, { body: entry.text, tag: buffer.name });
    note.onclick = () => {
      window.focus();
      select(buffer);
    };
  },
  joined(buffer) {
    // The first room joined after signing on is shown; later joins were asked for by the
    // user, who is already looking at them (commandContext().open).
    if (!state.active || state.active.kind === "server") state.active = buffer;
    client.send("MODE", [buffer.name]);
    // Back after a dropped connection: fetch what was said meanwhile; else its latest lines.
    if (buffer.catchUp) requestHistory(buffer, "AFTER");
    else if (!buffer.historyStarted) requestHistory(buffer);
    saveRooms();
    redraw();
  },
  left(buffer, kicked = false) {
    saveRooms();
    if (!kicked) {
      state.remove(buffer.name);
      redraw();
    } else {
      app.refresh();
    }
  },
  refresh() {
    view.renderBuffers(state, select);
    view.renderHeader(state);
    view.renderMembers(state, pickMember);
  },
  accountCreated() {
    setMode(false); // next time this person logs in rather than creating an account
  },
  refreshTyping() {
    view.renderTyping(state);
  },
  /** FAIL CHATHISTORY: that request is over; a refusal (not a passing error) is final. */
  historyFailed(code, target) {
    historyBusy = Math.max(0, historyBusy - 1);
    const buffer = target ? state.find(target) : null;
    if (buffer) {
      const asked = buffer.historyLoading;
      buffer.historyLoading = null;
      if (asked === "AFTER") buffer.catchUp = null;
      else if (code !== "MESSAGE_ERROR") buffer.historyDone = true;
      if (buffer === state.active) view.renderMessages(state, true);
    }
    sendHistoryRequests();
  },
};

function redraw() {
  if (!state.active) state.active = state.server;
  app.refresh();
  view.renderMessages(state);
  view.renderTyping(state);
}

function select(buffer) {
  state.active = buffer;
  buffer.unread = 0;
  buffer.mention = false;
  $("chat-screen").classList.remove("show-sidebar", "show-members");
  view.closeMemberMenu();
  redraw();
  // A private conversation's history is read when it is first opened (a room's on joining).
  if (buffer.kind === "query" && !buffer.historyStarted) requestHistory(buffer);
  $("input").focus();
}

function saveRooms() {
  const rooms = [...state.buffers.values()].filter((b) => b.kind === "channel" && b.joined).map((b) => b.name);
  store.set("rooms", rooms);
}

// ------------------------------------------------------------------ client events

client.addEventListener("message", (event) => handleMessage(app, event.detail.msg));

client.addEventListener("batch", (event) => {
  const batch = event.detail;
  if (batch.type === "draft/chathistory-targets") {
    historyBusy = Math.max(0, historyBusy - 1);
    targetsArrived(batch.messages);
    sendHistoryRequests();
    return;
  }
  if (batch.type !== "chathistory") {
    for (const msg of batch.messages) handleMessage(app, msg);
    return;
  }
  historyBusy = Math.max(0, historyBusy - 1);
  const buffer = state.find(batch.params[0]);
  if (buffer) historyArrived(buffer, batch.messages);
  sendHistoryRequests();
});

// ------------------------------------------------------------------ scrollback (draft/chathistory)

/** Lines per request: ours, or the server's ISUPPORT CHATHISTORY limit when lower. */
function historyPage() {
  const most = Number(client.isupport.get("CHATHISTORY"));
  return most > 0 ? Math.min(HISTORY_PAGE, most) : HISTORY_PAGE;
}

/**
 * Ask for a conversation's history: its latest lines first (``LATEST``), then the page
 * before the oldest line shown (``BEFORE``), or after a reconnect the lines said since the
 * last one seen (``AFTER`` ``buffer.catchUp``). One request per conversation at a time,
 * and no BEFORE once a short page has shown the beginning, so scrolling up never makes the
 * client ask in a loop.
 */
function requestHistory(buffer, kind = "LATEST") {
  if (!client.has("draft/chathistory") || buffer.kind === "server" || buffer.historyLoading) return;
  if ((kind === "BEFORE" && buffer.historyDone) || (buffer.kind === "channel" && !buffer.joined)) return;
  if (kind === "AFTER" && !buffer.catchUp) return;
  buffer.historyStarted = true;
  buffer.historyLoading = kind;
  historyQueue.push(buffer);
  sendHistoryRequests();
}

function sendHistoryRequests() {
  while (historyBusy < HISTORY_AT_ONCE && historyQueue.length) {
    const item = historyQueue.shift();
    if (item.targetsFrom) {
      const params = ["TARGETS", `timestamp=${item.targetsFrom.toISOString()}`, `timestamp=${new Date().toISOString()}`];
      if (client.send("CHATHISTORY", [...params, String(historyPage())])) {
        historyBusy += 1;
        targetsSince = item.targetsFrom;
      }
      continue;
    }
    const buffer = item;
    if (state.find(buffer.name) !== buffer || (buffer.kind === "channel" && !buffer.joined)) {
      buffer.historyLoading = null; // left or closed while waiting its turn
      continue;
    }
    let ref = "*";
    if (buffer.historyLoading === "AFTER") ref = buffer.catchUp;
    else {
      const oldest = buffer.historyLoading === "BEFORE" ? buffer.oldest() : null;
      if (oldest) ref = historyRef(oldest);
      buffer.historyLoading = oldest ? "BEFORE" : "LATEST";
    }
    const params = [buffer.historyLoading, buffer.name, ref, String(historyPage())];
    if (client.send("CHATHISTORY", params)) historyBusy += 1;
    else buffer.historyLoading = null;
  }
}

/** A chathistory batch: its lines go before what is shown; replayed lines are neither unread nor notified. */
function historyArrived(buffer, messages) {
  const asked = buffer.historyLoading;
  buffer.historyLoading = null;
  const lines = messages.filter((m) => m.command === "PRIVMSG" || m.command === "NOTICE");
  if (asked === "AFTER") {
    missedArrived(buffer, lines);
    return;
  }
  const added = buffer.addOlder(lines.map((m) => chatEntry(app, m)).filter(Boolean));
  // A short page is the beginning; so is a page with nothing new, which asking again would repeat.
  if (lines.length < historyPage() || (asked === "BEFORE" && !added)) buffer.historyDone = true;
  if (buffer === state.active) view.renderMessages(state, true);
}

/**
 * A page of what was said while we were away: inserted in time order, each line once,
 * counted as unread where the user is not looking. A full page means there may be more:
 * ask AFTER its last line, until a short page says we have caught up.
 */
function missedArrived(buffer, lines) {
  const fresh = buffer.addMissed(lines.map((m) => chatEntry(app, m)).filter(Boolean));
  const unseen = fresh.filter((e) => !e.self);
  if (unseen.length && (buffer !== state.active || document.hidden)) {
    buffer.unread += unseen.length;
    buffer.mention = buffer.mention || buffer.kind === "query" || unseen.some((e) => e.mention);
  }
  const last = lines[lines.length - 1];
  let next = null;
  if (last && last.tags.msgid) next = `msgid=${last.tags.msgid}`;
  else if (last && last.tags.time) next = `timestamp=${last.tags.time}`;
  const more = lines.length >= historyPage() && next !== null && next !== buffer.catchUp;
  buffer.catchUp = more ? next : null;
  if (buffer === state.active) view.renderMessages(state, true);
  view.renderBuffers(state, select);
  if (more) requestHistory(buffer, "AFTER");
}

/**
 * The connection dropped: remember, per conversation, the last line seen, so that after
 * rejoining only what was said since is asked for. A conversation with no line yet asks
 * for its latest lines again, as on first opening.
 */
function rememberWhereWeWere() {
  if (!awaySince) awaySince = new Date();
  for (const buffer of state.buffers.values()) {
    if (buffer.kind === "server" || buffer.catchUp) continue;
    const last = buffer.newest();
    if (last) buffer.catchUp = historyRef(last);
    else {
      buffer.historyStarted = false;
      buffer.historyDone = false;
    }
  }
}

/** Signed on again: catch up the private conversations (rooms do when rejoined), and ask
 * which people wrote to us meanwhile (CHATHISTORY TARGETS) to open their conversations. */
function catchUpConversations() {
  const since = awaySince;
  awaySince = null;
  if (!since || !client.has("draft/chathistory")) return;
  for (const buffer of state.buffers.values()) {
    if (buffer.kind !== "query") continue;
    if (buffer.catchUp) requestHistory(buffer, "AFTER");
    else if (buffer === state.active) requestHistory(buffer);
  }
  if (client.has("batch")) {
    historyQueue.push({ targetsFrom: since });
    sendHistoryRequests();
  }
}

/** CHATHISTORY TARGETS: people who wrote while we were away and whose conversation was not
 * open get one, filled with the lines said since we left. */
function targetsArrived(messages) {
  const since = targetsSince;
  targetsSince = null;
  if (!since) return;
  for (const msg of messages) {
    if (msg.command !== "CHATHISTORY" || msg.params[0] !== "TARGETS") continue;
    const name = msg.params[1] || "";
    if (!name || state.isChannel(name) || state.isMe(name)) continue;
    const existing = state.find(name);
    if (existing && (existing.messages.length || existing.historyLoading)) continue; // caught up on its own
    const buffer = existing || state.ensure(name, "query");
    buffer.catchUp = `timestamp=${since.toISOString()}`;
    requestHistory(buffer, "AFTER");
  }
  view.renderBuffers(state, select);
}

function resetHistoryRequests() {
  historyQueue = [];
  historyBusy = 0;
  targetsSince = null;
  for (const buffer of state.buffers.values()) buffer.historyLoading = null;
}

client.addEventListener("registered", () => {
  $("login-screen").hidden = true;
  $("chat-screen").hidden = false;
  view.showBanner("");
  const rooms = [...state.buffers.values()].filter((b) => b.kind === "channel").map((b) => b.name);
  const join = rooms.length ? rooms : store.get("rooms", ["#lobby"]);
  for (const room of join.length ? join : ["#lobby"]) client.send("JOIN", [room]);
  catchUpConversations();
  redraw();
  $("input").focus();
});

client.addEventListener("status", (event) => {
  const { state: phase, delay, reason } = event.detail;
  document.body.dataset.status = phase;
  if (phase === "reconnecting") {
    resetHistoryRequests(); // unanswered requests died with the connection
    rememberWhereWeWere();
    for (const buffer of state.buffers.values()) {
      if (buffer.kind === "channel") {
        buffer.joined = false;
        buffer.typing.clear();
      }
    }
    const why = reason ? `${reason}. ` : "";
    view.showBanner(`Disconnected. ${why}Reconnecting in ${Math.ceil(delay)} s…`);
    app.refresh();
  } else if (phase === "connecting" && !$("chat-screen").hidden) {
    view.showBanner("Reconnecting…");
  } else if (phase === "online") {
    view.showBanner("");
  }
});

client.addEventListener("loginerror", (event) => {
  showLogin(event.detail.text);
});

// ------------------------------------------------------------------ login screen

function setMode(create) {
  createMode = create;
  $("tab-login").setAttribute("aria-selected", String(!create));
  $("tab-create").setAttribute("aria-selected", String(create));
  $("email-row").hidden = !create;
  $("password").autocomplete = create ? "new-password" : "current-password";
  $("password").required = create;
  $("login-hint").textContent = create
    ? "Your nickname becomes your account. Choose a password you do not use elsewhere."
    : "Leave the password empty to join as a guest.";
  $("login-button").textContent = create ? "Create account" : "Log in";
  $("login-error").hidden = true;
}

function showLogin(error) {
  $("chat-screen").hidden = true;
  $("login-screen").hidden = false;
  $("login-button").disabled = false;
  const box = $("login-error");
  box.textContent = error || "";
  box.hidden = !error;
  $(error ? "password" : "nick").focus();
}

$("tab-login").addEventListener("click", () => setMode(false));
$("tab-create").addEventListener("click", () => setMode(true));

$("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const nick = $("nick").value.trim();
  const password = $("password").value;
  const email = $("email").value.trim();
  const error = $("login-error");
  if (!/^[A-Za-z\[\]\\`_^{|}][A-Za-z0-9\[\]\\`_^{|}-]{0,29}$/.test(nick)) {
    error.textContent = "A nickname is 1 to 30 letters, digits or - _ [ ] { } | ^ `, not starting with a digit.";
    error.hidden = false;
    return;
  }
  if (createMode && password.length < 8) {
    error.textContent = "Choose a password of at least 8 characters.";
    error.hidden = false;
    return;
  }
  error.hidden = true;
  $("login-button").disabled = true;
  store.set("nick", nick);
  if ("Notification" in window && Notification.permission === "default") {
    Notification.requestPermission().catch(() => {});
  }
  state = new ChatState();
  state.me = nick;
  awaySince = null;
  resetHistoryRequests();
  client.start({ nick, password, email, create: createMode });
});

// ------------------------------------------------------------------ chat screen

function say(target, text) {
  for (const line of text.split(/\r?\n/)) {
    for (const piece of splitBytes(line, MAX_TEXT)) {
      if (!piece) continue;
      client.send("PRIVMSG", [target, piece]);
      if (!client.has("echo-message")) {
        handleMessage(app, { tags: {}, source: `${state.me}!me@local`, command: "PRIVMSG", params: [target, piece] });
      }
    }
  }
  lastTyping = 0;
}

/** Split text into pieces of at most ``limit`` UTF-8 bytes, never inside a character. */
function splitBytes(text, limit) {
  const pieces = [];
  const encoder = new TextEncoder();
  let current = "";
  for (const ch of text) {
    if (encoder.encode(current + ch).length > limit) {
      pieces.push(current);
      current = "";
    }
    current += ch;
  }
  pieces.push(current);
  return pieces;
}

function commandContext() {
  const buffer = state.active;
  const target = buffer && buffer.kind !== "server" ? buffer.name : null;
  return {
    target,
    channel: buffer && buffer.kind === "channel" ? buffer.name : null,
    send: (command, params) => client.send(command, params),
    raw: (line) => {
      const msg = parseLine(line);
      if (msg) client.send(msg.command, msg.params, Object.keys(msg.tags).length ? msg.tags : null);
    },
    note: (text) => app.note(text),
    say,
    open: (name) => {
      select(state.ensure(name));
    },
    quit: (reason) => logout(reason),
  };
}

function sendTyping(status) {
  const buffer = state.active;
  if (!buffer || buffer.kind === "server" || !client.has("message-tags")) return;
  if (buffer.kind === "channel" && !buffer.joined) return;
  client.send("TAGMSG", [buffer.name], { "+typing": status });
}

$("compose").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("input");
  const line = input.value;
  if (!line.trim()) return;
  input.value = "";
  runInput(commandContext(), line);
});

$("input").addEventListener("input", () => {
  const text = $("input").value;
  const now = Date.now();
  if (!text || text.startsWith("/")) {
    if (lastTyping) sendTyping("done");
    lastTyping = 0;
  } else if (now - lastTyping > TYPING_EVERY_MS) {
    lastTyping = now;
    sendTyping("active");
  }
});

$("join-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const room = $("join-input").value.trim();
  if (!room) return;
  $("join-input").value = "";
  runInput(commandContext(), `/join ${room}`);
});

$("edit-topic").addEventListener("click", () => {
  const input = $("input");
  input.value = `/topic ${state.active.topic || ""}`;
  input.focus();
});

$("load-older").addEventListener("click", () => requestHistory(state.active, "BEFORE"));
$("messages").addEventListener(
  "scroll",
  () => {
    // Reaching the top of a conversation taller than the screen reads further back, like the button.
    const box = $("messages");
    const atTop = box.scrollTop < 40 && box.scrollHeight > box.clientHeight;
    if (atTop && state.active) requestHistory(state.active, "BEFORE");
  },
  { passive: true },
);

$("toggle-sidebar").addEventListener("click", () => $("chat-screen").classList.toggle("show-sidebar"));
$("toggle-members").addEventListener("click", () => $("chat-screen").classList.toggle("show-members"));
$("logout").addEventListener("click", () => logout("Leaving"));
$("main").addEventListener("click", (event) => {
  // On a phone the room and member lists slide over the chat; a tap beside them closes them.
  if (!event.target.closest("#topbar")) $("chat-screen").classList.remove("show-sidebar", "show-members");
});

function logout(reason) {
  client.stop(reason);
  showLogin("");
}

function pickMember(member, anchor) {
  view.openMemberMenu(state, member, anchor, (action, nick, reason) => {
    const channel = state.active.name;
    const kickParams = reason ? [channel, nick, reason] : [channel, nick];
    const modes = { op: "+o", deop: "-o", voice: "+v", devoice: "-v" };
    if (action === "query") commandContext().open(nick);
    else if (modes[action]) client.send("MODE", [channel, modes[action], nick]);
    else if (action === "mute") client.send("MODE", [channel, "+q", nickMask(nick)]);
    else if (action === "unmute") client.send("MODE", [channel, "-q", nickMask(nick)]);
    else if (action === "kick") client.send("KICK", kickParams);
    else if (action === "ban") {
      client.send("MODE", [channel, "+b", nickMask(nick)]);
      client.send("KICK", kickParams);
    }
  });
}

document.addEventListener("click", (event) => {
  const menu = $("member-menu");
  if (!menu.hidden && !menu.contains(event.target) && !event.target.closest(".member")) view.closeMemberMenu();
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") view.closeMemberMenu();
});
document.addEventListener("visibilitychange", () => {
  if (!document.hidden && state.active) {
    state.active.unread = 0;
    state.active.mention = false;
    redraw();
  }
});
setInterval(() => {
  if (state.active && state.active.typing.size) view.renderTyping(state);
}, 1000);

$("nick").value = store.get("nick", "");
setMode(false);
$(($("nick").value ? "password" : "nick")).focus();
