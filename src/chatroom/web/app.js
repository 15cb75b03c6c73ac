// The web client's entry point: the login form, the chat screen and the glue between the
// IRC connection (client.js), the state (state.js), what messages do (handlers.js) and
// drawing (view.js). Loaded as an ES module; no build step, nothing from a CDN.

import { IrcClient } from "./client.js";
import { COMMAND_NAMES, nickMask, runInput } from "./commands.js";
import { completionSources } from "./complete.js";
import { Compose } from "./compose.js";
import { handleMessage } from "./handlers.js";
import { History } from "./history.js";
import { parseLine } from "./irc.js";
import { Outgoing } from "./outgoing.js";
import { ReadMarkers } from "./readmarker.js";
import { ChatState } from "./state.js";
import { markUnread } from "./timeline.js";
import * as view from "./view.js";

const $ = (id) => document.getElementById(id);
const TYPING_EVERY_MS = 3000; // +typing=active at most this often while typing
const RETURNING_MS = 60000; // after a reconnect, room-mates rejoining this soon get no "joined" line
const ROOMS_KNOWN = "chatroom-rooms"; // PING token: the server's JOINs at login came before its PONG

const wsUrl = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
const client = new IrcClient(wsUrl);
let state = new ChatState();
let lastTyping = 0;
let createMode = false;

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
    if (buffer.readMarker) {
      // Counted from the read marker; a line the user is looking at is read at once.
      buffer.recount();
      if (buffer === state.active) markers.seen();
      if (buffer.unread) view.renderBuffers(state, select);
    } else if ((buffer !== state.active || document.hidden) && entry.kind !== "event" && !entry.self) {
      buffer.unread += 1;
      buffer.mention = buffer.mention || important;
      view.renderBuffers(state, select);
    } else if (buffer === state.active) {
      markers.seen();
    }
  },
  /** Lines from history came into ``buffer``: counted from its read marker, the "new
   * messages" line put at it when not there yet, and read when shown. */
  historyShown(buffer) {
    if (!buffer.readMarker) return;
    buffer.recount();
    if (!buffer.newFrom) markUnread(buffer);
    if (buffer === state.active) {
      view.renderMessages(state, true);
      markers.seen();
    }
    view.renderBuffers(state, select);
  },
  /** The answer to our PING after signing on to an account: the server has joined us to
   * the account's rooms by now; with none, we go back to the rooms we had open (the
   * server forgot them: a KILL, say), or the first login lands in #lobby. */
  pong(token) {
    if (token !== ROOMS_KNOWN) return;
    const channels = [...state.buffers.values()].filter((b) => b.kind === "channel");
    if (channels.some((b) => b.joined)) return;
    const rooms = channels.length ? channels.map((b) => b.name) : ["#lobby"];
    for (const room of rooms) client.send("JOIN", [room]);
  },
  note(text, kind = "event") {
    app.post(state.active || state.server, { kind, text, time: new Date() }, false);
  },
  /** An entry the user must see: in the open conversation, or (while only the server tab
   * is there, right after signing on) in the first conversation shown. ``inServerTab``:
   * it is there already, so a user looking at the server tab has seen it. */
  noteSeen(entry, inServerTab = false) {
    if (state.active && state.active.kind !== "server") app.post(state.active, entry, false);
    else if (!state.firstChannel()) state.unseenNotes.push(entry);
    else if (!inServerTab) app.post(state.server, entry, false);
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
    buffer.wantWho = true; // asked once NAMES has ended (handlers.js "366")
    // Back after a dropped connection: fetch what was said meanwhile; else its latest lines.
    if (buffer.catchUp) history.request(buffer, "AFTER");
    else if (!buffer.historyStarted) history.request(buffer);
    saveRooms();
    redraw();
    markers.seen();
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
    view.renderTyping(state); // someone who left or quit is no longer typing
  },
  accountCreated() {
    setMode(false); // next time this person logs in rather than creating an account
  },
  refreshTyping() {
    view.renderTyping(state);
  },
  /** A line already shown changed (a message was deleted in ``buffer``), or something
   * shown beside every message did (a display-name: no buffer): draw them again. */
  redrawMessages(buffer) {
    if (buffer === undefined || buffer === state.active) view.renderMessages(state, true);
  },
  /** FAIL CHATHISTORY: that request is over. */
  historyFailed(code, target) {
    history.failed(code, target);
  },
};

