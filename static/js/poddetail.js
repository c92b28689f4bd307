// The picked pod's containers and log, read from the cluster's Kubernetes API (as kubectl
// describe and kubectl logs read them): each container's state (waiting with its reason,
// running, terminated with its exit code), restarts, readiness and last termination, and the
// last lines of the first container's log.  Fetched at most once a second while a pod is
// picked; what a fetch finds is what the API says, nothing computed here.
//
// Each app container also shows its CPU and memory use (metrics.k8s.io, as `kubectl top pods
// --containers` reads it) against its requests and limits, and buttons that inject a fault into
// its application through the simulator's control API (POST .../sim/v1/pods/<ns>/<pod>/fault).

const MIN_INTERVAL_MS = 1000;
const LOG_LINES = 15;

let last = { key: "", at: 0, busy: false };

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => (
    { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

export function stateText(state) {
  if (!state) return "";
  if (state.running) return "Running";
  if (state.terminated) {
    const t = state.terminated;
    return `Terminated: ${t.reason || "Error"} (exit code ${t.exitCode ?? "?"})`;
  }
  if (state.waiting) return `Waiting: ${state.waiting.reason || ""}`;
  return "";
}

export const FAULTS = [["crash", "Crash"], ["hang", "Hang"], ["fail-health", "Fail health"],
  ["unready", "Unready"], ["leak-memory", "Leak memory"], ["burn-cpu", "Burn CPU"], ["recover", "Recover"]];

// "252006299n" -> 252 (millicores); "3092Ki" / "3Mi" / "1Gi" / "500m" / "2" as what they mean.
export function milliCpu(q) {
  const m = /^([0-9.]+)(n|u|m)?$/.exec(String(q ?? ""));
  if (!m) return null;
  const scale = { n: 1e-6, u: 1e-3, m: 1 }[m[2]] ?? 1000;
  return Math.round(parseFloat(m[1]) * scale);
}

export function bytesOf(q) {
  const m = /^([0-9.]+)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(String(q ?? ""));
  if (!m) return null;
  const scale = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, k: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2]] ?? 1;
  return parseFloat(m[1]) * scale;
}

function mib(n) {
  return n == null ? "—" : `${(n / 1024 ** 2).toFixed(n < 10 * 1024 ** 2 ? 1 : 0)}Mi`;
}

function usageRow(spec, usage) {
  const req = spec?.resources?.requests || {}, lim = spec?.resources?.limits || {};
  const cpu = usage ? `${milliCpu(usage.cpu)}m` : "—";
  const mem = usage ? mib(bytesOf(usage.memory)) : "—";
  const of = (v, f) => (v == null ? "—" : f(v));
  return `<div class="container-usage">CPU <b class="usage-cpu">${esc(cpu)}</b>` +
    ` <span class="muted">(request ${esc(of(req.cpu, (v) => `${milliCpu(v)}m`))}, limit ${esc(of(lim.cpu, (v) => `${milliCpu(v)}m`))})</span>` +
    ` · memory <b class="usage-memory">${esc(mem)}</b>` +
    ` <span class="muted">(request ${esc(of(req.memory, (v) => mib(bytesOf(v))))}, limit ${esc(of(lim.memory, (v) => mib(bytesOf(v))))})</span></div>`;
}

// A probe as `kubectl describe pod` prints it: "http-get http://:8080/healthz delay=3s timeout=1s
// period=3s #success=1 #failure=3" (describe.go describeProbe), with upstream's defaults.
export function probeText(p) {
  if (!p) return "";
  const timing = `delay=${p.initialDelaySeconds ?? 0}s timeout=${p.timeoutSeconds ?? 1}s period=${p.periodSeconds ?? 10}s ` +
    `#success=${p.successThreshold ?? 1} #failure=${p.failureThreshold ?? 3}`;
  if (p.exec) return `exec [${(p.exec.command || []).join(" ")}] ${timing}`;
  if (p.httpGet) {
    const h = p.httpGet;
    return `http-get ${(h.scheme || "HTTP").toLowerCase()}://${h.host || ""}:${h.port}${h.path || ""} ${timing}`;
  }
  if (p.tcpSocket) return `tcp-socket ${p.tcpSocket.host || ""}:${p.tcpSocket.port} ${timing}`;
  if (p.grpc) return `grpc <pod>:${p.grpc.port} ${p.grpc.service || ""} ${timing}`;
  return `unknown ${timing}`;
}

