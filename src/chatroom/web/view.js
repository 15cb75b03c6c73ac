// Drawing the state into the page. The one rule: everything that came from the network or
// from a user is put into the page as text (textContent, text nodes), never parsed as
// HTML. Links are built as elements whose href is checked to be http(s).

import { stripFormatting } from "./irc.js";
import { nickColour } from "./state.js";
import { separatorsBefore, timelineNodes } from "./timeline.js";

const $ = (id) => document.getElementById(id);

/** Create an element; ``text`` always lands as a text node. */
export function el(tag, options = {}, children = []) {
  const node = document.createElement(tag);
  if (options.cls) node.className = options.cls;
  if (options.text !== undefined) node.textContent = options.text;
  for (const [name, value] of Object.entries(options.attrs || {})) node.setAttribute(name, value);
  for (const child of children) if (child) node.append(child);
  return node;
}

// Invisible format characters (bidi controls, zero-width ones) end a link: one could
// otherwise make a link's text look like another address than it goes to.
const URL_RE = /\bhttps?:\/\/[^\s<>"'\p{Cf}]+[^\s<>"'.,;:!?)\]\p{Cf}]/gu;

/** Text with http(s) links made clickable; every piece is a text node or an <a>. */
function richText(raw) {
  const text = stripFormatting(raw); // events and notes too
  // Lines of a multi-line message keep their left edge together (code, lists).
  const span = el("span", { cls: text.includes("\n") ? "text multiline" : "text" });
  let last = 0;
  for (const match of text.matchAll(URL_RE)) {
    span.append(document.createTextNode(text.slice(last, match.index)));
    const link = el("a", { text: match[0], attrs: { target: "_blank", rel: "noopener noreferrer" } });
    link.href = match[0];
    span.append(link);
    last = match.index + match[0].length;
  }
  span.append(document.createTextNode(text.slice(last)));
  return span;
}

function clock(time) {
  return time.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
}

export function messageNode(entry, state) {
  const item = el("li", { cls: `msg msg-${entry.kind}` });
  if (entry.self) item.classList.add("self");
  if (entry.mention) item.classList.add("mention");
  const time = el("time", { text: clock(entry.time), attrs: { datetime: entry.time.toISOString() } });
  time.title = entry.time.toLocaleString();
  item.append(time);
  if (entry.deleted) {
    // The text is gone; who said something, and who deleted it and why, stay visible.
    item.classList.add("deleted");
    const nick = el("span", { cls: `nick c${nickColour(entry.nick, state.fold)}`, text: entry.nick });
    const by = entry.deleted.by ? ` by ${entry.deleted.by}` : "";
    const why = entry.deleted.reason ? `: ${stripFormatting(entry.deleted.reason)}` : "";
    item.append(nick, el("span", { cls: "text", text: `message deleted${by}${why}` }));
    return item;
  }
  if (entry.kind === "msg" || entry.kind === "notice") {
    item.append(author(entry.nick, state), richText(entry.text));
  } else if (entry.kind === "action") {
    // One flowing cell, so a narrow screen wraps the sentence, not a word per line.
    const star = el("span", { cls: "star", text: "* " });
    const who = author(entry.nick, state);
    item.append(el("span", { cls: "action-body" }, [star, who, document.createTextNode(" "), richText(entry.text)]));
  } else {
    item.append(richText(entry.text));
  }
  if (canDelete(state, entry)) {
    const attrs = { type: "button", "data-msgid": entry.msgid, "aria-label": "Message actions", title: "Message actions" };
    item.append(el("button", { cls: "msg-actions", text: "⋯", attrs }));
  }
  return item;
}

/** Delete is offered on one's own messages, and to room operators on anyone's. */
function canDelete(state, entry) {
  if (!state.canRedact || !entry.msgid || entry.kind === "event" || entry.kind === "error") return false;
  return entry.self || state.canModerate(state.active);
}

/** The message menu: "Delete message" (IRCv3 REDACT). ``act(action)`` does it. */
export function openMessageMenu(entry, anchor, act) {
  const menu = $("message-menu");
  menu.replaceChildren();
  const button = el("button", { cls: "danger", text: "Delete message", attrs: { type: "button", "data-action": "delete" } });
  button.addEventListener("click", () => {
    closeMessageMenu();
    act("delete", entry);
  });
  menu.append(button);
  const rect = anchor.getBoundingClientRect();
  menu.hidden = false;
  menu.style.top = `${Math.min(rect.bottom + 4, window.innerHeight - menu.offsetHeight - 8)}px`;
  menu.style.left = `${Math.max(8, Math.min(rect.right - menu.offsetWidth, window.innerWidth - menu.offsetWidth - 8))}px`;
  button.focus();
}

export function closeMessageMenu() {
  $("message-menu").hidden = true;
}

/** Who said it: the nick, with the display-name they chose (draft/metadata-2) before it. */
function author(nickText, state) {
  const nick = el("span", { cls: `nick c${nickColour(nickText, state.fold)}`, text: nickText });
  const shown = state.displayName(nickText);
  if (!shown) return nick;
  return el("span", { cls: "who" }, [el("span", { cls: "display-name", text: shown }), nick]);
}

// ------------------------------------------------------------------ room list

export function renderBuffers(state, onSelect) {
  const list = $("buffers");
  list.replaceChildren();
  for (const buffer of state.ordered()) {
    const label = buffer.kind === "server" ? state.network : buffer.name;
    const button = el("button", { cls: "buffer", attrs: { type: "button", "data-name": buffer.name } });
    button.append(el("span", { cls: `icon icon-${buffer.kind}`, attrs: { "aria-hidden": "true" } }));
    button.append(el("span", { cls: "label", text: label }));
    if (buffer.unread && buffer !== state.active) {
      const badge = el("span", { cls: "badge", text: String(Math.min(buffer.unread, 99)) });
      badge.setAttribute("aria-label", `${buffer.unread} unread`);
      if (buffer.mention) badge.classList.add("mention");
      button.append(badge);
      button.classList.add("unread");
    }
    if (buffer === state.active) button.setAttribute("aria-current", "true");
    if (buffer.kind === "channel" && !buffer.joined) button.classList.add("parted");
    button.addEventListener("click", () => onSelect(buffer));
    list.append(el("li", {}, [button]));
  }
}

// ------------------------------------------------------------------ messages

/** Draw the open conversation: at its end, or (``keepPlace``, history added above) where the reader was. */
export function renderMessages(state, keepPlace = false) {
  const box = $("messages");
  const fromEnd = box.scrollHeight - box.scrollTop;
  const buffer = state.active;
  $("message-list").replaceChildren(...timelineNodes(buffer, (entry) => messageNode(entry, state)));
  const inRoom = buffer.kind !== "channel" || buffer.joined;
  $("load-older").hidden = !(state.historyAvailable && buffer.kind !== "server" && inRoom && !buffer.historyDone);
  if (keepPlace) box.scrollTop = box.scrollHeight - fromEnd;
  else scrollToEnd();
}

export function appendMessage(entry, state) {
  const near = isNearEnd();
  const messages = state.active.messages;
  const previous = messages.length > 1 ? messages[messages.length - 2] : null;
  $("message-list").append(...separatorsBefore(state.active, previous, entry), messageNode(entry, state));
  if (near || entry.self) scrollToEnd();
}

/** Is the message list scrolled to (nearly) its newest line? */
export function isNearEnd() {
  const box = $("messages");
  return box.scrollHeight - box.scrollTop - box.clientHeight < 80;
}

function scrollToEnd() {
  const box = $("messages");
  box.scrollTop = box.scrollHeight;
}

// ------------------------------------------------------------------ header, typing

export function renderHeader(state) {
  const buffer = state.active;
  const title = buffer.kind === "server" ? state.network : buffer.name;
  $("buffer-name").textContent = title;
  const topic = $("topic");
  topic.textContent = buffer.kind === "channel" ? buffer.topic || "No topic set" : "";
  topic.classList.toggle("empty", !buffer.topic);
  const canEdit = buffer.kind === "channel" && (!buffer.modes.has("t") || state.canModerate(buffer));
  $("edit-topic").hidden = !canEdit || !buffer.joined;
  $("input").placeholder = buffer.kind === "server" ? "Type /help for commands" : `Message ${title}`;
  $("me").textContent = state.me;
  $("me").title = state.me;
  document.title = `${title} · ChatRoom`;
}

export function renderTyping(state) {
  const typers = state.typers(state.active);
  const line = $("typing");
  if (!typers.length) line.textContent = "";
  else if (typers.length === 1) line.textContent = `${typers[0]} is typing…`;
  else if (typers.length <= 3) line.textContent = `${typers.join(", ")} are typing…`;
  else line.textContent = "Several people are typing…";
}

// ------------------------------------------------------------------ members

export function renderMembers(state, onPick) {
  const buffer = state.active;
  const panel = $("members-panel");
  const list = $("members");
  panel.classList.toggle("absent", buffer.kind !== "channel");
  list.replaceChildren();
  const members = buffer.kind === "channel" ? state.sortedMembers(buffer) : [];
  $("member-count").textContent = members.length ? String(members.length) : "";
  for (const member of members.slice(0, 1000)) {
    const symbol = state.symbol(member);
    const button = el("button", { cls: "member", attrs: { type: "button", "data-nick": member.nick } });
    button.append(el("span", { cls: "prefix", text: symbol }));
    button.append(el("span", { cls: `nick c${nickColour(member.nick, state.fold)}`, text: member.nick }));
    const shown = state.displayName(member.nick);
    if (shown) button.append(el("span", { cls: "display-name", text: shown }));
    if (state.isMe(member.nick)) button.classList.add("self");
    const away = state.away.get(state.fold(member.nick));
    if (away !== undefined) {
      // Dimmed, with the away message on hover (and read out by a screen reader).
      button.classList.add("away");
      button.title = away ? `Away: ${away}` : "Away";
      button.append(el("span", { cls: "away-mark", text: "away", attrs: { "aria-label": button.title } }));
    }
    button.addEventListener("click", () => onPick(member, button));
    list.append(el("li", {}, [button]));
  }
}

/**
 * The member menu: "Message" for everyone; op, voice, mute, kick and ban for channel
 * operators. ``act(action, nick, reason)`` sends the matching IRC command.
 */
export function openMemberMenu(state, member, anchor, act) {
  const menu = $("member-menu");
  const buffer = state.active;
  menu.replaceChildren();
  menu.append(el("h4", { text: member.nick }));
  const item = (action, label, cls = "") => {
    const button = el("button", { cls, text: label, attrs: { type: "button", "data-action": action } });
    button.addEventListener("click", () => {
      closeMemberMenu();
      act(action, member.nick, reason.value.trim());
    });
    menu.append(button);
  };
  const reason = el("input", { attrs: { id: "mod-reason", placeholder: "Reason (optional)", maxlength: "200" } });
  if (!state.isMe(member.nick)) item("query", "Send a private message");
  if (state.canModerate(buffer)) {
    const isOp = member.modes.includes("o");
    const isVoice = member.modes.includes("v");
    item(isOp ? "deop" : "op", isOp ? "Remove operator" : "Make operator");
    item(isVoice ? "devoice" : "voice", isVoice ? "Remove voice" : "Give voice");
    const muted = [...buffer.mutes].some((mask) => state.fold(mask) === state.fold(`${member.nick}!*@*`));
    item(muted ? "unmute" : "mute", muted ? "Unmute" : "Mute");
    if (!state.isMe(member.nick)) {
      menu.append(reason);
      item("kick", "Kick", "danger");
      item("ban", "Ban", "danger");
    }
  }
  const rect = anchor.getBoundingClientRect();
  menu.hidden = false;
  const width = menu.offsetWidth;
  menu.style.top = `${Math.min(rect.bottom + 4, window.innerHeight - menu.offsetHeight - 8)}px`;
  menu.style.left = `${Math.max(8, Math.min(rect.left, window.innerWidth - width - 8))}px`;
  const first = menu.querySelector("button");
  if (first) first.focus();
}

export function closeMemberMenu() {
  $("member-menu").hidden = true;
}

export function showBanner(text) {
  const banner = $("status-banner");
  banner.textContent = text;
  banner.hidden = !text;
}
