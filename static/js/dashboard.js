// dashboard.js — wires the cluster page together: the embedded first state, the frame stream
// (frames.js) from the htmx WebSocket extension, the diagram (diagram.js), the travelling
// messages (messages.js), the event log (log.js) and the small bits of the controls that
// follow the state (clock, speed, node list, clicking a pod).
//
// What the DOM exposes (tests rely on it):
//   #dashboard        data-frame (last frame applied), data-resyncs, data-ignored, data-restarts,
//                     data-resyncing, data-ws ("open"/"closed"), data-time, data-speed, data-paused,
//                     data-status (the header badge: running, paused, disconnected, not responding,
//                     broken, deleted), data-pace (the last pace the server sent), data-deleted;
//                     class is-broken / is-deleted
//   #clock-state      the status badge (status.js); #pace-state the "falling behind" badge
//   #broken-panel     the repair panel of a cluster that could not be restored (repair.js)
//   #gone-panel       shown once the cluster was deleted
//   #initial-state    the JSON state the page was rendered with (frame N)
//   #diagram .node    data-node-name, data-role, data-alive, data-ready
//   [data-addr]       every component box: "kube-apiserver@cp-1", "kubelet@worker-1", ...
//   #diagram .pod     data-pod ("ns/name"), data-name, data-namespace, data-phase, data-node,
//                     data-ready, data-owner ("ReplicaSet/web")
//   #pending-queue    data-count, data-why
//   #event-log li     id "log-<frame>-<i>", data-frame
//   .msg              one travelling message: data-src, data-dst, data-type
//   #etcd-svg ...     the etcd panel (etcd.js documents its data attributes)
//   #scheduler-panel  the scheduler's queue and decisions (scheduler.js documents its attributes)
//   #dashboard        data-view: architecture, workloads, network, etcd, scheduler, objects or lessons
//                     (the view shown; keys a w t e s o l; views.js)
//   #diagram          data-zoom: the node zoomed into (aggregate.js), data-aggregated: the nodes
//                     drawn as counts per phase
//   #view-objects     the Objects view (objects.js documents its attributes)
//   body.big          the large-screen mode (#btn-big, ?big=1)
//   #workloads-panel  the Workloads view (workloads.js documents its attributes)
//   #network-panel    the Network view (network.js documents its attributes)
//   #console-panel    the kubectl console over any view (key k, /clusters/<c>/console; console.js)
//   #object-drawer    the object drawer over any view (double-click / Enter on an object; drawer.js)
//   window.pilothouse {stream, diagram, messages, etcd, scheduler, log, fetchState, networkView, ...}

import { loadPodDetail } from "./poddetail.js";
import { FrameStream } from "./frames.js";
import { Diagram } from "./diagram.js";
import { Messages } from "./messages.js";
import { EventLog, fmtTime } from "./log.js";
import { EtcdPanel, isRaftMessage, wireSnapshotControls } from "./etcd.js";
import { SchedulerPanel, NodeEditor, wireAddRows } from "./scheduler.js";
import { clusterStatus, paceWarning, STALE_MS } from "./status.js";
import { ClusterActions, BrokenPanel, wireClusterMenu } from "./repair.js";
import { ObjectsView } from "./objects.js";
import { Views, typing, clockShortcut, wireBigScreen } from "./views.js";
import { aggregate } from "./aggregate.js";
import { WorkloadsView } from "./workloads.js";
import { NetworkView } from "./network.js";
import { KubectlConsole } from "./console.js";
import { CommandBar } from "./commandbar.js";
import { KubeadmPanel } from "./kubeadm.js";
import { ObjectDrawer } from "./drawer.js";
import "./lessons.js";
import "./timeline.js";

const root = document.getElementById("dashboard");
const initial = JSON.parse(document.getElementById("initial-state").textContent);
const diagram = new Diagram(document.getElementById("diagram"));
const messages = new Messages(diagram.messageLayer, (addr) => diagram.rectOf(addr));
const log = new EventLog(document.getElementById("event-log"));
const etcd = new EtcdPanel(document.getElementById("etcd-svg"), document.getElementById("etcd-table"),
                           document.getElementById("etcd-member-select"), document.getElementById("etcd-logs"),
                           document.getElementById("etcd-member-hosts"));
