// What the user sees, as data: conversations ("buffers"), their messages, members, topic,
// unread counts and who is typing. No DOM here, so the view can be redrawn from it at any
// time (switching rooms, reconnecting) and the rules stay in one place.

const MAX_MESSAGES = 1000; // per buffer: a long-open tab must not grow without bound
const CHAT_KINDS = new Set(["msg", "action", "notice"]); // entries a server stores as history

/** Counted as unread: everything but join/part/mode events, notes and one's own lines. */
export function countsAsNew(entry) {
  return CHAT_KINDS.has(entry.kind) && !entry.self;
}

export class Buffer {
  constructor(name, kind) {
    this.name = name; // as the server spells it
    this.kind = kind; // "server" | "channel" | "query"
    this.messages = [];
    this.members = new Map(); // folded nick -> {nick, modes: string of mode letters}
    this.topic = "";
    this.unread = 0;
    this.mention = false;
    this.joined = kind !== "channel";
    this.typing = new Map(); // nick -> expiry time (ms)
    this.mutes = new Set(); // +q masks seen while here
    this.modes = new Set(); // channel flags seen (t, m, ...)
    // Scrollback (draft/chathistory): LATEST asked once, then BEFORE page by page.
    this.historyStarted = false;
    this.historyLoading = null; // "LATEST" | "BEFORE" while a request is queued or unanswered
    this.historyDone = false; // a short page came back: this is the beginning
    // Catching up after a reconnect: AFTER this reference ("msgid=..." or "timestamp=..."),
    // page by page, until a short page says nothing more was missed.
    this.catchUp = null;
    // draft/read-marker: the server time up to which this account has read here, on any
    // of its devices (null: unknown, or never read). While it is known, the unread count
    // is worked out from it instead of being counted line by line.
    this.readMarker = null;
  }

  /** Move the read marker forward (never back); true when it moved. */
  markRead(time) {
    if (!time || Number.isNaN(time.getTime()) || (this.readMarker && time <= this.readMarker)) return false;
    this.readMarker = time;
    return true;
  }

  /** The unread count and mention flag from the read marker: the lines said after it,
   * other than one's own. Does nothing while no marker is known. */
  recount() {
    if (!this.readMarker) return;
    const unseen = this.messages.filter((m) => countsAsNew(m) && m.time > this.readMarker);
    this.unread = unseen.length;
    this.mention = unseen.length > 0 && (this.kind === "query" || unseen.some((m) => m.mention));
  }

  /** The newest line that carries the server's time (a read marker must name one). */
  newestStamped() {
    for (let i = this.messages.length - 1; i >= 0; i--) if (this.messages[i].stamp) return this.messages[i];
    return null;
  }

  /** Add a message; returns it, or null when the same msgid is already here. */
  add(entry) {
    if (entry.msgid && this.messages.some((m) => m.msgid === entry.msgid)) return null;
    this.messages.push(entry);
    if (this.messages.length > MAX_MESSAGES) this.messages.splice(0, this.messages.length - MAX_MESSAGES);
    return entry;
  }

  /** Put lines from history before the rest, except those already here; returns how many were new. */
  addOlder(entries) {
    const known = new Set(this.messages.map((m) => m.msgid).filter(Boolean));
    const fresh = entries.filter((e) => !e.msgid || !known.has(e.msgid));
    this.messages = fresh.concat(this.messages);
    return fresh.length;
  }

  /**
   * Put lines said while we were away in time order among the rest (live lines may already
   * have arrived after them), except those already here; returns the lines that were new.
   */
  addMissed(entries) {
    const known = new Set(this.messages.map((m) => m.msgid).filter(Boolean));
    const fresh = entries.filter((e) => !e.msgid || !known.has(e.msgid));
    for (const entry of fresh) {
      let at = this.messages.length;
      while (at > 0 && this.messages[at - 1].time > entry.time) at--;
      this.messages.splice(at, 0, entry);
    }
    if (this.messages.length > MAX_MESSAGES) this.messages.splice(0, this.messages.length - MAX_MESSAGES);
    return fresh;
  }

  /** The last line we know was said here: the newest with a msgid, else the newest chat line. */
  newest() {
    for (let i = this.messages.length - 1; i >= 0; i--) if (this.messages[i].msgid) return this.messages[i];
    for (let i = this.messages.length - 1; i >= 0; i--) if (CHAT_KINDS.has(this.messages[i].kind)) return this.messages[i];
    return null;
  }

  /** Where the next page of history ends: the oldest line with a msgid, else the oldest chat line. */
  oldest() {
    return this.messages.find((m) => m.msgid) || this.messages.find((m) => CHAT_KINDS.has(m.kind)) || null;
  }
}

/** A CHATHISTORY reference to a line: its msgid, else its server time. */
export function historyRef(entry) {
  return entry.msgid ? `msgid=${entry.msgid}` : `timestamp=${entry.time.toISOString()}`;
}

