// The message box: Enter sends, Shift+Enter starts a new line (a pasted block keeps its
// lines), Tab completes (complete.js), ↑ and ↓ walk through what was sent before, as in a
// shell or any IRC client. The box grows with its text up to a few lines.
//
// It only edits the box; what the text then does is the form's submit handler (app.js),
// which calls ``take()``.

import { Completer } from "./complete.js";

const REMEMBERED = 100; // lines ↑ can bring back

export class Compose {
  /** ``box`` is the textarea; ``sources()`` says what Tab may offer right now. */
  constructor(box, sources) {
    this.box = box;
    this.sources = sources;
    this.sent = []; // oldest first
    this.position = 0; // index into ``sent``; sent.length while editing a new line
    this.draft = ""; // what was being typed before ↑ was pressed
    this.completer = new Completer();
    box.addEventListener("keydown", (event) => this.keydown(event));
    box.addEventListener("input", () => {
      this.completer.reset();
      this.fit();
    });
    box.addEventListener("click", () => this.completer.reset());
  }

  /** The text to send, remembered for ↑; the box is emptied. Null when there is nothing. */
  take() {
    const text = this.box.value;
    if (!text.trim()) return null;
    if (this.sent[this.sent.length - 1] !== text) this.sent.push(text);
    if (this.sent.length > REMEMBERED) this.sent.shift();
    this.position = this.sent.length;
    this.draft = "";
    this.set("");
    return text;
  }

  /** Put ``text`` in the box with the caret at its end. */
  set(text) {
    this.box.value = text;
    this.box.setSelectionRange(text.length, text.length);
    this.completer.reset();
    this.fit();
  }

  /** As tall as its lines, up to the CSS max-height (then it scrolls). */
  fit() {
    const box = this.box;
    box.style.height = "auto";
    box.style.height = `${box.scrollHeight + box.offsetHeight - box.clientHeight}px`;
  }

  keydown(event) {
    if (event.isComposing || event.altKey || event.ctrlKey || event.metaKey) return;
    const box = this.box;
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      box.form.requestSubmit();
    } else if (event.key === "Tab") {
      const done = this.completer.complete(box.value, box.selectionStart, this.sources(), event.shiftKey);
      // Nothing to complete in an empty box: Tab moves the focus on, as everywhere else.
      if (!done && !box.value.trim()) return;
      event.preventDefault();
      if (done) {
        box.value = done.value;
        box.setSelectionRange(done.caret, done.caret);
        this.fit();
      }
    } else if (event.key === "ArrowUp" && !event.shiftKey && this.onFirstLine()) {
      if (this.position === 0) return;
      event.preventDefault();
      if (this.position === this.sent.length) this.draft = box.value;
      this.position -= 1;
      this.set(this.sent[this.position]);
    } else if (event.key === "ArrowDown" && !event.shiftKey && this.onLastLine()) {
      if (this.position >= this.sent.length) return;
      event.preventDefault();
      this.position += 1;
      this.set(this.position === this.sent.length ? this.draft : this.sent[this.position]);
    } else if (event.key !== "Shift") {
      this.completer.reset();
    }
  }

  /** ↑ moves within a block of several lines until the caret is on its first line. */
  onFirstLine() {
    const box = this.box;
    return box.selectionStart === box.selectionEnd && !box.value.slice(0, box.selectionStart).includes("\n");
  }

  onLastLine() {
    const box = this.box;
    return box.selectionStart === box.selectionEnd && !box.value.slice(box.selectionEnd).includes("\n");
  }
}
