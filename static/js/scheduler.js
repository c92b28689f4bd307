// scheduler.js — kube-scheduler on the dashboard:
//
//   SchedulerPanel  the scheduling queue, live from each frame's snapshot.scheduler (active,
//                   backoff with the time left, unschedulable with the reason), and the picked
//                   pod's latest scheduling attempt from GET <api>/pods/<ns>/<name>
//                   (cluster/api/schedulerviews.py): nodes x plugins — the filter that rejected
//                   each node and why, each Score plugin's raw / normalized / weighted score, the
//                   total, the chosen node — and the one line "why this node?" / "why Pending?".
//   NodeEditor      the picked node's labels and taints in the Nodes form, loaded from the
//                   Kubernetes API (GET /clusters/<c>/api/v1/nodes/<n>) when the pick changes.
//   wireAddRows     "+ row" buttons of the pod / ReplicaSet forms' scheduling fields.
//
// What the DOM exposes (tests rely on it):
//   #sched-queue .sched-q[data-queue] li   data-pod, data-queue
//   #sched-explain   data-pod (picked "ns/name"), data-state ("loading" | "loaded" | "none" |
//                    "error"), data-result, data-node, data-attempt
//   #sched-why       the one-line answer;  #sched-table tbody tr: data-node, data-chosen,
//                    data-filter-plugin (the plugin that rejected the node, "" if it passed),
//                    data-total;  td[data-plugin][data-score=raw|normalized|weighted]
//   #node-edit-form  data-loaded (the node whose labels and taints the form shows)

import { esc } from "./diagram.js";

const QUEUES = ["active", "backoff", "unschedulable"];
// Kubernetes Events about a pod that mean the scheduler has tried it again.
const SCHEDULING_REASONS = new Set(["Scheduled", "FailedScheduling", "Preempted", "Preempting"]);

function secs(t) {
  const v = Math.max(0, Number(t) || 0);
  return v < 10 ? `${v.toFixed(1)} s` : `${Math.round(v)} s`;
}

export class SchedulerPanel {
  constructor(root, { onPick } = {}) {
    this.root = root;
    this.api = root?.dataset.api || "";
    this.queueEl = root?.querySelector("#sched-queue");
    this.explainEl = root?.querySelector("#sched-explain");
    this.summaryEl = root?.querySelector("#sched-summary");
    this.onPick = onPick || ((key) => this.select(key));
    this.selected = null;
    this.time = 0;
    this.queueSigs = {};
    this.podSig = null;     // what the snapshot says about the picked pod, to refetch on change
    this.dirty = false;
    this.inflight = null;
    this.record = null;
    this.queueEl?.addEventListener("click", (e) => {
      const li = e.target.closest("li[data-pod]");
      if (li) this.onPick(li.dataset.pod);
    });
    // A queued pod is focusable: Enter or Space picks it as a click does.
    this.queueEl?.addEventListener("keydown", (e) => {
      const li = e.target.closest?.("li[data-pod]");
      if (!li || (e.key !== "Enter" && e.key !== " ")) return;
      e.preventDefault();
      this.onPick(li.dataset.pod);
    });
  }

  // -- the queue ------------------------------------------------------------------------------
  render(snap) {
    // A frame too large to send whole drops the scheduler's queue: keep the last one shown.
    if (!this.root || !snap || (snap.summarised && !snap.scheduler)) return;
    this.time = Number(snap.time) || 0;
    const s = snap.scheduler || {};
    if (this.summaryEl) {
      const host = s.leader ? String(s.leader).split("@").pop() : null;
      this.summaryEl.textContent = host
        ? `leader on ${host} · ${s.active ?? 0} active · ${s.backoff ?? 0} backing off · ${s.unschedulable ?? 0} unschedulable`
        : "no leader: nothing is being scheduled";
    }
    const pods = s.pods || [];
    for (const q of QUEUES) this._renderQueue(q, pods.filter((p) => p.queue === q), s[q] ?? 0);
    if (this.selected) {
      const sig = JSON.stringify([podPlace(snap, this.selected), pods.find((p) => p.pod === this.selected) || null]);
      if (sig !== this.podSig) {
        this.podSig = sig;
        this.dirty = true;
      }
      if (this.dirty) this._fetch();
    }
  }