export class ChatState {
  constructor() {
    this.fold = (s) => s.toLowerCase();
    this.prefix = { modes: "ov", symbols: "@+" };
    this.chantypes = "#&";
    this.buffers = new Map();
    this.active = null;
    this.me = "";
    this.network = "ChatRoom";
    this.pendingMarkers = new Map(); // folded target -> read marker, for a buffer not open yet
    this.onNewBuffer = null; // called with each buffer created (a query asks for its read marker)
    this.server = this.ensure("*server*", "server");
    this.displayNames = new Map(); // folded nick -> display-name (IRCv3 draft/metadata-2)
    this.away = new Map(); // folded nick -> away message ("" when unknown), presence.js
    this.pendingWho = new Set(); // folded rooms whose WHO (who is away) is not answered yet
    this.modeAsked = new Set(); // folded rooms whose modes the user asked for (/mode #room)
    this.topicAsked = new Set(); // folded rooms whose topic the user asked for (/topic)
    this.namesAsked = new Map(); // folded room -> names gathered for a /names typed
    this.unseenNotes = []; // lines for the first conversation shown (none is, at sign-on)
  }

  /**
   * The server told us the read marker of ``name``: the buffer's marker moves forward, or
   * it waits for the buffer to be opened. Returns the buffer when its marker moved.
   */
  setMarker(name, time) {
    if (!time || Number.isNaN(time.getTime())) return null;
    const buffer = this.find(name);
    if (buffer) return buffer.markRead(time) ? buffer : null;
    const known = this.pendingMarkers.get(this.fold(name));
    if (!known || time > known) this.pendingMarkers.set(this.fold(name), time);
    return null;
  }

  /** The display-name someone chose, when it says more than their nick; else "". */
  displayName(nick) {
    const name = this.displayNames.get(this.fold(nick)) || "";
    return name && this.fold(name) !== this.fold(nick) ? name : "";
  }

  isChannel(name) {
    return !!name && this.chantypes.includes(name[0]);
  }

  find(name) {
    return this.buffers.get(this.fold(name)) || null;
  }

  ensure(name, kind) {
    const key = this.fold(name);
    let buffer = this.buffers.get(key);
    if (!buffer) {
      buffer = new Buffer(name, kind || (this.isChannel(name) ? "channel" : "query"));
      this.buffers.set(key, buffer);
      buffer.markRead(this.pendingMarkers.get(key) || null);
      this.pendingMarkers.delete(key);
      if (this.onNewBuffer) this.onNewBuffer(buffer);
    }
    return buffer;
  }

  remove(name) {
    const buffer = this.find(name);
    if (!buffer || buffer.kind === "server") return;
    this.buffers.delete(this.fold(name));
    if (this.active === buffer) this.active = this.firstChannel() || this.server;
  }

  firstChannel() {
    for (const buffer of this.buffers.values()) if (buffer.kind === "channel") return buffer;
    return null;
  }

  /** Buffers in the order the room list shows them: server, rooms, then people. */
  ordered() {
    const rank = { server: 0, channel: 1, query: 2 };
    return [...this.buffers.values()].sort(
      (a, b) => rank[a.kind] - rank[b.kind] || this.fold(a.name).localeCompare(this.fold(b.name)),
    );
  }

  isMe(nick) {
    return this.fold(nick) === this.fold(this.me);
  }

  // ---------------------------------------------------------------- members

  /** "@+alice" or "alice!u@h" (userhost-in-names) -> {nick, modes}. */
  parseName(name) {
    let i = 0;
    let modes = "";
    while (i < name.length && this.prefix.symbols.includes(name[i])) {
      modes += this.prefix.modes[this.prefix.symbols.indexOf(name[i])];
      i++;
    }
    const nick = name.slice(i).split("!")[0];
    return { nick, modes };
  }

  setMember(buffer, nick, modes = "") {
    buffer.members.set(this.fold(nick), { nick, modes });
  }

  dropMember(buffer, nick) {
    buffer.members.delete(this.fold(nick));
    buffer.typing.delete(nick);
  }

  member(buffer, nick) {
    return buffer.members.get(this.fold(nick)) || null;
  }

  /** The highest status symbol of a member ("@", "+" or ""). */
  symbol(member) {
    for (let i = 0; i < this.prefix.modes.length; i++) {
      if (member.modes.includes(this.prefix.modes[i])) return this.prefix.symbols[i];
    }
    return "";
  }

  rank(member) {
    for (let i = 0; i < this.prefix.modes.length; i++) {
      if (member.modes.includes(this.prefix.modes[i])) return i;
    }
    return this.prefix.modes.length;
  }

  /** Members sorted ops first, then voices, then by name. */
  sortedMembers(buffer) {
    return [...buffer.members.values()].sort(
      (a, b) => this.rank(a) - this.rank(b) || this.fold(a.nick).localeCompare(this.fold(b.nick)),
    );
  }

  /** May I moderate here? Channel operators (and anyone above them) may. */
  canModerate(buffer) {
    if (!buffer || buffer.kind !== "channel") return false;
    const me = this.member(buffer, this.me);
    if (!me) return false;
    const opIndex = this.prefix.modes.indexOf("o");
    return opIndex >= 0 && this.rank(me) <= opIndex;
  }

  /** Everyone currently typing in ``buffer`` (expired entries are dropped). */
  typers(buffer, now = Date.now()) {
    for (const [nick, until] of buffer.typing) if (until <= now) buffer.typing.delete(nick);
    return [...buffer.typing.keys()];
  }
}

/** Does ``text`` mention ``nick`` as a whole word? */
export function mentions(text, nick) {
  if (!nick) return false;
  const escaped = nick.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(^|[^\\w\\[\\]\\\\^{}|\`-])${escaped}($|[^\\w\\[\\]\\\\^{}|\`-])`, "i").test(text);
}

/** A stable colour class (0..15) for a nick, so each person keeps one colour. */
export function nickColour(nick, fold) {
  let hash = 0;
  for (const ch of fold(nick)) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return hash % 16;
}
