// Answers to /mode, in words, in the tab they concern.
//
// The client asks every room it joins for its modes (to know +t and +m); those 324
// replies stay silent. A room's modes the user asked for with /mode (``state.modeAsked``)
// are shown in that room; one's own modes (221, and MODE on one's own nick) in the open
// tab; entries of a room's ban or mute list in that room.

import { messageTime, parseSource } from "./irc.js";

function post(app, target, text, msg, kind = "event") {
  const { state } = app;
  const buffer = (state.isChannel(target) && state.find(target)) || state.active || state.server;
  app.post(buffer, { kind, text, time: messageTime(msg.tags) }, false);
}

/** RPL_CHANNELMODEIS <me> <channel> <modes> [args]: shown when the user asked for it. */
export function channelModesReply(app, msg) {
  const { state } = app;
  const channel = msg.params[1] || "";
  if (!state.modeAsked.delete(state.fold(channel))) return;
  const modes = msg.params.slice(2).join(" ");
  post(app, channel, modes && modes !== "+" ? `${channel} has modes ${modes}` : `${channel} has no modes set`, msg);
}

export const MODE_HANDLERS = {
  "221"(app, msg) {
    // RPL_UMODEIS <me> <modes>
    const modes = msg.params.slice(1).join(" ");
    post(app, "", modes && modes !== "+" ? `Your modes: ${modes}` : "You have no user modes set", msg);
  },
  "367"(app, msg) {
    // RPL_BANLIST <me> <channel> <mask> [<setter> <time>]
    const [, channel, mask, setter] = msg.params;
    post(app, channel, `${channel} bans ${mask}${setter ? ` (set by ${setter})` : ""}`, msg);
  },
  "728"(app, msg) {
    // RPL_QUIETLIST <me> <channel> <mode> <mask> [<setter> <time>]: the mutes (+q).
    const [, channel, , mask, setter] = msg.params;
    post(app, channel, `${channel} mutes ${mask}${setter ? ` (set by ${setter})` : ""}`, msg);
  },
  "472"(app, msg) {
    // ERR_UNKNOWNMODE <me> <char> :is unknown mode char to me
    post(app, "", `Unknown mode: ${msg.params[1] || "?"}`, msg, "error");
  },
};

/** MODE on a nick (one's own user modes): said in the open tab. */
export function userMode(app, msg) {
  const { state } = app;
  const [target, ...modes] = msg.params;
  if (!state.isMe(target || "")) return;
  const { nick } = parseSource(msg.source);
  const who = !nick || state.isMe(nick) ? "" : ` (by ${nick})`;
  post(app, "", `Your modes changed: ${modes.join(" ")}${who}`, msg);
}
