// Sending what the user typed or pasted.
//
// One line is one PRIVMSG (cut into pieces of at most MAX_TEXT bytes). A block of several
// lines (a paste, or Shift+Enter) is one IRCv3 ``draft/multiline`` message when the server
// offers that capability, and otherwise one PRIVMSG per line. Whatever is sent goes
// through one small token bucket: a few messages at once, then one every PACE_MS, because
// a server drops a client that floods it ("Excess Flood"); while lines wait their turn a
// bar under the messages shows how far it got, with a Stop button.
//
// ``blockMessages`` is the one place that decides how a block leaves the client; receiving
// and showing multiline messages is not done here.

import { splitList } from "./irc.js";

export const MAX_TEXT = 400; // bytes of text per PRIVMSG, leaving room for the prefix
const BURST = 5; // messages sent at once
// Then one message per PACE_MS: 3.3 a second, under ChatRoom's default steady rate
// (limits.flood_per_second = 4) with room left for typing notifications and PONGs.
const PACE_MS = 300;
const DEFAULT_MAX_BYTES = 4096; // when a server offers draft/multiline without max-bytes

/** Split text into pieces of at most ``limit`` UTF-8 bytes, never inside a character. */
export function splitBytes(text, limit = MAX_TEXT) {
  const pieces = [];
  const encoder = new TextEncoder();
  let current = "";
  let size = 0;
  for (const ch of text) {
    const bytes = encoder.encode(ch).length;
    if (size + bytes > limit && current) {
      pieces.push(current);
      current = "";
      size = 0;
    }
    current += ch;
    size += bytes;
  }
  pieces.push(current);
  return pieces;
}

/** The server's draft/multiline limits ({maxBytes, maxLines}), or null when it is not enabled. */
export function multilineLimits(client) {
  if (!client.has("draft/multiline")) return null;
  const limits = { maxBytes: DEFAULT_MAX_BYTES, maxLines: Infinity };
  for (const item of splitList(client.available.get("draft/multiline") || "")) {
    const [key, value] = item.split("=");
    const number = Number(value);
    if (!(number > 0)) continue;
    if (key === "max-bytes") limits.maxBytes = number;
    else if (key === "max-lines") limits.maxLines = number;
  }
  return limits;
}

/**
 * The lines of a block, grouped into multiline batches within ``limits``: each batch is a
 * list of {text, concat}; a line longer than MAX_TEXT continues in pieces marked
 * ``draft/multiline-concat``. A block over the limits becomes several batches.
 */
export function multilineBatches(lines, limits) {
  const encoder = new TextEncoder();
  const length = (text) => encoder.encode(text).length;
  const batches = [];
  let batch = [];
  let bytes = 0; // the batch's text joined by line breaks, as the recipient gets it
  const flush = () => {
    batches.push(batch);
    batch = [];
    bytes = 0;
  };
  for (const line of lines) {
    const pieces = splitBytes(line).map((text, i) => ({ text, concat: i > 0 }));
    const need = length(line) + (batch.length ? 1 : 0);
    if (batch.length && (bytes + need > limits.maxBytes || batch.length + pieces.length > limits.maxLines)) flush();
    for (const piece of pieces) {
      // Only a line longer than a whole batch gets here without room: it goes on in the next.
      if (batch.length && (bytes + length(piece.text) + 1 > limits.maxBytes || batch.length >= limits.maxLines)) {
        flush();
        piece.concat = false;
      }
      bytes += length(piece.text) + (batch.length && !piece.concat ? 1 : 0);
      batch.push(piece);
    }
  }
  if (batch.length) flush();
  return batches;
}

/**
 * What a block of ``lines`` to ``target`` becomes on this connection: multiline batches
 * when the server offers draft/multiline, else one message per non-blank line (IRC cannot
 * carry an empty one).
 */
export function blockMessages(client, target, lines) {
  const limits = lines.length > 1 ? multilineLimits(client) : null;
  if (limits) return multilineBatches(lines, limits).map((batch) => ({ target, batch }));
  const messages = [];
  for (const line of lines) {
    if (!line.trim()) continue;
    for (const text of splitBytes(line)) messages.push({ target, text });
  }
  return messages;
}

