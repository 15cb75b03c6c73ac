// Read markers (IRCv3 draft/read-marker): where this account stopped reading, per room and
// private conversation, shared through the server by every device of the account.
//
// Why: someone with a laptop and a phone who reads a room on one expects the other to stop
// calling it unread. The server keeps one marker per account and conversation; it tells us
// the marker after each JOIN, when asked (``MARKREAD <nick>``) and whenever any device of
// the account moved it (``MARKREAD <target> timestamp=...``). We move it while the user
// reads: the conversation is open, the page visible and focused, scrolled to its end (and,
// on a phone, not covered by the room list). Then the marker goes to the newest line shown,
// at once here and, gathered for a moment, in one MARKREAD per conversation to the server.
//
// Guests have no marker (the server keeps them per account): for them, and on servers
// without the capability, nothing here does anything and unread lines are counted as they
// arrive, as before.

import { markUnread } from "./timeline.js";
import * as view from "./view.js";

const SEND_AFTER_MS = 300; // moves made within this time leave as one MARKREAD per conversation

export class ReadMarkers {
  /**
   * ``app`` is the glue object of app.js (state, client); ``looking()`` says whether the open
   * conversation is in front of the user right now; ``select`` opens a buffer.
   */
  constructor(app, looking, select) {
    this.app = app;
    this.looking = looking;
    this.select = select;
    this.outgoing = new Map(); // folded target -> {name, stamp} waiting to be sent
    this.timer = null;
  }

  get state() {
    return this.app.state;
  }

  /** Markers are kept by the server for an account that negotiated the capability. */
  get enabled() {
    const client = this.app.client;
    return client.has("draft/read-marker") && !!client.account;
  }

  /** Is ``buffer`` being read at this moment? */
  reading(buffer) {
    return buffer === this.state.active && buffer.kind !== "server" && this.looking();
  }

  /**
   * The server's ``MARKREAD <target> timestamp=...|*``. A marker only moves forward; the
   * counts follow it, and where the user is not reading, the "new messages" line moves to
   * it (another device read those lines).
   */
  received(target, value) {
    if (!target || !value) return;
    let time = null;
    if (value.startsWith("timestamp=")) time = new Date(value.slice("timestamp=".length));
    // "*": never read there. A private conversation nobody has read is all unread (a
    // message kept for us while we were away); a room is not (history from before we came).
    else if (value === "*" && !this.state.isChannel(target)) time = new Date(0);
    // A move of ours still waiting to be sent that the server's marker has reached says
    // nothing new: sending it would only echo what another device (or the server) said.
    const key = this.state.fold(target);
    const waiting = this.outgoing.get(key);
    if (waiting && time && new Date(waiting.stamp) <= time) this.outgoing.delete(key);
    const buffer = this.state.setMarker(target, time);
    if (!buffer) return;
    buffer.recount();
    if (!this.reading(buffer)) {
      markUnread(buffer);
      if (buffer === this.state.active) view.renderMessages(this.state, true);
    }
    view.renderBuffers(this.state, this.select);
  }

  /** A buffer was created: a private conversation asks the server for its marker (a
   * room's comes with the JOIN). */
  opened(buffer) {
    if (buffer.kind === "query" && this.enabled) this.app.client.send("MARKREAD", [buffer.name]);
  }

  /** Signed on (again): the open private conversations ask for their markers. */
  signedOn() {
    for (const buffer of this.state.buffers.values()) this.opened(buffer);
    if (this.enabled) this.flush();
    else this.outgoing.clear();
  }

  /**
   * Something may have come into view (a conversation opened, a line appended, the page
   * scrolled, focused or shown): when the user is reading, what is shown is read.
   */
  seen() {
    const buffer = this.state.active;
    if (!this.enabled || !buffer || !this.reading(buffer)) return;
    const last = buffer.newestStamped();
    if (!last || !buffer.markRead(last.time)) return;
    buffer.recount();
    view.renderBuffers(this.state, this.select);
    this.outgoing.set(this.state.fold(buffer.name), { name: buffer.name, stamp: last.stamp });
    if (!this.timer) this.timer = setTimeout(() => this.flush(), SEND_AFTER_MS);
  }

  /** Send the moves gathered so far, one per conversation (also when the page is hidden). */
  flush() {
    clearTimeout(this.timer);
    this.timer = null;
    for (const [key, { name, stamp }] of this.outgoing) {
      // Offline: kept, and sent once signed on again.
      if (this.app.client.send("MARKREAD", [name, `timestamp=${stamp}`])) this.outgoing.delete(key);
    }
  }

  /** A new login: nothing waits to be sent. */
  reset() {
    clearTimeout(this.timer);
    this.timer = null;
    this.outgoing.clear();
  }
}
