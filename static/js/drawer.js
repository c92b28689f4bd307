// drawer.js — the object drawer: one panel over every view of the cluster page that shows the
// Kubernetes object a user picked in any view, read through the cluster's own API as kubectl
// reads it (GET <data-read-url>: the server GETs the object and LISTs its Events by field
// selector on involvedObject, as `kubectl describe` does; cluster/objects.py read_object — the
// dashboard's reads, so a watcher of an owned cluster, whom the API refuses, reads too):
// `describe` (labels, annotations, owners, and what the kind says about itself), its Events,
// and its YAML (the Objects view's editor: dashboard:edit_get / edit_put swap #drawer-body).
// Delete is `kubectl delete`: a DELETE of the object's API path, as the page's own identity.
// Nothing shown is computed from the snapshot: a snapshot only says when to read again.
//
// Opened by double-click on an object, or Enter on a focused object, in any view (the view's
// own pick happens as well: a click's, Space's and Enter's), and by "Details" buttons
// ([data-drawer-ref]).  Escape or the close button closes it and gives the focus back to what
// opened it.
//
// What the DOM exposes (tests rely on it):
//   #object-drawer     hidden when closed; data-ref ("pods:default/web-1", "deployments.apps:
//                      default/web", "nodes:/worker-1"), data-state (loading | loaded | gone |
//                      error), data-kind, data-events (how many Events were read)
//   #drawer-describe   dl.drawer-dl rows (dt/dd, dd[data-field]); .drawer-labels li, .drawer-owners
//                      button[data-owner-kind]
//   #drawer-events     ol.pod-events li.event (poddetail.js's eventRows)
//   #drawer-body       the YAML editor (#drawer-yaml, #drawer-result)
//   document event "pilothouse:drawer" {detail: {ref}} when it opens (ref) or closes (null)

import { containerRows, eventRows } from "./poddetail.js";
import { esc } from "./workloads.js";

const REFRESH_MS = 2000;        // describe and events again at most this often while open
const ANNOTATION_MAX = 80;      // an annotation's value is cut here (last-applied-configuration is long)

// "resource[.group]:namespace/name" <-> {resource, namespace, name}
export function parseRef(text) {
  const m = /^([^:]+):([^/]*)\/(.+)$/.exec(String(text || ""));
  return m ? { resource: m[1], namespace: m[2], name: m[3] } : null;
}
export function refText(ref) {
  return `${ref.resource}:${ref.namespace || ""}/${ref.name}`;
}

