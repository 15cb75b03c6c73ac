// The connection: IRC over WebSocket, capability negotiation, login, reconnecting.
//
// The web client is an ordinary IRC client: it logs in with SASL PLAIN, creates accounts
// with IRCv3 draft/account-registration (REGISTER), and a guest is simply a nick without
// a password. One line per WebSocket text frame, never with CR/LF (IRCv3 WebSocket spec).
//
// Events (all CustomEvent, details in brackets):
//   status     {state: "connecting"|"online"|"reconnecting"|"offline", delay?, reason?}
//   registered {nick}                 welcome received, the session can be used
//   loginerror {text}                 login or account creation failed; no reconnect
//   message    {msg}                  every parsed line outside a batch; a draft/multiline
//                                     batch arrives as one message, its lines joined by "\n"
//   batch      {type, params, messages}  a finished BATCH (chathistory, netsplit, ...)

import { authenticateChunks, formatLine, parseLine, saslPlain, splitList } from "./irc.js";

// Capabilities the UI knows how to use; only those the server offers are requested.
const WANTED = [
  "account-notify",
  "account-tag",
  "away-notify",
  "batch",
  "cap-notify",
  "chghost",
  "draft/chathistory",
  "draft/event-playback",
  "draft/message-redaction",
  "draft/metadata-2",
  "draft/multiline",
  "draft/read-marker",
  "echo-message",
  "extended-join",
  "invite-notify",
  "message-tags",
  "multi-prefix",
  "sasl",
  "server-time",
  "setname",
];

const LOGIN_FAILED = {
  902: "That account is locked.",
  904: "Wrong nickname or password.",
  905: "Wrong nickname or password.",
  906: "Login was aborted.",
  908: "This server does not accept password logins of this kind.",
};

/**
 * What to tell the user about a failed login. The server gives the same bare answer for a
 * wrong name and a wrong password; any other refusal (a password over an unencrypted
 * link, too many attempts, a busy server) comes with its reason after a colon, and that
 * reason is what the user needs to hear, not "wrong password".
 */
export function loginFailure(msg) {
  const text = msg.params[msg.params.length - 1] || "";
  const colon = text.indexOf(": ");
  if (msg.command === "904" && colon >= 0 && text.slice(colon + 2).trim()) {
    return `The server refused the login: ${text.slice(colon + 2).trim()}`;
  }
  return LOGIN_FAILED[msg.command];
}

export class IrcClient extends EventTarget {
  constructor(url) {
    super();
    this.url = url;
    this.ws = null;
    this.login = null;
    this.stopped = true;
    this.attempt = 0;
    this.timer = null;
    this.resetSession();
  }

  resetSession() {
    this.available = new Map(); // cap name -> value ("" when none)
    this.caps = new Set(); // enabled caps
    this.isupport = new Map();
    this.registered = false;
    this.account = null;
    this.nick = this.login ? this.login.nick : "";
    this.batches = new Map();
    this.lsDone = false;
    this.pendingRegister = false;
  }

  /** Begin: {nick, password, email, create}. Reconnects on its own until stop(). */
  start(login) {
    this.login = { ...login };
    this.stopped = false;
    this.everOnline = false;
    this.attempt = 0;
    this.connect();
  }

