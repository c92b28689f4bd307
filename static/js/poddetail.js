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

function faultButtons(name) {
  return `<div class="fault-buttons" data-container="${esc(name)}">` +
    FAULTS.map(([f, label]) => `<button type="button" class="fault" data-fault="${f}">${esc(label)}</button>`).join("") +
    "</div>";
}

function containerRows(statuses, kind, extra = () => "") {
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
    const live = !["Succeeded", "Failed"].includes(st.phase) && !!pod.spec?.nodeName;
    const app = (cs) => usageRow(specs.get(cs.name), usage.get(cs.name)) + (live ? faultButtons(cs.name) : "");
    let html = `<p class="why-title">Containers</p><ul class="containers">` +
      containerRows(st.initContainerStatuses, "init") + containerRows(st.containerStatuses, "", app) +
      containerRows(st.ephemeralContainerStatuses, "ephemeral") + "</ul>";  // kubectl debug's
    const first = (pod.spec?.containers || [])[0]?.name;
    if (first && (st.containerStatuses || []).some((c) => c.name === first && !c.state?.waiting)) {
      const lr = await fetch(`${base}/log?container=${encodeURIComponent(first)}&tailLines=${LOG_LINES}`,
                             { cache: "no-store" });
      const text = lr.ok ? await lr.text() : "";
      html += `<p class="why-title">Log of ${esc(first)} <span class="muted">(kubectl logs --tail=${LOG_LINES})</span></p>` +
        `<pre class="pod-log">${esc(text) || '<span class="muted">(nothing written yet)</span>'}</pre>`;
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
