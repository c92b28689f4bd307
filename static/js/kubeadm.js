// kubeadm.js — the "Install with kubeadm" panel of a cluster created with "install": "kubeadm"
// (sim/kubeadm_install.py): one button per step (kubeadm init on the control-plane host, the pod
// network, kubeadm join on each worker not yet joined), the join command, and the last run's
// output, all from the snapshot's `kubeadm` (Cluster.kubeadm_status), written as text only.
//
// What the DOM exposes (tests rely on it):
//   #kubeadm-panel     hidden unless the cluster is installed by kubeadm; data-installed: the
//                      hosts kubeadm started, comma-separated; data-network: "true" once applied
//   [data-kubeadm]     the step buttons: "init", "pod-network", "join"; data-node
//   #kubeadm-upload-certs  init with --upload-certs (checkbox)
//   #kubeadm-control-plane join with --control-plane (checkbox); #kubeadm-certificate-key its
//                      --certificate-key, filled in from init's output
//   #kubeadm-output    the output of the run shown (the newest), data-node, data-state

export class KubeadmPanel {
  constructor(panel) {
    this.panel = panel;
    this.url = panel?.dataset.url;
    this.result = panel?.querySelector("#kubeadm-result");
    this.output = panel?.querySelector("#kubeadm-output");
    this.token = panel?.querySelector("#kubeadm-token");
    this.uploadCerts = panel?.querySelector("#kubeadm-upload-certs");
    this.controlPlane = panel?.querySelector("#kubeadm-control-plane");
    this.certificateKey = panel?.querySelector("#kubeadm-certificate-key");
    this.sig = "";
    panel?.addEventListener("click", (e) => {
      const btn = e.target.closest("button[data-kubeadm]");
      if (btn) this.run(btn.dataset.kubeadm, btn.dataset.node);
    });
  }

  update(snap) {
    if (!this.panel) return;
    const k = snap && snap.kubeadm;
    this.panel.hidden = !k;
    if (!k) return;
    const hosts = k.hosts || [];
    this.panel.dataset.installed = (k.installed || []).join(",");
    this.panel.dataset.network = String(!!k.podNetwork);
    const running = new Set((k.runs || []).filter((r) => r.state === "running").map((r) => r.node));
    const sig = JSON.stringify([hosts, k.podNetwork, k.addons, [...running]]);
    if (sig !== this.sig) {
      this.sig = sig;
      const button = (action, node, label, disabled) => {
        const b = document.createElement("button");
        b.type = "button";
        b.dataset.kubeadm = action;
        b.dataset.node = node;
        b.textContent = label;
        b.disabled = disabled;
        return b;
      };
      // kubeadm init runs on the cluster's first control-plane host; every other host joins
      // (as a worker, or with --control-plane, after which it is a control-plane host too).
      const initHost = hosts.find((h) => h.role === "control-plane");
      const init = this.panel.querySelector("#kubeadm-init-actions");
      init?.replaceChildren(...(initHost ? [initHost] : []).map((h) =>
        button("init", h.name, `kubeadm init on ${h.name}`, h.installed || running.has(h.name))));
      const join = this.panel.querySelector("#kubeadm-join-actions");
      join?.replaceChildren(...hosts.filter((h) => h !== initHost).map((h) =>
        button("join", h.name, `kubeadm join on ${h.name}`, h.installed || running.has(h.name) || !k.addons)));
      const net = this.panel.querySelector("#btn-kubeadm-network");
      if (net) net.disabled = !k.addons || !!k.podNetwork;
    }
    const joinLine = this.panel.querySelector("#kubeadm-join-command");
    const lines = [k.joinCommand ? `Join command: ${k.joinCommand}` : "",
      k.controlPlaneJoinCommand ? `Control-plane join command: ${k.controlPlaneJoinCommand}` : ""].filter(Boolean);
    if (joinLine.textContent !== lines.join("")) {
      joinLine.replaceChildren(...lines.map((text) => {
        const div = document.createElement("div");
        div.textContent = text;
        return div;
      }));
    }
    const m = /--token (\S+)/.exec(k.joinCommand || "");
    if (m && this.token && !this.token.value) this.token.value = m[1];
    const key = /--certificate-key (\S+)/.exec(k.controlPlaneJoinCommand || "");
    if (key && this.certificateKey && !this.certificateKey.value) this.certificateKey.value = key[1];
    // The newest run's output: the one running, else the last one listed.
    const runs = k.runs || [];
    const shown = runs.find((r) => r.state === "running") || runs[runs.length - 1];
    if (shown) {
      const text = `$ ${shown.command} (on ${shown.node})\n` + (shown.lines > shown.output.length ? "…\n" : "") +
        shown.output.join("\n");
      if (this.output.textContent !== text) {
        this.output.textContent = text;
        this.output.scrollTop = this.output.scrollHeight;
      }
      this.output.dataset.node = shown.node;
      this.output.dataset.state = shown.state;
    }
  }

  async run(action, node) {
    const body = action === "pod-network" ? {} : { node };
    if (action === "init" && this.uploadCerts?.checked) body.uploadCerts = true;
    if (action === "join") {
      body.token = (this.token?.value || "").trim();
      if (this.controlPlane?.checked) {
        body.controlPlane = true;
        const key = (this.certificateKey?.value || "").trim();
        if (key) body.certificateKey = key;
      }
    }
    this.result.className = "result";
    this.result.textContent = "…";
    try {
      const r = await fetch(`${this.url}/${action}`, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
        credentials: "same-origin" });
      if (r.ok) {
        this.result.className = "result ok";
        this.result.textContent = action === "pod-network" ? "The pod network's manifest is applied"
          : `kubeadm ${action}${body.controlPlane ? " --control-plane" : ""} started on ${node}: ` +
            "its output follows below and in the event log";
        this.update({ kubeadm: await r.json() });
      } else {
        let err = {};
        try { const b = await r.json(); err = b.kind === "Status" ? b : (b.error || {}); } catch { /* not JSON */ }
        this.result.className = "result error";
        this.result.textContent = `${err.code || r.status} ${err.reason || r.statusText}: ${err.message || ""}`;
      }
    } catch (e) {
      this.result.className = "result error";
      this.result.textContent = `the server did not answer: ${e}`;
    }
  }
}