function probeRows(spec) {
  return [["Liveness", spec?.livenessProbe], ["Readiness", spec?.readinessProbe], ["Startup", spec?.startupProbe]]
    .filter(([, p]) => p)
    .map(([kind, p]) => `<div class="container-probe muted">${kind}: ${esc(probeText(p))}</div>`).join("");
}

// The pod's Events as `kubectl describe pod` lists them, oldest first, each with the time it was
// last seen on the cluster's clock (the page's clock may run faster or be paused, so an age in
// the browser's time would mislead) and "(x4 since 10:02:13)" for an Event the recorder counted
// more than once.
function clockOf(ts) {
  return ts ? String(ts).slice(11, 19) : "";
}

export function eventRows(items) {
  const last = (e) => e.lastTimestamp || e.eventTime || e.firstTimestamp || "";
  const list = [...(items || [])].sort((a, b) => (last(a) < last(b) ? -1 : last(a) > last(b) ? 1 : 0));
  return list.map((e) => {
    const when = clockOf(last(e)) + (e.count > 1 ? ` (x${e.count} since ${clockOf(e.firstTimestamp)})` : "");
    return `<li class="event" data-type="${esc(e.type)}" data-reason="${esc(e.reason)}">` +
      `<b>${esc(e.reason)}</b> <span class="muted">${esc(e.type)} · ${esc(when)} · ` +
      `${esc(e.source?.component || e.reportingComponent || "")}</span><div>${esc(e.message)}</div></li>`;
  }).join("");
}

function faultButtons(name) {
  return `<div class="fault-buttons" data-container="${esc(name)}">` +
    FAULTS.map(([f, label]) => `<button type="button" class="fault" data-fault="${f}">${esc(label)}</button>`).join("") +
    "</div>";
}

export function containerRows(statuses, kind, extra = () => "") {
  return (statuses || []).map((cs) => {
    const last = cs.lastState?.terminated;
    const waiting = cs.state?.waiting?.message ? `<div class="container-message">${esc(cs.state.waiting.message)}</div>` : "";
    return `<li class="container" data-container="${esc(cs.name)}" data-state="${esc(Object.keys(cs.state || {})[0] || "")}">` +
      `<b>${esc(cs.name)}</b>${kind ? ` <span class="muted">${kind}</span>` : ""} <span class="muted">${esc(cs.image)}</span>` +
      `<div>${esc(stateText(cs.state))} · restarts ${cs.restartCount ?? 0} · ${cs.ready ? "ready" : "not ready"}</div>` +
      (last ? `<div class="muted">last: ${esc(last.reason || "")} (exit code ${last.exitCode})</div>` : "") + waiting +
      extra(cs) + "</li>";
  }).join("");
}

// One click handler per details box (its content is replaced every second): a fault button
// posts {container, fault} for the pod the box shows, and says what the control API answered.
function wireFaults(box, apiBase) {
  if (box.dataset.faultsWired) return;
  box.dataset.faultsWired = "yes";
  box.addEventListener("click", async (e) => {
    const button = e.target.closest?.("button.fault");
    if (!button) return;
    const container = button.closest(".fault-buttons")?.dataset.container;
    const [ns, name] = (box.dataset.for || "").split("/");
    let note = box.querySelector(".fault-result");
    if (!note) {
      note = document.createElement("p");
      note.className = "fault-result";
      box.appendChild(note);
    }
    try {
      const r = await fetch(`${apiBase}/sim/v1/pods/${encodeURIComponent(ns)}/${encodeURIComponent(name)}/fault`, {
        method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ container, fault: button.dataset.fault }) });
      const body = await r.json();
      note.dataset.ok = String(r.ok);
      note.textContent = r.ok
        ? `${body.fault} → ${body.container}` + (body.faults.length ? ` (now: ${body.faults.join(", ")})` : " (no faults)")
        : (body.message || body.error?.message || `HTTP ${r.status}`);
    } catch (err) {
      note.dataset.ok = "false";
      note.textContent = String(err);
    }
  });
}