wireSnapshotControls(document.getElementById("etcd-snapshot"));
// A pod picked in the scheduler's queue is picked as in the diagram (when it is drawn there).
const scheduler = new SchedulerPanel(document.getElementById("scheduler-panel"), { onPick: pickPod });
const nodeEditor = new NodeEditor(document.getElementById("node-edit-form"), document.getElementById("node-select"));
if (document.querySelector(".actions")) wireAddRows(document.querySelector(".actions"));
const objectsView = new ObjectsView(document.getElementById("view-objects"));
// -- the object drawer (drawer.js): over every view; "Show in Objects view" lists its kind there
// (setView is defined below; the callback runs only once the page is up.)
const drawer = document.getElementById("object-drawer")
  ? new ObjectDrawer(document.getElementById("object-drawer"), { onShowInObjects(ref) {
    setView("objects", { push: true });
    objectsView.reveal(ref.resource, ref.namespace, ref.name);
  } })
  : null;

let speed = initial.speed || 1;
let etcdTick = initial.etcdTick || 0.1;
let paused = !!initial.paused;
let pace = typeof initial.pace === "number" ? initial.pace : 1;
// What the header may claim (status.js): the WebSocket's state, when the server last sent
// anything, whether the cluster is broken (could not be restored) or deleted.
let wsState = "connecting";
let lastHeardAt = performance.now();
let broken = null;
let deleted = false;

function showStatus() {
  const since = performance.now() - lastHeardAt;
  // While the first connection is being made the page is as fresh as its render; only a
  // connection that does not come is "disconnected".
  const ws = wsState === "connecting" && since <= STALE_MS ? "open" : wsState;
  const st = clusterStatus({ deleted, broken, ws, paused, sinceFrameMs: since });
  const badge = document.getElementById("clock-state");
  if (badge.textContent !== st.label) badge.textContent = st.label;
  badge.className = "badge " + st.cls;
  badge.title = st.title;
  root.dataset.status = st.label;
  // Nothing on the page may look live when the server is not: the etcd timers hold.
  etcd.freeze(st.label !== "running" && st.label !== "paused");
  const pb = document.getElementById("pace-state");
  const warn = st.label === "running" ? paceWarning(pace, speed, { shown: pb ? !pb.hidden : false }) : null;
  if (pb) {
    pb.hidden = !warn;
    if (warn && pb.textContent !== warn.label) pb.textContent = warn.label;
    pb.title = warn ? warn.title : "";
  }
  root.dataset.pace = String(pace);
}
setInterval(showStatus, 500);

function showClock(s) {
  speed = s.speed ?? speed;
  paused = !!s.paused;
  if (typeof s.pace === "number") pace = s.pace;
  const time = s.time ?? s.snapshot?.time ?? 0;
  document.getElementById("clock-time").textContent = fmtTime(time);
  document.getElementById("clock-speed").textContent = `${Number(speed)}×`;
  showStatus();
  root.dataset.time = String(time);
  root.dataset.speed = String(speed);
  root.dataset.paused = String(paused);
  const sel = document.getElementById("speed-select");
  if (sel && document.activeElement !== sel) {
    const want = String(Number(speed));
    if (![...sel.options].some((o) => o.value === want)) sel.add(new Option(`${want}×`, want));
    sel.value = want;
  }
  const pauseBtn = document.getElementById("btn-pause");
  const resumeBtn = document.getElementById("btn-resume");
  if (pauseBtn) pauseBtn.hidden = paused;
  if (resumeBtn) resumeBtn.hidden = !paused;
}

function showNodes(snap) {
  const sel = document.getElementById("node-select");
  if (!sel) return;
  const names = (snap.nodes || []).map((n) => n.name);
  const now = [...sel.options].map((o) => o.value);
  if (names.join("\n") !== now.join("\n")) {
    const keep = sel.value;
    sel.textContent = "";
    for (const n of names) sel.add(new Option(n, n));
    if (names.includes(keep)) sel.value = keep;
  }
  for (const n of snap.nodes || []) {
    const o = [...sel.options].find((x) => x.value === n.name);
    if (o) o.textContent = n.alive === false ? `${n.name} (down)` : n.name;
  }
  const summary = document.getElementById("rs-summary");
  // A frame too large to send whole drops the ReplicaSets (snapshot.summarised, no list): keep
  // the last line rather than claim there are none.
  if (summary && Array.isArray(snap.replicasets)) {
    const rs = snap.replicasets;
    const total = Math.max(Number(snap.replicasetsTotal) || 0, rs.length);
    const list = rs.map((r) => `${r.name}: ${r.ready ?? 0}/${r.replicas} ready`).join(" · ");
    summary.textContent = !rs.length ? "no ReplicaSets yet"
      : total > rs.length ? `first ${rs.length} of ${total.toLocaleString("en-US")} ReplicaSets — ${list}` : list;
    summary.dataset.shown = String(rs.length);
    summary.dataset.total = String(total);
  }
}

