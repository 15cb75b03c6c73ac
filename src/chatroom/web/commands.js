// Slash commands typed in the message box, turned into IRC commands. The same verbs as
// the terminal client, so people can move between the two without relearning.
//
// ``ctx`` gives what a command needs: send(command, params, tags), target (the active
// buffer's name or null), note(text) to show a line locally, open(name) to switch to or
// create a conversation, say(target, text) to send a message with local echo, quit().

export const HELP = [
  "/join #room [key] — join or create a room (key: for a room that has one)",
  "/part [reason] — leave this room (in a private conversation: close it; /close too)",
  "/msg nick text — private message (/query nick opens the conversation)",
  "/me does something — an action",
  "/nick newname — change your nickname",
  "/topic text — set the room's topic",
  "/invite nick [#room] — invite nick to this room (or #room)",
  "/names [#room] — who is in this room (or #room)",
  "/kick nick [reason], /ban nick, /unban mask, /mute nick, /unmute nick",
  "/op nick, /deop nick, /voice nick, /devoice nick",
  "/mode [#room|nick] [+m|-m|+b mask…] — show or change modes (no target: this room, or yours)",
  "/away [message] — mark yourself away (no message: back)",
  "/displayname [name] — the name shown beside your nick (none: remove it)",
  "/delete [nick] [reason] — delete your last message here (operators: nick's); /redact too",
  "/knock #room [text] — ask the operators of a closed room to invite you",
  "/silence [+mask|-mask] — your block list: no private messages or invites from them",
  "/quote LINE — send a raw IRC line (any other /command goes to the server as typed)",
  "/quit [reason] — log out",
];

/** The mask used for bans and mutes from the UI: the nick, whatever the address. */
export function nickMask(nick) {
  return nick.includes("!") || nick.includes("@") ? nick : `${nick}!*@*`;
}

function needChannel(ctx) {
  if (!ctx.channel) {
    ctx.note("That command works in a room.");
    return false;
  }
  return true;
}

/** A room list mode set on a nick's mask (/ban, /mute and their undoing), in this room. */
function maskMode(mode, usage) {
  return (ctx, [who]) => {
    if (!needChannel(ctx)) return;
    if (!who) return ctx.note(`Usage: ${usage}`);
    ctx.send("MODE", [ctx.target, mode, nickMask(who)]);
  };
}

