// frames.js — the frame stream: no gap, no double counting.
//
// The page is rendered with the cluster's state at frame N.  Frames then arrive over the
// WebSocket, numbered.  A frame <= the last one applied is ignored (its events are already in
// the page); frame last+1 is applied; a frame beyond last+1 means frames were lost (the channel
// layer drops messages silently, a reconnect misses some), so the stream fetches the full
// state from the server, replaces the page's state with it, and then applies any frames that
// arrived meanwhile and are newer than that state, in order.
//
// A frame's snapshot comes whole ("snapshot"), not at all (null: the page keeps the last one),
// or as changes against the snapshot of the frame before ("snapshotDelta", ops made by
// cluster/worker/snapdelta.py).  The stream keeps the last snapshot, applies each delta to it
// and hands onFrame the frame with its whole snapshot, so the page draws as before.  A delta
// it cannot apply (no snapshot yet, an op that does not fit) is a resync, like a gap.

// `base` with `ops` applied: ["set", path, value], ["del", path], ["splice", path, start,
// deleteCount, items].  `base` itself is left untouched (the containers along each changed
// path are copied, everything else shared): the page may still hold the last snapshot.
// Throws on an op that does not fit.
export function applySnapshotDelta(base, ops) {
  if (!base || typeof base !== "object" || Array.isArray(base)) throw new Error("delta: no snapshot to apply it to");
  if (!Array.isArray(ops)) throw new Error("delta: ops must be a list");
  const copy = (v) => (Array.isArray(v) ? v.slice() : { ...v });
  const root = copy(base);
  const copied = new Set([root]);
  const has = (obj, key) => (Array.isArray(obj)
    ? Number.isInteger(key) && key >= 0 && key < obj.length
    : typeof key === "string" && Object.prototype.hasOwnProperty.call(obj, key));
  for (const op of ops) {
    if (!Array.isArray(op) || !Array.isArray(op[1])) throw new Error("delta: not an op");
    const [kind, path] = op;
    if (kind !== "splice" && kind !== "set" && kind !== "del") throw new Error(`delta: unknown op ${kind}`);
    if (kind !== "splice" && path.length === 0) throw new Error(`delta: ${kind} needs a path`);
    const steps = kind === "splice" ? path : path.slice(0, -1);
    let parent = root;
    for (const step of steps) {
      if (!has(parent, step)) throw new Error("delta: no such path");
      let child = parent[step];
      if (!child || typeof child !== "object") throw new Error("delta: path goes through a scalar");
      if (!copied.has(child)) {
        child = copy(child);
        copied.add(child);
        parent[step] = child;
      }
      parent = child;
    }
    if (kind === "splice") {
      const [, , start, count, items] = op;
      if (!Array.isArray(parent) || !Array.isArray(items) || !Number.isInteger(start) || !Number.isInteger(count)
          || start < 0 || count < 0 || start + count > parent.length) throw new Error("delta: splice out of range");
      parent.splice(start, count, ...items);
      continue;
    }
    const key = path[path.length - 1];
    if (Array.isArray(parent)) {
      if (kind !== "set" || !has(parent, key)) throw new Error("delta: op does not fit a list");
      parent[key] = op[2];
    } else if (typeof key !== "string") {
      throw new Error("delta: an object's key must be a string");
    } else if (kind === "set") {
      // A key named "__proto__" (the snapshot holds user-chosen names) must stay a key.
      Object.defineProperty(parent, key, { value: op[2], enumerable: true, writable: true, configurable: true });
    } else {
      if (!has(parent, key)) throw new Error("delta: no such key");
      delete parent[key];
    }
  }
  return root;
}

export class FrameStream {
  // frame: the frame the page was rendered at; snapshot: its snapshot (deltas apply to it).
  // fetchState(): Promise of {frame, time, speed, paused, snapshot, log}.
  // onFrame(msg): apply one frame.  onState(state, {restart}): replace everything with a full
  // state; restart is true when the server restarted and counts frames afresh.
  constructor({ frame, snapshot = null, fetchState, onFrame, onState, onChange }) {
    this.last = frame;
    this.snapshot = snapshot;
    this.fetchState = fetchState;
    this.onFrame = onFrame;
    this.onState = onState;
    this.onChange = onChange || (() => {});
    this.buffer = [];
    this.resyncing = false;
    this.applied = 0;
    this.ignored = 0;
    this.resyncs = 0;
    this.failures = 0;
    this.restarts = 0;
    this.deltas = 0;
    this.stopped = false;
    this.history = [];  // the last numbers seen, for debugging and tests: [kind, frame]
  }