// A cluster installed by the student: the kubeadm steps (kubeadm.js), shown when the snapshot has them.
const kubeadmPanel = new KubeadmPanel(document.getElementById("kubeadm-panel"));

// The node the diagram is zoomed into (click a node whose pods are counted), or null.
let zoom = null;
let lastSnapshot = null;
function drawDiagram(snap) {
  const shown = aggregate(snap, { zoom });
  if (zoom && !shown.zoomed) zoom = null;  // the node is gone
  diagram.render(shown.snap);
  const svg = document.getElementById("diagram");
  svg.dataset.zoom = shown.zoomed || "";
  svg.dataset.aggregated = shown.aggregated.join(",");
  const bar = document.getElementById("diagram-zoom");
  if (bar) {
    bar.hidden = !shown.zoomed;
    const listed = shown.zoomed && !shown.snap.nodes.find((n) => n.name === shown.zoomed)?.podCounts;
    const text = !shown.zoomed ? ""
      : listed ? `Zoomed into node ${shown.zoomed}: its pods one by one; the other workers are hidden.`
        : `Zoomed into node ${shown.zoomed}: the server sends this cluster's pods as counts (over 600 pods), so they are counted, not listed.`;
    const t = document.getElementById("diagram-zoom-text");
    if (t && t.textContent !== text) t.textContent = text;
  }
}
function zoomTo(node) {
  zoom = node || null;
  if (lastSnapshot) showSnapshot(lastSnapshot);
}

function showSnapshot(snap) {
  if (!snap) return;  // a cluster that has not drawn its first frame yet
  lastSnapshot = snap;
  drawDiagram(snap);
  kubeadmPanel.update(snap);
  const note = document.getElementById("diagram-note");
  if (note) {
    // A large cluster's snapshot counts its pods instead of listing them (cluster/worker/frames.py).
    const counted = (document.getElementById("diagram").dataset.aggregated || "") !== "";
    const text = !snap.summarised
      ? (counted && !zoom ? "A node with more than 30 pods (every node, past 30 nodes) shows its pods' counts per phase: click it to zoom in." : "")
      : snap.podTotal != null
        ? `${Number(snap.podTotal).toLocaleString("en-US")} pods: too many to draw one by one, so each node shows its pods' counts per phase.`
        : "This update was too large to send whole: pods are not listed in it.";
    note.hidden = !text;
    if (note.textContent !== text) note.textContent = text;
  }
  etcd.render(snap, { speed, paused, tick: etcdTick });
  const summary = document.getElementById("etcd-summary");
  if (summary) {
    const members = snap.etcd || [];
    const lead = members.find((m) => m.role === "leader");
    const learners = members.filter((m) => m.isLearner).length;
    const voters = members.length - learners;
    summary.textContent = `${members.length} member${members.length === 1 ? "" : "s"}` +
      (learners ? ` (${learners} learner${learners === 1 ? "" : "s"}; quorum ${Math.floor(voters / 2) + 1} of ${voters} voters)` : "") +
      " · " + (lead ? `leader ${lead.name}, term ${lead.term}` : "no leader: writes wait, then time out");
  }
  showNodes(snap);
  objectsView.render(snap.kinds);
  workloadsView.render(snap.workloads);
  networkView.render(snap.networkview);
  syncNodeSelect(snap);
  scheduler.render(snap);
  fillPodChoices(snap);
  nodeEditor.sync();
  refreshDetails();
  drawer?.refresh();
}