  _renderQueue(q, entries, count) {
    const box = this.queueEl?.querySelector(`.sched-q[data-queue="${q}"]`);
    if (!box) return;
    box.querySelector(".count").textContent = String(count);
    const ol = box.querySelector("ol");
    // Rebuilt only when the entries change (a click must not land on a replaced button); the
    // backoff's time left is updated in place every frame.
    const sig = JSON.stringify([entries.map((e) => [e.pod, e.priority, e.attempts, e.until, e.message]), count,
                                this.selected]);
    if (this.queueSigs[q] !== sig) {
      this.queueSigs[q] = sig;
      // A focused entry keeps the focus across the rebuild (a pod retried again, say), so that
      // the keyboard, and the object drawer giving the focus back, do not lose their place.
      const focused = ol.contains(document.activeElement) ? document.activeElement.closest("li[data-pod]") : null;
      const had = focused ? { pod: focused.dataset.pod, li: focused === document.activeElement } : null;
      ol.innerHTML = entries.map((e) => {
        const meta = `priority ${e.priority ?? 0} · attempt${e.attempts === 1 ? "" : "s"} ${e.attempts ?? 0}`;
        const extra = q === "backoff"
          ? ` <span class="q-left" data-until="${esc(e.until)}"></span>`
          : q === "unschedulable" && e.message ? `<span class="q-reason">${esc(e.message)}</span>` : "";
        return `<li data-pod="${esc(e.pod)}" data-queue="${q}" tabindex="0"${e.pod === this.selected ? ' class="selected"' : ""}>` +
          `<button type="button" title="Show the scheduler's last decision about ${esc(e.pod)}">` +
          `<span class="q-pod">${esc(e.pod)}</span><span class="q-meta">${esc(meta)}</span>${extra}</button></li>`;
      }).join("") +
        (count > entries.length ? `<li class="q-more">… and ${count - entries.length} more</li>` : "") +
        (count === 0 ? '<li class="q-empty">empty</li>' : "");
      const again = had && ol.querySelector(`li[data-pod="${CSS.escape(had.pod)}"]`);
      if (again) (had.li ? again : again.querySelector("button") || again).focus({ preventScroll: true });
    }
    for (const span of ol.querySelectorAll(".q-left")) {
      span.textContent = `${secs(Number(span.dataset.until) - this.time)} left`;
    }
  }

  // A frame's events: the scheduler tried the picked pod again (its Events, its trace event).
  noteEvents(events) {
    if (!this.selected) return;
    const [ns, name] = splitKey(this.selected);
    for (const ev of events || []) {
      if ((ev.kind === "schedule" && ev.pod === this.selected) ||
          (ev.kind === "k8s-event" && ev.object === `Pod/${name}` && (ev.namespace || "default") === ns &&
           SCHEDULING_REASONS.has(ev.reason))) {
        this.dirty = true;
      }
    }
  }

  // After a resync the page may have missed the events: ask again.
  invalidate() {
    if (this.selected) this.dirty = true;
  }

  // -- the decision ---------------------------------------------------------------------------
  select(key) {
    if (!key || !this.explainEl) return;
    if (key !== this.selected) {
      this.selected = key;
      this.record = null;
      this.podSig = null;
      this.queueSigs = {};  // redraw the queues' "selected" mark
      this.explainEl.dataset.pod = key;
      this.explainEl.dataset.state = "loading";
      delete this.explainEl.dataset.result;
      delete this.explainEl.dataset.node;
      this.explainEl.innerHTML = `<p class="explain-head"><strong>${esc(key)}</strong></p><p class="hint">asking kube-scheduler…</p>`;
      for (const li of this.queueEl?.querySelectorAll("li[data-pod]") || []) {
        li.classList.toggle("selected", li.dataset.pod === key);
      }
    }
    this.dirty = true;
    this._fetch();
  }

  _fetch() {
    if (this.inflight || !this.selected) return;
    const key = this.selected;
    const [ns, name] = splitKey(key);
    this.dirty = false;
    const url = `${this.api}/pods/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`;
    this.inflight = fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(async (r) => {
        const body = await r.json().catch(() => ({}));
        if (key !== this.selected) return;
        if (r.ok) this._show(body);
        else if (r.status === 404 && body.kind === "Status" && (body.details || {}).kind === "pods") this._none(key, body.message);
        else this._error(key, body.message || body.error?.message || `HTTP ${r.status}`);
      })
      .catch((e) => {
        if (key === this.selected) this._error(key, String(e));
      })
      .finally(() => {
        this.inflight = null;
        if (this.dirty && this.selected) this._fetch();
      });
  }

