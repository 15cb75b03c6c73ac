// The server tab in plain words. Right after signing on an IRC server sends a welcome
// burst written for IRC operators: "Your host is ..., running version ...", "I have 6
// clients and 0 servers", "End of /MOTD command." Here each of those numerics becomes a
// sentence a user can read, or nothing: a welcome, one line with how many people and rooms
// there are, and the message of the day.

// Numerics of the welcome burst (and of LUSERS and MOTD, asked for later) handled here.
// 381 (now an operator) too: an operator's reconnect after a server restart brings it
// again, and it belongs with the welcome, not as a line in the room on screen.
export const SERVER_INFO = new Set(["001", "002", "003", "004", "251", "252", "253", "254", "255", "265", "266", "372", "375", "376", "381", "422"]);

function plural(count, one, many) {
  return `${count} ${count === 1 ? one : many}`;
}

/**
 * The line to show in the server tab for one of SERVER_INFO, or null for none. LUSERS
 * parts are gathered in ``state.lusers`` and shown as one line when the count ends (255).
 */
export function serverInfoText(msg, state) {
  const text = msg.params[msg.params.length - 1] || "";
  const count = (i) => {
    const value = Number.parseInt(msg.params[i], 10);
    return Number.isFinite(value) ? value : 0;
  };
  switch (msg.command) {
    case "001": {
      const network = /Welcome to the (\S+) /.exec(text);
      return network ? `Welcome to ${network[1]}, ${msg.params[0]}.` : `Welcome, ${msg.params[0]}.`;
    }
    case "251": {
      const numbers = (text.match(/\d+/g) || []).map(Number);
      state.lusers = { people: (numbers[0] || 0) + (numbers[1] || 0), ops: 0, rooms: 0 };
      return null;
    }
    case "252":
      if (state.lusers) state.lusers.ops = count(1);
      return null;
    case "254":
      if (state.lusers) state.lusers.rooms = count(1);
      return null;
    case "255": {
      const lusers = state.lusers;
      state.lusers = null;
      if (!lusers) return null;
      let line = `${plural(lusers.people, "person", "people")} online, ${plural(lusers.rooms, "room", "rooms")}`;
      if (lusers.ops) line += `, ${plural(lusers.ops, "operator", "operators")} on duty`;
      return `${line}.`;
    }
    case "372":
      return text.replace(/^- ?/, "") || null;
    case "375":
      return "Message of the day:";
    case "381":
      return text;
    default:
      // 002-004 (host, version, creation date, modes), 253 (unregistered connections),
      // 265/266 (local and global user counts), 376 (end of MOTD), 422 (no MOTD).
      return null;
  }
}