  _note(kind, frame) {
    this.history.push([kind, frame]);
    if (this.history.length > 200) this.history.shift();
  }

  // The cluster is gone (deleted): ignore everything from now on, and fetch nothing more.
  stop() {
    this.stopped = true;
    this.buffer = [];
    this.onChange(this);
  }

  // A state the page fetched itself after changing the cluster (a reset, a repair): it replaces
  // the page's state unless frames newer than it were applied meanwhile.
  adopt(state) {
    if (this.stopped || !state || typeof state.frame !== "number") return false;
    this._note("adopted", state.frame);
    if (state.frame < this.last) return false;
    this.last = state.frame;
    this.snapshot = state.snapshot ?? null;
    this.onState(state);
    this.onChange(this);
    return true;
  }

  receive(msg) {
    if (this.stopped || !msg || typeof msg.frame !== "number") return;
    this._note("frame", msg.frame);
    if (this.resyncing) {
      this.buffer.push(msg);
      return;
    }
    if (msg.frame <= this.last) {
      this.ignored++;
      this.onChange(this);
      return;
    }
    if (msg.frame > this.last + 1) {
      this.buffer.push(msg);
      this.resync();
      return;
    }
    if (msg.snapshotDelta) {
      let snapshot;
      try {
        snapshot = applySnapshotDelta(this.snapshot, msg.snapshotDelta);
      } catch (err) {
        console.warn("pilothouse: a snapshot delta did not apply; reloading the state", err);
        this.buffer.push(msg);
        this.resync();
        return;
      }
      msg = { ...msg, snapshot };
      this.deltas++;
    }
    if (msg.snapshot) this.snapshot = msg.snapshot;
    this.last = msg.frame;
    this.applied++;
    this.onFrame(msg);
    this.onChange(this);
  }

  // A full state pushed by the server: the WebSocket consumer sends one on every (re)connect.
  // Newer than the page: it replaces the page's state.  The same frame: already shown.  Older:
  // the server restarted and numbers its frames afresh (the cluster itself was restored from
  // the database), so this state starts a new count.
  receiveState(state) {
    if (this.stopped || !state || typeof state.frame !== "number") return;
    this._note("state", state.frame);
    if (state.frame === this.last) {
      this.ignored++;
      this.onChange(this);
      return;
    }
    let restart = false;
    if (state.frame < this.last) {
      this.restarts++;
      this.buffer = [];
      restart = true;
    } else if (this.resyncing) {
      // The fetch in flight will bring a state at least this new.
      this.onChange(this);
      return;
    }
    this.last = state.frame;
    this.snapshot = state.snapshot ?? null;
    this.onState(state, { restart });
    this.onChange(this);
    const pending = this.buffer.sort((a, b) => a.frame - b.frame);
    this.buffer = [];
    for (const m of pending) this.receive(m);
  }

  async resync() {
    if (this.resyncing || this.stopped) return;
    this.resyncing = true;
    this.resyncs++;
    this.onChange(this);
    // Never hammer the server: at most one state fetch every 500 ms.
    const wait = (this.lastResyncAt || -1e9) + 500 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    this.lastResyncAt = Date.now();
    let ok = false;
    try {
      const state = await this.fetchState();
      this._note("fetched", state.frame);
      // A state older than what the page already shows is of no use (a stale response).
      if (typeof state.frame === "number" && state.frame >= this.last) {
        this.last = state.frame;
        this.snapshot = state.snapshot ?? null;
        this.onState(state);
      }
      ok = true;
      this.failures = 0;
    } catch (err) {
      this.failures++;
      console.warn("pilothouse: resync failed", err);
    }
    const pending = this.buffer.sort((a, b) => a.frame - b.frame);
    this.buffer = [];
    if (!ok) {
      if (this.stopped) {
        this.resyncing = false;
        return;
      }
      // Keep the frames and try again a little later (backing off, at most 5 s).
      this.buffer = pending;
      setTimeout(() => {
        this.resyncing = false;
        this.resync();
      }, Math.min(5000, 250 * 2 ** this.failures));
      return;
    }
    this.resyncing = false;
    this.onChange(this);
    for (const m of pending) this.receive(m);
  }
}
