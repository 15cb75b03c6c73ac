// Answers to what the user typed (/whois, /list, /invite), in words, as the terminal
// client says them (client/replies.py): "bob is in #lobby", not "bob: #lobby"; "#dev
// (3 people)", not "#dev 3:". An IRC reply's layout is written for programs.

function whoisLine(p, code) {
  switch (code) {
    case "311": // RPL_WHOISUSER <me> <nick> <user> <host> * :<realname>
      return `${p[1]} is ${p[2]}@${p[3]} (${p[5] || ""})`;
    case "312": // RPL_WHOISSERVER <me> <nick> <server> :<info>
      return `${p[1]} is on ${p[2]} (${p[3] || ""})`;
    case "319": // RPL_WHOISCHANNELS <me> <nick> :<rooms>
      return `${p[1]} is in ${p[2]}`;
    case "330": // RPL_WHOISACCOUNT <me> <nick> <account> :is logged in as
      return `${p[1]} is logged in as ${p[2]}`;
    case "317": // RPL_WHOISIDLE <me> <nick> <seconds> <signon> :...
      return `${p[1]} has been idle for ${idle(Number(p[2]))}${signedOn(Number(p[3]))}`;
    case "313": // RPL_WHOISOPERATOR
    case "320": // RPL_WHOISSPECIAL
    case "378": // RPL_WHOISHOST
    case "671": // RPL_WHOISSECURE
      return `${p[1]} ${p[p.length - 1]}`;
    default:
      return undefined;
  }
}

function idle(seconds) {
  if (!Number.isFinite(seconds)) return "a while";
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

function signedOn(epoch) {
  if (!Number.isFinite(epoch) || epoch <= 0) return "";
  return `, here since ${new Date(epoch * 1000).toLocaleString()}`;
}

/**
 * The sentence for a reply to a typed command: a string, "" for one that says nothing
 * worth a line (end of WHOIS), or undefined when ``msg`` is not one of these.
 */
export function replyText(msg) {
  const p = msg.params;
  const code = msg.command;
  const whois = whoisLine(p, code);
  if (whois !== undefined) return p.length >= 3 ? whois : "";
  switch (code) {
    case "318": // RPL_ENDOFWHOIS
      return "";
    case "321": // RPL_LISTSTART
      return "Rooms on this server:";
    case "322": {
      // RPL_LIST <me> <room> <count> :<topic>
      const count = Number(p[2]);
      const people = count === 1 ? "1 person" : `${p[2]} people`;
      return `${p[1]} (${people})${p[3] ? ` ${p[3]}` : ""}`;
    }
    case "323": // RPL_LISTEND
      return "End of room list. /join a room to enter it.";
    case "341": // RPL_INVITING <me> <nick> <room>
      return `You invited ${p[1]} to ${p[2]}.`;
    default:
      return undefined;
  }
}

// The server's refusals most people meet, in plain sentences (as client/replies.py says
// them): "There is nobody called bob here", not "bob: No such nick/channel". {0} and {1}
// are the reply's parameters after our nick. Anything not here keeps the server's text.
const ERRORS = {
  401: "There is nobody called {0} here.",
  403: "There is no room called {0}.",
  432: "{0} is not a valid nickname.",
  441: "{0} is not in {1}.",
  442: "You are not in {0}.",
  443: "{0} is already in {1}.",
  471: "{0} is full.",
  473: "{0} is invite-only: ask an operator there to /invite you.",
  474: "You are banned from {0}.",
  475: "{0} needs a key: /join {0} KEY",
  477: "You need to log in to an account to join {0}.",
  481: "Only server operators can do that.",
  482: "You need to be a room operator (@) in {0} to do that.",
};

// Why a message to a room was refused (404), from the server's "Cannot send to channel
// (+m)": the mode letter means nothing to most people.
const NOT_DELIVERED = [
  ["(no external messages)", "join it to talk there"],
  ["(+m)", "the room is moderated, only people with a voice (+) or operators speak"],
  ["(+M)", "log in to an account to speak there"],
  ["(you're banned)", "you are banned there"],
  ["(+q)", "you are muted there"],
  ["(+C)", "the room takes no CTCP"],
];

function notDelivered(room, text) {
  if (text.startsWith("Your message was not delivered")) return text; // a sentence already
  const known = NOT_DELIVERED.find(([tail]) => text.endsWith(tail) || text.includes(`${tail} `));
  return `Your message to ${room} was not delivered: ${(known ? known[1] : text).replace(/\.$/, "")}.`;
}

/** The plain sentence for a common error reply, or undefined (say the server's text). */
export function errorText(msg, isChannel) {
  const p = msg.params;
  if (msg.command === "404" && p.length >= 3) return notDelivered(p[1], p[p.length - 1]);
  let template = ERRORS[msg.command];
  // 477 about a nick: that person takes private messages only from accounts.
  if (msg.command === "477" && p[1] && !isChannel(p[1])) {
    template = "{0} takes private messages only from people logged in to an account.";
  }
  if (!template) return undefined;
  const args = p.slice(1, -1);
  if ((template.includes("{1}") && args.length < 2) || (template.includes("{0}") && args.length < 1)) return undefined;
  return template.replaceAll("{0}", args[0]).replaceAll("{1}", args[1]);
}