  _none(key, message) {
    const el = this.explainEl;
    el.dataset.state = "none";
    delete el.dataset.result;
    delete el.dataset.node;
    el.innerHTML = `<p class="explain-head"><strong>${esc(key)}</strong></p>` +
      `<p class="hint">${esc(message || "No scheduling attempt recorded for this pod yet.")}</p>`;
  }

  _error(key, message) {
    const el = this.explainEl;
    el.dataset.state = "error";
    el.innerHTML = `<p class="explain-head"><strong>${esc(key)}</strong></p><p class="result error" role="alert">${esc(message)}</p>`;
  }

  _show(rec) {
    this.record = rec;
    const el = this.explainEl;
    const scheduled = rec.result === "Scheduled";
    el.dataset.state = "loaded";
    el.dataset.result = rec.result || "";
    el.dataset.node = rec.node || "";
    el.dataset.attempt = String(rec.attempt ?? "");
    const outcome = scheduled ? `Scheduled on ${rec.node}`
      : rec.result === "Nominated" ? `Pending, nominated ${rec.nominatedNode || ""}` : rec.result === "SchedulerError" ? "Error" : "Pending";
    let html = `<p class="explain-head"><strong>${esc(rec.pod)}</strong>` +
      `<span class="result-badge result-${esc(rec.result)}">${esc(outcome)}</span> ` +
      `<span class="muted">attempt ${esc(rec.attempt)} at ${esc(Number(rec.time).toFixed(2))} s · profile ${esc(rec.profile)}</span></p>`;
    html += `<p class="why${scheduled ? "" : " pending"}" id="sched-why"><span class="why-q">${scheduled ? "Why this node?" : "Why Pending?"}</span> ${esc(rec.why)}</p>`;
    if (rec.message) html += `<p class="message">Event: <code>${esc(rec.message)}</code></p>`;
    const all = rec.numAllNodes ?? 0;
    html += `<p class="counts">${all} node${all === 1 ? "" : "s"} · ${rec.numEvaluated ?? 0} evaluated · ${rec.numFeasible ?? 0} passed the filters` +
      (rec.numEvaluated < all && !rec.prefilter
        ? " (the search stops once it has enough feasible nodes: percentageOfNodesToScore)" : "") + "</p>";
    if (rec.prefilter) {
      html += `<p class="note prefilter">PreFilter: ${esc(rec.prefilter.plugin)} rejected the pod before any node was looked at: ${esc((rec.prefilter.reasons || []).join("; "))}</p>`;
    }
    const rows = rec.nodes || [];
    if (rec.truncated) {
      html += `<p class="note truncated">Showing ${rows.length} of ${all} nodes: the chosen and best-scored first, then rejected ones (the record keeps at most 500 rows).</p>`;
    }
    html += `<div class="sched-table-wrap">${decisionTable(rec)}</div>`;
    if ((rec.skippedFilterPlugins || []).length) {
      html += `<p class="note">Skipped for this pod (nothing to check): ${esc(rec.skippedFilterPlugins.join(", "))}</p>`;
    }
    el.innerHTML = html;
  }
}

// The table of nodes x plugins.  Score columns come in threes: raw (what Score returned),
// normalized (after NormalizeScore, 0-100) and weighted (normalized x the profile's weight).
export function decisionTable(rec) {
  const plugins = rec.scorePlugins || [];
  let h = '<table class="sched-table" id="sched-table"><thead><tr><th rowspan="2" class="node-col">node</th>' +
    '<th rowspan="2" class="filter-col">filters</th>' +
    plugins.map((p) => `<th colspan="3" class="plugin" title="${esc(p.name)}, weight ${esc(p.weight)}">${esc(shortPlugin(p.name))} <span class="muted">×${esc(p.weight)}</span></th>`).join("") +
    '<th rowspan="2" class="total">total</th></tr><tr>' +
    plugins.map(() => '<th title="the plugin\'s Score">raw</th><th title="after NormalizeScore (0-100)">norm</th><th title="normalized × weight">×w</th>').join("") +
    "</tr></thead><tbody>";
  for (const n of rec.nodes || []) {
    const f = n.filter;
    const cls = n.chosen ? "chosen" : f ? "rejected" : n.name === rec.nominatedNode ? "nominated" : "feasible";
    h += `<tr class="${cls}" data-node="${esc(n.name)}" data-chosen="${n.chosen ? "true" : "false"}" ` +
      `data-filter-plugin="${esc(f ? f.plugin : "")}" data-total="${esc(n.total ?? "")}">` +
      `<td class="node-col">${esc(n.name)}</td>`;
    if (f) {
      // The reason spans the score columns: a rejected node is never scored.
      h += `<td class="filter-col rejected-reason" colspan="${1 + plugins.length * 3}" title="${esc(f.code)}">` +
        `<span class="filter-plugin">${esc(f.plugin)}</span>: ${esc((f.reasons || []).join("; "))}</td>`;
      h += '<td class="total"></td></tr>';
      continue;
    }
    h += '<td class="filter-col"><span class="passed">passed</span></td>';
    for (const p of plugins) {
      const s = (n.scores || {})[p.name];
      h += s
        ? `<td class="raw" data-plugin="${esc(p.name)}" data-score="raw">${esc(s.raw)}</td>` +
          `<td data-plugin="${esc(p.name)}" data-score="normalized">${esc(s.normalized)}</td>` +
          `<td class="weighted" data-plugin="${esc(p.name)}" data-score="weighted">${esc(s.weighted)}</td>`
        : '<td class="raw"></td><td></td><td></td>';
    }
    h += `<td class="total">${esc(n.total ?? "")}</td></tr>`;
  }
  return h + "</tbody></table>";
}

