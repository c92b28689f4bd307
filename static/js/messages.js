// messages.js — messages between components, drawn as dots travelling between their boxes.
//
// Fed the trace events of each frame ("message" and "drop" kinds, see sim/cluster.py).  A
// network hop lasts well under a millisecond of virtual time, far too short to see, so every
// dot stays on screen at least MIN_MS (longer at low speed, when the virtual flight time
// scaled by the speed factor is longer) and at most MAX_MS.  At most MAX_ACTIVE dots move at
// once; the rest are counted as skipped (data-skipped on the layer), never queued, so the
// picture never lags behind the cluster.

const SVGNS = "http://www.w3.org/2000/svg";
export const MIN_MS = 1200;
export const MAX_MS = 3000;
export const MAX_ACTIVE = 24;
const LABEL_BELOW = 6;    // name requests next to their dot when this few are moving

// Message categories, for colour and the legend.
const RUNTIMES = ["containerd@", "crio@", "cri-dockerd@"];  // the node's CRI runtime, whichever

export function category(ev) {
  const t = String(ev.type || "").toLowerCase();
  const src = String(ev.src || "");
  const dst = String(ev.dst || "");
  // The page's kubectl console (sim/external.py ConsoleClient): a student's own requests.
  if (src.startsWith("console@") || dst.startsWith("console@")) return "console";
  if (t.includes("bind")) return "bind";
  if (src.startsWith("etcd@") || dst.startsWith("etcd@")) return "etcd";
  if (RUNTIMES.some(r => src.startsWith(r) || dst.startsWith(r))) return "runtime";
  if (t.includes("watch") || t.includes("notify") || t.startsWith("event ") ||
      /^(added|modified|deleted|bookmark)\b/.test(t)) return "watch";
  if (t.includes("status") || t.includes("lease") || t.includes("heartbeat")) return "status";
  return "other";
}

// Minor traffic gives way first when many dots are moving: replies ("patch leases → 200",
// "txn reply"), Event objects being written, etcd's own watch feed.
export function isMinor(ev) {
  const t = String(ev.type || "");
  return t.includes("→") || /\b(reply|done)$/.test(t) || /\bevents\b/.test(t) || t === "watch event";
}

// Which hops claim the dots first, lowest rank first: 0 a scheduler's bind (the moment a lesson
// is about) and the console's requests and replies (a student's own command); 1 the other requests that carry a pod through its life (a controller's "create
// pods", the "watch pods" notification that tells a kubelet of its pod, the kubelet's "patch
// pods/status"), a few per pod; 2 the rest of the traffic (an HA control plane's leases and
// etcd writes never stop); 3 minor traffic.  A full set of dots makes room for a rank 0 or 1
// hop by removing the oldest dot of a higher rank.  cluster/worker.py (hop_rank) ranks a
// frame's capped event slots the same way.
export const RANK_BIND = 0;
export const RANK_POD = 1;
export function rank(ev) {
  const cat = category(ev);
  if (cat === "bind" || cat === "console") return RANK_BIND;
  if (isMinor(ev)) return 3;
  return /\bpods\b/.test(String(ev.type || "")) ? RANK_POD : 2;
}

function center(r) {
  return { x: r.x + r.w / 2, y: r.y + r.h / 2 };
}

// Where the segment from the centre of r towards point p leaves r.
function edge(r, p) {
  const c = center(r);
  const dx = p.x - c.x;
  const dy = p.y - c.y;
  if (!dx && !dy) return c;
  const sx = dx ? (r.w / 2) / Math.abs(dx) : Infinity;
  const sy = dy ? (r.h / 2) / Math.abs(dy) : Infinity;
  const s = Math.min(sx, sy, 1);
  return { x: c.x + dx * s, y: c.y + dy * s };
}

function ease(u) {
  return u < 0.5 ? 2 * u * u : 1 - Math.pow(-2 * u + 2, 2) / 2;
}

// Move every travelling dot to where it is at `now`; a dot that has lingered `hold` (a share of
// its flight) after arriving is removed.  Returns the dots still on screen.  Shared by the
// architecture view (below) and the etcd panel.
export function stepDots(active, now, hold, labelDx, dyOf) {
  const keep = [];
  for (const m of active) {
    const u = (now - m.start) / m.dur;
    if (u < 0) {
      keep.push(m);
      continue;
    }
    if (u >= 1 + hold) {
      m.g.remove();
      continue;
    }
    moveDot(m, u, hold, labelDx, dyOf(m));
    keep.push(m);
  }
  return keep;
}

// Place a travelling dot (and its label) at progress `u` of its flight: it fades in over the
// first tenth, and after arriving (u > 1) fades out until u = 1 + `fade`.  A dropped message
// stops halfway and fades where it was lost.  Shared by the diagram and the etcd panel.
export function moveDot(m, u, fade, labelDx, labelDy) {
  const k = ease(Math.min(1, u)) * (m.drop ? 0.5 : 1);
  const x = m.from.x + (m.to.x - m.from.x) * k;
  const y = m.from.y + (m.to.y - m.from.y) * k;
  m.dot.setAttribute("cx", x.toFixed(1));
  m.dot.setAttribute("cy", y.toFixed(1));
  if (m.label) {
    m.label.setAttribute("x", (x + labelDx).toFixed(1));
    m.label.setAttribute("y", (y + labelDy).toFixed(1));
  }
  m.g.style.opacity = u < 0.1 ? String(u / 0.1) : u > 1 ? String(Math.max(0, (1 + fade - u) / fade)) : "1";
}