const history = new History(app, select);
const markers = new ReadMarkers(app, looking, select);
app.markers = markers;

/** Is the open conversation in front of the user: the page shown and focused, scrolled to
 * its end, and (on a phone) not covered by the room or member list? */
function looking() {
  const screen = $("chat-screen");
  if (document.hidden || !document.hasFocus() || screen.hidden) return false;
  if (screen.classList.contains("show-sidebar") || screen.classList.contains("show-members")) return false;
  return view.isNearEnd();
}

function redraw() {
  if (!state.active) state.active = state.server;
  if (state.active.kind !== "server") {
    for (const entry of state.unseenNotes.splice(0)) state.active.add(entry);
  }
  app.refresh();
  view.renderMessages(state);
  view.renderTyping(state);
}

function select(buffer) {
  if (buffer !== state.active) markers.flush(); // leaving a conversation: where we stopped is known now
  state.active = buffer;
  markUnread(buffer);
  if (!buffer.readMarker) {
    buffer.unread = 0;
    buffer.mention = false;
  }
  $("chat-screen").classList.remove("show-sidebar", "show-members");
  view.closeMemberMenu();
  redraw();
  markers.seen(); // with a read marker, what is shown now is read (and the count follows)
  // A private conversation's history is read when it is first opened (a room's on joining).
  if (buffer.kind === "query" && !buffer.historyStarted) history.request(buffer);
  $("input").focus();
}

/** Signed on under another nick than the one asked for (it was taken, client.js added
 * "_"): say so, and how to get it back, where the user looks. */
function nickTaken() {
  const wanted = client.login.nick;
  if (state.fold(wanted) === state.fold(client.nick)) return;
  const own = client.account && state.fold(client.account) === state.fold(wanted);
  const how = own
    ? `It is your account's nickname: type /msg NickServ REGAIN to take it back.`
    : `If it is your account, log out and log in with its password; else type /nick ${wanted} once it is free.`;
  const text = `The nickname ${wanted} is in use, so you are ${client.nick} for now. ${how}`;
  app.noteSeen({ kind: "error", text, time: new Date() });
}

function saveRooms() {
  // An account's rooms are kept by the server; saved here, a guest using this browser
  // next would be joined to them.
  if (client.account) return;
  const rooms = [...state.buffers.values()].filter((b) => b.kind === "channel" && b.joined).map((b) => b.name);
  store.set("rooms", rooms);
}

// ------------------------------------------------------------------ client events

client.addEventListener("message", (event) => handleMessage(app, event.detail.msg));

client.addEventListener("batch", (event) => {
  const batch = event.detail;
  if (history.answered(batch)) return;
  for (const msg of batch.messages) handleMessage(app, msg);
});

client.addEventListener("registered", () => {
  $("login-screen").hidden = true;
  $("chat-screen").hidden = false;
  view.showBanner("");
  const rooms = [...state.buffers.values()].filter((b) => b.kind === "channel").map((b) => b.name);
  // draft/metadata-2: follow display-names before joining, so the joins bring them along.
  if (client.has("draft/metadata-2")) client.send("METADATA", ["*", "SUB", "display-name"]);
  if (client.account) {
    // Signing on to an account: its rooms are the ones the server joins us to, and its
    // private conversations the recent ones the server knows (CHATHISTORY TARGETS), on
    // every device alike; this browser's saved list is not asked. Back after a dropped
    // connection too: another device may have left a room meanwhile.
    client.send("PING", [ROOMS_KNOWN]);
    if (!rooms.length) history.reopen();
  } else if (rooms.length) {
    for (const room of rooms) client.send("JOIN", [room]); // back after a dropped connection
  } else {
    const saved = store.get("rooms", ["#lobby"]);
    for (const room of saved.length ? saved : ["#lobby"]) client.send("JOIN", [room]);
  }
  nickTaken();
  markers.signedOn();
  history.signedOn();
  redraw();
  $("input").focus();
});