// "NodeResourcesBalancedAllocation" -> "Balanced Allocation": narrow enough for a column.
export function shortPlugin(name) {
  return String(name).replace(/^NodeResources/, "").replace(/([a-z])([A-Z])/g, "$1 $2");
}

function splitKey(key) {
  const i = String(key).indexOf("/");
  return i < 0 ? ["default", String(key)] : [key.slice(0, i), key.slice(i + 1)];
}

// Where the snapshot has the pod: its node and phase, or null while it is not in the snapshot.
function podPlace(snap, key) {
  const [ns, name] = splitKey(key);
  const match = (p) => p.name === name && (p.namespace || "default") === ns;
  for (const n of snap.nodes || []) {
    const p = (n.pods || []).find(match);
    if (p) return [n.name, p.phase];
  }
  const p = (snap.pending || []).find(match);
  return p ? ["", p.phase] : null;
}

// -- node labels and taints -------------------------------------------------------------------
export class NodeEditor {
  constructor(form, select) {
    this.form = form;
    this.select = select;
    this.base = form?.dataset.nodeUrl || "";
    this.loaded = null;
    this.loading = null;
    this.edited = false;
    form?.addEventListener("input", () => { this.edited = true; });
    // After a save, show what the API server stored.
    form?.addEventListener("htmx:afterRequest", (e) => {
      if (e.detail.successful && e.detail.elt === form) this.load(this.select.value);
    });
    select?.addEventListener("change", () => this.sync());
  }

  // Load the picked node when the pick changed (the select is also set by diagram clicks).
  sync() {
    const name = this.select?.value;
    if (this.form && name && name !== this.loaded && name !== this.loading) this.load(name);
  }

  async load(name) {
    this.loading = name;
    this.edited = false;
    delete this.form.dataset.loaded;
    let node = null;
    try {
      const r = await fetch(this.base + encodeURIComponent(name), { headers: { Accept: "application/json" }, cache: "no-store" });
      if (r.ok) node = await r.json();
    } catch {
      node = null;
    }
    if (this.loading !== name) return;  // the pick moved on meanwhile
    this.loading = null;
    this.loaded = name;
    if (node && !this.edited) {
      const labels = Object.entries((node.metadata || {}).labels || {}).sort(([a], [b]) => a.localeCompare(b));
      this.form.querySelector("[name=labels]").value = labels.map(([k, v]) => `${k}=${v}`).join("\n");
      this.form.querySelector("[name=taints]").value = ((node.spec || {}).taints || [])
        .map((t) => `${t.key}${t.value ? "=" + t.value : ""}:${t.effect}`).join("\n");
    }
    this.form.dataset.loaded = name;
  }
}

// -- "+ row" buttons --------------------------------------------------------------------------
export function wireAddRows(root) {
  root?.addEventListener("click", (e) => {
    const button = e.target.closest("[data-add-row]");
    if (!button) return;
    const group = button.closest(".sched-group");
    const first = group?.querySelector(".sched-row");
    if (!first) return;
    const row = first.cloneNode(true);
    for (const input of row.querySelectorAll("input")) input.value = input.defaultValue;
    for (const sel of row.querySelectorAll("select")) {
      const def = [...sel.options].findIndex((o) => o.defaultSelected);
      sel.selectedIndex = def < 0 ? 0 : def;
    }
    group.insertBefore(row, button);
    row.querySelector("input, select")?.focus();
  });
}