// The object a DOM element stands for, in whichever view it is drawn; null for anything that is
// not a Kubernetes object (an etcd member, a component box).  A workload card names its kind,
// not its resource: the server resolves it (as kubectl's RESTMapper does).
export function refOf(el) {
  if (!el?.closest) return null;
  const split = (key, dflt = "default") => {
    const i = String(key).indexOf("/");
    return i < 0 ? { namespace: dflt, name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
  };
  let t;
  if ((t = el.closest("[data-drawer-ref]"))) return { el: t, ...parseRef(t.dataset.drawerRef) };
  if ((t = el.closest("#diagram .pod[data-pod]"))) return { el: t, resource: "pods", ...split(t.dataset.pod) };
  if ((t = el.closest("#diagram [data-node-name]"))) return { el: t, resource: "nodes", namespace: "", name: t.dataset.nodeName };
  if ((t = el.closest("#wl-body .wl-pod[data-pod]"))) {
    return { el: t, resource: "pods", namespace: t.closest(".wl-card")?.dataset.namespace || "default", name: t.dataset.pod };
  }
  if ((t = el.closest("#wl-body .wl-card[data-name]"))) {
    return { el: t, kind: t.dataset.kind, namespace: t.dataset.namespace || "default", name: t.dataset.name };
  }
  if ((t = el.closest("#network-panel .nv-svc[data-service]"))) return { el: t, resource: "services", ...split(t.dataset.service) };
  if ((t = el.closest("#network-panel .nv-pod[data-pod]"))) return { el: t, resource: "pods", ...split(t.dataset.pod) };
  if ((t = el.closest("#network-panel .nv-policy[data-policy]"))) {
    return { el: t, resource: "networkpolicies.networking.k8s.io", ...split(t.dataset.policy) };
  }
  if ((t = el.closest("#network-panel .nv-node[data-node]"))) return { el: t, resource: "nodes", namespace: "", name: t.dataset.node };
  if ((t = el.closest("#sched-queue li[data-pod]"))) return { el: t, resource: "pods", ...split(t.dataset.pod) };
  if ((t = el.closest("#objects-table tbody tr[data-name]"))) {
    return { el: t, resource: t.closest("table").dataset.resource, namespace: t.dataset.namespace || "", name: t.dataset.name };
  }
  return null;
}

// A view may redraw the element that opened the drawer (the scheduler's queue is rebuilt when
// its pick changes): the way to find it again, by its container and the attributes that say
// which object it is.
const IDENTITY = ["pod", "name", "namespace", "nodeName", "service", "policy", "node", "kind", "drawerRef"];
function finder(el) {
  if (!el?.tagName || !el.closest) return null;
  const scope = el.closest("[id]")?.id;
  const attrs = IDENTITY.filter((a) => el.dataset?.[a] !== undefined)
    .map((a) => `[data-${a.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}="${CSS.escape(el.dataset[a])}"]`).join("");
  if (!attrs) return null;
  const sel = `${el.tagName.toLowerCase()}${attrs}`;
  return () => ((scope && document.getElementById(scope)) || document).querySelector(sel);
}

function dl(rows) {
  const shown = rows.filter(([, v]) => v !== undefined && v !== null && v !== "");
  return `<dl class="drawer-dl">${shown.map(([k, v, field]) =>
    `<dt>${esc(k)}</dt><dd${field ? ` data-field="${esc(field)}"` : ""}>${esc(v)}</dd>`).join("")}</dl>`;
}

function list(cls, items, empty = "<none>") {
  return items.length ? `<ul class="${cls}">${items.map((t) => `<li>${esc(t)}</li>`).join("")}</ul>`
    : `<p class="muted">${esc(empty)}</p>`;
}

function cut(s, n = ANNOTATION_MAX) {
  const t = String(s ?? "");
  return t.length > n ? `${t.slice(0, n)}…` : t;
}

// What `kubectl describe` says that is particular to a kind: a pod's phase, node, IP,
// conditions and containers; a workload's replicas; a node's conditions, capacity and taints.
function kindSections(obj) {
  const kind = obj.kind, spec = obj.spec || {}, st = obj.status || {};
  let html = "";
  const conditions = (cs) => list("drawer-conditions", (cs || []).map((c) =>
    `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ""}${c.message ? `: ${c.message}` : ""}`));
  if (kind === "Pod") {
    html += dl([["Status", st.phase, "phase"], ["Node", spec.nodeName || "<none>", "node"],
                ["IP", st.podIP || "<none>", "ip"], ["QoS class", st.qosClass]]);
    html += `<h4>Conditions</h4>${conditions(st.conditions)}`;
    html += `<h4>Containers</h4><ul class="containers">${containerRows(st.initContainerStatuses, "init")}` +
      `${containerRows(st.containerStatuses, "")}</ul>`;
    if (!st.containerStatuses?.length) {
      html += list("drawer-containers", (spec.containers || []).map((c) => `${c.name} ${c.image}`));
    }
  } else if (kind === "Node") {
    html += dl([["Unschedulable", String(!!spec.unschedulable), "unschedulable"],
                ["Pod CIDR", spec.podCIDR], ["Addresses", (st.addresses || []).map((a) => `${a.type}=${a.address}`).join(", ")]]);
    html += `<h4>Conditions</h4>${conditions(st.conditions)}`;
    html += `<h4>Capacity</h4>${dl(Object.entries(st.capacity || {}).map(([k, v]) => [k, v, `capacity-${k}`]))}`;
    html += `<h4>Taints</h4>${list("drawer-taints", (spec.taints || []).map((t) =>
      `${t.key}${t.value ? `=${t.value}` : ""}:${t.effect}`))}`;
  } else if (kind === "DaemonSet") {
    html += dl([["Desired", st.desiredNumberScheduled ?? 0, "desired"], ["Current", st.currentNumberScheduled ?? 0],
                ["Ready", st.numberReady ?? 0, "ready"], ["Up-to-date", st.updatedNumberScheduled ?? 0],
                ["Available", st.numberAvailable ?? 0]]);
  } else if (kind === "Job") {
    html += dl([["Completions", spec.completions ?? "<unset>", "desired"], ["Parallelism", spec.parallelism],
                ["Active", st.active ?? 0], ["Succeeded", st.succeeded ?? 0, "ready"], ["Failed", st.failed ?? 0]]);
    html += `<h4>Conditions</h4>${conditions(st.conditions)}`;
  } else if (spec.replicas !== undefined || st.replicas !== undefined) {
    // Deployments, ReplicaSets, ReplicationControllers, StatefulSets (and a CRD with a scale).
    html += dl([["Replicas desired", spec.replicas ?? 1, "desired"], ["Current", st.replicas ?? 0],
                ["Ready", st.readyReplicas ?? 0, "ready"], ["Up-to-date", st.updatedReplicas],
                ["Available", st.availableReplicas ?? (kind === "StatefulSet" ? undefined : 0)]]);
    if (st.conditions) html += `<h4>Conditions</h4>${conditions(st.conditions)}`;
  } else if (kind === "Service") {
    html += dl([["Type", spec.type], ["ClusterIP", spec.clusterIP],
                ["Ports", (spec.ports || []).map((p) => `${p.name ? `${p.name} ` : ""}${p.port}/${p.protocol || "TCP"}` +
                  `${p.targetPort !== undefined ? ` → ${p.targetPort}` : ""}${p.nodePort ? ` (node ${p.nodePort})` : ""}`).join(", ")],
                ["Selector", Object.entries(spec.selector || {}).map(([k, v]) => `${k}=${v}`).join(",") || "<none>"]]);
  }
  return html;
}

export function describeHtml(obj) {
  const md = obj.metadata || {};
  const labels = Object.entries(md.labels || {}).map(([k, v]) => `${k}=${v}`);
  const annotations = Object.entries(md.annotations || {}).map(([k, v]) => `${k}: ${cut(v)}`);
  const owners = (md.ownerReferences || []).map((o) =>
    `<li><button type="button" class="drawer-owner linkish" data-owner-kind="${esc(o.kind)}" data-owner-api="${esc(o.apiVersion)}"` +
    ` data-owner-name="${esc(o.name)}" title="Open the owner in the drawer">${esc(o.kind)} ${esc(o.name)}</button>` +
    `${o.controller ? ' <span class="muted">(controller)</span>' : ""}</li>`).join("");
  const status = kindSections(obj);
  return dl([["Name", md.name, "name"], ["Namespace", md.namespace, "namespace"], ["Created", md.creationTimestamp],
             ["UID", md.uid]]) +
    `<h4>Labels</h4>${list("drawer-labels", labels)}` +
    `<h4>Annotations</h4>${list("drawer-annotations", annotations)}` +
    `<h4>Controlled by</h4>${owners ? `<ul class="drawer-owners">${owners}</ul>` : '<p class="muted">&lt;none&gt;</p>'}` +
    (status ? `<h4>Status</h4>${status}` : "");
}

export class ObjectDrawer {
  constructor(aside, { onShowInObjects = () => {} } = {}) {
    this.aside = aside;
    this.onShowInObjects = onShowInObjects;
    this.ref = null;          // {resource, namespace, name} once resolved
    this.data = null;         // the last read (cluster/objects.py read_object)
    this.opener = null;       // the element to give the focus back to
    this.loadedAt = 0;
    this.busy = false;
    if (!aside) return;
    const $ = (id) => document.getElementById(id);
    this.describeEl = $("drawer-describe");
    this.eventsEl = $("drawer-events");
    this.errorEl = $("drawer-error");
    $("drawer-close")?.addEventListener("click", () => this.close());
    $("drawer-show-objects")?.addEventListener("click", (e) => {
      if (!this.ref || e.ctrlKey || e.metaKey || e.shiftKey) return;
      e.preventDefault();
      this.onShowInObjects(this.ref);
    });
    $("drawer-delete")?.addEventListener("click", () => this.remove());
    aside.addEventListener("click", (e) => {
      const owner = e.target.closest?.("button.drawer-owner");
      if (owner) this.open({ kind: owner.dataset.ownerKind, apiVersion: owner.dataset.ownerApi,
                             namespace: this.ref?.namespace || "", name: owner.dataset.ownerName }, { opener: owner });
    });
    // A page without controls shows the YAML read-only, after each Reload's swap too.
    aside.addEventListener("htmx:afterSwap", () => {
      const yaml = $("drawer-yaml");
      if (yaml && !$("drawer-save")) yaml.readOnly = true;
    });
    this.wireOpeners();
  }

  get isOpen() {
    return !!this.aside && !this.aside.hidden;
  }

  // Double-click an object, or Enter on a focused one, in any view; a [data-drawer-ref] button.
  // The capture phase sees the key before a view's own handler takes it (that handler still
  // does its pick); the drawer opens after it, so the focus it takes is the last move.
  wireOpeners() {
    const later = (ref, opener) => setTimeout(() => this.open(ref, { opener }), 0);
    document.addEventListener("dblclick", (e) => {
      const ref = refOf(e.target);
      if (ref && !this.aside.contains(e.target)) later(ref, ref.el);
    });
    document.addEventListener("click", (e) => {
      const btn = e.target.closest?.("button[data-drawer-ref]");
      if (btn) later(refOf(btn), btn);
    });
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && this.isOpen) {
        e.stopPropagation();
        this.close();
        return;
      }
      if (e.key !== "Enter" || e.ctrlKey || e.metaKey || e.altKey) return;
      const ref = refOf(e.target);
      // Only the focused object itself: Enter on a button inside a card is the button's.
      if (ref && ref.el === e.target && !this.aside.contains(e.target)) later(ref, e.target);
    }, true);
  }

  // ref: {resource, namespace, name} or {kind[, apiVersion], namespace, name}, or its text.
  async open(ref, { opener = document.activeElement, focus = true } = {}) {
    if (!this.aside) return;
    if (typeof ref === "string") ref = parseRef(ref);
    if (!ref?.name) return;
    // Focus goes back to what opened it from outside (an owner opened inside keeps the first).
    if (!this.isOpen || (opener && !this.aside.contains(opener))) {
      this.opener = opener;
      this.findOpener = finder(opener);
    }
    this.aside.hidden = false;
    this.aside.dataset.state = "loading";
    this.aside.dataset.ref = "";
    this.setError("");
    const del = document.getElementById("drawer-delete-result");
    if (del) { del.textContent = ""; del.className = "result"; }
    if (focus) this.aside.focus();
    this.ref = ref;
    this.describeEl.textContent = "";
    this.eventsEl.textContent = "";
    this.describeEl.dataset.html = "";
    this.eventsEl.dataset.html = "";
    const data = await this.read(true);
    if (!data || this.ref !== ref) return;
    // From now on the object as the API named it (an owner opened by its kind has a resource).
    this.ref = ref = { resource: data.resource, namespace: data.namespaced ? (ref.namespace || "default") : "",
                       name: ref.name };
    this.aside.dataset.ref = refText(ref);
    const delBtn = document.getElementById("drawer-delete");
    if (delBtn) {
      delBtn.hidden = !data.verbs.includes("delete");
      delBtn.dataset.armed = "";
      delBtn.textContent = "Delete…";
    }
    this.loadYaml();
    this.aside.dataset.state = "loaded";
    document.dispatchEvent(new CustomEvent("pilothouse:drawer", { detail: { ref: refText(ref) } }));
  }

  close() {
    if (!this.isOpen) return;
    this.aside.hidden = true;
    this.aside.dataset.ref = "";
    this.ref = null;
    const back = this.opener?.isConnected ? this.opener : this.findOpener?.();
    this.opener = null;
    this.findOpener = null;
    document.dispatchEvent(new CustomEvent("pilothouse:drawer", { detail: { ref: null } }));
    // Back to what opened it, if it is still on the page (a pod deleted meanwhile is not).
    back?.focus();
  }

  // The YAML through the editor's own endpoint (its Reload button posts the hidden fields).
  loadYaml() {
    const set = (id, v) => { const el = document.getElementById(id); if (el) el.value = v; };
    set("drawer-f-kind", this.ref.resource);
    set("drawer-f-namespace", this.ref.namespace);
    set("drawer-f-name", this.ref.name);
    document.getElementById("drawer-reload")?.click();
  }

  // A new snapshot: something may have changed; read again, at most every REFRESH_MS.
  refresh() {
    if (!this.isOpen || !this.ref || this.busy || Date.now() - this.loadedAt < REFRESH_MS) return;
    this.read(false);
  }

  // One read of the object and its Events; the page's answer: data, or null (shown as an error).
  async read(first) {
    const ref = this.ref;
    this.busy = true;
    try {
      const q = new URLSearchParams({ kind: ref.resource || ref.kind, namespace: ref.namespace || "", name: ref.name });
      if (!ref.resource && ref.apiVersion) q.set("apiVersion", ref.apiVersion);
      const r = await fetch(`${this.aside.dataset.readUrl}?${q}`, { headers: { Accept: "application/json" }, cache: "no-store" });
      const data = await r.json().catch(() => null);
      if (this.ref !== ref) return null;  // another object was opened meanwhile
      if (!r.ok) {
        this.aside.dataset.state = r.status === 404 && !first ? "gone" : "error";
        this.setError(data?.message || `HTTP ${r.status}`);
        return null;
      }
      this.setError("");
      this.data = data;
      this.show(data);
      if (!first) this.aside.dataset.state = "loaded";
      return data;
    } catch (err) {
      if (this.ref === ref) this.fail(String(err.message || err));
      return null;
    } finally {
      this.busy = false;
      this.loadedAt = Date.now();
    }
  }

  show(data) {
    const md = data.object?.metadata || {};
    this.aside.dataset.kind = data.kind;
    const text = (id, v) => { const el = document.getElementById(id); if (el && el.textContent !== v) el.textContent = v; };
    text("drawer-kind", data.kind);
    text("drawer-name", md.namespace ? `${md.namespace}/${md.name}` : String(md.name ?? ""));
    text("drawer-age", data.age ? `age ${data.age}` : "");
    const html = describeHtml(data.object || {});
    if (this.describeEl.dataset.html !== html) {
      this.describeEl.innerHTML = html;
      this.describeEl.dataset.html = html;
    }
    const events = data.events || [];
    this.aside.dataset.events = String(events.length);
    const ev = events.length ? `<ol class="pod-events">${eventRows(events)}</ol>` : '<p class="muted">&lt;none&gt;</p>';
    if (this.eventsEl.dataset.html !== ev) {
      this.eventsEl.innerHTML = ev;
      this.eventsEl.dataset.html = ev;
    }
  }

  // kubectl delete: a DELETE through the API; the Status it answers is shown as text.  The
  // first press arms the button, the second deletes (no modal dialog to lose the focus to).
  async remove() {
    const btn = document.getElementById("drawer-delete");
    const out = document.getElementById("drawer-delete-result");
    if (!btn || !this.ref) return;
    if (!btn.dataset.armed) {
      btn.dataset.armed = "true";
      btn.textContent = `Delete ${this.data?.kind || ""} ${this.ref.name}: sure?`;
      return;
    }
    btn.dataset.armed = "";
    btn.textContent = "Delete…";
    const ref = this.ref;
    const token = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    let ok = false, text;
    try {
      const r = await fetch(`${this.aside.dataset.api}/${this.data.path}`, { method: "DELETE", headers: { Accept: "application/json", "X-CSRFToken": token } });
      const body = await r.json().catch(() => null);
      ok = r.ok;
      text = ok ? `${this.data.kind.toLowerCase()} "${ref.name}" deleted` : (body?.message || `HTTP ${r.status}`);
    } catch (err) {
      text = String(err.message || err);
    }
    out.className = `result ${ok ? "ok" : "error"}`;
    out.textContent = text;
    if (ok) this.read(false);
  }

  setError(text) {
    if (!this.errorEl) return;
    this.errorEl.textContent = text;
    this.errorEl.className = text ? "result error" : "result";
  }

  fail(text) {
    this.aside.dataset.state = "error";
    this.setError(text);
  }
}