client.addEventListener("status", (event) => {
  const { state: phase, delay, reason } = event.detail;
  document.body.dataset.status = phase;
  if (phase === "reconnecting") {
    history.connectionLost();
    for (const buffer of state.buffers.values()) {
      if (buffer.kind === "channel") {
        // Those here before the drop (a server restart drops everyone) come back quietly.
        if (buffer.joined) buffer.returning = new Set([...buffer.members.keys()]);
        buffer.joined = false;
        buffer.typing.clear();
      }
    }
    state.pendingWho.clear(); // unanswered WHOs died with the connection
    const why = reason ? `${reason}. ` : "";
    view.showBanner(`Disconnected. ${why}Reconnecting in ${Math.ceil(delay)} s…`);
    app.refresh();
  } else if (phase === "connecting" && !$("chat-screen").hidden) {
    view.showBanner("Reconnecting…");
  } else if (phase === "online") {
    view.showBanner("");
    setTimeout(() => {
      for (const buffer of state.buffers.values()) buffer.returning = null;
    }, RETURNING_MS);
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
  state.onNewBuffer = (buffer) => markers.opened(buffer);
  history.reset();
  markers.reset();
  client.start({ nick, password, email, create: createMode });
});

// ------------------------------------------------------------------ chat screen

const outgoing = new Outgoing(client, {
  echo: (target, text) => handleMessage(app, { tags: {}, source: `${state.me}!me@local`, command: "PRIVMSG", params: [target, text] }),
  note: (text) => app.note(text, "error"),
  bar: $("outbox"),
});

function say(target, text) {
  outgoing.say(target, text);
  lastTyping = 0;
}

/** The newest line ``nick`` said in ``buffer`` that can still be deleted, or null. */
function lastSaid(buffer, nick) {
  const said = ["msg", "action", "notice"];
  for (let i = (buffer ? buffer.messages.length : 0) - 1; i >= 0; i--) {
    const entry = buffer.messages[i];
    if (said.includes(entry.kind) && entry.msgid && !entry.deleted && state.fold(entry.nick) === state.fold(nick)) return entry;
  }
  return null;
}

function commandContext() {
  const buffer = state.active;
  const target = buffer && buffer.kind !== "server" ? buffer.name : null;
  return {
    target,
    channel: buffer && buffer.kind === "channel" ? buffer.name : null,
    me: state.me,
    canRedact: state.canRedact,
    lastSaid: (nick) => lastSaid(buffer, nick),
    isChannel: (name) => state.isChannel(name),
    askModes: (room) => state.modeAsked.add(state.fold(room)),
    askTopic: (room) => state.topicAsked.add(state.fold(room)),
    close: (name) => {
      state.remove(name);
      redraw();
    },
    askNames: (room) => state.namesAsked.set(state.fold(room), []),
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

const compose = new Compose($("input"), () => completionSources(state, state.active, COMMAND_NAMES));

$("compose").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = compose.take();
  if (text === null) return;
  const ctx = commandContext();
  // A block of lines (a paste) is a message, even where a line starts with "/".
  if (!text.includes("\n")) runInput(ctx, text);
  else if (ctx.target) ctx.say(ctx.target, text);
  else ctx.note("Pick a room first, or type /help.");
});

// Enter sends; Shift+Enter starts a new line; a pasted block keeps its lines.
$("input").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $("compose").requestSubmit();
  }
});

/** The message box grows with its lines, up to a few, then scrolls. */
function fitInput() {
  const input = $("input");
  input.rows = Math.min(6, Math.max(1, input.value.split("\n").length));
}

$("input").addEventListener("input", () => {
  fitInput();
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
  compose.set(`/topic ${state.active.topic || ""}`);
  $("input").focus();
});

