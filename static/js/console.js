// console.js — the kubectl console pane: a command line with history, kubectl's output with its
// ANSI colours, Ctrl-C, and pasted input for `kubectl apply -f -`.  It speaks to
// /clusters/<c>/console/ws (cluster/console/consumer.py documents the messages).
//
// Output is only ever written as text (textContent); colours become classes (ansi-fg-N,
// ansi-bg-N, ansi-bold, ...) or, for 256-colour and 24-bit codes, an rgb() made of numbers.
//
// What the DOM exposes (tests rely on it):
//   #console-panel   hidden unless open (key k, or /clusters/<c>/console); data-state: "idle",
//                    "running", "closed"; data-commands: commands finished so far;
//                    data-session: "tty" / "stdin" while an interactive exec/attach runs (what is
//                    typed then goes to the container), "" otherwise
//   #console-output  one .console-cmd per command line, then .console-out spans
//                    (class stdout / stderr plus the ansi-* classes), .console-exit at the end

const CSI = /\x1b\[([0-9;?]*)([A-Za-z])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][A-Za-z0-9]|\x1b[=>]/g;
const MAX_NODES = 4000;      // spans kept in the output; older ones are dropped
const HISTORY_KEY = "pilothouse.console.history";

// The 256-colour palette's colour n (16..255) as "rgb(r, g, b)"; 0..15 keep their classes.
function xterm256(n) {
  if (n < 232) {
    const v = [0, 95, 135, 175, 215, 255];
    n -= 16;
    return `rgb(${v[Math.floor(n / 36)]}, ${v[Math.floor(n / 6) % 6]}, ${v[n % 6]})`;
  }
  const g = 8 + (n - 232) * 10;
  return `rgb(${g}, ${g}, ${g})`;
}

// The new SGR state after `params` ("1;31", "" = reset), e.g. {fg: 1, bold: true}.
export function applySgr(state, params) {
  const codes = params === "" ? [0] : params.split(";").map((p) => (p === "" ? 0 : Number(p)));
  let s = { ...state };
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i];
    if (c === 0) s = {};
    else if (c === 1) s.bold = true;
    else if (c === 2) s.dim = true;
    else if (c === 3) s.italic = true;
    else if (c === 4) s.underline = true;
    else if (c === 7) s.inverse = true;
    else if (c === 22) { delete s.bold; delete s.dim; }
    else if (c === 23) delete s.italic;
    else if (c === 24) delete s.underline;
    else if (c === 27) delete s.inverse;
    else if (c >= 30 && c <= 37) s.fg = c - 30;
    else if (c >= 90 && c <= 97) s.fg = c - 90 + 8;
    else if (c === 39) delete s.fg;
    else if (c >= 40 && c <= 47) s.bg = c - 40;
    else if (c >= 100 && c <= 107) s.bg = c - 100 + 8;
    else if (c === 49) delete s.bg;
    else if ((c === 38 || c === 48) && codes[i + 1] === 5 && i + 2 < codes.length) {
      const n = Math.max(0, Math.min(255, codes[i + 2] | 0));
      s[c === 38 ? "fg" : "bg"] = n < 16 ? n : xterm256(n);
      i += 2;
    } else if ((c === 38 || c === 48) && codes[i + 1] === 2 && i + 4 < codes.length) {
      const [r, g, b] = codes.slice(i + 2, i + 5).map((v) => Math.max(0, Math.min(255, v | 0)));
      s[c === 38 ? "fg" : "bg"] = `rgb(${r}, ${g}, ${b})`;
      i += 4;
    }
  }
  return s;
}

// Split `text` into [{text, state}] runs, starting from `state`; returns {runs, state}.  Escape
// sequences other than SGR (cursor moves, titles) are dropped.
export function ansiRuns(text, state = {}) {
  const runs = [];
  let last = 0;
  let s = state;
  text = text.replace(/\r\n/g, "\n");
  for (const m of text.matchAll(CSI)) {
    if (m.index > last) runs.push({ text: text.slice(last, m.index), state: s });
    if (m[2] === "m") s = applySgr(s, m[1]);
    last = m.index + m[0].length;
  }
  if (last < text.length) runs.push({ text: text.slice(last), state: s });
  return { runs, state: s };
}

// One <span> for a run: text as text, colours as classes or a numeric rgb().
export function runSpan(run, stream) {
  const span = document.createElement("span");
  span.className = `console-out ${stream}`;
  const st = run.state;
  for (const flag of ["bold", "dim", "italic", "underline", "inverse"]) if (st[flag]) span.classList.add(`ansi-${flag}`);
  for (const [key, prop] of [["fg", "color"], ["bg", "backgroundColor"]]) {
    if (typeof st[key] === "number") span.classList.add(`ansi-${key}-${st[key]}`);
    else if (typeof st[key] === "string") span.style[prop] = st[key];
  }
  span.textContent = run.text;
  return span;
}

export class KubectlConsole {
  constructor(panel, { cluster }) {
    this.panel = panel;
    this.cluster = cluster;
    this.out = panel.querySelector("#console-output");
    this.input = panel.querySelector("#console-input");
    this.stdin = panel.querySelector("#console-stdin");
    this.ws = null;
    this.queue = [];
    this.sgr = { stdout: {}, stderr: {} };
    this.commands = 0;
    this.session = null;   // {tty} while an interactive exec/attach/run -i runs: typing goes to it
    try { this.history = JSON.parse(localStorage.getItem(HISTORY_KEY) || "[]"); } catch { this.history = []; }
    this.cursor = this.history.length;
    panel.querySelector("#console-form").addEventListener("submit", (e) => { e.preventDefault(); this.submit(); });
    panel.querySelector("#console-interrupt").addEventListener("click", () => this.interrupt());
    panel.querySelector("#console-clear").addEventListener("click", () => this.clear());
    this.input.addEventListener("keydown", (e) => this.onKey(e));
    this.setState("idle");
  }

