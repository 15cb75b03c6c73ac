// Scrollback and catch-up through draft/chathistory.
//
// Why a queue: the server answers at most a few history requests per connection at once
// (ChatRoom refuses a fifth), and signing on rejoins every saved room at once. So requests
// wait here, at most AT_ONCE unanswered and one per conversation.
//
// Why catch-up: after a dropped connection each conversation asks AFTER the last line it
// had seen, page by page until a short page, and CHATHISTORY TARGETS names the people who
// wrote meanwhile; without it a user who lost the connection for a minute would silently
// miss what was said. The terminal client does the same (chatroom/client/history.py).

import { historyEntry, redact } from "./handlers.js";
import { historyRef } from "./state.js";
import * as view from "./view.js";

const PAGE = 50; // lines asked for per request (less if the server says so)
const AT_ONCE = 2; // requests unanswered at once

export class History {
  /** ``app`` is the glue object of app.js (its state and client); ``select`` opens a buffer. */
  constructor(app, select) {
    this.app = app;
    this.select = select;
    this.queue = []; // buffers (or a TARGETS request) waiting for an earlier answer
    this.busy = 0; // requests sent and not yet answered
    this.awaySince = null; // when the connection dropped, until the conversations caught up
    this.targetsAsked = null; // the CHATHISTORY TARGETS request in flight
  }

  get client() {
    return this.app.client;
  }

  get state() {
    return this.app.state;
  }

  /** Lines per request: ours, or the server's ISUPPORT CHATHISTORY limit when lower. */
  page() {
    const most = Number(this.client.isupport.get("CHATHISTORY"));
    return most > 0 ? Math.min(PAGE, most) : PAGE;
  }

  /**
   * Ask for a conversation's history: its latest lines first (``LATEST``), then the page
   * before the oldest line shown (``BEFORE``), or after a reconnect the lines said since the
   * last one seen (``AFTER`` ``buffer.catchUp``). One request per conversation at a time,
   * and no BEFORE once a short page has shown the beginning, so scrolling up never makes the
   * client ask in a loop.
   */
  request(buffer, kind = "LATEST") {
    if (!this.client.has("draft/chathistory") || buffer.kind === "server" || buffer.historyLoading) return;
    if ((kind === "BEFORE" && buffer.historyDone) || (buffer.kind === "channel" && !buffer.joined)) return;
    if (kind === "AFTER" && !buffer.catchUp) return;
    buffer.historyStarted = true;
    buffer.historyLoading = kind;
    this.queue.push(buffer);
    this.pump();
  }