export class Messages {
  constructor(layer, rectOf) {
    this.layer = layer;
    this.rectOf = rectOf;
    this.active = [];
    this.skipped = 0;
    this.shown = 0;
    this.drawn = {};   // category -> dots drawn so far (tests read it)
    this.recent = [];  // the last hops drawn: {src, dst, type, cat}
    // Every kind of hop drawn so far, "cat from-component to-component" (hosts left out), so a
    // busy HA control plane cannot push one out of sight as it can from `recent`.
    this.kinds = new Set();
    this.enabled = true;
    this._tick = this._tick.bind(this);
    this._raf = null;
  }

  // Animate the hops of one frame.  `speed` is the simulation speed factor.
  play(events, speed) {
    if (!this.enabled) return;
    const hops = events.filter((e) => e.kind === "message" || e.kind === "drop");
    if (!hops.length) return;
    // Important hops claim the free slots first (see rank), then by time; each keeps its own
    // start time.
    const ranked = hops.map((ev) => ({ ev, r: rank(ev) }));
    ranked.sort((a, b) => (a.r - b.r) || ((a.ev.t || 0) - (b.ev.t || 0)));
    const t0 = Math.min(...hops.map((e) => e.t || 0));
    const now = performance.now();
    speed = speed > 0 ? speed : 1;
    for (const { ev, r } of ranked) {
      if (this.active.length >= MAX_ACTIVE && r <= RANK_POD) {
        // Every slot taken: the oldest dot of less important traffic gives way.
        const i = this.active.findIndex((m) => m.rank > r);
        if (i >= 0) {
          this.active.splice(i, 1)[0].g.remove();
          this.skipped++;
        }
      }
      if (this.active.length >= (isMinor(ev) ? MAX_ACTIVE / 2 : MAX_ACTIVE)) {
        this.skipped++;
        continue;
      }
      const a = this.rectOf(ev.src);
      const b = this.rectOf(ev.dst);
      if (!a || !b) {
        this.skipped++;
        continue;
      }
      // Spread the hops of a frame the way they were spread in virtual time (at most 1 s).
      const delay = Math.min(1000, Math.max(0, ((ev.t || t0) - t0) / speed * 1000));
      const flight = ev.arrive != null ? (ev.arrive - ev.t) / speed * 1000 : 0;
      const dur = Math.min(MAX_MS, Math.max(MIN_MS, flight));
      this._spawn(ev, r, a, b, now + delay, dur);
    }
    this.layer.dataset.skipped = String(this.skipped);
    if (!this._raf) this._raf = requestAnimationFrame(this._tick);
  }

  clear() {
    for (const m of this.active) m.g.remove();
    this.active = [];
  }

  _spawn(ev, rank, ra, rb, start, dur) {
    const same = ra === rb;
    const from = edge(ra, center(rb));
    const to = same ? { x: from.x + 1, y: from.y - 30 } : edge(rb, center(ra));
    const cat = ev.kind === "drop" ? "drop" : category(ev);
    const g = document.createElementNS(SVGNS, "g");
    const reply = isMinor(ev);
    g.setAttribute("class", `msg msg-${cat}${reply ? " reply" : ""}`);
    g.dataset.src = ev.src;
    g.dataset.dst = ev.dst;
    g.dataset.type = ev.type || "";
    const line = document.createElementNS(SVGNS, "line");
    line.setAttribute("class", "msg-path");
    for (const [k, v] of Object.entries({ x1: from.x, y1: from.y, x2: to.x, y2: to.y })) {
      line.setAttribute(k, v.toFixed(1));
    }
    const dot = document.createElementNS(SVGNS, "circle");
    dot.setAttribute("class", "msg-dot");
    dot.setAttribute("r", reply ? "6" : "8");
    dot.setAttribute("cx", from.x.toFixed(1));
    dot.setAttribute("cy", from.y.toFixed(1));
    g.append(line, dot);
    let label = null;
    if (this.active.length < LABEL_BELOW && !reply) {
      label = document.createElementNS(SVGNS, "text");
      label.setAttribute("class", "msg-label");
      const text = String(ev.type || "");
      label.textContent = text.length > 30 ? text.slice(0, 29) + "…" : text;
      g.append(label);
    }
    g.style.opacity = "0";
    this.layer.appendChild(g);
    // Alternate labels above and below their dots so that neighbours do not overprint.
    const labelDy = this.shown % 2 ? 22 : -10;
    this.active.push({ g, dot, label, labelDy, from, to, start, dur, drop: ev.kind === "drop", rank });
    this.shown++;
    this.drawn[cat] = (this.drawn[cat] || 0) + 1;
    this.recent.push({ src: ev.src, dst: ev.dst, type: ev.type, cat });
    if (this.recent.length > 1000) this.recent.shift();
    this.kinds.add(`${cat} ${String(ev.src).split("@")[0]} ${String(ev.dst).split("@")[0]}`);
  }

  _tick(now) {
    const keep = stepDots(this.active, now, 0.25, 12, (m) => m.labelDy);
    this.active = keep;
    this.layer.dataset.active = String(keep.length);
    this._raf = keep.length ? requestAnimationFrame(this._tick) : null;
  }
}
