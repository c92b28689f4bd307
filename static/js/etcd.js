// etcd.js — the etcd panel, in the tradition of RaftScope (raft.github.io): the members of the
// Raft group on a circle, each with its role (colour), term, vote, log length, commit and
// applied index, and its election timer running down as a ring around it; the Raft messages
// between members travel as dots (RequestVote, AppendEntries, heartbeats and their replies).
//
// Fed snapshot.etcd (sim/etcd/server.py EtcdMember.status) and snapshot.network with every
// frame, and the frame's "message"/"drop" trace events between etcd members.  The election timer
// is in Raft ticks (one tick = etcd's --heartbeat-interval, "etcdTick" in the frame); between
// frames it runs down client-side from the wall clock times the speed, so at 0.01x a 1 s
// election timeout takes 100 s and can be watched.
//
// Under the members, each one's Raft log as RaftScope draws it: one box per entry (the last 16
// a member reports, sim/etcd/server.py EtcdMember.log_tail), the term written in it and its
// colour picked by term; committed entries solid, uncommitted ones dashed, a bar after the
// commit index; a stopped member keeps its log on disk, so its boxes stay, greyed.  Columns are
// log indexes, shared by every row (the newest 16 indexes any member has), so entries at the
// same index line up; a member more than 16 entries behind shows its own last entries with
// their indexes, marked "behind".
//
// The snapshot controls (wireSnapshotControls): "Save snapshot" downloads
// GET .../sim/v1/etcd/snapshot as a JSON file; "Restore snapshot" posts a chosen file to
// .../etcd/snapshot/restore and shows the API's answer (its Status causes when refused).
//
// Membership (etcdctl member add / promote / remove): a learner - sent the log but without a
// vote - is drawn with a dashed outer ring and "learner" written before its role, in the circle's
// label, the table and the member picker; a member added but never started says "unstarted".
// The add form's host field suggests the nodes that run no member yet (renderHosts).
//
// What the DOM exposes (tests rely on it):
//   #etcd-svg .etcd-member  data-member, data-role, data-term, data-vote, data-leader,
//                           data-commit, data-applied, data-log, data-isolated, data-learner,
//                           data-started
//   #etcd-svg               data-leader (name or ""), data-term (the highest term)
//   .raft-msg               data-src, data-dst, data-type (one travelling Raft message)
//   #etcd-table tr[data-member]  the same numbers as text; data-learner, and a .learner-tag
//   #etcd-logs              data-lo, data-hi (the index columns shown)
//   #etcd-logs .log-row     data-member, data-role, data-last, data-commit, data-behind
//   .log-row .log-entry     data-index, data-term, data-kind (empty|put|delete|compact),
//                           data-key, data-committed ("true"/"false"), data-greyed
//   .log-row .commit-mark   data-commit: the bar after the member's commit index
//   #etcd-snapshot-result   class ok/error, data-code, data-reason after save or restore
import { stepDots } from "./messages.js";

const SVGNS = "http://www.w3.org/2000/svg";
const VIEW_W = 520;
const R = 40;              // member circle radius
const RING = 50;           // election timer ring radius
const RING_LEN = 2 * Math.PI * RING;
export const MAX_ACTIVE = 18;   // Raft messages on screen at once; the rest are counted, not queued
const MIN_MS = 700;
const MAX_MS = 3000;

// Raft message types (etcd raftpb names) -> what the panel calls them and their colour class.
const RAFT_LABELS = {
  MsgVote: ["RequestVote", "vote"],
  MsgVoteResp: ["vote reply", "vote reply"],
  MsgPreVote: ["PreVote", "vote"],
  MsgPreVoteResp: ["pre-vote reply", "vote reply"],
  MsgApp: ["AppendEntries", "app"],
  MsgAppResp: ["append reply", "app reply"],
  MsgHeartbeat: ["heartbeat", "heartbeat"],
  MsgHeartbeatResp: ["heartbeat reply", "heartbeat reply"],
  MsgTimeoutNow: ["TimeoutNow", "vote"],
  MsgSnap: ["snapshot", "app"],
  MsgProp: ["proposal", "other"],
  MsgReadIndex: ["ReadIndex", "other"],
  MsgReadIndexResp: ["ReadIndex reply", "other reply"],
};

