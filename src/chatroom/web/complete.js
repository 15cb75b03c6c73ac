// Tab completion in the message box: the nicknames of the open conversation, rooms, and
// slash commands.
//
// Tab after the first letters completes; Tab again (Shift+Tab backwards) walks through the
// other matches, as in WeeChat, Irssi and The Lounge. A nick at the very start of the line
// gets ": " after it (the usual way to address someone), anywhere else a space. Nicks are
// offered most recent speaker first, because that is usually whom one answers.

export class Completer {
  constructor() {
    this.cycle = null; // the matches being walked through, while the box holds one of them
  }

  /** Anything typed or clicked in between starts a new completion. */
  reset() {
    this.cycle = null;
  }

  /**
   * Complete the word before the caret in ``value``. ``sources`` is what may be offered:
   * {nicks, channels, commands, fold}. Returns {value, caret} or null (nothing to complete).
   */
  complete(value, caret, sources, backwards = false) {
    const cycle = this.cycle;
    if (cycle && cycle.value === value && cycle.caret === caret) {
      const count = cycle.matches.length;
      cycle.index = (cycle.index + (backwards ? count - 1 : 1)) % count;
      return this.apply(cycle);
    }
    this.cycle = null;
    const before = value.slice(0, caret);
    const start = before.search(/\S*$/);
    const word = before.slice(start);
    if (!word) return null;
    const fold = sources.fold || ((s) => s.toLowerCase());
    let candidates;
    let suffix = " ";
    if (word.startsWith("/") && start === 0) candidates = sources.commands.map((name) => `/${name}`);
    else if ((sources.chantypes || "#&").includes(word[0])) candidates = sources.channels;
    else {
      candidates = sources.nicks;
      if (start === 0) suffix = ": ";
    }
    const wanted = fold(word);
    const matches = [];
    for (const candidate of candidates) {
      if (fold(candidate).startsWith(wanted) && !matches.some((m) => fold(m) === fold(candidate))) matches.push(candidate);
    }
    if (!matches.length) return null;
    const tail = value.slice(caret);
    // No doubled space when the caret was already in front of one.
    if (/^\s/.test(tail)) suffix = suffix.trimEnd();
    this.cycle = { head: value.slice(0, start), tail, suffix, matches, index: backwards ? matches.length - 1 : 0 };
    return this.apply(this.cycle);
  }

  apply(cycle) {
    const word = cycle.matches[cycle.index] + cycle.suffix;
    cycle.value = cycle.head + word + cycle.tail;
    cycle.caret = cycle.head.length + word.length;
    return { value: cycle.value, caret: cycle.caret };
  }
}

/**
 * What Tab may offer in ``buffer``: its members (or the other person of a private
 * conversation), those who spoke last first and oneself last; every room; the commands.
 */
export function completionSources(state, buffer, commands) {
  const fold = state.fold;
  const nicks = [];
  const seen = new Set();
  const add = (nick) => {
    const key = fold(nick);
    if (!nick || seen.has(key) || state.isMe(nick)) return;
    seen.add(key);
    nicks.push(nick);
  };
  if (buffer && buffer.kind === "channel") {
    for (let i = buffer.messages.length - 1; i >= 0 && seen.size < 50; i--) {
      const entry = buffer.messages[i];
      if (entry.nick && state.member(buffer, entry.nick)) add(state.member(buffer, entry.nick).nick);
    }
    const rest = [...buffer.members.values()].map((m) => m.nick);
    rest.sort((a, b) => fold(a).localeCompare(fold(b)));
    rest.forEach(add);
  } else if (buffer && buffer.kind === "query") {
    add(buffer.name);
  }
  if (state.me) nicks.push(state.me);
  const channels = [...state.buffers.values()].filter((b) => b.kind === "channel").map((b) => b.name);
  return { nicks, channels, commands, fold, chantypes: state.chantypes };
}