const COMMANDS = {
  join(ctx, [room, key]) {
    if (!room) return ctx.note("Usage: /join #room [key]");
    // "/join #a,#b" joins both (as IRC and the terminal client read it); the first is shown.
    const names = room.split(",").filter(Boolean).map((name) => (/^[#&]/.test(name) ? name : `#${name}`));
    if (!names.length) return ctx.note("Usage: /join #room [key]");
    ctx.send("JOIN", key ? [names.join(","), key] : [names.join(",")]);
    ctx.open(names[0]);
  },
  part(ctx, args, rest) {
    // In a private conversation: close it (as the terminal client does; /close too).
    if (ctx.target && !ctx.channel) return ctx.close(ctx.target);
    if (!needChannel(ctx)) return;
    ctx.send("PART", rest ? [ctx.target, rest] : [ctx.target]);
  },
  msg(ctx, [who], rest) {
    const text = rest.slice(who ? who.length : 0).trim();
    if (!who || !text) return ctx.note("Usage: /msg nick text");
    ctx.open(who);
    ctx.say(who, text);
  },
  query(ctx, [who]) {
    if (!who) return ctx.note("Usage: /query nick");
    ctx.open(who);
  },
  me(ctx, args, rest) {
    if (!ctx.target || !rest) return ctx.note("Usage: /me does something (in a conversation)");
    ctx.say(ctx.target, `\x01ACTION ${rest}\x01`);
  },
  nick(ctx, [nick]) {
    if (!nick) return ctx.note("Usage: /nick newname");
    ctx.send("NICK", [nick]);
  },
  topic(ctx, args, rest) {
    if (!needChannel(ctx)) return;
    if (!rest) ctx.askTopic(ctx.target); // the answer is shown (a JOIN's is not)
    ctx.send("TOPIC", rest ? [ctx.target, rest] : [ctx.target]);
  },
  names(ctx, [room]) {
    const target = room || ctx.channel;
    if (!target) return ctx.note("Usage: /names #room (in a room: its members)");
    ctx.askNames(target);
    ctx.send("NAMES", [target]);
  },
  invite(ctx, [who, room]) {
    if (!who || !(room || ctx.channel)) return ctx.note("Usage: /invite nick [#room] (in a room: to it)");
    ctx.send("INVITE", [who, room || ctx.channel]);
  },
  kick(ctx, [who], rest) {
    if (!needChannel(ctx)) return;
    if (!who) return ctx.note("Usage: /kick nick [reason]");
    const reason = rest.slice(who.length).trim();
    ctx.send("KICK", reason ? [ctx.target, who, reason] : [ctx.target, who]);
  },
  ban: maskMode("+b", "/ban nick"),
  unban: maskMode("-b", "/unban mask"),
  mute: maskMode("+q", "/mute nick"),
  unmute: maskMode("-q", "/unmute nick"),
  op: (ctx, [who]) => needChannel(ctx) && who && ctx.send("MODE", [ctx.target, "+o", who]),
  deop: (ctx, [who]) => needChannel(ctx) && who && ctx.send("MODE", [ctx.target, "-o", who]),
  voice: (ctx, [who]) => needChannel(ctx) && who && ctx.send("MODE", [ctx.target, "+v", who]),
  devoice: (ctx, [who]) => needChannel(ctx) && who && ctx.send("MODE", [ctx.target, "-v", who]),
  mode(ctx, args) {
    // "/mode +m" is about the room on screen (outside a room: one's own user modes).
    const named = args.length && !/^[+-]/.test(args[0]);
    const target = named ? args[0] : ctx.channel || ctx.me;
    if (!target) return ctx.note("Usage: /mode [#room|nick] [modes [arguments]]");
    const changes = named ? args.slice(1) : args;
    if (!changes.length && ctx.isChannel(target)) ctx.askModes(target);
    ctx.send("MODE", [target, ...changes]);
  },
  away(ctx, args, rest) {
    ctx.send("AWAY", rest ? [rest] : []);
  },
  displayname(ctx, args, rest) {
    ctx.send("METADATA", rest ? ["*", "SET", "display-name", rest] : ["*", "SET", "display-name"]);
  },
  delete(ctx, [who], rest) {
    // As the terminal client's: the first word names whose message only if that nick said
    // something here; otherwise all of it is the reason (none by default, as the spec asks).
    if (!ctx.canRedact) return ctx.note("This server cannot delete messages.");
    if (!ctx.target) return ctx.note("/delete works in a room or a private chat.");
    let nick = ctx.me;
    let reason = rest;
    if (who && ctx.lastSaid(who)) {
      nick = who;
      reason = rest.slice(who.length).trim();
    }
    const line = ctx.lastSaid(nick);
    if (!line) {
      const whose = nick === ctx.me ? "yours" : `${nick}'s`;
      return ctx.note(`There is no message of ${whose} here to delete.`);
    }
    ctx.send("REDACT", reason ? [ctx.target, line.msgid, reason] : [ctx.target, line.msgid]);
  },
  knock(ctx, [room], rest) {
    if (!room) return ctx.note("Usage: /knock #room [text]");
    const text = rest.slice(room.length).trim().replace(/^:/, ""); // "/knock #r :text" too
    ctx.send("KNOCK", text ? [room, text] : [room]);
  },
  quote(ctx, args, rest) {
    if (!rest) return ctx.note("Usage: /quote LINE");
    ctx.raw(rest);
  },
  quit(ctx, args, rest) {
    ctx.quit(rest || "Leaving");
  },
  help(ctx) {
    for (const line of HELP) ctx.note(line);
  },
};
COMMANDS.j = COMMANDS.join;
COMMANDS.leave = COMMANDS.part;
COMMANDS.close = COMMANDS.part;
COMMANDS.raw = COMMANDS.quote;
COMMANDS.redact = COMMANDS.delete;

/** The command names Tab completes (one-letter aliases left out: "/j" would shadow "/join"). */
export const COMMAND_NAMES = Object.keys(COMMANDS)
  .filter((name) => name.length > 1)
  .sort();

/** Run one typed line. A leading "//" sends a message that starts with "/". */
export function runInput(ctx, line) {
  if (!line.startsWith("/") || line.startsWith("//")) {
    const text = line.startsWith("//") ? line.slice(1) : line;
    if (!ctx.target) return ctx.note("Pick a room first, or type /help.");
    return ctx.say(ctx.target, text);
  }
  const body = line.slice(1);
  const space = body.indexOf(" ");
  const verb = (space < 0 ? body : body.slice(0, space)).toLowerCase();
  const rest = space < 0 ? "" : body.slice(space + 1).trim();
  const handler = COMMANDS[verb];
  // As other IRC clients do: a command this client does not know goes to the server as
  // typed (/knock, /silence, /whowas, /oper...); the server answers 421 to one it does not know.
  if (!handler) return ctx.raw(`${verb.toUpperCase()} ${rest}`.trim());
  return handler(ctx, rest.split(/\s+/).filter(Boolean), rest);
}
