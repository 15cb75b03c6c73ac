// The IRC language for the browser: parse and format lines (with IRCv3 tags), case
// folding, nick prefixes. Pure functions with no DOM and no socket, so every other module
// can rely on them; the rules follow modern.ircdocs.horse and the IRCv3 message-tags spec.

const TAG_UNESCAPES = { ":": ";", s: " ", "\\": "\\", r: "\r", n: "\n" };

/** Decode one tag value: "\:" is ";", "\s" is a space, a lone trailing "\" is dropped. */
export function unescapeTag(value) {
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch !== "\\") {
      out += ch;
      continue;
    }
    i++;
    if (i >= value.length) break;
    out += TAG_UNESCAPES[value[i]] ?? value[i];
  }
  return out;
}

export function escapeTag(value) {
  return value
    .replaceAll("\\", "\\\\")
    .replaceAll(";", "\\:")
    .replaceAll(" ", "\\s")
    .replaceAll("\r", "\\r")
    .replaceAll("\n", "\\n");
}

/**
 * Parse one line (without CR/LF) into {tags, source, command, params}.
 * Returns null for a line with no command: servers never send one, and a client that
 * crashed on a bad line would be easy to knock offline.
 */
export function parseLine(line) {
  let rest = line;
  const tags = {};
  if (rest.startsWith("@")) {
    const space = rest.indexOf(" ");
    if (space < 0) return null;
    for (const item of rest.slice(1, space).split(";")) {
      if (!item) continue;
      const eq = item.indexOf("=");
      if (eq < 0) tags[item] = "";
      else tags[item.slice(0, eq)] = unescapeTag(item.slice(eq + 1));
    }
    rest = rest.slice(space + 1).replace(/^ +/, "");
  }
  let source = null;
  if (rest.startsWith(":")) {
    const space = rest.indexOf(" ");
    if (space < 0) return null;
    source = rest.slice(1, space);
    rest = rest.slice(space + 1).replace(/^ +/, "");
  }
  const params = [];
  while (rest) {
    if (rest.startsWith(":")) {
      params.push(rest.slice(1));
      break;
    }
    const space = rest.indexOf(" ");
    if (space < 0) {
      params.push(rest);
      break;
    }
    params.push(rest.slice(0, space));
    rest = rest.slice(space + 1).replace(/^ +/, "");
  }
  const command = params.shift();
  if (!command) return null;
  return { tags, source, command: command.toUpperCase(), params };
}

/**
 * Format a client line. Line breaks in any parameter would split one message into two
 * commands (an injection), so they are replaced by spaces here, once, for every caller.
 */
export function formatLine(command, params = [], tags = null) {
  const clean = params.map((p) => String(p).replace(/[\r\n\0]+/g, " "));
  let line = "";
  if (tags && Object.keys(tags).length) {
    const items = Object.entries(tags).map(([k, v]) => (v === "" ? k : `${k}=${escapeTag(v)}`));
    line = `@${items.join(";")} `;
  }
  line += command;
  clean.forEach((param, i) => {
    const last = i === clean.length - 1;
    const needsColon = param === "" || param.includes(" ") || param.startsWith(":");
    line += last && needsColon ? ` :${param}` : ` ${param}`;
  });
  return line;
}

/** "nick!user@host" -> {nick, user, host}; a server name is a nick-less source. */
export function parseSource(source) {
  if (!source) return { nick: "", user: "", host: "" };
  const bang = source.indexOf("!");
  const at = source.indexOf("@");
  if (bang < 0 && at < 0) return { nick: source, user: "", host: "" };
  const nickEnd = bang >= 0 ? bang : at;
  return {
    nick: source.slice(0, nickEnd),
    user: bang >= 0 ? source.slice(bang + 1, at >= 0 ? at : undefined) : "",
    host: at >= 0 ? source.slice(at + 1) : "",
  };
}

/** A case folder for the server's CASEMAPPING, so "Alice" and "alice" are one person. */
export function makeFolder(casemapping) {
  if (casemapping === "ascii") return (s) => s.toLowerCase();
  return (s) =>
    s
      .toLowerCase()
      .replaceAll("[", "{")
      .replaceAll("]", "}")
      .replaceAll("\\", "|")
      .replaceAll("~", "^");
}

/** ISUPPORT PREFIX "(ov)@+" -> {modes: "ov", symbols: "@+"}. */
export function parsePrefix(value) {
  const match = /^\(([^)]*)\)(.*)$/.exec(value || "");
  if (!match || match[1].length !== match[2].length) return { modes: "ov", symbols: "@+" };
  return { modes: match[1], symbols: match[2] };
}

/**
 * Strip mIRC formatting (bold, colours, reset...) so only the words are shown; other control
 * characters (a bell, an escape), which a browser draws as boxes, go too. Line breaks (of a
 * multiline message) and tabs stay.
 */
export function stripFormatting(text) {
  return text
    .replace(/\x03(\d{1,2}(,\d{1,2})?)?|\x04([0-9a-fA-F]{6}(,[0-9a-fA-F]{6})?)?/g, "")
    .replace(/[\x00-\x08\x0b-\x1f\x7f]/g, "");
}

/** A CTCP ACTION (/me) body, or null. */
export function actionText(text) {
  if (text.startsWith("\x01ACTION ") || text === "\x01ACTION\x01") {
    return text.slice(8).replace(/\x01$/, "");
  }
  return null;
}

/** SASL PLAIN payload, base64 of authzid NUL authcid NUL password, in UTF-8. */
export function saslPlain(account, password) {
  const bytes = new TextEncoder().encode(`${account}\0${account}\0${password}`);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/**
 * AUTHENTICATE arguments for a base64 payload: 400-byte pieces, and a final "+" when the
 * last piece was exactly 400 long (or the payload was empty), as the SASL 3.1 spec says.
 */
export function authenticateChunks(payload) {
  const chunks = [];
  for (let i = 0; i < payload.length; i += 400) chunks.push(payload.slice(i, i + 400));
  if (payload.length % 400 === 0) chunks.push("+");
  return chunks;
}

/** Split "a=1,b,c=x" (CAP values, sasl mechanisms) into a list. */
export function splitList(value) {
  return value ? value.split(",").filter(Boolean) : [];
}

/** The time of a message: its server-time tag when present, else now. */
export function messageTime(tags) {
  const when = tags && tags.time ? new Date(tags.time) : null;
  return when && !Number.isNaN(when.getTime()) ? when : new Date();
}