export async function loadPodDetail(box, apiBase, podKey) {
  const now = Date.now();
  if (last.busy || (last.key === podKey && now - last.at < MIN_INTERVAL_MS)) return;
  last = { key: podKey, at: now, busy: true };
  try {
    const [ns, name] = podKey.split("/");
    const base = `${apiBase}/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(name)}`;
    const r = await fetch(base, { headers: { Accept: "application/json" }, cache: "no-store" });
    if (!r.ok) return;
    const pod = await r.json();
    const st = pod.status || {};
    const metrics = await fetch(`${apiBase}/apis/metrics.k8s.io/v1beta1/namespaces/${encodeURIComponent(ns)}/pods/` +
                                encodeURIComponent(name), { headers: { Accept: "application/json" }, cache: "no-store" })
      .then((m) => (m.ok ? m.json() : null)).catch(() => null);
    const usage = new Map((metrics?.containers || []).map((c) => [c.name, c.usage]));
    const specs = new Map((pod.spec?.containers || []).map((c) => [c.name, c]));
    // A page without controls (#dashboard[data-controls=false], a watcher's) shows no fault buttons.
    const controls = document.getElementById("dashboard")?.dataset.controls !== "false";
    const live = controls && !["Succeeded", "Failed"].includes(st.phase) && !!pod.spec?.nodeName;
    const initSpecs = new Map((pod.spec?.initContainers || []).map((c) => [c.name, c]));
    const app = (cs) => probeRows(specs.get(cs.name)) + usageRow(specs.get(cs.name), usage.get(cs.name)) +
      (live ? faultButtons(cs.name) : "");
    let html = `<p class="why-title">Containers</p><ul class="containers">` +
      containerRows(st.initContainerStatuses, "init", (cs) => probeRows(initSpecs.get(cs.name))) +
      containerRows(st.containerStatuses, "", app) +
      containerRows(st.ephemeralContainerStatuses, "ephemeral") + "</ul>";  // kubectl debug's
    const first = (pod.spec?.containers || [])[0]?.name;
    // A container that ran (or crash-loops: its last run's log) has a log to show.
    if (first && (st.containerStatuses || []).some((c) => c.name === first && (!c.state?.waiting || c.lastState?.terminated))) {
      const lr = await fetch(`${base}/log?container=${encodeURIComponent(first)}&tailLines=${LOG_LINES}`,
                             { cache: "no-store" });
      const text = lr.ok ? await lr.text() : "";
      html += `<p class="why-title">Log of ${esc(first)} <span class="muted">(kubectl logs --tail=${LOG_LINES})</span></p>` +
        `<pre class="pod-log">${esc(text) || '<span class="muted">(nothing written yet)</span>'}</pre>`;
    }
    const selector = `involvedObject.name=${name},involvedObject.namespace=${ns}` +
      (pod.metadata?.uid ? `,involvedObject.uid=${pod.metadata.uid}` : "");
    const events = await fetch(`${apiBase}/api/v1/namespaces/${encodeURIComponent(ns)}/events?fieldSelector=` +
                               encodeURIComponent(selector), { headers: { Accept: "application/json" }, cache: "no-store" })
      .then((e) => (e.ok ? e.json() : null)).catch(() => null);
    if (events) {
      const rows = eventRows(events.items);
      html += `<p class="why-title">Events <span class="muted">(kubectl describe pod)</span></p>` +
        (rows ? `<ol class="pod-events">${rows}</ol>` : '<p class="muted">&lt;none&gt;</p>');
    }
    // The CRI calls the kubelet made for the pod (the simulator's control API: they are the
    // node's business, not the Kubernetes API's).
    const cri = await fetch(`${apiBase}/sim/v1/pods/${encodeURIComponent(ns)}/${encodeURIComponent(name)}/cri`,
                            { headers: { Accept: "application/json" }, cache: "no-store" })
      .then((c) => (c.ok ? c.json() : null)).catch(() => null);
    if (cri && cri.calls?.length) {
      html += `<p class="why-title">CRI calls <span class="muted">(kubelet → ${esc(cri.runtime)} on ${esc(cri.node)})</span></p>` +
        `<ol class="cri-calls">${cri.calls.map((c) => `<li class="cri-call" data-method="${esc(c.method)}">` +
          `<span class="muted">${esc(clockOf(c.time))}</span> <b>${esc(c.method)}</b> ${esc(c.target)}</li>`).join("")}</ol>`;
    }
    if (box.dataset.for !== podKey) return;  // another pod was picked meanwhile
    let slot = box.querySelector(".pod-containers");
    if (!slot) {
      slot = document.createElement("div");
      slot.className = "pod-containers";
      box.appendChild(slot);
    }
    wireFaults(box, apiBase);
    if (slot.innerHTML !== html) slot.innerHTML = html;
  } catch (e) {
    // The server went away for a moment: the next frame tries again.
  } finally {
    last.busy = false;
  }
}
