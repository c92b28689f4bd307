// workloads.js — the Workloads view: every Deployment with its ReplicaSets and their pods,
// bare ReplicaSets and ReplicationControllers, DaemonSets (one pod per node), StatefulSets (by
// ordinal), Jobs (completions), CronJobs (schedule, next run, their Jobs) and HPAs (current /
// target utilization, a replica graph).  Drawn from snapshot.workloads (sim/workloadview.py),
// which every frame's snapshot carries: a rollout is drawn as it happens, new pods coming up in
// the new ReplicaSet while the old one's terminate.  An owner of more than CHIPS_MAX pods comes
// as counts per state, and is drawn so.
//
// What the DOM exposes (tests rely on it):
//   #wl-body .wl-card   data-kind, data-namespace, data-name (+ data-replicas, data-paused,
//                       data-revision on a Deployment; data-current, data-desired on an HPA;
//                       data-succeeded, data-failed, data-active, data-state on a Job)
//   .wl-rs              a Deployment's ReplicaSet (or a bare one): data-rs, data-revision,
//                       data-hash, data-image, data-desired, data-current, data-ready,
//                       data-available, data-pods (its pods), data-newest ("true" for the
//                       Deployment's newest revision)
//   .wl-pod             one pod: data-pod (name), data-state (Pending, ContainerCreating,
//                       Running, Ready, Terminating, Succeeded, Failed), data-node, data-reason
//                       (a container's waiting reason: ImagePullBackOff, CrashLoopBackOff ...)
//   .wl-count           a state's count when the owner has too many pods to draw: data-state, data-n
//   .wl-bounds          a rollout's bounds: data-pods, data-max-pods, data-available,
//                       data-min-available; class "breach" when a bound is crossed
//   .wl-graph           an HPA's replica graph (SVG): data-points
//   .wl-load            the load generator's rate on a workload: data-rps (also the card's data-load)

const STATES = ["Pending", "ContainerCreating", "Running", "Ready", "Terminating", "Succeeded", "Failed"];
const SECTIONS = [
  ["deployments", "Deployments", "apps/v1: each keeps a ReplicaSet per pod template (revision), and rolls from the old to the new within maxSurge / maxUnavailable"],
  ["replicasets", "ReplicaSets", "not owned by a Deployment"],
  ["replicationcontrollers", "ReplicationControllers", "core/v1, the ReplicaSet's ancestor"],
  ["daemonsets", "DaemonSets", "one pod on each eligible node"],
  ["statefulsets", "StatefulSets", "stable names by ordinal, created and removed in order"],
  ["jobs", "Jobs", "pods that run to completion"],
  ["cronjobs", "CronJobs", "Jobs on a schedule"],
  ["hpas", "HorizontalPodAutoscalers", "replicas = ceil(current × metric / target)"],
];

// The header's census: "5 Deployments · 1 DaemonSet · 2 Jobs" (a kind with one is singular).
export function summaryText(totals) {
  const t = totals || {};
  return SECTIONS.filter(([k]) => t[k])
    .map(([k, title]) => `${t[k]} ${t[k] === 1 ? title.slice(0, -1) : title}`).join(" · ");
}

