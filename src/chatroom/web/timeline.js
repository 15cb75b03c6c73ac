// What is drawn between messages: a line with the day where the date changes, and a
// "New messages" line above the first message the user has not read.
//
// Where the user has read up to: with a read marker (draft/read-marker, an account on a
// server that keeps one), the first line after it that is not the user's own, so every
// device of the account draws the line in the same place. Without one, the line follows the
// unread count (the badge in the room list): it goes above the last N messages. Either way
// it is placed when the conversation is opened (or the tab comes back into view, or lines
// arrive from history) and stays until the conversation is opened again.

import { countsAsNew } from "./state.js";

/** Put the "new messages" line above the first unread message of ``buffer`` (none if all are read). */
export function markUnread(buffer) {
  buffer.newFrom = null;
  if (buffer.readMarker) {
    buffer.newFrom = buffer.messages.find((m) => countsAsNew(m) && m.time > buffer.readMarker) || null;
    return;
  }
  let left = buffer.unread;
  for (let i = buffer.messages.length - 1; i >= 0 && left > 0; i--) {
    const entry = buffer.messages[i];
    if (entry.kind === "event" || entry.self) continue; // what app.post does not count
    buffer.newFrom = buffer.messages[i];
    left -= 1;
  }
}

function sameDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** "Today", "Yesterday", "Monday 2 March" (with the year when it is not this one). */
export function dayLabel(time, now = new Date()) {
  if (sameDay(time, now)) return "Today";
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  if (sameDay(time, yesterday)) return "Yesterday";
  const options = { weekday: "long", day: "numeric", month: "long" };
  if (time.getFullYear() !== now.getFullYear()) options.year = "numeric";
  return time.toLocaleDateString([], options);
}

function separator(cls, text, attrs = {}) {
  const item = document.createElement("li");
  item.className = cls;
  item.setAttribute("role", "separator");
  for (const [name, value] of Object.entries(attrs)) item.setAttribute(name, value);
  const label = document.createElement("span");
  label.textContent = text;
  item.append(label);
  return item;
}

/** The separators that go between ``previous`` (null at the top) and ``entry`` in ``buffer``. */
export function separatorsBefore(buffer, previous, entry) {
  const nodes = [];
  if (!previous || !sameDay(previous.time, entry.time)) {
    nodes.push(separator("day-separator", dayLabel(entry.time), { "data-day": entry.time.toDateString() }));
  }
  if (buffer.newFrom === entry) nodes.push(separator("new-marker", "New messages"));
  return nodes;
}

/** Every node of a conversation: its messages (``messageNode``) with the separators between. */
export function timelineNodes(buffer, messageNode) {
  const nodes = [];
  let previous = null;
  for (const entry of buffer.messages) {
    nodes.push(...separatorsBefore(buffer, previous, entry), messageNode(entry));
    previous = entry;
  }
  return nodes;
}
