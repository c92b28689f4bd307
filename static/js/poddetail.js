// The picked pod's containers and log, read from the cluster's Kubernetes API (as kubectl
// describe and kubectl logs read them): each container's state (waiting with its reason,
// running, terminated with its exit code), restarts, readiness and last termination, and the
// last lines of the first container's log.  Fetched at most once a second while a pod is
// picked; what a fetch finds is what the API says, nothing computed here.

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

function containerRows(statuses, kind) {
  return (statuses || []).map((cs) => {
    const last = cs.lastState?.terminated;
    const waiting = cs.state?.waiting?.message ? `<div class="container-message">${esc(cs.state.waiting.message)}</div>` : "";
    return `<li class="container" data-container="${esc(cs.name)}" data-state="${esc(Object.keys(cs.state || {})[0] || "")}">` +
      `<b>${esc(cs.name)}</b>${kind ? ` <span class="muted">${kind}</span>` : ""} <span class="muted">${esc(cs.image)}</span>` +
      `<div>${esc(stateText(cs.state))} · restarts ${cs.restartCount ?? 0} · ${cs.ready ? "ready" : "not ready"}</div>` +
      (last ? `<div class="muted">last: ${esc(last.reason || "")} (exit code ${last.exitCode})</div>` : "") + waiting +
      "</li>";
  }).join("");
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
    let html = `<p class="why-title">Containers</p><ul class="containers">` +
      containerRows(st.initContainerStatuses, "init") + containerRows(st.containerStatuses, "") + "</ul>";
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
    if (slot.innerHTML !== html) slot.innerHTML = html;
  } catch (e) {
    // The server went away for a moment: the next frame tries again.
  } finally {
    last.busy = false;
  }
}