export function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => (
    { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

function ago(now, t) {
  if (t == null || now == null) return "never";
  const d = Math.round(now - t);
  return d >= 0 ? `${fmtDur(d)} ago` : `in ${fmtDur(-d)}`;
}

function fmtDur(s) {
  s = Math.max(0, Math.round(s));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

function shortName(name, owner) {
  // "web-7d9f8-abcde" in ReplicaSet "web-7d9f8" -> "abcde": the chip shows what tells pods apart.
  if (owner && name.startsWith(owner + "-")) return name.slice(owner.length + 1);
  return name;
}

function chipsHtml(entry, label) {
  if (Array.isArray(entry.chips)) {
    if (!entry.chips.length) return '<span class="wl-none">no pods</span>';
    return entry.chips.map((c) => {
      const text = label ? label(c) : c.name;
      const title = `${c.name}: ${c.reason || c.state}${c.node ? ` on ${c.node}` : " (not scheduled)"}`;
      const why = c.reason ? ` <small class="wl-reason">${esc(c.reason)}</small>` : "";
      return `<span class="wl-pod st-${esc(c.state)}${c.reason ? " waiting" : ""}" data-pod="${esc(c.name)}" data-state="${esc(c.state)}" data-reason="${esc(c.reason || "")}" data-node="${esc(c.node || "")}" title="${esc(title)}">${esc(text)}${why}</span>`;
    }).join("");
  }
  // Too many pods to draw: their counts per state.
  const counts = entry.pods || {};
  const parts = STATES.filter((s) => counts[s]).map((s) =>
    `<span class="wl-count st-${s}" data-state="${s}" data-n="${counts[s]}" title="${counts[s]} ${s}">${s} ${Number(counts[s]).toLocaleString("en-US")}</span>`);
  return parts.join("") || '<span class="wl-none">no pods</span>';
}

function condHtml(conds) {
  if (!conds || !conds.length) return "";
  return '<div class="wl-conds">' + conds.map((c) =>
    `<span class="wl-cond cond-${esc(c.status)}" data-type="${esc(c.type)}" data-status="${esc(c.status)}" title="${esc(c.message || "")}">${esc(c.type)}${c.status === "True" ? "" : c.status === "False" ? " ✗" : " ?"}${c.reason ? ` <small>${esc(c.reason)}</small>` : ""}</span>`).join("") + "</div>";
}

function head(kind, w, badges) {
  const ns = w.namespace && w.namespace !== "default" ? `${esc(w.namespace)}/` : "";
  return `<header><span class="wl-kind">${esc(kind)}</span> <strong class="wl-name">${ns}${esc(w.name)}</strong>` +
    (w.deleting ? ' <span class="wl-badge deleting">deleting</span>' : "") +
    (badges || []).filter(Boolean).map((b) => ` <span class="wl-badge">${b}</span>`).join("") + "</header>";
}

function rsHtml(rs, { newest = false } = {}) {
  const pods = rs.podTotal ?? 0;
  const rev = rs.revision != null ? `<span class="wl-rev">rev ${rs.revision}</span>` : "";
  const hash = rs.hash ? ` <code class="wl-hash" title="pod-template-hash">${esc(rs.hash)}</code>` : "";
  return `<li class="wl-rs${newest ? " newest" : ""}${pods ? "" : " empty"}" data-rs="${esc(rs.name)}" data-revision="${rs.revision ?? ""}" ` +
    `data-hash="${esc(rs.hash || "")}" data-image="${esc((rs.images || []).join(","))}" data-desired="${rs.desired}" ` +
    `data-current="${rs.current}" data-ready="${rs.ready}" data-available="${rs.available}" data-pods="${pods}" data-newest="${newest}">` +
    `<div class="wl-rs-head">${rev} <span class="wl-rs-name">${esc(rs.name)}</span>${hash} <span class="wl-img">${esc((rs.images || []).join(", "))}</span>` +
    ` <span class="wl-nums">desired ${rs.desired} · current ${rs.current} · ready ${rs.ready}</span></div>` +
    `<div class="wl-chips">${chipsHtml(rs, (c) => shortName(c.name, rs.name))}</div></li>`;
}

function deploymentHtml(d) {
  const st = d.status || {};
  // Pods that count against maxSurge: the ReplicaSets' replicas (terminating pods are not counted,
  // as the controller counts them).  Available: status.availableReplicas.
  const podsNow = (d.replicasets || []).reduce((n, r) => n + (r.current || 0), 0);
  // Beyond maxPods is a breach of the strategy; fewer available than minAvailable happens
  // while pods start (a new Deployment, a killed node), so it is shown, not called a breach.
  const breach = podsNow > d.maxPods;
  const under = st.available < d.minAvailable;
  const bounds = d.strategy === "Recreate"
    ? `<div class="wl-bounds" data-pods="${podsNow}" data-max-pods="${d.maxPods}" data-available="${st.available}" data-min-available="0">Recreate: every old pod goes before the first new one comes · ${podsNow} pods</div>`
    : `<div class="wl-bounds${breach ? " breach" : ""}${under ? " under" : ""}" data-pods="${podsNow}" data-max-pods="${d.maxPods}" data-available="${st.available}" data-min-available="${d.minAvailable}">` +
      `<span title="the ReplicaSets' pods may reach replicas + maxSurge">pods <b>${podsNow}</b> ≤ ${d.maxPods} <small>(${d.replicas} + maxSurge ${d.maxSurge})</small></span> · ` +
      `<span title="available pods stay at or above replicas − maxUnavailable">available <b>${st.available}</b> ≥ ${d.minAvailable} <small>(${d.replicas} − maxUnavailable ${d.maxUnavailable})</small></span></div>`;
  const rss = d.replicasets || [];
  const newestRev = rss.length ? rss[0].revision : null;
  return head("Deployment", d, [esc(d.strategy), d.paused ? "paused" : "", d.revision ? `revision ${esc(d.revision)}` : ""]) +
    `<div class="wl-stats">replicas ${d.replicas} · updated ${st.updated} · ready ${st.ready} · available ${st.available}` +
    (st.unavailable ? ` · unavailable ${st.unavailable}` : "") + ` · <span class="wl-img">${esc((d.images || []).join(", "))}</span></div>` +
    bounds + condHtml(d.conditions) +
    `<ul class="wl-rss">${rss.map((r) => rsHtml(r, { newest: r.revision === newestRev && newestRev != null })).join("") || '<li class="wl-none">no ReplicaSet yet</li>'}</ul>`;
}

function daemonsetHtml(d) {
  return head("DaemonSet", d, [esc(d.strategy)]) +
    `<div class="wl-stats">desired ${d.desired} · current ${d.current} · ready ${d.ready} · up-to-date ${d.updated} · available ${d.available}` +
    (d.misscheduled ? ` · misscheduled ${d.misscheduled}` : "") + ` · <span class="wl-img">${esc((d.images || []).join(", "))}</span></div>` +
    `<div class="wl-chips per-node">${chipsHtml(d, (c) => c.node || "(unscheduled)")}</div>`;
}

function statefulsetHtml(s) {
  const part = s.strategy === "RollingUpdate" && s.partition ? `partition ${s.partition}` : "";
  const rev = s.updateRevision && s.updateRevision !== s.currentRevision
    ? `<div class="wl-stats">rolling from <code>${esc(s.currentRevision)}</code> to <code>${esc(s.updateRevision)}</code></div>` : "";
  return head("StatefulSet", s, [esc(s.podManagementPolicy), esc(s.strategy), part]) +
    `<div class="wl-stats">replicas ${s.replicas} · ready ${s.ready} · current ${s.current} · updated ${s.updated} · <span class="wl-img">${esc((s.images || []).join(", "))}</span></div>` +
    rev + `<div class="wl-chips ordinals">${chipsHtml(s, (c) => c.name)}</div>`;
}

function jobHtml(j, now) {
  const want = j.completions == null ? "any" : j.completions;
  const dur = j.startTime != null ? ` · ran ${fmtDur((j.completionTime ?? now) - j.startTime)}` : "";
  return head("Job", j, [`<span class="wl-state st-job-${esc(j.state)}">${esc(j.state)}</span>`, j.owner ? `from ${esc(j.owner)}` : "",
    j.completionMode === "Indexed" ? "Indexed" : ""]) +
    `<div class="wl-stats"><b>${j.succeeded}</b>/${want} succeeded · ${j.failed} failed · ${j.active} active · parallelism ${j.parallelism}` +
    (j.backoffLimit != null ? ` · backoffLimit ${j.backoffLimit}` : "") + dur + "</div>" +
    condHtml(j.conditions) + `<div class="wl-chips">${chipsHtml(j, (c) => shortName(c.name, j.name))}</div>`;
}

function cronjobHtml(c, now) {
  const next = c.suspend ? "suspended" : c.nextRun != null ? `next run ${ago(now, c.nextRun)}` : "next run unknown";
  const jobs = (c.jobs || []).map((j) =>
    `<li class="wl-cj-job" data-job="${esc(j.name)}" data-state="${esc(j.state)}"><span class="wl-state st-job-${esc(j.state)}">${esc(j.state)}</span> ${esc(j.name)} <small>${j.succeeded} succeeded · ${j.failed} failed · ${j.active} active</small></li>`).join("");
  return head("CronJob", c, [`<code>${esc(c.schedule)}</code>`, c.timeZone ? esc(c.timeZone) : "", esc(c.concurrencyPolicy)]) +
    `<div class="wl-stats" data-next="${c.nextRun ?? ""}"><b>${esc(next)}</b> · last schedule ${ago(now, c.lastScheduleTime)}` +
    (c.lastSuccessfulTime != null ? ` · last success ${ago(now, c.lastSuccessfulTime)}` : "") +
    ` · active ${(c.active || []).length}</div>` +
    `<ul class="wl-cj-jobs">${jobs || '<li class="wl-none">no Jobs yet</li>'}</ul>` +
    (c.jobsTotal > (c.jobs || []).length ? `<div class="muted">and ${c.jobsTotal - c.jobs.length} older</div>` : "");
}

// An HPA's replicas over time: current (solid) and desired (dashed), min and max as guides.
export function graphSvg(h, now) {
  const pts = (h.series || []).slice();
  const W = 320, H = 90, L = 26, R = 6, T = 6, B = 16;
  if (!pts.length) return "";
  const t0 = pts[0][0];
  const t1 = Math.max(now ?? t0, pts[pts.length - 1][0], t0 + 60);
  const top = Math.max(h.max || 1, ...pts.map((p) => Math.max(p[1], p[2])), 1);
  const x = (t) => L + ((t - t0) / (t1 - t0)) * (W - L - R);
  const y = (v) => T + (1 - v / top) * (H - T - B);
  const step = (i) => {
    let d = "";
    pts.forEach((p, k) => {
      d += k === 0 ? `M${x(p[0]).toFixed(1)},${y(p[i]).toFixed(1)}` : `H${x(p[0]).toFixed(1)}V${y(p[i]).toFixed(1)}`;
    });
    return d + `H${x(t1).toFixed(1)}`;
  };
  const guide = (v, cls, label) => `<line class="${cls}" x1="${L}" x2="${W - R}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}"/>` +
    `<text class="wl-axis" x="${L - 3}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${label}</text>`;
  return `<svg class="wl-graph" viewBox="0 0 ${W} ${H}" role="img" data-points="${pts.length}" ` +
    `aria-label="replicas over the last ${fmtDur(t1 - t0)}: now ${h.current}, desired ${h.desired}">` +
    guide(h.max, "wl-guide max", h.max) + guide(h.min, "wl-guide min", h.min) +
    `<path class="wl-line desired" d="${step(2)}"/><path class="wl-line current" d="${step(1)}"/>` +
    `<text class="wl-axis" x="${L}" y="${H - 3}">${fmtDur(t1 - t0)} ago</text><text class="wl-axis" x="${W - R}" y="${H - 3}" text-anchor="end">now</text></svg>`;
}

function hpaHtml(h, now) {
  const target = h.target ? `${esc(h.target.kind)}/${esc(h.target.name)}` : "?";
  const metrics = (h.metrics || []).map((m) => {
    const unit = m.type === "Utilization" ? "%" : "";
    const cur = m.current == null ? "&lt;unknown&gt;" : `${esc(m.current)}${unit}`;
    const over = m.current != null && m.target != null && Number(m.current) > Number(m.target);
    return `<span class="wl-metric${over ? " over" : ""}" data-metric="${esc(m.name)}" data-current="${m.current ?? ""}" data-target="${m.target ?? ""}">${esc(m.name)} <b>${cur}</b> / ${esc(m.target)}${unit}</span>`;
  }).join(" · ") || '<span class="wl-none">no metrics</span>';
  return head("HorizontalPodAutoscaler", h, [`→ ${target}`]) +
    `<div class="wl-stats">${metrics} · replicas <b>${h.current}</b>${h.desired !== h.current ? ` → ${h.desired}` : ""} (min ${h.min}, max ${h.max})` +
    (h.lastScaleTime != null ? ` · last scaled ${ago(now, h.lastScaleTime)}` : "") + "</div>" +
    condHtml(h.conditions) + graphSvg(h, now) +
    '<div class="wl-graph-legend"><span class="key current"></span> current <span class="key desired"></span> desired</div>';
}

// The simulator's load generator, when it drives this workload (Set load).
function loadHtml(w) {
  const l = w.load;
  if (!l || !l.requestsPerSecond) return "";
  return `<div class="wl-load" data-rps="${l.requestsPerSecond}">load <b>${Number(l.requestsPerSecond).toLocaleString("en-US")} requests/s</b>` +
    ` to ${l.pods} ready pod${l.pods === 1 ? "" : "s"} · ${Number(l.answered).toLocaleString("en-US")} answered` +
    (l.failed ? ` · ${Number(l.failed).toLocaleString("en-US")} failed` : "") + "</div>";
}

function cardAttrs(kind, w) {
  const a = { kind, namespace: w.namespace || "", name: w.name, load: w.load?.requestsPerSecond ?? 0 };
  if (kind === "Deployment") Object.assign(a, { replicas: w.replicas, paused: w.paused, revision: w.revision ?? "" });
  if (kind === "StatefulSet") Object.assign(a, { replicas: w.replicas });
  if (kind === "ReplicaSet" || kind === "ReplicationController") Object.assign(a, { replicas: w.desired });
  if (kind === "HorizontalPodAutoscaler") Object.assign(a, { current: w.current, desired: w.desired });
  if (kind === "Job") Object.assign(a, { succeeded: w.succeeded, failed: w.failed, active: w.active, state: w.state });
  return a;
}

const RENDER = {
  deployments: ["Deployment", deploymentHtml],
  replicasets: ["ReplicaSet", (r) => head("ReplicaSet", r) + `<ul class="wl-rss">${rsHtml(r)}</ul>`],
  replicationcontrollers: ["ReplicationController", (r) => head("ReplicationController", r) + `<ul class="wl-rss">${rsHtml(r)}</ul>`],
  daemonsets: ["DaemonSet", daemonsetHtml],
  statefulsets: ["StatefulSet", statefulsetHtml],
  jobs: ["Job", jobHtml],
  cronjobs: ["CronJob", cronjobHtml],
  hpas: ["HorizontalPodAutoscaler", hpaHtml],
};

export class WorkloadsView {
  constructor(body, { onPick } = {}) {
    this.body = body;
    this.onPick = onPick || (() => {});
    this.sections = {};
    this.cards = new Map();   // "Kind/ns/name" -> element
    this.data = new Map();    // "Kind/ns/name" -> its entry
    this.selected = null;
    this.workloads = null;
    if (!body) return;
    for (const [key, title, hint] of SECTIONS) {
      const sec = document.createElement("section");
      sec.className = "wl-section";
      sec.dataset.section = key;
      sec.hidden = true;
      sec.innerHTML = `<h3>${esc(title)} <span class="wl-total"></span> <span class="muted">${esc(hint)}</span></h3><div class="wl-cards"></div>`;
      body.appendChild(sec);
      this.sections[key] = sec;
    }
    this.empty = document.createElement("p");
    this.empty.className = "wl-empty";
    this.empty.textContent = "No workloads yet: create a Deployment (or any other) with the form, or with kubectl.";
    body.appendChild(this.empty);
    body.addEventListener("click", (e) => {
      const card = e.target.closest(".wl-card");
      if (!card) return;
      const rs = e.target.closest(".wl-rs");
      this.pick(card.dataset.key, rs ? rs.dataset.revision : null);
    });
    body.addEventListener("keydown", (e) => {
      const card = e.target.closest?.(".wl-card");
      if (card && (e.key === "Enter" || e.key === " ") && e.target === card) {
        e.preventDefault();
        this.pick(card.dataset.key);
      }
    });
  }

  render(workloads) {
    if (!this.body || !workloads) return;  // a frame without it (too large): keep the last
    this.workloads = workloads;
    const now = workloads.now;
    const seen = new Set();
    let any = false;
    for (const [key] of SECTIONS) {
      const [kind, fn] = RENDER[key];
      const list = workloads[key] || [];
      const sec = this.sections[key];
      const total = (workloads.totals || {})[key] ?? list.length;
      sec.hidden = !list.length;
      any = any || list.length > 0;
      const tot = sec.querySelector(".wl-total");
      const totText = total > list.length ? `first ${list.length} of ${total}` : `${list.length}`;
      if (tot.textContent !== totText) tot.textContent = totText;
      const box = sec.querySelector(".wl-cards");
      let prev = null;
      for (const w of list) {
        const id = `${kind}/${w.namespace || ""}/${w.name}`;
        seen.add(id);
        this.data.set(id, { kind, ...w });
        const html = fn(w, now) + loadHtml(w);
        let el = this.cards.get(id);
        if (!el) {
          el = document.createElement("article");
          el.className = "wl-card";
          el.tabIndex = 0;
          el.dataset.key = id;
          this.cards.set(id, el);
        }
        if (el.dataset.html !== html) {
          el.innerHTML = html;
          el.dataset.html = html;
        }
        for (const [k, v] of Object.entries(cardAttrs(kind, w))) {
          if (el.dataset[k] !== String(v)) el.dataset[k] = String(v);
        }
        el.classList.toggle("selected", this.selected === id);
        // Keep the order of the frame, moving only what is out of place.
        const want = prev ? prev.nextSibling : box.firstChild;
        if (want !== el) box.insertBefore(el, want);
        prev = el;
      }
    }
    for (const [id, el] of this.cards) {
      if (!seen.has(id)) {
        el.remove();
        this.cards.delete(id);
        this.data.delete(id);
      }
    }
    this.empty.hidden = any;
    const summary = document.getElementById("wl-summary");
    if (summary) {
      const text = summaryText(workloads.totals);
      if (summary.textContent !== text) summary.textContent = text;
    }
    if (this.selected) this.onPick(this.data.get(this.selected) || null, { refresh: true });
  }

  pick(id, revision = null) {
    this.selected = id;
    for (const el of this.cards.values()) el.classList.toggle("selected", el.dataset.key === id);
    this.onPick(this.data.get(id) || null, { revision });
  }
}
