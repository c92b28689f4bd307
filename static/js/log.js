// log.js — the live event log: Kubernetes Events and component actions, newest on top.
//
// Each line has id "log-<frame>-<i>" (the i-th log entry of frame <frame>) and data-frame, so a
// line is never shown twice and a resync can replace the whole log with the server's.

// "error": an exception inside one simulated component, recovered (the engine went on).
export const LOG_KINDS = new Set(["action", "k8s-event", "node", "error"]);
const MAX_LINES = 400;

export function isLogEvent(ev) {
  return LOG_KINDS.has(ev.kind);
}

export function fmtTime(t) {
  t = Number(t) || 0;
  if (t < 60) return t.toFixed(1) + "s";
  const m = Math.floor(t / 60);
  const s = t - m * 60;
  if (m < 60) return `${m}m${s.toFixed(0).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

// -> {who, text, cls}
export function describe(ev) {
  if (ev.kind === "action") {
    // Node agents are told apart by their node: "kubelet · worker-2".
    const [name, host] = String(ev.component || "").split("@");
    const who = host && ["kubelet", "kube-proxy", "containerd", "crio", "cri-dockerd"].includes(name) ? `${name} · ${host}` : name;
    return { who, text: ev.text || ev.message || "", cls: "action" };
  }
  if (ev.kind === "error") {
    // A bug inside one simulated component, caught: it says which, and the engine went on
    // without that step.  The simulator's own errors ("pilothouse": a cluster that could not be
    // restored) are said as they are.
    const [name, host] = String(ev.component || "").split("@");
    const who = host ? `${name} · ${host}` : name || "simulator";
    const own = !ev.component || name === "pilothouse";
    return {
      who,
      text: own ? `error: ${ev.message || "no message"}` : `internal error (recovered): ${ev.message || "no message"}`,
      cls: "sim-error",
      title: own ? "" : `An exception inside ${who} was caught; the simulation went on without that step. ` +
                        "This is a bug in the simulator, not something Kubernetes would do.",
    };
  }
  if (ev.kind === "k8s-event") {
    // "Pod/web-1", with the namespace only when it is not the default one.
    const obj = ev.namespace && ev.namespace !== "default" ? `${ev.object} (${ev.namespace})` : ev.object;
    return {
      who: ev.source || "event",
      text: `${ev.reason || ""} ${obj || ""}: ${ev.message || ""}`.trim(),
      cls: "k8s-event " + (ev.type === "Warning" ? "warning" : "normal"),
    };
  }
  if (ev.kind === "node") {
    const what = ev.text || (ev.alive === false ? `node ${ev.node} went down (killed)`
      : ev.added ? `node ${ev.node} added` : `node ${ev.node} is back up`);
    return { who: "simulator", text: what, cls: "node-change " + (ev.alive === false ? "warning" : "normal") };
  }
  return { who: ev.kind, text: JSON.stringify(ev), cls: "other" };
}

export class EventLog {
  constructor(list) {
    this.list = list;
  }

  _line(ev, frame, i) {
    const d = describe(ev);
    const li = document.createElement("li");
    li.id = `log-${frame}-${i}`;
    li.dataset.frame = String(frame);
    li.className = d.cls;
    if (d.title) li.title = d.title;
    const t = document.createElement("span");
    t.className = "log-time";
    t.textContent = fmtTime(ev.t);
    const w = document.createElement("span");
    w.className = "log-who";
    w.textContent = d.who;
    const x = document.createElement("span");
    x.className = "log-text";
    x.textContent = d.text;
    li.append(t, w, x);
    return li;
  }

  // Append the log events of one frame.
  addFrame(frame, events) {
    const frag = [];
    let i = 0;
    for (const ev of events) {
      if (!isLogEvent(ev)) continue;
      const id = `log-${frame}-${i}`;
      i++;
      if (document.getElementById(id)) continue;
      frag.push(this._line(ev, frame, i - 1));
    }
    // Newest on top: the frame's last event first.
    for (const li of frag) this.list.prepend(li);
    this._trim();
  }

  // The server restarted and numbers frames afresh: keep what was shown, out of the way of the
  // new numbering, under a separator.
  archive(text) {
    for (const li of this.list.querySelectorAll("li:not(.archived)")) {
      li.id = li.id ? "prev-" + li.id : "";
      li.classList.add("archived");
      delete li.dataset.frame;
    }
    for (const li of this.list.querySelectorAll("li.archived[id^='prev-prev-']")) li.remove();
    const sep = document.createElement("li");
    sep.className = "archived separator";
    sep.textContent = text;
    this.list.prepend(sep);
  }

  // Replace everything but archived lines with the server's log (entries carry their "frame").
  replace(entries) {
    for (const li of this.list.querySelectorAll("li:not(.archived)")) li.remove();
    const perFrame = new Map();
    for (const ev of entries || []) {
      if (!isLogEvent(ev)) continue;
      const f = ev.frame ?? 0;
      const i = perFrame.get(f) || 0;
      perFrame.set(f, i + 1);
      this.list.prepend(this._line(ev, f, i));
    }
    this._trim();
  }

  _trim() {
    while (this.list.children.length > MAX_LINES) this.list.lastElementChild.remove();
    this.list.dataset.count = String(this.list.children.length);
  }
}