  pump() {
    const client = this.client;
    while (this.busy < AT_ONCE && this.queue.length) {
      const item = this.queue.shift();
      if (item.targetsFrom) {
        const to = item.targetsTo || new Date();
        const params = ["TARGETS", `timestamp=${item.targetsFrom.toISOString()}`, `timestamp=${to.toISOString()}`];
        if (client.send("CHATHISTORY", [...params, String(this.page())])) {
          this.busy += 1;
          this.targetsAsked = item;
        }
        continue;
      }
      const buffer = item;
      if (this.state.find(buffer.name) !== buffer || (buffer.kind === "channel" && !buffer.joined)) {
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
      const params = [buffer.historyLoading, buffer.name, ref, String(this.page())];
      if (client.send("CHATHISTORY", params)) this.busy += 1;
      else buffer.historyLoading = null;
    }
  }

  /** A batch arrived: true when it answered one of our requests (and was handled here). */
  answered(batch) {
    if (batch.type === "draft/chathistory-targets") {
      this.busy = Math.max(0, this.busy - 1);
      this.targetsArrived(batch.messages);
    } else if (batch.type === "chathistory") {
      this.busy = Math.max(0, this.busy - 1);
      const buffer = this.state.find(batch.params[0]);
      if (buffer) this.arrived(buffer, batch.messages);
    } else {
      return false;
    }
    this.pump();
    return true;
  }

  /** FAIL CHATHISTORY: that request is over; a refusal (not a passing error) is final. */
  failed(code, target) {
    this.busy = Math.max(0, this.busy - 1);
    const buffer = target ? this.state.find(target) : null;
    if (buffer) {
      const asked = buffer.historyLoading;
      buffer.historyLoading = null;
      if (asked === "AFTER") buffer.catchUp = null;
      else if (code !== "MESSAGE_ERROR") buffer.historyDone = true;
      if (buffer === this.state.active) view.renderMessages(this.state, true);
    }
    this.pump();
  }

  /**
   * A chathistory batch: its lines go before what is shown; replayed lines are neither unread
   * nor notified. Every line counts toward a full page: the server counts the room events it
   * sends a draft/event-playback client against the limit too.
   */
  arrived(buffer, messages) {
    const asked = buffer.historyLoading;
    buffer.historyLoading = null;
    if (asked === "AFTER") {
      this.missedArrived(buffer, messages);
      return;
    }
    const added = buffer.addOlder(this.entries(messages, buffer));
    this.applyRedactions(messages);
    // A short page is the beginning; so is a page with nothing new, which asking again would repeat.
    if (messages.length < this.page() || (asked === "BEFORE" && !added)) buffer.historyDone = true;
    if (buffer === this.state.active) view.renderMessages(this.state, true);
    this.app.historyShown(buffer);
  }

  entries(messages, buffer) {
    return messages.map((m) => historyEntry(this.app, m, buffer)).filter(Boolean);
  }

  /** REDACT lines in history (draft/message-redaction): deletions made while we were away. */
  applyRedactions(messages) {
    for (const msg of messages) if (msg.command === "REDACT") redact(this.app, msg);
  }

  /**
   * A page of what was said while we were away: inserted in time order, each line once,
   * counted as unread where the user is not looking. A full page means there may be more:
   * ask AFTER its last line, until a short page says we have caught up.
   */
  missedArrived(buffer, lines) {
    const state = this.state;
    const fresh = buffer.addMissed(this.entries(lines, buffer));
    this.applyRedactions(lines);
    const unseen = fresh.filter((e) => !e.self && e.kind !== "event");
    if (!buffer.readMarker && unseen.length && (buffer !== state.active || document.hidden)) {
      buffer.unread += unseen.length;
      buffer.mention = buffer.mention || buffer.kind === "query" || unseen.some((e) => e.mention);
    }
    const last = lines[lines.length - 1];
    let next = null;
    if (last && last.tags.msgid) next = `msgid=${last.tags.msgid}`;
    else if (last && last.tags.time) next = `timestamp=${last.tags.time}`;
    const more = lines.length >= this.page() && next !== null && next !== buffer.catchUp;
    buffer.catchUp = more ? next : null;
    if (buffer === state.active) view.renderMessages(state, true);
    view.renderBuffers(state, this.select);
    this.app.historyShown(buffer);
    if (more) this.request(buffer, "AFTER");
  }

  /**
   * The connection dropped: unanswered requests died with it. Remember, per conversation,
   * the last line seen, so that after rejoining only what was said since is asked for. A
   * conversation with no line yet asks for its latest lines again, as on first opening.
   */
  connectionLost() {
    this.forgetRequests();
    let lastSeen = null; // the server's time of the newest line seen anywhere
    for (const buffer of this.state.buffers.values()) {
      if (buffer.kind === "server") continue;
      const last = buffer.newest();
      if (last && (!lastSeen || last.time > lastSeen)) lastSeen = last.time;
      if (buffer.catchUp) continue;
      if (last) buffer.catchUp = historyRef(last);
      else {
        buffer.historyStarted = false;
        buffer.historyDone = false;
      }
    }
    // TARGETS starts from the server's own time when we have one: this browser's clock may
    // be off, and a clock running ahead would miss whoever wrote just after the drop.
    if (!this.awaySince) this.awaySince = lastSeen || new Date();
  }

  /** Signed on again: catch up the private conversations (rooms do when rejoined), and
   * ask which people wrote to us meanwhile (CHATHISTORY TARGETS) to open their conversations. */
  signedOn() {
    const since = this.awaySince;
    this.awaySince = null;
    if (!since || !this.client.has("draft/chathistory")) return;
    for (const buffer of this.state.buffers.values()) {
      if (buffer.kind !== "query") continue;
      if (buffer.catchUp) this.request(buffer, "AFTER");
      else if (buffer === this.state.active) this.request(buffer);
    }
    if (this.client.has("batch")) {
      this.queue.push({ targetsFrom: since });
      this.pump();
    }
  }

  /**
   * Signed on to an account: its recent private conversations (the newest first, a page of
   * them) are opened from CHATHISTORY TARGETS, with their latest lines, as on its other
   * devices. Rooms come from the server's JOINs.
   */
  reopen() {
    if (!this.client.has("draft/chathistory") || !this.client.has("batch")) return;
    // From a day ahead (a browser clock running behind must not hide the newest) back to 2000.
    const ahead = new Date(Date.now() + 86400000);
    this.queue.push({ targetsFrom: ahead, targetsTo: new Date("2000-01-01T00:00:00.000Z"), reopen: true });
    this.pump();
  }

  /** CHATHISTORY TARGETS: people who wrote while we were away and whose conversation was
   * not open get one, filled with the lines said since we left; at login (``reopen``),
   * each recent conversation is opened with its latest lines. */
  targetsArrived(messages) {
    const state = this.state;
    const asked = this.targetsAsked;
    this.targetsAsked = null;
    if (!asked) return;
    for (const msg of messages) {
      if (msg.command !== "CHATHISTORY" || msg.params[0] !== "TARGETS") continue;
      const name = msg.params[1] || "";
      if (!name || state.isChannel(name) || state.isMe(name)) continue;
      if (asked.reopen) {
        this.request(state.ensure(name, "query"));
        continue;
      }
      const since = asked.targetsFrom;
      const existing = state.find(name);
      if (existing && (existing.messages.length || existing.historyLoading)) continue; // caught up on its own
      const buffer = existing || state.ensure(name, "query");
      buffer.catchUp = `timestamp=${since.toISOString()}`;
      this.request(buffer, "AFTER");
    }
    view.renderBuffers(state, this.select);
  }

  /** A new login (another user, perhaps): nothing to catch up, nothing waiting. */
  reset() {
    this.awaySince = null;
    this.forgetRequests();
  }

  forgetRequests() {
    this.queue = [];
    this.busy = 0;
    this.targetsAsked = null;
    for (const buffer of this.state.buffers.values()) buffer.historyLoading = null;
  }
}