// Keep the picked pod's panel live: its phase and node change, and it may go away.
let selectedPod = null;
function refreshDetails() {
  if (!selectedPod) return;
  const el = document.querySelector(`#diagram .pod[data-pod="${CSS.escape(selectedPod)}"]`);
  if (el) {
    el.classList.add("selected");
    showPodDetails(el);
  } else {
    const box = document.getElementById("pod-details");
    // A summarised snapshot draws counts, not pods: the pod may well exist.
    const text = diagram.snapshot?.summarised
      ? "The cluster has too many pods to draw each one: this pod is counted in its node's phase counts."
      : "This pod no longer exists.";
    const gone = box?.querySelector(".gone");
    if (box && !gone) box.insertAdjacentHTML("afterbegin", `<p class="gone">${esc(text)}</p>`);
    else if (gone && gone.textContent !== text) gone.textContent = text;
  }
}

function markFrame() {
  root.dataset.frame = String(stream.last);
  root.dataset.resyncs = String(stream.resyncs);
  root.dataset.ignored = String(stream.ignored);
  root.dataset.resyncing = String(stream.resyncing);
  root.dataset.restarts = String(stream.restarts);
}

async function fetchState() {
  const r = await fetch(root.dataset.stateUrl, { headers: { Accept: "application/json" },
                                                 cache: "no-store" });
  if (r.status === 404) {
    // The server no longer knows the cluster: it was deleted (a missed last frame).
    enterDeleted({ gone: true });
    throw new Error("state: the cluster no longer exists");
  }
  if (!r.ok) throw new Error(`state: HTTP ${r.status}`);
  return r.json();
}

const stream = new FrameStream({
  frame: initial.frame,
  snapshot: initial.snapshot,
  fetchState,
  onFrame(msg) {
    if (broken) {
      // Frames come only from a running cluster: it was repaired (here or elsewhere).
      leaveBroken();
      refreshState();
    }
    showClock(msg);
    if (msg.etcdTick) etcdTick = msg.etcdTick;
    const events = msg.events || [];
    diagram.noteEvents(events);
    scheduler.noteEvents(events);
    if (msg.snapshot) showSnapshot(msg.snapshot);
    log.addFrame(msg.frame, msg.omittedLog > 0
      ? [...events, { kind: "action", component: "pilothouse", t: msg.time,
                      text: `${msg.omittedLog} more log line${msg.omittedLog === 1 ? "" : "s"} left out of this update (too many at once)` }]
      : events);
    // Raft's own traffic (heartbeats every 100 ms) plays in the etcd panel, not the diagram.
    etcd.play(events, msg.speed || speed);
    messages.play(events.filter((e) => !isRaftMessage(e)), msg.speed || speed);
    if (msg.omitted) messages.skipped += msg.omitted;
  },
  onState(state, { restart } = {}) {
    if (restart) log.archive("— the server restarted; the cluster was restored from its database —");
    messages.clear();
    etcd.clear();
    if (state.etcdTick) etcdTick = state.etcdTick;
    diagram.why.clear();
    diagram.noteEvents(state.log);
    scheduler.invalidate();
    showClock(state);
    if (state.broken) enterBroken(state);
    else if (broken) leaveBroken();
    showSnapshot(state.snapshot);
    log.replace(state.log);
  },
  onChange: markFrame,
});

// -- a broken cluster (its restore failed after a restart), a deleted one ---------------------
const actions = new ClusterActions(root, {
  onRepaired: refreshState,
  async onStillBroken() {
    try {
      const state = await fetchState();
      if (state.broken) enterBroken(state);
    } catch (err) {
      console.warn("pilothouse: state after a repair attempt", err);
    }
  },
  onDeleted: () => enterDeleted(),
});
const brokenPanel = new BrokenPanel(document.getElementById("broken-panel"), actions);
wireClusterMenu(document.getElementById("cluster-menu"), actions);

function enterBroken(state) {
  broken = String(state.broken);
  root.classList.add("is-broken");
  document.body.classList.add("cluster-broken");
  brokenPanel.show(state);
  showStatus();
}

function leaveBroken() {
  broken = null;
  root.classList.remove("is-broken");
  document.body.classList.remove("cluster-broken");
  brokenPanel.hide();
  showStatus();
}

// The page's state again, from the server (after a reset or a repair).
async function refreshState() {
  try {
    const state = await fetchState();
    if (!stream.adopt(state) && state.broken) enterBroken(state);
  } catch (err) {
    console.warn("pilothouse: could not fetch the state after a change", err);
  }
}

