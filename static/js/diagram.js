// diagram.js — the architecture view: renders a cluster snapshot (see sim/cluster.py) as SVG.
//
// Layout, top to bottom: the control-plane node (kube-apiserver, kube-scheduler,
// kube-controller-manager, etcd, ...), the queue of pods not yet scheduled, then the worker
// nodes (kubelet, kube-proxy, containerd and their pods).  Updates are keyed: an element is
// rebuilt only when what it shows changed, and pods live in one flat layer so that a pod bound
// out of the queue slides into its node (a CSS transition on `transform`).
//
// Every component box carries data-addr ("kubelet@worker-1"); messages.js asks rectOf(addr)
// where to draw the dots.  Pods carry data-pod="ns/name", data-phase, data-status (kubectl's STATUS),
// data-node, data-ready.

const SVGNS = "http://www.w3.org/2000/svg";

export const W = 1200;          // viewBox width; height follows the content
const M = 16;                   // outer margin
const GAP = 16;                 // between node boxes
const PAD = 12;                 // inside a node box
const HEADER = 46;              // node title row
const COMP_H = 50;              // component box height
const POD_H = 52;
const POD_GAP = 8;
const POD_MIN_W = 118;
const QUEUE_HEADER = 34;
const CLIENT_H = 40;
const EXT_HEADER = 38;          // title row of the external etcd hosts box
export const CLIENT_ADDR = "kubectl@client";
// The page's kubectl console: the same outside client at its own address (sim/external.py
// ConsoleClient), so a student's commands are seen leaving it.
export const CONSOLE_ADDR = "console@client";

// Display phase: what a student should read.  A bound pod that is not running yet shows as
// ContainerCreating, the way `kubectl get pods` shows it.
export function displayPhase(pod, bound) {
  if (pod.terminating) return "Terminating";
  const p = pod.phase || "Unknown";
  if (p === "Pending" && bound) return "ContainerCreating";
  return p;
}

export const PHASE_ORDER = ["Pending", "ContainerCreating", "Running", "Terminating", "Failed",
                            "Succeeded", "Unknown"];

