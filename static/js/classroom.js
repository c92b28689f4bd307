// classroom.js — "follow the teacher" (issue 13).  The presenter's page tells the cluster's
// other pages what it shows: its view (#dashboard[data-view], the URL /clusters/<c>/<view>) and
// its selection (a picked pod or node, or the object open in the drawer), as one small message over the frames WebSocket
// (cluster/consumers.py; the server takes it from the presenter only).  A page whose
// "follow the presenter" box is ticked switches view and selection with it.
//
// What the DOM exposes (tests rely on it):
//   #access            data-role: open | presenter | student | viewer; data-mode: open | owned;
//                      data-controls: "false" on a watcher's page (no forms, no fault buttons)
//   #follow-presenter  the checkbox
//   #dashboard         data-followed-view, data-followed-selection ("pod:default/web-1"): the
//                      last presenter's view and selection this page applied ("drawer:pods:default/web-1"
//                      for the drawer's object: its drawer opens on it); data-presenter-view:
//                      the presenter's last view, followed or not

const root = document.getElementById("dashboard");
const accessBox = document.getElementById("access");
const role = accessBox?.dataset.role || "open";
const followBox = document.getElementById("follow-presenter");
let socket = null;

if (root) {
  root.addEventListener("htmx:wsOpen", (e) => {
    socket = e.detail?.event?.target || socket;
    if (role === "presenter") tell();
  });
}

// -- the presenter: tell the others ------------------------------------------------------------
function selection() {
  // The drawer's object first: it is what the presenter is looking at.
  const open = document.getElementById("object-drawer");
  if (open && !open.hidden && open.dataset.ref) return { kind: "drawer", name: open.dataset.ref };
  const pod = document.querySelector("#diagram .pod.selected");
  if (pod?.dataset.pod) return { kind: "pod", name: pod.dataset.pod };
  if (lastNode) return { kind: "node", name: lastNode };
  return null;
}
let lastNode = null;
let lastSent = "";
function tell() {
  if (!socket || socket.readyState !== WebSocket.OPEN) return;
  const msg = JSON.stringify({ type: "follow", view: root.dataset.view, selection: selection() });
  if (msg === lastSent) return;
  lastSent = msg;
  socket.send(msg);
}
if (root && role === "presenter") {
  new MutationObserver(() => tell()).observe(root, { attributes: true, attributeFilter: ["data-view"] });
  document.getElementById("diagram")?.addEventListener("click", (e) => {
    const pod = e.target.closest("[data-pod]");
    const node = e.target.closest("[data-node-name]");
    lastNode = !pod && node ? node.dataset.nodeName : null;
    setTimeout(tell, 0);   // after the page has picked it
  });
  // The drawer opened (once its object is resolved) or closed (drawer.js).
  document.addEventListener("pilothouse:drawer", () => tell());
}

// -- the others: follow ------------------------------------------------------------------------
function follow(msg) {
  if (!msg || role === "presenter" || !followBox?.checked) return;
  if (msg.view && msg.view !== root.dataset.view) window.pilothouse?.setView?.(msg.view, { push: true });
  root.dataset.followedView = msg.view || "";
  const sel = msg.selection;
  for (const n of document.querySelectorAll("#diagram .followed")) n.classList.remove("followed");
  if (sel?.kind === "pod") {
    const el = document.querySelector(`#diagram .pod[data-pod="${CSS.escape(sel.name)}"]`);
    if (el && !el.classList.contains("selected")) el.dispatchEvent(new MouseEvent("click", { bubbles: true }));
    el?.classList.add("followed");
  } else if (sel?.kind === "node") {
    document.querySelector(`#diagram [data-node-name="${CSS.escape(sel.name)}"]`)?.classList.add("followed");
  }
  // The presenter's drawer: open ours on the same object (without taking the focus from what
  // the viewer is doing); closed when the presenter's closes, if it was the presenter's we opened.
  const drawer = window.pilothouse?.drawer;
  if (sel?.kind === "drawer") {
    if (drawer && (drawer.aside?.dataset.ref !== sel.name || drawer.aside?.hidden)) drawer.open(sel.name, { focus: false });
    followedDrawer = sel.name;
  } else if (followedDrawer) {
    if (drawer?.aside?.dataset.ref === followedDrawer) drawer.close();
    followedDrawer = null;
  }
  root.dataset.followedSelection = sel ? `${sel.kind}:${sel.name}` : "";
}
let latest = null;
let followedDrawer = null;   // the presenter's drawer object this page opened
if (root && role !== "presenter") {
  try {
    latest = JSON.parse(document.getElementById("initial-state").textContent).follow || null;
  } catch {
    latest = null;
  }
  root.addEventListener("htmx:wsBeforeMessage", (e) => {
    if (!e.detail.message.includes('"cluster.follow"')) return;
    let msg;
    try {
      msg = JSON.parse(e.detail.message);
    } catch {
      return;
    }
    if (msg?.type !== "cluster.follow") return;
    latest = msg;
    root.dataset.presenterView = msg.view || "";
    follow(msg);
  });
  followBox?.addEventListener("change", () => follow(latest));
  if (latest) follow(latest);
}