$("load-older").addEventListener("click", () => history.request(state.active, "BEFORE"));
$("messages").addEventListener(
  "scroll",
  () => {
    // Reaching the top of a conversation taller than the screen reads further back, like the button.
    const box = $("messages");
    const atTop = box.scrollTop < 40 && box.scrollHeight > box.clientHeight;
    if (atTop && state.active) history.request(state.active, "BEFORE");
    markers.seen(); // scrolled back down to the newest lines: read
  },
  { passive: true },
);

// On a phone the lists cover the chat: closing them shows it again, and so reads it.
$("toggle-sidebar").addEventListener("click", () => {
  $("chat-screen").classList.toggle("show-sidebar");
  markers.seen();
});
$("toggle-members").addEventListener("click", () => {
  $("chat-screen").classList.toggle("show-members");
  markers.seen();
});
$("logout").addEventListener("click", () => logout("Leaving"));
$("main").addEventListener("click", (event) => {
  // On a phone the room and member lists slide over the chat; a tap beside them closes them.
  if (event.target.closest("#topbar")) return;
  $("chat-screen").classList.remove("show-sidebar", "show-members");
  markers.seen();
});

function logout(reason) {
  client.stop(reason);
  // Signing out leaves nothing for whoever uses this browser next: not the password (one
  // click on "Log in" would be in), not the rooms a guest would be joined to.
  $("password").value = "";
  store.set("rooms", []);
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

$("message-list").addEventListener("click", (event) => {
  const button = event.target.closest(".msg-actions");
  if (!button || !state.active) return;
  const buffer = state.active;
  const entry = buffer.messages.find((m) => m.msgid === button.dataset.msgid);
  if (!entry) return;
  view.openMessageMenu(entry, button, (action, chosen) => {
    if (action === "delete") client.send("REDACT", [buffer.name, chosen.msgid]);
  });
});

document.addEventListener("click", (event) => {
  const menu = $("member-menu");
  if (!menu.hidden && !menu.contains(event.target) && !event.target.closest(".member")) view.closeMemberMenu();
  const actions = $("message-menu");
  if (!actions.hidden && !actions.contains(event.target) && !event.target.closest(".msg-actions")) {
    view.closeMessageMenu();
  }
});
// Keys from other IRC clients: Alt+↑/↓ to the previous/next conversation (The Lounge;
// Ctrl+P/N in the terminal client), Page Up/Down in the message box scroll the messages.
document.addEventListener("keydown", (event) => {
  const step = { ArrowUp: -1, ArrowDown: 1 }[event.key];
  if (step && event.altKey && !event.ctrlKey && !event.metaKey && !event.shiftKey && state.active) {
    event.preventDefault();
    const buffers = state.ordered();
    const at = buffers.indexOf(state.active);
    select(buffers[(at + step + buffers.length) % buffers.length]);
    return;
  }
  const page = { PageUp: -1, PageDown: 1 }[event.key];
  if (page && event.target === $("input") && !event.shiftKey) {
    event.preventDefault();
    const box = $("messages");
    box.scrollBy({ top: page * Math.max(40, box.clientHeight - 40) });
    return;
  }
  if (event.key === "Escape") {
    view.closeMemberMenu();
    view.closeMessageMenu();
    // On a phone the room or member list covers the chat: Escape puts it away.
    const screen = $("chat-screen");
    if (screen.classList.contains("show-sidebar") || screen.classList.contains("show-members")) {
      screen.classList.remove("show-sidebar", "show-members");
      markers.seen();
      $("input").focus();
    }
  }
});
document.addEventListener("visibilitychange", () => {
  if (document.hidden) markers.flush(); // the user has stopped reading: say so now
  else if (state.active) {
    markUnread(state.active);
    if (!state.active.readMarker) {
      state.active.unread = 0;
      state.active.mention = false;
    }
    redraw();
    markers.seen();
  }
});
window.addEventListener("focus", () => markers.seen());
setInterval(() => {
  if (state.active && state.active.typing.size) view.renderTyping(state);
}, 1000);

$("nick").value = store.get("nick", "");
setMode(false);
$(($("nick").value ? "password" : "nick")).focus();
