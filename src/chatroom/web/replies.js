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