  setState(state) { this.panel.dataset.state = state; this.state = state; }

  connect() {
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    this.ws = new WebSocket(`${scheme}://${location.host}/clusters/${encodeURIComponent(this.cluster)}/console/ws`);
    this.ws.addEventListener("open", () => { for (const m of this.queue.splice(0)) this.ws.send(m); });
    this.ws.addEventListener("message", (e) => {
      let msg;
      try { msg = JSON.parse(e.data); } catch { return; }
      this.onMessage(msg);
    });
    this.ws.addEventListener("close", (e) => {
      if (this.state === "running") this.note(`connection closed (${e.code})`, "console-exit failed");
      this.setState("idle");
    });
  }

  send(message) {
    const text = JSON.stringify(message);
    this.connect();
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
    else this.queue.push(text);
  }

  submit() {
    if (this.session) {
      // A line for the container: a terminal sends Enter as a carriage return (ICRNL there).
      this.send({ type: "stdin", data: this.input.value + (this.session.tty ? "\r" : "\n") });
      this.input.value = "";
      return;
    }
    const line = this.input.value.trim();
    if (!line) return;
    if (this.state === "running") { this.note("a command is still running: Ctrl-C stops it", "console-exit failed"); return; }
    if (this.history[this.history.length - 1] !== line) this.history.push(line);
    this.history = this.history.slice(-200);
    try { localStorage.setItem(HISTORY_KEY, JSON.stringify(this.history)); } catch { /* private mode */ }
    this.cursor = this.history.length;
    this.input.value = "";
    this.note(`$ ${line}`, "console-cmd");
    this.sgr = { stdout: {}, stderr: {} };
    const message = { type: "run", line };
    const stdin = this.stdin?.value || "";
    if (stdin) message.stdin = stdin;   // read by `-f -` or `exec -i`; other commands ignore it
    this.setState("running");
    this.send(message);
  }

  interrupt() {
    if (this.state === "running") this.send({ type: "interrupt" });
  }

  clear() { this.out.replaceChildren(); }

  onKey(e) {
    if (this.session?.tty && e.ctrlKey && (e.key === "c" || e.key === "C") &&
        this.input.selectionStart === this.input.selectionEnd) {
      e.preventDefault();
      this.send({ type: "stdin", data: "\x03" });   // to the container's foreground process, as a terminal does
    } else if (this.session && e.ctrlKey && (e.key === "d" || e.key === "D")) {
      e.preventDefault();
      this.send({ type: "eof" });
    } else if (e.ctrlKey && (e.key === "c" || e.key === "C") && this.input.selectionStart === this.input.selectionEnd) {
      e.preventDefault();
      this.interrupt();
    } else if (e.ctrlKey && e.key === "l") {
      e.preventDefault();
      this.clear();
    } else if (e.key === "ArrowUp" && this.cursor > 0) {
      e.preventDefault();
      this.input.value = this.history[--this.cursor];
    } else if (e.key === "ArrowDown") {
      e.preventDefault();
      this.cursor = Math.min(this.history.length, this.cursor + 1);
      this.input.value = this.history[this.cursor] || "";
    }
  }

  onMessage(msg) {
    if (msg.type === "started") {
      this.session = msg.interactive ? { tty: !!msg.tty } : null;
      this.panel.dataset.session = msg.interactive ? (msg.tty ? "tty" : "stdin") : "";
      if (this.session) this.input.placeholder = "typed lines go to the container (Ctrl-D: end of input; Ctrl-C button: stop kubectl)";
    } else if (msg.type === "output") {
      const stream = msg.stream === "stderr" ? "stderr" : "stdout";
      // A terminal's lines end in CR LF; a lone CR (redraw) and the bell are not drawn here.
      const data = String(msg.data).replace(/\r+\n/g, "\n").replace(/[\r\x07]/g, "");
      const { runs, state } = ansiRuns(data, this.sgr[stream]);
      this.sgr[stream] = state;
      for (const run of runs) this.append(runSpan(run, stream));
    } else if (msg.type === "exit") {
      const code = msg.code === null || msg.code === undefined ? "none" : msg.code;
      const text = msg.message ? `${msg.message} (exit code ${code})` : `exit code ${code}`;
      this.note(text, `console-exit ${msg.code === 0 ? "ok" : "failed"}`);
      this.finish();
    } else if (msg.type === "refused") {
      this.note(`refused: ${msg.message}`, "console-exit refused");
      if (this.state === "running" && !/still running/.test(msg.message || "")) this.finish();
    } else if (msg.type === "error") {
      this.note(String(msg.message), "console-exit failed");
      if (this.state === "running" && !this.session) this.finish();
    }
  }

  finish() {
    this.session = null;
    this.panel.dataset.session = "";
    this.input.placeholder = "kubectl get pods  (up/down: history)";
    this.commands += 1;
    this.panel.dataset.commands = String(this.commands);
    this.setState("idle");
  }

  note(text, className) {
    const div = document.createElement("div");
    div.className = className;
    div.textContent = text;
    this.append(div);
  }

  append(node) {
    const stick = this.out.scrollTop + this.out.clientHeight >= this.out.scrollHeight - 4;
    this.out.append(node);
    while (this.out.childNodes.length > MAX_NODES) this.out.firstChild.remove();
    if (stick) this.out.scrollTop = this.out.scrollHeight;
  }

  open() {
    this.panel.hidden = false;
    this.connect();
    this.input.focus();
  }

  close() { this.panel.hidden = true; }

  get isOpen() { return !this.panel.hidden; }
}