// RaftScope's term colours (ColorBrewer Set2): an entry's box and its term.
export const TERM_COLORS = ["#66c2a5", "#fc8d62", "#8da0cb", "#e78ac3", "#a6d854", "#ffd92f"];
export const LOG_SLOTS = 16;    // entries per member: EtcdMember.LOG_TAIL

export function termColor(term) {
  const n = TERM_COLORS.length;
  return TERM_COLORS[(((Number(term) || 0) % n) + n) % n];
}

export function isRaftMessage(ev) {
  return (ev.kind === "message" || ev.kind === "drop") && /^etcd@/.test(ev.src || "") &&
    /^etcd@/.test(ev.dst || "");
}

export function raftLabel(type) {
  return (RAFT_LABELS[type] || [String(type || "?"), "other"])[0];
}

function raftClass(type) {
  return (RAFT_LABELS[type] || [null, "other"])[1];
}

// etcdctl's DB SIZE column: humanize.Bytes (base 1000: "20 kB", "1.2 MB").
export function formatBytes(n) {
  const units = ["B", "kB", "MB", "GB"];
  let v = Number(n) || 0;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return i === 0 ? `${v} B` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

function svgEl(tag, attrs = {}) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => (
    { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

// Members on a circle, the first at the top (RaftScope's layout); one member in the middle.
// The circle grows with the member count so that neighbours' labels never overprint; the
// viewBox follows it: {w, h, pts}.
export function geometry(n) {
  const top = RING + 34;      // room for the name above the top member
  const bottom = RING + 48;   // room for role and log lines below the lowest
  if (n <= 1) return { w: VIEW_W, h: top + bottom + 20, pts: [{ x: VIEW_W / 2, y: top + 10 }] };
  const r = n <= 3 ? 116 : n <= 5 ? 185 : 240;
  const w = Math.max(VIEW_W, 2 * r + 280);
  const angles = Array.from({ length: n }, (_, i) => -Math.PI / 2 + (2 * Math.PI * i) / n);
  const maxY = Math.max(...angles.map((a) => Math.sin(a))) * r;
  const cy = top + r;
  return { w, h: Math.ceil(top + r + maxY + bottom), pts: angles.map((a) => ({ x: w / 2 + r * Math.cos(a), y: cy + r * Math.sin(a) })) };
}

export function positions(n) {
  return geometry(n).pts;
}

// Which members are cut off: a member whose host is in a partition group with fewer than a
// majority of the members' hosts (hosts in no group reach everyone).
export function isolatedMembers(members, network) {
  const groups = (network && network.partition) || [];
  const out = new Set();
  if (!groups.length) return out;
  const groupOf = new Map();
  groups.forEach((g, i) => g.forEach((h) => groupOf.set(h, i)));
  const voters = members.filter((m) => !m.isLearner);  // a learner is in no quorum
  const quorum = Math.floor(voters.length / 2) + 1;
  for (const m of members) {
    const gi = groupOf.get(m.host);
    if (gi === undefined) continue;
    const reach = voters.filter((o) => {
      const go = groupOf.get(o.host);
      return go === undefined || go === gi;
    }).length;
    if (reach < quorum) out.add(m.name);
  }
  return out;
}

// Where each member's log entries go: the shared index window [lo, hi] (the newest LOG_SLOTS
// indexes any member has) and, per member, its entries with a column each.  A member whose
// newest entry is left of the window is "behind": its own entries fill the columns in order.
export function logLayout(members) {
  const last = (m) => {
    const log = m.log || [];
    return log.length ? log[log.length - 1].index : 0;
  };
  const hi = Math.max(0, ...members.map(last));
  const lo = Math.max(1, hi - LOG_SLOTS + 1);
  const rows = members.map((m) => {
    const log = (m.log || []).slice(-LOG_SLOTS);
    const behind = log.length > 0 && last(m) < lo;
    const entries = behind
      ? log.map((e, i) => ({ ...e, col: i }))
      : log.filter((e) => e.index >= lo).map((e) => ({ ...e, col: e.index - lo }));
    const commit = m.commitIndex ?? 0;
    // The commit bar sits after the column of the commit index, when that is on screen.
    let commitCol = null;
    if (entries.length) {
      const first = entries[0];
      const lastE = entries[entries.length - 1];
      if (commit >= first.index - 1 && commit <= lastE.index) commitCol = first.col + (commit - first.index) + 1;
    }
    return { name: m.name, role: m.role, last: last(m), commit, behind, entries, commitCol };
  });
  return { lo, hi, rows };
}

const LOG_LABEL_W = 72;
const LOG_BOX = 28;
const LOG_STEP = 32;
const LOG_ROW_H = 42;
const LOG_HEAD_H = 20;

export class EtcdPanel {
  constructor(svg, table, select, logs, hostList) {
    this.svg = svg;
    this.table = table;
    this.select = select;
    this.logs = logs || null;
    this.hostList = hostList || null;
    svg.innerHTML = "";
    this.linkLayer = svg.appendChild(svgEl("g", { class: "etcd-links" }));
    this.memberLayer = svg.appendChild(svgEl("g", { class: "etcd-members" }));
    this.msgLayer = svg.appendChild(svgEl("g", { class: "etcd-messages" }));
    this.members = [];
    this.els = new Map();        // name -> {g, ring, sig}
    this.pos = new Map();        // address -> {x, y}
    this.timers = new Map();     // name -> {elapsed, timeout, at}
    this.speed = 1;
    this.paused = false;
    this.tick = 0.1;
    this.active = [];
    this.skipped = 0;
    this.drawn = {};             // label -> count (tests read it)
    this.enabled = true;
    this.selected = null;        // the member picked for the actions
    this._loop = this._loop.bind(this);
    this._raf = null;
  }

  // One frame's (or a state's) snapshot and clock.
  render(snap, { speed, paused, tick } = {}) {
    if (speed != null) this.speed = speed;
    if (paused != null) this.paused = !!paused;
    if (tick) this.tick = tick;
    const members = (snap && snap.etcd) || [];
    this.members = members;
    this._hosts(snap, members);
    const isolated = isolatedMembers(members, snap && snap.network);
    const geo = geometry(members.length);
    const pos = geo.pts;
    const box = `0 0 ${geo.w} ${geo.h}`;
    if (this.svg.getAttribute("viewBox") !== box) this.svg.setAttribute("viewBox", box);
    const now = performance.now();
    const used = new Set();
    this.pos.clear();
    const leader = members.find((m) => m.role === "leader");
    const maxTerm = Math.max(0, ...members.map((m) => m.term || 0));
    this.svg.dataset.leader = leader ? leader.name : "";
    this.svg.dataset.term = String(maxTerm);
    this.svg.dataset.members = String(members.length);

    // Faint lines between every pair: the paths the messages take.
    const pairs = [];
    for (let i = 0; i < pos.length; i++) for (let j = i + 1; j < pos.length; j++) pairs.push([pos[i], pos[j]]);
    const linkSig = JSON.stringify(pairs);
    if (this.linkLayer.dataset.sig !== linkSig) {
      this.linkLayer.innerHTML = pairs.map(([a, b]) =>
        `<line x1="${a.x.toFixed(1)}" y1="${a.y.toFixed(1)}" x2="${b.x.toFixed(1)}" y2="${b.y.toFixed(1)}"/>`).join("");
      this.linkLayer.dataset.sig = linkSig;
    }

    members.forEach((m, i) => {
      const p = pos[i];
      this.pos.set(m.address, p);
      used.add(m.name);
      const iso = isolated.has(m.name);
      const sig = JSON.stringify([p.x, p.y, m.role, m.term, m.vote, m.leader, m.raftIndex, m.commitIndex,
                                  m.appliedIndex, iso, !!m.isLearner, m.started !== false]);
      let rec = this.els.get(m.name);
      if (!rec) {
        const g = svgEl("g", { tabindex: "0", role: "button" });
        this.memberLayer.appendChild(g);
        rec = { g, ring: null, sig: null };
        this.els.set(m.name, rec);
      }
      if (rec.sig !== sig) {
        this._build(rec, m, p, iso);
        rec.sig = sig;
      }
      if (m.role === "follower" || m.role === "candidate") {
        const t = this.timers.get(m.name);
        if (t && this.paused) t.at = now;  // a paused clock: the timer waits too
        // Keep the running estimate when the numbers did not change (a paused clock).
        if (!t || t.elapsed !== m.electionElapsed || t.timeout !== m.randomizedElectionTimeout) {
          this.timers.set(m.name, { elapsed: m.electionElapsed || 0, timeout: m.randomizedElectionTimeout || 10,
                                    at: now });
        }
      } else {
        this.timers.delete(m.name);
      }
    });
    for (const [name, rec] of this.els) {
      if (!used.has(name)) {
        rec.g.remove();
        this.els.delete(name);
        this.timers.delete(name);
      }
    }
    this._table(members, isolated);
    this._logs(members);
    this._select(members);
    this._drawTimers(now);
    if (!this._raf) this._raf = requestAnimationFrame(this._loop);
  }

  _build(rec, m, p, iso) {
    const g = rec.g;
    const learner = !!m.isLearner;
    const unstarted = m.started === false;
    g.setAttribute("class", `etcd-member role-${m.role}${iso ? " isolated" : ""}${learner ? " learner" : ""}` +
      `${this.selected === m.name ? " selected" : ""}`);
    g.dataset.learner = String(learner);
    g.dataset.started = String(!unstarted);
    g.dataset.member = m.name;
    g.dataset.role = m.role;
    g.dataset.term = String(m.term ?? 0);
    g.dataset.vote = m.vote || "";
    g.dataset.leader = m.leader || "";
    g.dataset.log = String(m.raftIndex ?? 0);
    g.dataset.commit = String(m.commitIndex ?? 0);
    g.dataset.applied = String(m.appliedIndex ?? 0);
    g.dataset.isolated = String(iso);
    g.setAttribute("data-addr", m.address);
    const x = p.x.toFixed(1);
    const y = p.y.toFixed(1);
    const role = (learner ? "LEARNER · " : "") + (unstarted ? "UNSTARTED" : m.role === "stopped" ? "STOPPED" : m.role);
    g.innerHTML =
      (learner ? `<circle class="learner-ring" cx="${x}" cy="${y}" r="${RING + 7}"/>` : "") +
      `<circle class="timer-track" cx="${x}" cy="${y}" r="${RING}"/>` +
      `<circle class="timer-ring" cx="${x}" cy="${y}" r="${RING}" transform="rotate(-90 ${x} ${y})" ` +
        `stroke-dasharray="${RING_LEN.toFixed(1)}" stroke-dashoffset="0"/>` +
      `<circle class="member-body" cx="${x}" cy="${y}" r="${R}"/>` +
      `<text class="member-term" x="${x}" y="${(p.y + 9).toFixed(1)}" text-anchor="middle">${esc(m.term ?? 0)}</text>` +
      `<text class="member-name" x="${x}" y="${(p.y - RING - 10).toFixed(1)}" text-anchor="middle">${esc(m.name)}` +
        `${iso ? " ✂" : ""}</text>` +
      `<text class="member-role" x="${x}" y="${(p.y + RING + 20).toFixed(1)}" text-anchor="middle">${esc(role)}` +
        `${m.vote && m.role !== "leader" && m.role !== "stopped" ? ` · voted ${esc(m.vote)}` : ""}</text>` +
      `<text class="member-log" x="${x}" y="${(p.y + RING + 38).toFixed(1)}" text-anchor="middle">` +
        `log ${esc(m.raftIndex ?? 0)} · commit ${esc(m.commitIndex ?? 0)} · applied ${esc(m.appliedIndex ?? 0)}</text>` +
      `<title>${esc(m.name)}${m.id ? ` (ID ${esc(m.id)})` : ""} on ${esc(m.host)}: ${esc(role)}` +
        `${learner ? " (a learner: it gets the log but has no vote and does not count for a commit)" : ""}` +
        `, term ${esc(m.term)}, vote ${esc(m.vote || "none")}, ` +
        `leader ${esc(m.leader || "none")}; log ${esc(m.raftIndex)}, commit ${esc(m.commitIndex)}, ` +
        `applied ${esc(m.appliedIndex)}; revision ${esc(m.revision)}${iso ? "; cut off from a majority" : ""}</title>`;
    rec.ring = g.querySelector(".timer-ring");
  }

  // The members' Raft logs as RaftScope's entry boxes (see the top of this file).
  _logs(members) {
    const svg = this.logs;
    if (!svg) return;
    const { lo, hi, rows } = logLayout(members);
    const sig = JSON.stringify([lo, hi, rows]);
    if (svg.dataset.sig === sig) return;
    svg.dataset.sig = sig;
    svg.dataset.lo = String(lo);
    svg.dataset.hi = String(hi);
    const w = LOG_LABEL_W + LOG_SLOTS * LOG_STEP + 6;
    const h = LOG_HEAD_H + Math.max(1, rows.length) * LOG_ROW_H + 4;
    svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
    const x0 = LOG_LABEL_W;
    const colX = (col) => x0 + col * LOG_STEP;
    let html = `<g class="log-indexes">`;
    if (hi > 0) {
      for (let i = lo; i <= hi; i++) {
        html += `<text x="${colX(i - lo) + LOG_BOX / 2}" y="${LOG_HEAD_H - 6}" text-anchor="middle">${i}</text>`;
      }
    }
    html += `<text class="log-axis" x="${x0 - 8}" y="${LOG_HEAD_H - 6}" text-anchor="end">index</text></g>`;
    rows.forEach((r, ri) => {
      const y = LOG_HEAD_H + ri * LOG_ROW_H + 4;
      const stopped = r.role === "stopped";
      html += `<g class="log-row role-${esc(r.role)}${r.behind ? " behind" : ""}" data-member="${esc(r.name)}" ` +
        `data-role="${esc(r.role)}" data-last="${r.last}" data-commit="${r.commit}" data-behind="${r.behind}">` +
        `<text class="log-name" x="${x0 - 8}" y="${y + (r.behind ? 11 : LOG_BOX / 2 + 5)}" text-anchor="end">${esc(r.name)}</text>` +
        (r.behind ? `<text class="log-behind" x="${x0 - 8}" y="${y + 26}" text-anchor="end">${hi - r.last} behind</text>` : "");
      for (let c = 0; c < LOG_SLOTS; c++) {
        html += `<rect class="log-slot" x="${colX(c)}" y="${y}" width="${LOG_BOX}" height="${LOG_BOX}" rx="3"/>`;
      }
      for (const e of r.entries) {
        const committed = e.index <= r.commit;
        const x = colX(e.col);
        const fill = stopped ? "#e2e8f0" : termColor(e.term);
        const what = e.kind === "empty" ? "empty entry (a new leader's first, §5.4.2)"
          : `${e.kind}${e.key ? " " + e.key : ""}`;
        html += `<g class="log-entry kind-${esc(e.kind)}${committed ? " committed" : " uncommitted"}` +
          `${stopped ? " greyed" : ""}" data-index="${e.index}" data-term="${e.term}" data-kind="${esc(e.kind)}" ` +
          `data-key="${esc(e.key || "")}" data-committed="${committed}" data-greyed="${stopped}">` +
          `<rect x="${x}" y="${y}" width="${LOG_BOX}" height="${LOG_BOX}" rx="3" fill="${fill}"` +
          `${committed ? "" : ' stroke-dasharray="4 3"'}/>` +
          `<text x="${x + LOG_BOX / 2}" y="${y + LOG_BOX / 2 + 5}" text-anchor="middle">${e.term}</text>` +
          (e.kind === "empty" ? `<circle class="empty-mark" cx="${x + LOG_BOX - 5}" cy="${y + 5}" r="2.5"/>` : "") +
          (r.behind ? `<text class="log-idx" x="${x + LOG_BOX / 2}" y="${y + LOG_BOX + 10}" text-anchor="middle">${e.index}</text>` : "") +
          `<title>${esc(r.name)}: index ${e.index}, term ${e.term}, ${esc(what)}; ` +
          `${committed ? "committed" : "not committed yet"}${stopped ? " (on the stopped member's disk)" : ""}</title></g>`;
      }
      if (r.commitCol !== null) {
        const cx = colX(r.commitCol) - (LOG_STEP - LOG_BOX) / 2;
        html += `<path class="commit-mark" data-commit="${r.commit}" d="M${cx - 3},${y - 3} H${cx} V${y + LOG_BOX + 3} H${cx - 3}">` +
          `<title>commit index ${r.commit}: the entries left of this bar are committed</title></path>`;
      }
      html += "</g>";
    });
    svg.innerHTML = html;
  }

  _table(members, isolated) {
    if (!this.table) return;
    const body = this.table.tBodies[0] || this.table.createTBody();
    const html = members.map((m) => {
      const timer = m.role === "follower" || m.role === "candidate"
        ? `${m.electionElapsed ?? 0}/${m.randomizedElectionTimeout ?? "?"}` : "—";
      const learner = m.isLearner ? ' <span class="learner-tag" title="a learner: sent the log, but no vote and no say in a commit">learner</span>' : "";
      const unstarted = m.started === false ? ' <span class="learner-tag" title="added, never started">unstarted</span>' : "";
      return `<tr data-member="${esc(m.name)}" data-role="${esc(m.role)}" data-learner="${!!m.isLearner}" class="role-${esc(m.role)}">` +
        `<th scope="row">${esc(m.name)}${learner}${unstarted}${isolated.has(m.name) ? ' <span class="cut" title="cut off from a majority">✂</span>' : ""}</th>` +
        `<td class="role">${esc(m.role)}</td><td>${esc(m.term ?? 0)}</td><td>${esc(m.vote || "—")}</td>` +
        `<td>${esc(m.raftIndex ?? 0)}</td><td>${esc(m.commitIndex ?? 0)}</td><td>${esc(m.appliedIndex ?? 0)}</td>` +
        `<td>${esc(m.revision ?? 0)}</td><td class="db-size">${esc(formatBytes(m.dbSize ?? 0))}</td>` +
        `<td title="election timer: ticks elapsed / randomized timeout">${esc(timer)}</td></tr>`;
    }).join("");
    if (body.dataset.html !== html) {
      body.innerHTML = html;
      body.dataset.html = html;
    }
  }

  _select(members) {
    const sel = this.select;
    if (!sel) return;
    const names = members.map((m) => m.name);
    if ([...sel.options].map((o) => o.value).join("\n") !== names.join("\n")) {
      const keep = sel.value;
      sel.textContent = "";
      for (const n of names) sel.add(new Option(n, n));
      if (names.includes(keep)) sel.value = keep;
    }
    for (const m of members) {
      const o = [...sel.options].find((x) => x.value === m.name);
      const text = `${m.name} (${m.isLearner ? "learner, " : ""}${m.started === false ? "unstarted" : m.role})`;
      if (o && o.textContent !== text) o.textContent = text;
    }
  }

  // The add form's host suggestions: the nodes that run no etcd member, then the next free
  // etcd-N for a host of its own (an external member).
  _hosts(snap, members) {
    const list = this.hostList;
    if (!list) return;
    const used = new Set(members.map((m) => m.host));
    const nodes = ((snap && snap.nodes) || []).map((n) => n.name).filter((n) => n && !used.has(n));
    let k = members.length + 1;
    while (used.has(`etcd-${k}`) || nodes.includes(`etcd-${k}`)) k++;
    const hosts = [`etcd-${k}`, ...nodes];
    const sig = hosts.join(",");
    if (list.dataset.sig === sig) return;
    list.dataset.sig = sig;
    list.innerHTML = hosts.map((h) => `<option value="${esc(h)}"></option>`).join("");
  }

  // The page lost the server (disconnected, not responding): show the timers as the server
  // last reported them rather than run them down on a guess (they would all read "election
  // now"); the next frame sets them again.
  freeze(on) {
    on = !!on;
    if (on === !!this.frozen) return;
    const now = performance.now();
    for (const t of this.timers.values()) t.at = now;
    this.frozen = on;
    if (on) this._drawTimers(now);
    if (!on && !this._raf) this._raf = requestAnimationFrame(this._loop);
  }

  // Election timers: the ring shows the time left before the member would start an election.
  _drawTimers(now) {
    const scale = this.paused || this.frozen ? 0 : this.speed / (this.tick || 0.1) / 1000;  // ticks per wall ms
    for (const [name, rec] of this.els) {
      if (!rec.ring) continue;
      const t = this.timers.get(name);
      if (!t) {
        rec.ring.setAttribute("stroke-dashoffset", "0");
        continue;
      }
      const elapsed = Math.min(t.timeout, t.elapsed + (now - t.at) * scale);
      const left = Math.max(0, 1 - elapsed / t.timeout);
      rec.ring.setAttribute("stroke-dashoffset", ((1 - left) * RING_LEN).toFixed(1));
      rec.g.dataset.timerLeft = left.toFixed(3);
    }
  }

  // The Raft messages of one frame.  Heartbeats arrive grouped ("count"); an election's messages
  // (votes, pre-votes, TimeoutNow: rare, and what the panel is about) take a slot even when all
  // are taken, from the oldest other dot; then appends and the rest; heartbeats last.
  play(events, speed) {
    if (!this.enabled) return;
    const hops = (events || []).filter(isRaftMessage);
    if (!hops.length) return;
    const rank = (e) => raftClass(e.type).startsWith("vote") ? 0 : /Heartbeat/.test(e.type || "") ? 2 : 1;
    hops.sort((a, b) => (rank(a) - rank(b)) || ((a.t || 0) - (b.t || 0)));
    const t0 = Math.min(...hops.map((e) => e.t || 0));
    const now = performance.now();
    speed = speed > 0 ? speed : 1;
    for (const ev of hops) {
      const a = this.pos.get(ev.src);
      const b = this.pos.get(ev.dst);
      if (a && b && rank(ev) === 0 && this.active.length >= MAX_ACTIVE) {
        const i = this.active.findIndex((m) => !m.election);
        if (i >= 0) this.active.splice(i, 1)[0].g.remove();
      }
      if (!a || !b || this.active.length >= (rank(ev) === 2 ? MAX_ACTIVE / 2 : MAX_ACTIVE)) {
        this.skipped++;
        continue;
      }
      const delay = Math.min(1000, Math.max(0, ((ev.t || t0) - t0) / speed * 1000));
      const flight = ev.arrive != null && ev.t != null ? (ev.arrive - ev.t) / speed * 1000 : 0;
      this._spawn(ev, a, b, now + delay, Math.min(MAX_MS, Math.max(MIN_MS, flight)));
    }
    this.msgLayer.dataset.skipped = String(this.skipped);
    if (!this._raf) this._raf = requestAnimationFrame(this._loop);
  }

  clear() {
    for (const m of this.active) m.g.remove();
    this.active = [];
  }

  _spawn(ev, a, b, start, dur) {
    // From the edge of one circle to the edge of the other; replies run slightly offset so a
    // request and its reply do not overprint.
    const dx = b.x - a.x;
    const dy = b.y - a.y;
    const len = Math.hypot(dx, dy) || 1;
    const ux = dx / len;
    const uy = dy / len;
    const reply = /Resp$/.test(ev.type || "");
    const off = reply ? 7 : -7;
    const from = { x: a.x + ux * (RING + 4) - uy * off, y: a.y + uy * (RING + 4) + ux * off };
    const to = { x: b.x - ux * (RING + 4) - uy * off, y: b.y - uy * (RING + 4) + ux * off };
    const drop = ev.kind === "drop";
    const cls = drop ? "drop" : raftClass(ev.type).replace(" ", "-");
    const g = svgEl("g", { class: `raft-msg raft-${cls}` });
    g.dataset.src = ev.src;
    g.dataset.dst = ev.dst;
    g.dataset.type = ev.type || "";
    const dot = svgEl("circle", { r: reply ? "6" : "9", cx: from.x.toFixed(1), cy: from.y.toFixed(1) });
    g.append(dot);
    let label = null;
    if (!/Heartbeat/.test(ev.type || "") || this.active.length < 4) {
      label = svgEl("text", { class: "raft-label" });
      label.textContent = raftLabel(ev.type) + (ev.count > 1 ? ` ×${ev.count}` : "") + (drop ? " (lost)" : "");
      g.append(label);
    }
    g.style.opacity = "0";
    this.msgLayer.appendChild(g);
    this.active.push({ g, dot, label, from, to, start, dur, drop, dy: reply ? 18 : -12,
                       election: raftClass(ev.type).startsWith("vote") });
    const key = raftLabel(ev.type);
    this.drawn[key] = (this.drawn[key] || 0) + 1;
  }

  _loop(now) {
    const keep = stepDots(this.active, now, 0.2, 11, (m) => m.dy);
    this.active = keep;
    this.msgLayer.dataset.active = String(keep.length);
    this._drawTimers(now);
    // Keep running while a timer runs down or a message moves; the next frame restarts it.
    // With the animation off (the messages toggle, or a system asking for reduced motion) the
    // rings move only when a frame arrives, not 60 times a second: the run-down between frames
    // is motion too, and Chromium redrew the panel for it on every display frame.
    const timing = this.enabled && !this.paused && !this.frozen && this.timers.size > 0;
    this._raf = keep.length || timing ? requestAnimationFrame(this._loop) : null;
  }
}

// "Save snapshot" and "Restore snapshot" (etcdctl snapshot save / etcdutl snapshot restore)
// through the control API; `box` carries data-save-url, data-restore-url and data-cluster.
export function wireSnapshotControls(box) {
  if (!box) return;
  const result = box.querySelector(".result");
  const file = box.querySelector("input[type=file]");
  const saveBtn = box.querySelector("[data-snapshot=save]");
  const restoreBtn = box.querySelector("[data-snapshot=restore]");
  const show = (ok, html, { code, reason } = {}) => {
    result.className = `result ${ok ? "ok" : "error"}`;
    result.setAttribute("role", ok ? "status" : "alert");
    if (code) result.dataset.code = String(code); else delete result.dataset.code;
    if (reason) result.dataset.reason = reason; else delete result.dataset.reason;
    result.innerHTML = html;
  };
  const busy = (on) => {
    saveBtn.disabled = on;
    restoreBtn.disabled = on || !file.files.length;
  };
  // An error answer of the control API: a Kubernetes Status (restore) or {"error": {...}}.
  const refusal = async (what, r) => {
    let body = null;
    try {
      body = await r.json();
    } catch {
      body = null;
    }
    const err = (body && (body.kind === "Status" ? body : body.error)) || {};
    const code = err.code || r.status;
    const reason = err.reason || r.statusText || "Error";
    const causes = (body && body.details && body.details.causes) || [];
    let html = `<strong>${esc(what)} refused: ${esc(code)} ${esc(reason)}</strong>`;
    if (causes.length) {
      html += `<br>${esc(String(err.message || "").split(":")[0])}:<ul class="causes">` +
        causes.map((c) => `<li><code>${esc(c.field)}</code>: ${esc(c.message)}</li>`).join("") + "</ul>";
    } else {
      html += `<br>${esc(err.message || `HTTP ${r.status}`)}`;
    }
    show(false, html, { code, reason });
  };

  saveBtn.addEventListener("click", async () => {
    busy(true);
    try {
      const r = await fetch(box.dataset.saveUrl, { cache: "no-store", headers: { Accept: "application/json" } });
      if (!r.ok) return await refusal("Save", r);
      const text = await r.text();
      const snap = JSON.parse(text);
      const a = document.createElement("a");
      a.href = URL.createObjectURL(new Blob([text], { type: "application/json" }));
      a.download = `etcd-snapshot-${box.dataset.cluster || "cluster"}-rev${snap.revision}.json`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 60000);
      show(true, `Snapshot saved from ${esc(snap.member)}: revision ${esc(snap.revision)}, ` +
        `${esc((snap.kvs || []).length)} keys (<code>${esc(a.download)}</code>).`);
    } catch (e) {
      show(false, `Save failed: ${esc(e.message || e)}`);
    } finally {
      busy(false);
    }
  });

  file.addEventListener("change", () => busy(false));
  restoreBtn.addEventListener("click", async () => {
    const f = file.files[0];
    if (!f) return;
    busy(true);
    try {
      const text = await f.text();
      const r = await fetch(box.dataset.restoreUrl, { method: "POST", body: text,
                                                     headers: { "Content-Type": "application/json" } });
      if (!r.ok) return await refusal("Restore", r);
      const out = await r.json();
      show(true, `Restored <code>${esc(f.name)}</code>: revision ${esc(out.revision)}, ${esc(out.keys)} keys. ` +
        "Every member restarted as a new cluster from the snapshot, and kube-apiserver relisted.");
      file.value = "";
    } catch (e) {
      show(false, `Restore failed: ${esc(e.message || e)}`);
    } finally {
      busy(false);
    }
  });
}