let batchCounter = 0;

export class Outgoing {
  /**
   * ``echo(target, text)`` shows a sent line where the server does not echo it back;
   * ``note(text)`` tells the user something; ``bar`` is the element for the progress.
   */
  constructor(client, { echo, note, bar }) {
    this.client = client;
    this.echo = echo;
    this.note = note;
    this.bar = bar;
    this.queue = [];
    this.total = 0; // messages in the current run (since the queue was last empty)
    this.done = 0;
    this.tokens = BURST;
    this.filled = Date.now();
    this.timer = null;
  }

  /** Send ``text`` (one line or a block) to ``target``. */
  say(target, text) {
    const lines = text.split(/\r?\n/);
    while (lines.length && !lines[0].trim()) lines.shift();
    while (lines.length && !lines[lines.length - 1].trim()) lines.pop();
    const messages = blockMessages(this.client, target, lines);
    this.queue.push(...messages);
    this.total += messages.length;
    this.pump();
  }

  pump() {
    clearTimeout(this.timer);
    this.timer = null;
    const now = Date.now();
    this.tokens = Math.min(BURST, this.tokens + (now - this.filled) / PACE_MS);
    this.filled = now;
    while (this.queue.length && this.tokens >= 1) {
      if (!this.sendOne(this.queue[0])) {
        this.stop("not connected");
        return;
      }
      this.queue.shift();
      this.tokens -= 1;
      this.done += 1;
    }
    if (this.queue.length) this.timer = setTimeout(() => this.pump(), PACE_MS);
    else {
      this.total = 0;
      this.done = 0;
    }
    this.show();
  }

  sendOne(message) {
    const client = this.client;
    if (!message.batch) {
      if (!client.send("PRIVMSG", [message.target, message.text])) return false;
      if (!client.has("echo-message")) this.echo(message.target, message.text);
      return true;
    }
    const ref = `ml${(batchCounter += 1)}${Math.random().toString(36).slice(2, 8)}`;
    if (!client.send("BATCH", [`+${ref}`, "draft/multiline", message.target])) return false;
    for (const piece of message.batch) {
      const tags = piece.concat ? { batch: ref, "draft/multiline-concat": "" } : { batch: ref };
      client.send("PRIVMSG", [message.target, piece.text], tags);
    }
    client.send("BATCH", [`-${ref}`]);
    if (!client.has("echo-message")) {
      const lines = [];
      for (const piece of message.batch) {
        if (piece.concat && lines.length) lines[lines.length - 1] += piece.text;
        else lines.push(piece.text);
      }
      for (const line of lines) if (line) this.echo(message.target, line);
    }
    return true;
  }

  /** Drop what has not been sent yet (the Stop button, or the connection is gone). */
  stop(why) {
    const left = this.queue.length;
    clearTimeout(this.timer);
    this.timer = null;
    this.queue = [];
    this.total = 0;
    this.done = 0;
    if (left) this.note(`${left} ${left === 1 ? "line was" : "lines were"} not sent (${why}).`);
    this.show();
  }

  /** The progress bar, while messages wait for their turn. */
  show() {
    const bar = this.bar;
    if (!this.queue.length) {
      bar.hidden = true;
      bar.replaceChildren();
      return;
    }
    const target = this.queue[0].target;
    const unit = this.queue[0].batch ? "part" : "line";
    const progress = document.createElement("progress");
    progress.max = this.total;
    progress.value = this.done;
    const text = document.createElement("span");
    text.className = "outbox-text";
    text.textContent = `Sending to ${target}: ${unit} ${this.done} of ${this.total}, a few a second (the server's flood limit)`;
    const stop = document.createElement("button");
    stop.type = "button";
    stop.className = "quiet";
    stop.textContent = "Stop";
    stop.addEventListener("click", () => this.stop("stopped"));
    bar.replaceChildren(progress, text, stop);
    bar.hidden = false;
  }
}