let socket = null;
function enterDeleted({ gone = false } = {}) {
  if (deleted) return;
  deleted = true;
  stream.stop();
  messages.clear();
  etcd.clear();
  root.classList.add("is-deleted");
  root.dataset.deleted = "true";
  document.body.classList.add("cluster-deleted");
  const panel = document.getElementById("gone-panel");
  if (panel) {
    if (gone) panel.querySelector("h2").textContent = "This cluster no longer exists";
    panel.hidden = false;
  }
  brokenPanel.hide();
  // Nothing more will come: close the WebSocket (a normal close, which the htmx extension does
  // not reconnect).
  if (socket && socket.readyState <= 1) socket.close(1000, "cluster deleted");
  showStatus();
}

// -- the Workloads view (workloads.js) and its actions ----------------------------------------
const workloadsView = new WorkloadsView(document.getElementById("wl-body"), { onPick: pickWorkload });
// The Network view (network.js) sends its traffic at a rate in virtual time: the clock it reads.
const networkView = new NetworkView(document.getElementById("network-panel"), {
  cluster: root.dataset.cluster, clock: () => ({ time: Number(root.dataset.time) || 0, paused }) });

function pickWorkload(w, { revision = null, refresh = false } = {}) {
  const label = document.getElementById("wl-selected");
  if (!label) return;
  if (!w) {
    if (label.dataset.name) label.textContent = `${label.dataset.kind} ${label.dataset.name} no longer exists.`;
    return;
  }
  const ns = w.namespace || "default";
  const text = `${w.kind} ${ns}/${w.name}`;
  if (label.textContent !== text) label.textContent = text;
  label.dataset.kind = w.kind;
  label.dataset.name = w.name;
  const set = (id, v) => { const el = document.getElementById(id); if (el && el.value !== String(v)) el.value = String(v); };
  set("wl-kind", w.kind);
  set("wl-namespace", ns);
  set("wl-name", w.name);
  // The rollback choices: the Deployment's ReplicaSets by revision, newest first.
  const sel = document.getElementById("wl-revision");
  if (sel) {
    // A Deployment's ReplicaSets by revision, or a DaemonSet's / StatefulSet's
    // ControllerRevisions, newest first.
    const revs = w.replicasets
      ? w.replicasets.filter((r) => r.revision != null).map((r) => [r.revision, (r.images || []).join(", ")])
      : (w.revisions || []).filter((r) => r.revision != null).map((r) => [r.revision, r.name]);
    const opts = [["0", "previous"], ...revs.map(([r, what], i) => [String(r), `${r}${i === 0 ? " (current)" : ""} — ${what}`])];
    const key = JSON.stringify(opts);
    if (sel.dataset.key !== key) {
      const keep = sel.value;
      sel.textContent = "";
      for (const [v, t] of opts) sel.add(new Option(t, v));
      sel.dataset.key = key;
      if (opts.some(([v]) => v === keep)) sel.value = keep;
    }
    if (revision) sel.value = String(revision);
  }
  if (refresh) return;  // a new frame: leave what the user typed alone
  const replicas = w.replicas ?? w.desired;
  if (replicas != null) set("wl-replicas", replicas);
  // The edit form follows the pick too.
  set("edit-kind", w.kind);
  set("edit-namespace", ns);
  set("edit-name", w.name);
}

function syncNodeSelect(snap) {
  const sel = document.getElementById("wl-node-select");
  if (!sel || !Array.isArray(snap.nodes)) return;
  const opts = snap.nodes.map((n) => [n.name, `${n.name}${n.unschedulable ? " (cordoned)" : ""}${n.alive === false ? " (down)" : ""}`]);
  const key = JSON.stringify(opts);
  if (sel.dataset.key === key) return;
  const keep = sel.value;
  sel.textContent = "";
  for (const [v, t] of opts) sel.add(new Option(t, v));
  sel.dataset.key = key;
  if (opts.some(([v]) => v === keep)) sel.value = keep;
}

