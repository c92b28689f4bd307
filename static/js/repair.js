// repair.js — a cluster's life from the page: reset it to its template, delete it, and repair
// one that could not be restored after a restart (the "broken" panel).
//
// Every action is a same-origin JSON call to the simulator control API (cluster/api/simcontrol.py):
//   POST   /clusters/<name>/sim/v1/reset               back to the configuration it was created with
//   POST   /clusters/<name>/sim/v1/retry               restore a broken cluster again
//   POST   /clusters/<name>/sim/v1/stored-keys/delete  {"key"}: drop a broken cluster's stored key, then retry
//   DELETE /sim/v1/clusters/<name>
// with Content-Type: application/json (the control API refuses the "simple" bodies a cross-site
// form could send).  Each asks for confirmation first, shows the API's answer in its result
// line (class ok / error, data-code), and tells the page what happened:
//   onRepaired()       the cluster runs again (reset, or a retry that restored it)
//   onStillBroken(msg) a retry (or a key deletion) restored nothing: the cluster is still broken
//   onDeleted()        the cluster is gone
//
// What the DOM exposes (tests rely on it):
//   #broken-panel      hidden unless the cluster is broken; data-error
//   #broken-error      the restore's error text
//   #stored-keys li    data-key, each with a "delete this key" button (.btn-delete-key)
//   #broken-result, #cluster-menu-result   class ok/error, data-code after an action

export function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => (
    { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

// One control API call -> {ok, status, body, message}; never throws (a network failure is an answer).
export async function controlCall(url, method = "POST", body = {}) {
  let r;
  try {
    r = await fetch(url, {
      method,
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body ?? {}),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch (err) {
    return { ok: false, status: 0, body: null, message: `the server did not answer (${err.message || err})` };
  }
  let data = null;
  try {
    data = await r.json();
  } catch {
    data = null;
  }
  const message = (data && (data.message || data.error?.message)) || (r.ok ? "" : `HTTP ${r.status}`);
  return { ok: r.ok, status: r.status, body: data, message };
}

const CONFIRM = {
  reset: (name) => `Reset cluster "${name}" to its template?\n\nEverything in it (pods, ReplicaSets, nodes added, ` +
                   "etcd's keys) is replaced by a fresh cluster as it was created.",
  delete: (name) => `Delete cluster "${name}"?\n\nIt stops, and its stored state is removed for good.`,
  retry: null,
  key: (name, key) => `Delete the stored key\n\n${key}\n\nfrom cluster "${name}", then try to restore it again?\n\n` +
                      "Every stored revision of that key is removed for good.",
};

export class ClusterActions {
  // root: the element with data-cluster and the data-*-url attributes (#dashboard).
  constructor(root, { onRepaired, onStillBroken, onDeleted, confirm } = {}) {
    this.root = root;
    this.name = root.dataset.cluster;
    this.urls = {
      reset: root.dataset.resetUrl,
      retry: root.dataset.retryUrl,
      key: root.dataset.deleteKeyUrl,
      delete: root.dataset.deleteUrl,
    };
    this.onRepaired = onRepaired || (() => {});
    this.onStillBroken = onStillBroken || (() => {});
    this.onDeleted = onDeleted || (() => {});
    this.confirm = confirm || ((text) => window.confirm(text));
    this.busy = false;
  }

  // Run one action; `result` is the element that shows the answer.  Resolves to the call's
  // answer, or null when the user said no (or another action is running).
  async run(action, result, { key } = {}) {
    if (this.busy) return null;
    const ask = CONFIRM[action];
    if (ask && !this.confirm(ask(this.name, key))) return null;
    this.busy = true;
    this._buttons(true);
    show(result, null, action === "delete" ? "deleting…" : action === "reset" ? "resetting…" : "restoring…");
    try {
      const method = action === "delete" ? "DELETE" : "POST";
      const answer = await controlCall(this.urls[action], method, action === "key" ? { key } : {});
      if (!answer.ok) {
        show(result, false, answer.message, answer.status, answer.body?.reason || answer.body?.error?.reason);
        return answer;
      }
      const b = answer.body || {};
      if (action === "delete") {
        show(result, true, `cluster ${this.name} deleted`);
        this.onDeleted();
      } else if (action === "reset") {
        show(result, true, `cluster ${this.name} reset to its template: it starts again`);
        this.onRepaired();
      } else if (b.broken) {
        const what = action === "key" ? `key ${key} deleted, but the cluster` : "the cluster";
        show(result, false, `${what} still cannot be restored: ${b.broken}`, answer.status);
        this.onStillBroken(b.broken);
      } else {
        show(result, true, action === "key" ? `key ${key} deleted; the cluster was restored and runs again`
                                            : "the cluster was restored and runs again");
        this.onRepaired();
      }
      return answer;
    } finally {
      this.busy = false;
      this._buttons(false);
    }
  }

  _buttons(disabled) {
    for (const b of document.querySelectorAll("#broken-panel button, #cluster-menu button")) b.disabled = disabled;
  }
}

function show(el, ok, text, code, reason) {
  if (!el) return;
  el.className = "result" + (ok === true ? " ok" : ok === false ? " error" : " working");
  el.setAttribute("role", ok === false ? "alert" : "status");
  el.textContent = text || "";
  if (code) el.dataset.code = String(code);
  else delete el.dataset.code;
  if (reason) el.dataset.reason = String(reason);
  else delete el.dataset.reason;
}

// The broken-cluster panel: the error and the stored keys, each deletable.
export class BrokenPanel {
  constructor(panel, actions) {
    this.panel = panel;
    this.actions = actions;
    this.result = panel?.querySelector("#broken-result");
    panel?.addEventListener("click", (e) => {
      const btn = e.target.closest("button");
      if (!btn || !panel.contains(btn)) return;
      if (btn.classList.contains("btn-delete-key")) {
        this.actions.run("key", this.result, { key: btn.closest("li").dataset.key });
      } else if (btn.dataset.action) {
        this.actions.run(btn.dataset.action, this.result);
      }
    });
  }

  // state: the cluster's state ({broken, storedKeys}); shows the panel with them.
  show(state) {
    if (!this.panel) return;
    const error = String(state.broken || "");
    this.panel.hidden = false;
    this.panel.dataset.error = error;
    const pre = this.panel.querySelector("#broken-error");
    if (pre) pre.textContent = error;
    const list = this.panel.querySelector("#stored-keys");
    if (list) {
      const keys = Array.isArray(state.storedKeys) ? state.storedKeys : [];
      // A watcher's page (no repair actions: cluster/access.py) lists the keys without buttons.
      const controls = !!this.panel.querySelector(".broken-actions");
      list.innerHTML = keys.length
        ? keys.map((k) => `<li data-key="${esc(k)}"><code>${esc(k)}</code> ` + (controls
            ? `<button type="button" class="btn-delete-key danger" title="Remove every stored revision of this key, then try to restore the cluster again">delete this key</button>`
            : "") + "</li>").join("")
        : '<li class="none">no keys stored</li>';
    }
  }

  hide() {
    if (this.panel) this.panel.hidden = true;
  }
}

// The header's small "Cluster" menu on a running cluster: reset to template, delete.
export function wireClusterMenu(menu, actions) {
  const result = menu?.querySelector("#cluster-menu-result");
  menu?.addEventListener("click", (e) => {
    const btn = e.target.closest("button[data-action]");
    if (btn) actions.run(btn.dataset.action, result);
  });
}