export function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => (
    { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

function fit(text, width, fontSize) {
  // Rough average glyph width of the UI font is ~0.56 em; keep names whole when they fit.
  const max = Math.max(3, Math.floor(width / (fontSize * 0.56)));
  text = String(text);
  return text.length <= max ? text : text.slice(0, max - 1) + "…";
}

function nodeStatus(node) {
  if (!node.alive) return { label: "DOWN", cls: "down" };
  // A host whose kubelet never registered a Node: before kubeadm init / join (install "kubeadm").
  if (node.registered === false) return { label: "no Node: kubelet not started", cls: "unregistered" };
  if (node.ready === "True") return { label: node.unschedulable ? "Ready, cordoned" : "Ready",
                                      cls: "ready" };
  if (node.ready === "Unknown") return { label: "NotReady (Unknown)", cls: "unknown" };
  return { label: "NotReady", cls: "notready" };
}

function podGrid(innerW) {
  const cols = Math.max(1, Math.floor((innerW + POD_GAP) / (POD_MIN_W + POD_GAP)));
  const w = (innerW - (cols - 1) * POD_GAP) / cols;
  return { cols, w };
}

// Pod box height: two lines (name, phase) normally; one line when a node holds many pods, so
// a busy cluster still fits a projector screen (the colour tells the phase).
let podH = POD_H;
const COMPACT_POD_H = 30;
const COMPACT_ABOVE = 10;

function podsHeight(n, cols) {
  if (n === 0) return podH;  // room for the "no pods" hint
  return Math.ceil(n / cols) * (podH + POD_GAP) - POD_GAP;
}

// A summarised snapshot (a cluster of more than 600 pods, see cluster/worker/frames.py) gives
// each node its pods' counts per phase (`podCounts`, `podTotal`) instead of the pods: the node
// then shows a bar split by phase and a line per phase ("Running 1,203") instead of chips.
const COUNT_LINE = 24;
const COUNT_BAR = 14;

export function fmtCount(n) {
  return Number(n || 0).toLocaleString("en-US");
}

// A node's pod counts as [[display phase, n], ...] in the legend's order.  A bound pod still
// Pending is ContainerCreating, as on a chip (and in `kubectl get pods`).
export function countRows(counts) {
  const merged = new Map();
  for (const [phase, n] of Object.entries(counts || {})) {
    const shown = phase === "Pending" ? "ContainerCreating" : phase;
    merged.set(shown, (merged.get(shown) || 0) + (Number(n) || 0));
  }
  const rank = (p) => (PHASE_ORDER.includes(p) ? PHASE_ORDER.indexOf(p) : PHASE_ORDER.length);
  return [...merged].filter(([, n]) => n > 0).sort((a, b) => rank(a[0]) - rank(b[0]));
}

// "Running 1,203 · ContainerCreating 20", or "no pods".
export function countsText(counts) {
  const rows = countRows(counts);
  return rows.length ? rows.map(([p, n]) => `${p} ${fmtCount(n)}`).join(" · ") : "no pods";
}

// How the pods of `node` are drawn: "chips", "counts" (podCounts given) or "unlisted" (a frame
// too large to carry even the counts: cluster/worker/frames.py fit()).
function podMode(snap, node) {
  if (node.podCounts && typeof node.podCounts === "object") return "counts";
  if (snap.summarised && !(node.pods || []).length) return "unlisted";
  return "chips";
}

function countsHeight(node) {
  const lines = Math.max(1, countRows(node.podCounts).length);
  return COUNT_BAR + 10 + lines * COUNT_LINE;
}

function podAreaHeight(snap, node, cols) {
  const mode = podMode(snap, node);
  if (mode === "counts") return countsHeight(node);
  if (mode === "unlisted") return COUNT_LINE;
  return podsHeight((node.pods || []).length, cols);
}

// -- layout: snapshot -> boxes in viewBox coordinates ----------------------------------------
export function layout(snap) {
  const nodes = snap.nodes || [];
  const cpNodes = nodes.filter((n) => n.role === "control-plane");
  const workers = nodes.filter((n) => n.role !== "control-plane");
  const out = { nodes: [], pods: [], comps: [], counts: [], queue: null, client: null, etcdHosts: null, hosts: [],
                height: 0 };
  // Each etcd member's role, to label its box (RaftScope colours in the etcd panel).
  const etcdRole = new Map((snap.etcd || []).map((m) => [m.address, m]));
  const most = Math.max((snap.pending || []).length, ...nodes.map((n) => (n.pods || []).length));
  podH = most > COMPACT_ABOVE ? COMPACT_POD_H : POD_H;
  out.compact = podH !== POD_H;
  let y = M;

  // The API clients (kubectl, this dashboard, scripts) talk to the API server from outside.
  out.client = { x: M + PAD + 296, y, w: 240, h: CLIENT_H, addr: CLIENT_ADDR };
  // The cloud the cluster runs in (sim/cloud/), outside it like the clients: its API, which the
  // cloud-controller-manager calls, and its load balancers, whose health checks reach the nodes.
  if (snap.cloud) {
    const lbs = snap.cloud.loadBalancers || [];
    out.cloud = { x: W - M - PAD - 320, y, w: 320, h: CLIENT_H, addr: snap.cloud.address,
                  ips: lbs.map((lb) => lb.ip), count: Math.max(Number(snap.cloud.total) || 0, lbs.length) };
  }
  y += CLIENT_H + GAP;

  // Control plane: one full-width box per control-plane host (one today).  Components listed in
  // snapshot.control_plane go to the box of their host; a control plane with no matching node
  // entry still gets a box.
  const cpHosts = new Map();
  for (const n of cpNodes) cpHosts.set(n.name, { node: n, comps: [] });
  for (const c of snap.control_plane || []) {
    if (!cpHosts.has(c.host)) {
      cpHosts.set(c.host, { node: { name: c.host, role: "control-plane", alive: true,
                                    ready: "True", components: [], pods: [] }, comps: [] });
    }
    const m = c.name === "etcd" ? etcdRole.get(c.address) : null;
    cpHosts.get(c.host).comps.push({ ...c, kind: "cp", ...(m ? { label: `${m.name} · ${m.role}`, role: m.role } : {}) });
  }
  for (const { node, comps } of cpHosts.values()) {
    const innerW = W - 2 * M - 2 * PAD;
    const pods = node.pods || [];
    const grid = podGrid(innerW);
    const x0 = M + PAD;
    const y0 = y + HEADER;
    // Like the Kubernetes architecture diagram: the API server in the middle, the components
    // that watch it on its left, etcd behind it on its right, the node's own agents far right.
    const api = comps.filter((c) => c.name === "kube-apiserver");
    const store = comps.filter((c) => c.name === "etcd");
    const others = comps.filter((c) => c.name !== "kube-apiserver" && c.name !== "etcd");
    const agents = sortAgents(node.components || []).map((c) => ({ ...c, kind: "node" }));
    const rowsH = Math.max(2, others.length) * COMP_H + (Math.max(2, others.length) - 1) * 10;
    const colW = { others: 260, api: 240, store: 150 };
    let cx = x0;
    const put = (c, x, yy, w, h) => out.comps.push({ key: "comp:" + c.address, comp: c,
                                                      node: node.name, kind: c.kind, x, y: yy, w, h });
    if (others.length) {
      const h = (rowsH - (others.length - 1) * 10) / others.length;
      others.forEach((c, i) => put(c, cx, y0 + i * (h + 10), colW.others, h));
      cx += colW.others + 36;
    }
    api.forEach((c) => {
      put(c, cx, y0, colW.api, rowsH);
      out.client.x = cx;
      out.client.w = colW.api;
      cx += colW.api + 36;
    });
    store.forEach((c) => { put(c, cx, y0 + rowsH / 2 - COMP_H, colW.store, 2 * COMP_H); cx += colW.store + 36; });
    if (agents.length) {
      const left = x0 + innerW - cx;
      const aw = Math.min(130, (left - (agents.length - 1) * 8) / agents.length);
      const ax = x0 + innerW - agents.length * aw - (agents.length - 1) * 8;
      agents.forEach((c, i) => put(c, ax + i * (aw + 8), y0 + rowsH - COMP_H, aw, COMP_H));
      out.cpAgents = { x: ax, y: y0 + rowsH - COMP_H - 26, node: node.name };
    }
    const mode = podMode(snap, node);
    const shown = mode === "counts" ? (node.podTotal ?? 0) > 0 || countRows(node.podCounts).length > 0
      : mode === "chips" && pods.length > 0;
    const h = HEADER + rowsH + PAD + (shown ? podAreaHeight(snap, node, grid.cols) + PAD : 0);
    out.nodes.push({ key: "node:" + node.name, node, x: M, y, w: W - 2 * M, h, cp: true });
    if (mode === "chips") placePods(out, pods, node, x0, y0 + rowsH + PAD, grid);
    else if (shown) placeCounts(out, node, mode, x0, y0 + rowsH + PAD, innerW);
    y += h + GAP;
  }

  // External etcd: the members on hosts of their own (etcd-1..N), in one row under the control
  // plane.  Stacked members are drawn in their control-plane node's box above.
  const nodeNames = new Set(nodes.map((n) => n.name));
  const external = (snap.etcd || []).filter((m) => !nodeNames.has(m.host));
  if (external.length) {
    const innerW = W - 2 * M - 2 * PAD;
    const k = external.length;
    const cw = Math.min(200, (innerW - (k - 1) * 12) / k);
    const h = EXT_HEADER + COMP_H + PAD;
    out.etcdHosts = { x: M, y, w: W - 2 * M, h, count: k };
    external.forEach((m, i) => {
      out.comps.push({ key: "comp:" + m.address, kind: "etcd-ext", node: m.host,
                       comp: { name: "etcd", label: `${m.name} · ${m.role}`, address: m.address,
                               running: m.role !== "stopped", role: m.role },
                       x: M + PAD + i * (cw + 12), y: y + EXT_HEADER, w: cw, h: COMP_H });
      out.hosts.push({ host: m.host, x: M + PAD + i * (cw + 12), y: y + EXT_HEADER, w: cw, h: COMP_H });
    });
    y += h + GAP;
  }

  // The scheduling queue: pods with no node yet.
  const pending = snap.pending || [];
  {
    const innerW = W - 2 * M - 2 * PAD;
    const grid = podGrid(innerW);
    const h = QUEUE_HEADER + podsHeight(pending.length, grid.cols) + PAD;
    // A summarised snapshot lists the first pending pods and counts them all (pendingTotal).
    const total = Math.max(Number(snap.pendingTotal) || 0, pending.length);
    out.queue = { x: M, y, w: W - 2 * M, h, count: total, shown: pending.length };
    placePods(out, pending, null, M + PAD, y + QUEUE_HEADER, grid);
    y += h + GAP;
  }

  // Workers: up to four a row.
  if (workers.length) {
    const rows = Math.ceil(workers.length / 4);
    const cols = Math.ceil(workers.length / rows);
    const nw = (W - 2 * M - (cols - 1) * GAP) / cols;
    for (let r = 0; r < rows; r++) {
      const row = workers.slice(r * cols, (r + 1) * cols);
      const innerW = nw - 2 * PAD;
      const grid = podGrid(innerW);
      const rowH = Math.max(...row.map((n) => (
        HEADER + COMP_H + PAD + podAreaHeight(snap, n, grid.cols) + PAD)));
      row.forEach((node, i) => {
        const x = M + i * (nw + GAP);
        out.nodes.push({ key: "node:" + node.name, node, x, y, w: nw, h: rowH, cp: false });
        const comps = sortAgents(node.components || []);
        const k = Math.max(comps.length, 1);
        const cw = (innerW - (k - 1) * 8) / k;
        comps.forEach((c, j) => {
          out.comps.push({ key: "comp:" + c.address, comp: c, node: node.name, kind: "node",
                           x: x + PAD + j * (cw + 8), y: y + HEADER, w: cw, h: COMP_H });
        });
        const mode = podMode(snap, node);
        if (mode === "chips") placePods(out, node.pods || [], node, x + PAD, y + HEADER + COMP_H + PAD, grid);
        else placeCounts(out, node, mode, x + PAD, y + HEADER + COMP_H + PAD, innerW);
      });
      y += rowH + GAP;
    }
  }
  if (out.cpAgents) {
    const b = out.nodes.find((n) => n.cp && n.node.name === out.cpAgents.node);
    if (b) b.agentsAt = out.cpAgents;
  }
  out.height = y - GAP + M;
  // Left of the API clients' box, on the same row: requests typed in the console leave here.
  out.console = { x: out.client.x - 196, y: out.client.y, w: 180, h: CLIENT_H, addr: CONSOLE_ADDR };
  return out;
}

// The kubelet beside the runtime it drives, so their CRI calls stay short and visible.
// The node's runtime is containerd, CRI-O (crio) or Docker Engine behind cri-dockerd.
const AGENT_ORDER = { kubelet: 0, containerd: 1, crio: 1, "cri-dockerd": 1, "kube-proxy": 2 };
function sortAgents(comps) {
  return [...comps].sort((a, b) => (AGENT_ORDER[a.name] ?? 3) - (AGENT_ORDER[b.name] ?? 3));
}

function placeCounts(out, node, mode, x, y, w) {
  out.counts.push({ key: "counts:" + node.name, node, mode, x, y, w,
                    rows: mode === "counts" ? countRows(node.podCounts) : [],
                    total: mode === "counts" ? Number(node.podTotal ?? countRows(node.podCounts)
                      .reduce((a, [, n]) => a + n, 0)) : null });
}

function countsMarkup(c) {
  if (c.mode === "unlisted") {
    return `<text class="counts-none" x="${c.x}" y="${c.y + 17}">pods not listed in this update (too large to send)</text>`;
  }
  // The whole area takes the click (zoom into the node, dashboard.js), not just its marks.
  const areaH = COUNT_BAR + 10 + Math.max(1, c.rows.length) * COUNT_LINE;
  let s = `<rect class="counts-hit" x="${c.x}" y="${c.y}" width="${c.w}" height="${areaH}" fill="transparent"/>`;
  const total = c.rows.reduce((a, [, n]) => a + n, 0);
  // A bar split by phase: the share of each at a glance, from the back of a room.
  let bx = c.x;
  for (const [phase, n] of c.rows) {
    const bw = total ? (c.w * n) / total : 0;
    s += `<rect class="count-bar phase-${esc(phase)}" x="${bx.toFixed(1)}" y="${c.y}" width="${Math.max(bw, 0).toFixed(1)}" height="${COUNT_BAR}" rx="3"/>`;
    bx += bw;
  }
  if (!c.rows.length) {
    s += `<rect class="count-bar empty" x="${c.x}" y="${c.y}" width="${c.w}" height="${COUNT_BAR}" rx="3"/>`;
  }
  const text = c.rows.length ? null : "no pods";
  const y0 = c.y + COUNT_BAR + 10;
  if (text) {
    s += `<text class="counts-none" x="${c.x}" y="${y0 + 17}">${text}</text>`;
  }
  c.rows.forEach(([phase, n], i) => {
    const yy = y0 + i * COUNT_LINE;
    s += `<g class="count-row phase-${esc(phase)}" data-phase="${esc(phase)}" data-count="${n}">` +
         `<rect x="${c.x}" y="${yy + 4}" width="16" height="16" rx="4"/>` +
         `<text x="${c.x + 24}" y="${yy + 18}">${esc(fit(`${phase} ${fmtCount(n)}`, c.w - 24, 16))}</text></g>`;
  });
  s += `<title>${esc(c.node.name)}: ${fmtCount(c.total)} pod${c.total === 1 ? "" : "s"} — ${esc(countsText(c.node.podCounts))}` +
       ` (a cluster this large is drawn as counts per phase)</title>`;
  return s;
}

function placePods(out, pods, node, x0, y0, grid) {
  pods.forEach((pod, i) => {
    const c = i % grid.cols;
    const r = Math.floor(i / grid.cols);
    out.pods.push({ key: "pod:" + (pod.namespace || "default") + "/" + pod.name, pod,
                    node: node ? node.name : "", nodeAlive: node ? node.alive !== false : true,
                    x: x0 + c * (grid.w + POD_GAP), y: y0 + r * (podH + POD_GAP),
                    w: grid.w, h: podH });
  });
}

// -- rendering --------------------------------------------------------------------------------
function nodeMarkup(b) {
  const n = b.node;
  const st = nodeStatus(n);
  const title = b.cp ? `${n.name} · control plane` : n.name;
  const cap = n.cpu || n.memory ? `${n.cpu ?? "?"} CPU · ${n.memory ?? "?"}` : "";
  const badgeW = st.label.length * 9.5 + 20;
  let s = `<rect class="node-box" x="${b.x}" y="${b.y}" width="${b.w}" height="${b.h}" rx="12"/>`;
  const shownTitle = fit(title, b.w - badgeW - 40, 20);
  s += `<text class="node-title" x="${b.x + PAD}" y="${b.y + 30}">${esc(shownTitle)}</text>`;
  const taints = taintList(n);
  if (taints.length) {
    // A flag after the title: what keeps pods without a toleration off this node.
    const x = b.x + PAD + shownTitle.length * 20 * 0.6 + 10;
    const room = b.x + b.w - PAD - badgeW - 24 - x - (cap && b.w > 420 ? cap.length * 14 * 0.6 + 12 : 0);
    if (room > 30) {
      // Bold text runs wider than fit()'s average glyph: leave it some slack.
      s += `<text class="node-taint-flag" x="${x}" y="${b.y + 29}">${esc(fit("⚑ " + taints.join(", "), room * 0.85, 14))}<title>taints: ${esc(taints.join(", "))}</title></text>`;
    }
  }
  s += `<g class="node-badge ${st.cls}"><rect x="${b.x + b.w - PAD - badgeW}" y="${b.y + 11}" width="${badgeW}" height="26" rx="13"/>`;
  s += `<text x="${b.x + b.w - PAD - badgeW / 2}" y="${b.y + 29}" text-anchor="middle">${esc(st.label)}</text></g>`;
  if (cap && b.w > 420) {
    s += `<text class="node-cap" x="${b.x + b.w - PAD - badgeW - 12}" y="${b.y + 29}" text-anchor="end">${esc(cap)}</text>`;
  }
  if (b.agentsAt) {
    s += `<text class="agents-caption" x="${b.agentsAt.x}" y="${b.agentsAt.y + 16}">node agents on ${esc(n.name)}</text>`;
  }
  if (!n.alive) {
    s += `<line class="node-cross" x1="${b.x + 6}" y1="${b.y + 6}" x2="${b.x + b.w - 6}" y2="${b.y + b.h - 6}"/>`;
    s += `<line class="node-cross" x1="${b.x + b.w - 6}" y1="${b.y + 6}" x2="${b.x + 6}" y2="${b.y + b.h - 6}"/>`;
  }
  return s;
}

// "dedicated=gpu:NoSchedule", as kubectl describe node prints a taint.
function taintList(node) {
  return (node.taints || []).map((t) => `${t.key}${t.value ? "=" + t.value : ""}:${t.effect}`);
}

function compMarkup(c) {
  const standby = c.comp.running !== false && c.comp.leading === false;
  const label = (c.comp.label || c.comp.name) + (standby ? " · standby" : "");
  const fs = c.w < 92 ? 13 : 16;
  let s = `<rect x="${c.x}" y="${c.y}" width="${c.w}" height="${c.h}" rx="8"/>`;
  const cx = c.x + c.w / 2;
  const parts = label.split(" · ");
  if (fit(label, c.w - 8, fs) !== label && parts.length > 1 && c.h >= 2 * fs + 8) {
    // Too long for one line ("etcd-2 · follower", "kube-controller-manager · standby"):
    // the name on top, what it is doing under it, so neither is cut off.
    const sub = parts.slice(1).join(" · ");
    s += `<text x="${cx}" y="${c.y + c.h / 2 - 3}" text-anchor="middle" font-size="${fs}">${esc(fit(parts[0], c.w - 8, fs))}</text>`;
    s += `<text class="comp-sub" x="${cx}" y="${c.y + c.h / 2 + fs * 0.85}" text-anchor="middle" font-size="${fs - 3}">${esc(fit(sub, c.w - 8, fs - 3))}</text>`;
    return s;
  }
  s += `<text x="${cx}" y="${c.y + c.h / 2 + fs * 0.35}" text-anchor="middle" font-size="${fs}">${esc(fit(label, c.w - 8, fs))}</text>`;
  return s;
}

// A mark for each phase, drawn before the pod's name: the phase is never told by colour alone
// (a compact chip shows no phase text).  The legend shows the same marks (css/views.css).
export const PHASE_MARK = { Pending: "…", ContainerCreating: "◔", Running: "✓", Terminating: "⊘",
                            Failed: "✗", Succeeded: "★", Unknown: "?" };
export function phaseMark(phase, ready) {
  if (phase === "Running" && ready === false) return "○";  // running, not ready
  return PHASE_MARK[phase] || "?";
}

function podMarkup(p, phase) {
  const name = p.pod.name;
  // A preemptor waits in the queue with the node preemption made room on (status.nominatedNodeName).
  const nominated = !p.node && p.pod.nominated ? ` → ${p.pod.nominated}` : "";
  // The words are kubectl's STATUS when the server sent it (CrashLoopBackOff, Completed,
  // ImagePullBackOff, Init:0/1 ...); the colour stays the phase's.
  const words = p.pod.status && p.pod.status !== "Pending" ? p.pod.status : phase;
  const sub = words + (words === "Running" && p.pod.ready === false ? " · not ready" : "") + nominated;
  let s = `<rect width="${p.w}" height="${p.h}" rx="9"/>`;
  const mark = `<tspan class="pod-mark" aria-hidden="true">${esc(phaseMark(phase, p.pod.ready))}</tspan> `;
  if (p.h < POD_H) {
    s += `<text class="pod-name" x="8" y="${p.h / 2 + 5.5}">${mark}${esc(fit(name, p.w - 30, 16))}</text>`;
  } else {
    s += `<text class="pod-name" x="8" y="22">${mark}${esc(fit(name, p.w - 30, 16))}</text>`;
    s += `<text class="pod-phase" x="10" y="42">${esc(fit(sub, p.w - 16, 13))}</text>`;
  }
  s += `<title>${esc((p.pod.namespace || "default") + "/" + name)} — ${esc(sub)}${p.pod.ip ? " — " + esc(p.pod.ip) : ""}${p.node ? " on " + esc(p.node) : " (not scheduled)"}</title>`;
  return s;
}

function svgEl(tag, attrs = {}) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

export class Diagram {
  constructor(svg) {
    this.svg = svg;
    svg.innerHTML = "";
    this.layers = {};
    for (const name of ["nodes", "queue", "comps", "pods", "messages"]) {
      this.layers[name] = svg.appendChild(svgEl("g", { class: "layer-" + name }));
    }
    this.els = new Map();   // key -> {el, sig}
    this.rects = new Map(); // component address / host -> box
    this.snapshot = null;
    this.why = new Map();   // "ns/name" -> the scheduler's last FailedScheduling message
  }

  // Remember why pods are Pending (the scheduler's FailedScheduling events), to show in the
  // queue: "0/3 nodes are available: 3 Insufficient cpu."
  noteEvents(events) {
    for (const ev of events || []) {
      if (ev.kind !== "k8s-event" || !String(ev.object || "").startsWith("Pod/")) continue;
      const key = (ev.namespace || "default") + "/" + ev.object.slice(4);
      if (ev.reason === "FailedScheduling") this.why.set(key, ev.message || "");
      else if (ev.reason === "Scheduled") this.why.delete(key);
    }
  }

  get messageLayer() {
    return this.layers.messages;
  }

  // The box of a component address; falls back to its host's node box.
  rectOf(addr) {
    return this.rects.get(addr) || this.rects.get("host:" + String(addr).split("@").pop()) || null;
  }

  _keep(used, layer, key, tag, sig, build) {
    used.add(key);
    let rec = this.els.get(key);
    if (!rec) {
      const el = svgEl(tag);
      layer.appendChild(el);
      rec = { el, sig: null };
      this.els.set(key, rec);
    }
    if (rec.sig !== sig) {
      build(rec.el);
      rec.sig = sig;
    }
    return rec.el;
  }

  render(snap) {
    this.snapshot = snap;
    const L = layout(snap);
    const used = new Set();
    this.rects.clear();
    this.svg.setAttribute("viewBox", `0 0 ${W} ${Math.ceil(L.height)}`);

    for (const b of L.nodes) {
      const n = b.node;
      const sig = JSON.stringify([b.x, b.y, b.w, b.h, n.alive, n.ready, n.unschedulable, n.cpu, n.memory, b.agentsAt ? b.agentsAt.x : 0,
                                  taintList(n)]);
      this._keep(used, this.layers.nodes, b.key, "g", sig, (el) => {
        el.setAttribute("class", "node " + (b.cp ? "control-plane " : "worker ") + nodeStatus(n).cls);
        el.dataset.nodeName = n.name;
        el.dataset.role = n.role || "worker";
        el.dataset.alive = String(n.alive !== false);
        el.dataset.ready = n.ready ?? "";
        el.dataset.taints = taintList(n).join(",");
        el.setAttribute("data-addr", "host:" + n.name);
        el.innerHTML = nodeMarkup(b);
      });
      this.rects.set("host:" + n.name, b);
    }

    // The clients outside the cluster: kubectl and every other API client, and the page's console.
    for (const [key, cls, component, label, size] of [
      ["client", "component client", "kubectl", "kubectl · API clients", 16],
      ["console", "component client console-client", "console", "console (key k)", 15]]) {
      const c = L[key];
      if (!c) continue;
      const sig = JSON.stringify([c.x, c.y, c.w, c.h]);
      this._keep(used, this.layers.comps, key, "g", sig, (el) => {
        el.setAttribute("class", cls);
        el.setAttribute("data-addr", c.addr);
        el.dataset.component = component;
        el.innerHTML = `<rect x="${c.x}" y="${c.y}" width="${c.w}" height="${c.h}" rx="20"/>` +
          `<text x="${c.x + c.w / 2}" y="${c.y + c.h / 2 + 6}" text-anchor="middle" font-size="${size}">${label}</text>`;
      });
      this.rects.set(c.addr, c);
    }

    if (L.cloud) {
      const c = L.cloud;
      const label = c.count ? `cloud · load balancers: ${c.ips.join(", ")}` : "cloud · no load balancers";
      const sig = JSON.stringify([c.x, c.y, c.w, c.h, label]);
      this._keep(used, this.layers.comps, "cloud", "g", sig, (el) => {
        el.setAttribute("class", "component cloud");
        el.setAttribute("data-addr", c.addr);
        el.dataset.component = "cloud-api";
        el.dataset.loadBalancers = String(c.count);
        el.innerHTML = `<rect x="${c.x}" y="${c.y}" width="${c.w}" height="${c.h}" rx="20"/>` +
          `<text x="${c.x + c.w / 2}" y="${c.y + c.h / 2 + 6}" text-anchor="middle" font-size="15">` +
          `${esc(fit(label, c.w - 24, 15))}<title>${esc(label)}</title></text>`;
      });
      this.rects.set(c.addr, c);
    }

    if (L.queue) {
      const q = L.queue;
      const pendingKeys = new Set((snap.pending || []).map((p) => (p.namespace || "default") + "/" + p.name));
      for (const k of [...this.why.keys()]) if (!pendingKeys.has(k)) this.why.delete(k);
      const whyKey = [...this.why.keys()].pop();
      const note = whyKey ? `${whyKey.split("/").pop()}: ${this.why.get(whyKey)}` : "";
      const sig = JSON.stringify([q.x, q.y, q.w, q.h, q.count, q.shown, note]);
      this._keep(used, this.layers.queue, "queue", "g", sig, (el) => {
        el.setAttribute("class", "pending-queue");
        el.id = "pending-queue";
        el.dataset.count = String(q.count);
        el.dataset.shown = String(q.shown);
        el.dataset.why = note;
        const partial = q.shown < q.count ? ` — first ${fmtCount(q.shown)} of ${fmtCount(q.count)} shown` : "";
        el.innerHTML =
          `<rect x="${q.x}" y="${q.y}" width="${q.w}" height="${q.h}" rx="12"/>` +
          `<text class="queue-title" x="${q.x + PAD}" y="${q.y + 24}">Scheduling queue — pods waiting for a node (${fmtCount(q.count)})${partial}</text>` +
          (note ? `<text class="queue-why" x="${q.x + q.w - PAD}" y="${q.y + 24}" text-anchor="end">${esc(fit(note, q.w - 520, 15))}<title>${esc(note)}</title></text>` : "") +
          (q.count ? "" : `<text class="queue-empty" x="${q.x + PAD}" y="${q.y + QUEUE_HEADER + 30}">empty: every pod has a node</text>`);
      });
    }

    if (L.etcdHosts) {
      const b = L.etcdHosts;
      const sig = JSON.stringify([b.x, b.y, b.w, b.h, b.count]);
      this._keep(used, this.layers.nodes, "etcd-hosts", "g", sig, (el) => {
        el.setAttribute("class", "etcd-hosts");
        el.id = "etcd-hosts";
        el.dataset.count = String(b.count);
        el.innerHTML = `<rect x="${b.x}" y="${b.y}" width="${b.w}" height="${b.h}" rx="12"/>` +
          `<text class="queue-title" x="${b.x + PAD}" y="${b.y + 26}">External etcd cluster — ${b.count} member${b.count === 1 ? "" : "s"} on hosts of their own; kube-apiserver talks to them over the network</text>`;
      });
    }
    for (const h of L.hosts) this.rects.set("host:" + h.host, h);

    for (const c of L.comps) {
      const sig = JSON.stringify([c.x, c.y, c.w, c.h, c.comp.running, c.comp.name, c.comp.label || "",
                                  c.comp.leading]);
      this._keep(used, this.layers.comps, c.key, "g", sig, (el) => {
        const running = c.comp.running !== false;
        // kube-scheduler / kube-controller-manager without their Lease wait on standby.
        const standby = running && c.comp.leading === false;
        el.setAttribute("class", `component ${c.kind} ${running ? "running" : "stopped"} comp-${c.comp.name}` +
          (c.comp.role ? ` etcd-${c.comp.role}` : "") + (standby ? " standby" : ""));
        el.dataset.leading = String(c.comp.leading === true);
        el.setAttribute("data-addr", c.comp.address);
        el.dataset.component = c.comp.name;
        el.dataset.node = c.node;
        el.dataset.running = String(running);
        el.innerHTML = compMarkup(c);
      });
      this.rects.set(c.comp.address, c);
    }

    for (const c of L.counts) {
      const sig = JSON.stringify([c.x, c.y, c.w, c.mode, c.rows, c.total]);
      this._keep(used, this.layers.pods, c.key, "g", sig, (el) => {
        el.setAttribute("class", "pod-counts" + (c.node.alive === false ? " on-dead-node" : ""));
        el.dataset.node = c.node.name;
        el.dataset.mode = c.mode;
        el.dataset.total = c.total == null ? "" : String(c.total);
        el.dataset.counts = JSON.stringify(Object.fromEntries(c.rows));
        el.dataset.text = c.mode === "counts" ? countsText(c.node.podCounts) : "";
        if (c.mode === "counts") {
          el.setAttribute("tabindex", "0");
          el.setAttribute("role", "button");
          el.setAttribute("aria-label", `${c.node.name}: ${countsText(c.node.podCounts)}. Zoom in to see each pod.`);
        }
        el.innerHTML = countsMarkup(c);
      });
    }

    for (const p of L.pods) {
      const phase = displayPhase(p.pod, !!p.node);
      const sig = JSON.stringify([p.w, p.h, phase, p.pod.status, p.pod.ready, p.pod.ip, p.node, p.nodeAlive,
                                  p.pod.nominated]);
      const el = this._keep(used, this.layers.pods, p.key, "g", sig, (el) => {
        el.setAttribute("class", `pod phase-${phase}${p.nodeAlive ? "" : " on-dead-node"}`);
        el.dataset.pod = (p.pod.namespace || "default") + "/" + p.pod.name;
        el.dataset.name = p.pod.name;
        el.dataset.namespace = p.pod.namespace || "default";
        el.dataset.phase = phase;
        // kubectl's STATUS in full (the chip may shorten it to fit: "CrashLoopBack…").
        el.dataset.status = p.pod.status || phase;
        el.dataset.node = p.node;
        el.dataset.ready = String(!!p.pod.ready);
        el.dataset.owner = p.pod.owner || "";
        el.dataset.nominated = (!p.node && p.pod.nominated) || "";
        el.setAttribute("tabindex", "0");
        el.setAttribute("role", "button");
        el.innerHTML = podMarkup(p, phase);
      });
      const tr = `translate(${p.x.toFixed(1)}px, ${p.y.toFixed(1)}px)`;
      if (el.style.transform !== tr) {
        if (!el.style.transform) {
          // First placement: appear in place (no slide in from the origin).
          el.style.transition = "none";
          el.style.transform = tr;
          el.getBoundingClientRect();
          el.style.transition = "";
        } else {
          el.style.transform = tr;
        }
      }
    }

    for (const [key, rec] of this.els) {
      if (!used.has(key)) {
        rec.el.remove();
        this.els.delete(key);
      }
    }
    this.svg.dataset.pods = String(L.pods.length);
    this.svg.dataset.summarised = String(!!snap.summarised);
    this.svg.dataset.podTotal = String(snap.podTotal ?? L.pods.length);
    return L;
  }
}