// The create form shows the fields of the kind picked.
const createKind = document.getElementById("wl-create-kind");
function showCreateFields() {
  const kind = createKind.value;
  const form = document.getElementById("wl-create-form");
  for (const el of form.querySelectorAll("[data-kinds]")) {
    el.hidden = !el.dataset.kinds.split(" ").includes(kind);
  }
  // A field of another kind is not sent (a Job's command must not reach a Deployment).
  for (const input of form.querySelectorAll("input, select")) {
    input.disabled = !!input.closest("[data-kinds]") && !!input.parentElement.closest("[hidden]");
  }
}
createKind?.addEventListener("change", showCreateFields);
if (createKind) showCreateFields();

// -- views (views.js): by URL, by the tabs and by their keys; the presenter's clock keys;
// the large-screen mode ------------------------------------------------------------------------
const views = new Views(root, { nav: document.getElementById("view-nav") });
const setView = (view, opts) => views.show(view, opts);
const viewUrl = (view) => views.url(view);
document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented || typing(e.target)) return;
  // Space and Enter on a focused button, link or pod are theirs.
  const onControl = e.target?.closest?.("button, a, summary, [role=button], [tabindex]:not(body)");
  if (e.key === "k") { e.preventDefault(); toggleConsole(); return; }
  if (e.key === ":" && commandBar) { e.preventDefault(); commandBar.open(); return; }
  if (e.key === "Escape" && zoom) { zoomTo(null); return; }
  const view = views.viewOfKey(e.key);
  if (view) { setView(view, { push: true }); return; }
  if (e.key === " " && onControl) return;
  if (clockShortcut(e)) e.preventDefault();
});
wireBigScreen(document.getElementById("btn-big"), { onChange: (on) => { root.dataset.big = String(on); } });
document.getElementById("btn-zoom-out")?.addEventListener("click", () => zoomTo(null));

// -- the kubectl console (console.js): over whichever view is shown, opened by key "k", its
// Close button, or at /clusters/<c>/console ------------------------------------------------------
// Not on a page without controls (a watcher's): kubectl acts on the cluster.
const consolePanel = document.getElementById("console-panel");
const kubectlConsole = consolePanel ? new KubectlConsole(consolePanel, { cluster: root.dataset.cluster }) : null;
const consoleUrl = () => `/clusters/${encodeURIComponent(root.dataset.cluster)}/console`;
function toggleConsole(open = !kubectlConsole?.isOpen) {
  if (!kubectlConsole) return;
  if (open) kubectlConsole.open();
  else kubectlConsole.close();
  // The URL says so only on the architecture view, which /console opens on.
  if (root.dataset.view === "architecture") {
    const url = open ? consoleUrl() : viewUrl("architecture");
    if (location.pathname !== url) history.pushState({ view: "architecture" }, "", url);
  }
}
document.getElementById("console-close")?.addEventListener("click", () => toggleConsole(false));

// -- the command bar (commandbar.js): key ":" or #btn-command; only on a page with controls ----
const commandPanel = document.getElementById("command-bar");
const commandBar = commandPanel ? new CommandBar(commandPanel, { cluster: root.dataset.cluster, setView, kubectlConsole }) : null;
document.getElementById("btn-command")?.addEventListener("click", () => commandBar?.open());
if (consolePanel && !consolePanel.hidden) kubectlConsole.open();

// First paint: the state the server rendered the page with.
diagram.noteEvents(initial.log);
showClock(initial);
if (initial.broken) enterBroken(initial);
showSnapshot(initial.snapshot);
log.replace(initial.log);
markFrame();