  /** The user's own logout: say goodbye and never reconnect. */
  stop(reason = "Leaving") {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.send("QUIT", [reason]);
      this.ws.close(1000);
    }
    this.emit("status", { state: "offline" });
  }

  has(cap) {
    return this.caps.has(cap);
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  send(command, params = [], tags = null) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(formatLine(command, params, tags));
    return true;
  }

  connect() {
    this.resetSession();
    this.emit("status", { state: "connecting" });
    const ws = new WebSocket(this.url, ["text.ircv3.net"]);
    this.ws = ws;
    this.lastError = "";
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.send("CAP", ["LS", "302"]);
      this.send("NICK", [this.nick]);
      this.send("USER", [this.nick.replace(/[^A-Za-z0-9]/g, "") || "web", "0", "*", this.nick]);
    };
    ws.onmessage = (event) => {
      if (ws !== this.ws) return;
      const text = typeof event.data === "string" ? event.data : "";
      const msg = parseLine(text.replace(/[\r\n]+$/, ""));
      if (msg) this.receive(msg);
    };
    ws.onclose = (event) => {
      if (ws !== this.ws) return;
      this.ws = null;
      this.closed(event.reason || this.lastError || (opened ? "Connection closed" : "The server cannot be reached"));
    };
  }

  closed(reason) {
    if (this.stopped) return;
    if (!this.everOnline) {
      this.stopped = true;
      this.emit("loginerror", { text: reason || "Could not reach the server." });
      this.emit("status", { state: "offline" });
      return;
    }
    // Back off exponentially (1 s, 2 s, 4 s ... 30 s) with jitter, so a restarted server
    // is not hit by every browser at the same instant.
    const base = Math.min(30, 2 ** this.attempt);
    const delay = base * (0.75 + Math.random() * 0.5);
    this.attempt += 1;
    this.emit("status", { state: "reconnecting", delay, reason });
    this.timer = setTimeout(() => this.connect(), delay * 1000);
  }

  fail(text) {
    this.stopped = true;
    this.emit("loginerror", { text });
    if (this.ws) {
      this.send("QUIT", ["Login failed"]);
      this.ws.close(1000);
    }
    this.emit("status", { state: "offline" });
  }

  receive(msg) {
    if (msg.command === "BATCH") {
      this.batchLine(msg);
      return;
    }
    const batchRef = msg.tags.batch;
    if (batchRef && this.batches.has(batchRef)) {
      this.batches.get(batchRef).messages.push(msg);
      return;
    }
    const handler = this.handlers[msg.command];
    if (handler) handler.call(this, msg);
    if (!this.registered && LOGIN_FAILED[msg.command]) {
      this.fail(loginFailure(msg));
      return;
    }
    this.emit("message", { msg });
  }

  /** BATCH +ref / -ref, nested ones included (a draft/multiline batch inside chathistory). */
  batchLine(msg) {
    const ref = msg.params[0] || "";
    if (ref.startsWith("+")) {
      this.batches.set(ref.slice(1), { type: msg.params[1], params: msg.params.slice(2), messages: [], opening: msg });
      return;
    }
    if (!ref.startsWith("-")) return;
    const batch = this.batches.get(ref.slice(1));
    this.batches.delete(ref.slice(1));
    if (!batch) return;
    if (batch.type === "draft/multiline") {
      const combined = combineMultiline(batch);
      if (combined) this.receive(combined); // into its outer batch, or shown as it is
      return;
    }
    const outer = batch.opening.tags.batch;
    if (outer && this.batches.has(outer)) this.batches.get(outer).messages.push(...batch.messages);
    else this.emit("batch", batch);
  }

  // ------------------------------------------------------------ registration and login

  afterCaps() {
    const login = this.login;
    if (login.create) {
      const flags = splitList(this.available.get("draft/account-registration"));
      if (!this.available.has("draft/account-registration")) {
        this.fail("This server does not let you create an account here.");
        return;
      }
      if (flags.includes("email-required") && !login.email) {
        this.fail("This server needs an email address to create an account.");
        return;
      }
      if (flags.includes("before-connect")) {
        this.register();
        return;
      }
      this.pendingRegister = true;
      this.send("CAP", ["END"]);
      return;
    }
    if (login.password) {
      const mechs = splitList(this.available.get("sasl"));
      if (!this.caps.has("sasl") || (mechs.length && !mechs.includes("PLAIN"))) {
        this.fail("This server does not support logging in with a password.");
        return;
      }
      this.send("AUTHENTICATE", ["PLAIN"]);
      return;
    }
    this.send("CAP", ["END"]);
  }

  register() {
    const { nick, email, password } = this.login;
    this.send("REGISTER", [nick, email || "*", password]);
  }

  /** After an account exists, later connections log in to it instead of creating it. */
  accountCreated() {
    this.login.create = false;
  }

  handlers = {
    PING(msg) {
      this.send("PONG", msg.params.slice(0, 1));
    },
    ERROR(msg) {
      // "Closing Link: host (Server shutting down)": the words in brackets are the reason.
      const text = msg.params[0] || "";
      const reason = /^Closing Link: \S+ \((.*)\)$/.exec(text);
      this.lastError = reason ? reason[1] : text;
    },
    CAP(msg) {
      const sub = (msg.params[1] || "").toUpperCase();
      const more = msg.params[2] === "*" && msg.params.length > 3;
      const list = (more ? msg.params[3] : msg.params[2]) || "";
      const tokens = list.split(" ").filter(Boolean);
      if (sub === "LS" || sub === "NEW") {
        for (const token of tokens) {
          const eq = token.indexOf("=");
          this.available.set(eq < 0 ? token : token.slice(0, eq), eq < 0 ? "" : token.slice(eq + 1));
        }
        if (more) return;
        const want = WANTED.filter((c) => this.available.has(c) && !this.caps.has(c));
        if (sub === "LS") this.lsDone = true;
        if (want.length) this.send("CAP", ["REQ", want.join(" ")]);
        else if (sub === "LS") this.afterCaps();
      } else if (sub === "ACK") {
        for (const token of tokens) {
          if (token.startsWith("-")) this.caps.delete(token.slice(1));
          else this.caps.add(token);
        }
        if (!this.registered && !more) this.afterCaps();
      } else if (sub === "NAK") {
        if (!this.registered && !more) this.afterCaps();
      } else if (sub === "DEL") {
        for (const token of tokens) {
          this.caps.delete(token);
          this.available.delete(token);
        }
      }
    },
    AUTHENTICATE(msg) {
      if (msg.params[0] !== "+") return;
      const payload = saslPlain(this.login.nick, this.login.password);
      for (const chunk of authenticateChunks(payload)) this.send("AUTHENTICATE", [chunk]);
    },
    900(msg) {
      this.account = msg.params[2] || null;
    },
    903() {
      if (!this.registered) this.send("CAP", ["END"]);
    },
    REGISTER(msg) {
      const [status, account, text] = msg.params;
      if (status === "SUCCESS") {
        this.account = account;
        this.accountCreated();
        if (!this.registered) this.send("CAP", ["END"]);
      } else if (status === "VERIFICATION_REQUIRED") {
        this.accountCreated();
        this.fail(text || "Check your email to finish creating the account.");
      }
    },
    FAIL(msg) {
      const [command, code] = msg.params;
      const text = msg.params[msg.params.length - 1];
      if (command === "REGISTER") {
        const known = {
          ACCOUNT_EXISTS: "That nickname already has an account. Log in instead.",
          WEAK_PASSWORD: "Choose a longer password.",
          BAD_ACCOUNT_NAME: "That nickname cannot be used as an account name.",
        };
        this.fail(known[code] || text || "The account could not be created.");
      }
    },
    "001"(msg) {
      this.registered = true;
      this.everOnline = true;
      this.attempt = 0;
      this.nick = msg.params[0];
      this.emit("registered", { nick: this.nick });
      this.emit("status", { state: "online" });
      if (this.pendingRegister) {
        this.pendingRegister = false;
        this.register();
      }
    },
    "005"(msg) {
      for (const token of msg.params.slice(1, -1)) {
        const eq = token.indexOf("=");
        if (token.startsWith("-")) this.isupport.delete(token.slice(1));
        else this.isupport.set(eq < 0 ? token : token.slice(0, eq), eq < 0 ? "" : token.slice(eq + 1));
      }
    },
    "433"() {
      // Nick taken while signing on: try a variant rather than leaving the user stuck.
      if (this.registered) return;
      if (this.login.create) {
        this.fail("Someone is using that nickname right now; an account needs its own nickname.");
        return;
      }
      this.nick = `${this.nick.slice(0, 24)}_`;
      this.send("NICK", [this.nick]);
    },
    NICK(msg) {
      const old = (msg.source || "").split("!")[0];
      if (old === this.nick) this.nick = msg.params[0];
    },
  };
}

/**
 * A finished draft/multiline batch as the one PRIVMSG/NOTICE it carries: lines joined by
 * "\n", or directly where a line continues the one before (draft/multiline-concat). The
 * opening line's tags (msgid, time, account, an outer batch) become the message's.
 */
export function combineMultiline(batch) {
  const lines = batch.messages.filter((m) => m.command === "PRIVMSG" || m.command === "NOTICE");
  if (!lines.length) return null;
  let text = "";
  lines.forEach((line, i) => {
    if (i && !("draft/multiline-concat" in line.tags)) text += "\n";
    text += line.params[1] || "";
  });
  const target = batch.params[0] || lines[0].params[0];
  return { tags: { ...batch.opening.tags }, source: batch.opening.source, command: lines[0].command, params: [target, text] };
}