// Frames arrive as JSON over the htmx WebSocket extension; they are not HTML to swap, so the
// default swap is cancelled and the stream applies them.
root.addEventListener("htmx:wsBeforeMessage", (e) => {
  e.preventDefault();
  let msg;
  try {
    msg = JSON.parse(e.detail.message);
  } catch {
    return;
  }
  if (!msg || deleted) return;
  lastHeardAt = performance.now();
  // Several frames in one message when the server's delivery fell behind (cluster/fanout.py).
  for (const m of msg.type === "cluster.frames" && Array.isArray(msg.frames) ? msg.frames : [msg]) {
    if (!m || deleted) break;
    receiveMessage(m);
  }
  showStatus();
});
function receiveMessage(msg) {
  if (msg.deleted) {
    // The cluster's last frame: it was deleted.
    log.addFrame(msg.frame, msg.events || []);
    enterDeleted();
  } else if (msg.type === "frame" || msg.type === "cluster.frame") {
    stream.receive(msg);
  } else if (msg.type === "cluster.state" || msg.type === "state") {
    // A broken cluster's state may carry the frame number the page already has: show it anyway.
    if (msg.broken) enterBroken(msg);
    stream.receiveState(msg);
  }
}
function showConnection(state) {
  wsState = state;
  root.dataset.ws = state;
  const badge = document.getElementById("ws-state");
  if (badge) {
    badge.hidden = state === "open" || deleted;
    badge.textContent = state === "open" || deleted ? "" : "connection lost — reconnecting…";
  }
  showStatus();
}
root.addEventListener("htmx:wsOpen", (e) => {
  socket = e.detail?.event?.target || socket;
  lastHeardAt = performance.now();
  if (deleted) {
    socket?.close(1000, "cluster deleted");
    return;
  }
  showConnection("open");
});
root.addEventListener("htmx:wsClose", (e) => {
  const code = e.detail?.event?.code;
  // 4404: the server does not know the cluster (deleted while the page was away).
  if (code === 4404) enterDeleted({ gone: true });
  // 4503: the server is up but its simulation worker did not answer; the extension reconnects
  // only after a dropped connection, so ask again a little later.
  if (code === 4503 && !deleted) setTimeout(() => { if (!deleted) e.detail?.socketWrapper?.reconnect?.(); }, 3000);
  showConnection("closed");
});
root.addEventListener("htmx:wsError", () => showConnection("closed"));

// Click an etcd member (in the panel or the diagram): pick it for the member actions.
function selectMember(name) {
  const sel = document.getElementById("etcd-member-select");
  if (!name || !sel) return;
  sel.value = name;
  etcd.selected = name;
  for (const g of document.querySelectorAll("#etcd-svg .etcd-member")) {
    g.classList.toggle("selected", g.dataset.member === name);
  }
}
document.getElementById("etcd-svg")?.addEventListener("click", (e) => {
  selectMember(e.target.closest("[data-member]")?.dataset.member);
});
document.getElementById("etcd-svg")?.addEventListener("keydown", (e) => {
  const g = e.target.closest?.("[data-member]");
  if (g && (e.key === "Enter" || e.key === " ")) {
    e.preventDefault();
    selectMember(g.dataset.member);
  }
});
document.getElementById("etcd-member-select")?.addEventListener("change", (e) => selectMember(e.target.value));

// Click a pod: select it for deletion.  Click a node title: select it in the node form.
document.getElementById("diagram").addEventListener("click", (e) => {
  const pod = e.target.closest("[data-pod]");
  if (pod) {
    selectPod(pod, { scroll: false });
    return;
  }
  const member = e.target.closest("[data-addr^='etcd@']");
  if (member) selectMember((etcd.members.find((m) => m.address === member.getAttribute("data-addr")) || {}).name);
  // A node whose pods are counted: zoom into it (its pods as chips).
  const counted = e.target.closest(".pod-counts[data-node]");
  if (counted && !zoom) zoomTo(counted.dataset.node);
  const node = e.target.closest("[data-node-name]");
  if (node && !zoom && (document.getElementById("diagram").dataset.aggregated || "").split(",").includes(node.dataset.nodeName)) {
    zoomTo(node.dataset.nodeName);
  }
  const sel = document.getElementById("node-select");
  if (node && sel) {
    sel.value = node.dataset.nodeName;
    nodeEditor.sync();
  }
});
document.getElementById("diagram").addEventListener("keydown", (e) => {
  const counted = e.target.closest?.(".pod-counts[data-node]");
  if (counted && !zoom && (e.key === "Enter" || e.key === " ")) {
    e.preventDefault();
    zoomTo(counted.dataset.node);
    return;
  }
  const pod = e.target.closest?.("[data-pod]");
  if (pod && (e.key === "Enter" || e.key === " ")) {
    e.preventDefault();
    selectPod(pod);
  }
});

// The picked pod's details; why it went where it went (or stays Pending) is the scheduler
// panel's nodes x plugins table (scheduler.js), which selectPod fills too.
let lastDetails = "";
function showPodDetails(pod) {
  const box = document.getElementById("pod-details");
  if (!box) return;
  const d = pod.dataset;
  const rows = [["Pod", d.pod], ["Phase", d.phase], ["Node", d.node || "— (not scheduled)"],
                ["Owner", d.owner || "—"]];
  let html = "<dl>" + rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join("") + "</dl>";
  const why = diagram.why.get(d.pod);
  if (why && !d.node) {
    html += `<p class="why-title">Why Pending?</p><p class="why-pending">${esc(why)}</p>`;
  }
  html += '<p class="why-more">The Scheduler view (key s) shows its decision node by node.</p>';
  // The drawer has the rest (describe, events, YAML); Enter or a double-click on the pod opens it too.
  html += `<p><button type="button" class="pod-drawer" data-drawer-ref="pods:${esc(d.pod)}" ` +
    `title="Describe, events and YAML in the object drawer (or double-click / Enter on the pod)">Details…</button></p>`;
  if (box.dataset.for !== d.pod || lastDetails !== html) {
    const kept = box.dataset.for === d.pod ? box.querySelector(".pod-containers") : null;
    box.innerHTML = html;
    if (kept) box.appendChild(kept);  // the containers stay until the next read replaces them
    box.dataset.for = d.pod;
    lastDetails = html;
  }
  box.hidden = false;
  loadPodDetail(box, `/clusters/${encodeURIComponent(root.dataset.cluster)}`, d.pod);
}

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => (
    { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

// `scroll`: false for a click, which must not move the page away from the pod under the
// pointer (at 1280x720 the delete form is below the fold, and a double-click's second click, which
// opens the object drawer, landed elsewhere); a keyboard pick brings the focused button into view.
function selectPod(pod, { scroll = true } = {}) {
  for (const p of document.querySelectorAll("#diagram .pod.selected")) p.classList.remove("selected");
  pod.classList.add("selected");
  selectedPod = pod.dataset.pod;
  showPodDetails(pod);
  scheduler.select(pod.dataset.pod);
  const form = document.getElementById("delete-pod-form");
  if (!form) return;
  form.querySelector("[name=name]").value = pod.dataset.name;
  form.querySelector("[name=namespace]").value = pod.dataset.namespace;
  form.querySelector("button").focus({ preventScroll: !scroll });
}

// The Scheduler view's pod picker: every pod the snapshot lists, as "namespace/name".
function fillPodChoices(snap) {
  const list = document.getElementById("sched-pick-list");
  if (!list) return;
  const keys = [...(snap.nodes || []).flatMap((n) => n.pods || []), ...(snap.pending || [])]
    .map((p) => `${p.namespace || "default"}/${p.name}`).sort();
  const key = keys.join("\n");
  if (list.dataset.key === key) return;
  list.dataset.key = key;
  list.textContent = "";
  for (const k of keys) list.append(new Option(k, k));
}
function explainPicked() {
  const input = document.getElementById("sched-pick");
  let key = (input?.value || "").trim();
  if (!key) return;
  if (!key.includes("/")) key = `default/${key}`;
  pickPod(key);
}
document.getElementById("btn-sched-pick")?.addEventListener("click", explainPicked);
document.getElementById("sched-pick")?.addEventListener("keydown", (e) => {
  if (e.key === "Enter") { e.preventDefault(); explainPicked(); }
});

function pickPod(key) {
  const el = document.querySelector(`#diagram .pod[data-pod="${CSS.escape(key)}"]`);
  if (el) selectPod(el);
  else scheduler.select(key);
}

// Switch the travelling messages off for a quieter picture (the log and the diagram go on).
// Off from the start for people who asked their system for reduced motion.
const toggle = document.getElementById("toggle-messages");
if (toggle && window.matchMedia?.("(prefers-reduced-motion: reduce)").matches) {
  toggle.checked = false;
  messages.enabled = false;
  etcd.enabled = false;
}
toggle?.addEventListener("change", (e) => {
  messages.enabled = e.target.checked;
  etcd.enabled = e.target.checked;
  if (!messages.enabled) {
    messages.clear();
    etcd.clear();
  }
});

// For tests and the curious: window.pilothouse.stream.receive(frame) feeds a frame by hand.
window.pilothouse = { commandBar, kubeadmPanel, stream, diagram, messages, etcd, scheduler, log, fetchState, actions, showStatus, workloadsView, networkView, setView, views, objectsView, zoomTo, kubectlConsole, drawer };
