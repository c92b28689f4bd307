// network.js — the Network view: every node with its InternalIP, pod CIDR and the CNI plugin's
// device, its pods by IP; the Services as boxes (type, ClusterIP, ports, NodePorts, load
// balancer) fronting their endpoints; the NetworkPolicies with the pods they select.  Drawn
// from snapshot.networkview (sim/networkview.py).  The "send traffic" form posts to the
// control API (POST /clusters/<c>/sim/v1/traffic, sim/traffic.py) at the rate asked, in
// virtual time; the first request of each answer is animated hop by hop (its DNS queries to
// CoreDNS first), every request counts in the tally per endpoint and per verdict.  A node's
// rules panel shows kube-proxy's rules (GET .../nodes/<n>/proxy-rules, or /iptables) and its
// routes (.../routes), with the rules the watched packet matched marked.
//
// What the DOM exposes (tests rely on it):
//   #network-panel .nv-node     data-node, data-pod-cidr, data-internal-ip; class "hop" while
//                               a packet is there
//   .nv-pod                     data-pod ("ns/name"), data-ip, data-ready, data-host
//   .nv-count                   a node's pod counts when it has too many to draw: data-n
//   .nv-svc                     data-service ("ns/name"), data-type, data-cluster-ip
//   .nv-ep                      one endpoint: data-ip, data-pod, data-state (ready,
//                               serving-terminating, terminating, not-ready)
//   .nv-policy                  data-policy ("ns/name"), data-selected (n), data-drops (n drops seen)
//   #nv-hops li.nv-hop          data-kind (open, dns, dnat, reject, drop, policy, snat, encap,
//                               decap, route, deliver, reply, fail), data-at, data-state
//                               ("pending" until the animation reaches it, then "shown")
//   #nv-hops                    data-request (its number), data-verdict, data-done ("true" once
//                               every hop is shown)
//   #nv-tally                   data-sent, data-answered; .nv-tally-ep: data-endpoint, data-n;
//                               .nv-tally-verdict: data-verdict, data-n
//   #nv-dns li                  data-qname, data-rcode, data-answer
//   #nv-requests li             data-n, data-verdict, data-endpoint
//   #nv-rules .nv-line          data-line; class "matched" (+ "target" for the DNAT / drop rule)
//   #nv-rules                   data-node, data-what, data-matched (how many lines are marked)

import { esc } from "./workloads.js";

export const ENDPOINT_MARKS = {
  "ready": ["✓", "ready"],
  "serving-terminating": ["◐", "serving, terminating"],
  "terminating": ["⊘", "terminating"],
  "not-ready": ["✗", "not ready"],
};
const VERDICT_MARKS = { delivered: "✓", refused: "✗", timeout: "⌛", dropped: "⛔", unresolved: "?" };
export const HOP_MS = 450;       // wall time between two hops of the watched request
const MAX_BATCH = 100;           // requests per call
const REQUESTS_SHOWN = 30;
const DNS_SHOWN = 12;

// What a hop is, from the datapath's words (sim/datapath.py, sim/cni/*.py).
export function hopKind(hop) {
  const w = String(hop?.what || "");
  if (hop?.dns) return "dns";
  if (/NetworkPolicy drops/.test(w)) return "policy";
  if (/^kube-proxy DNATs/.test(w)) return "dnat";
  if (/^kube-proxy REJECTs/.test(w)) return "reject";
  if (/^kube-proxy DROPs|is lost|unreachable|is down|cut off|discarded/.test(w)) return "drop";
  if (/^MASQUERADE|SNAT/.test(w)) return "snat";
  if (/encapsulates/.test(w) && !/decapsulates/.test(w)) return "encap";
  if (/decapsulates/.test(w)) return "decap";
  if (/ accepts /.test(w)) return "deliver";
  if (/^reply /.test(w)) return "reply";
  if (/refused|nothing listens|no answer|does not resolve|nothing answers|no route/.test(w)) return "fail";
  if (/opens (TCP|UDP)|^client /.test(w)) return "open";
  return "route";
}

// The iptables-save (or ipvsadm / nft) text's lines the packet matched: `path` entries are
// "<table> <rule>" (sim/kubeproxy_iptables.py); a line matches within its "*table" section.
// Returns {matched: Set of line indexes, target: index of `rule` or -1}.
export function matchedLines(text, path, rule) {
  const lines = String(text || "").split("\n");
  const want = new Set((path || []).map(String));
  const target = rule ? String(rule) : null;
  const matched = new Set();
  let table = "", at = -1;
  lines.forEach((line, i) => {
    if (line.startsWith("*")) { table = line.slice(1).trim(); return; }
    const full = table ? `${table} ${line}` : line;
    if (want.has(full) || want.has(line)) matched.add(i);
    if (target && (target === full || target === line) && at < 0) { at = i; matched.add(i); }
  });
  return { matched, target: at };
}

// How many requests are due `elapsed` virtual seconds after the start at `rate` a second (0:
// all at once), never more than `count`; the first goes at once.
export function dueCount(rate, count, elapsed) {
  if (!(rate > 0)) return count;
  return Math.min(count, 1 + Math.floor(Math.max(0, elapsed) * rate + 1e-9));
}

// Adds one traffic answer's requests to a tally {sent, verdicts: {v: n}, endpoints: {ep: {n, pod}}}.
export function addToTally(tally, answer) {
  for (const r of answer?.requests || []) {
    tally.sent += 1;
    tally.verdicts[r.verdict] = (tally.verdicts[r.verdict] || 0) + 1;
    if (r.endpoint) {
      const e = tally.endpoints[r.endpoint] || (tally.endpoints[r.endpoint] = { n: 0, pod: r.pod });
      e.n += 1;
    }
  }
  return tally;
}

export function newTally() {
  return { sent: 0, verdicts: {}, endpoints: {} };
}

function podLabel(p) {
  return p ? `${p.namespace && p.namespace !== "default" ? `${p.namespace}/` : ""}${p.name}` : "";
}

function serviceHtml(s) {
  const ports = (s.ports || []).map((p) => {
    const np = p.nodePort ? ` <span class="nv-nodeport" title="NodePort on every node">NodePort ${esc(p.nodePort)}</span>` : "";
    return `<span class="nv-port">${p.name ? `${esc(p.name)} ` : ""}${esc(p.port)}→${esc(p.targetPort)}/${esc(p.protocol)}${np}</span>`;
  }).join(" ");
  const addr = s.type === "ExternalName" ? `CNAME ${esc(s.externalName || "")}`
    : s.headless ? "headless (no ClusterIP: DNS answers the pods)" : esc(s.clusterIP || "—");
  const lb = (s.loadBalancer || []).length ? ` <span class="nv-lb" title="status.loadBalancer.ingress">LB ${(s.loadBalancer).map(esc).join(", ")}</span>` : "";
  const eps = (s.endpoints || []).map((e) => {
    const [mark, word] = ENDPOINT_MARKS[e.state] || ["?", e.state];
    return `<li class="nv-ep st-${esc(e.state)}" data-ip="${esc(e.ip)}" data-pod="${esc(e.pod || "")}" data-state="${esc(e.state)}" title="${esc(`${e.ip} ${e.pod || ""} on ${e.node || "?"}: ${word}`)}">` +
      `<span class="nv-mark" aria-hidden="true">${mark}</span> ${esc(e.ip)} <small>${esc(e.pod || "")}${e.node ? ` · ${esc(e.node)}` : ""} · ${esc(word)}</small>` +
      `<span class="nv-ep-n" hidden></span></li>`;
  }).join("");
  const more = s.endpointTotal > (s.endpoints || []).length ? `<li class="muted">and ${s.endpointTotal - s.endpoints.length} more</li>` : "";
  const none = s.type === "ExternalName" ? "" : s.selector ? '<li class="nv-none">no endpoints</li>' : '<li class="nv-none">no selector: endpoints are whatever EndpointSlices name it</li>';
  return `<header><span class="nv-kind">${esc(s.type)}</span> <strong>${s.namespace !== "default" ? `${esc(s.namespace)}/` : ""}${esc(s.name)}</strong></header>` +
    `<div class="nv-addr"><code>${addr}</code>${lb}</div><div class="nv-ports">${ports}</div>` +
    (s.selector ? `<div class="nv-sel">selector <code>${esc(s.selector)}</code>${s.sessionAffinity === "ClientIP" ? " · sessionAffinity ClientIP" : ""}</div>` : "") +
    `<ul class="nv-eps">${eps || none}${more}</ul>`;
}

function nodeHtml(n) {
  const dev = n.device ? ` · <span title="the CNI plugin's interface">${esc(n.device.name)} ${esc(n.device.address || "")}</span>` : "";
  let pods;
  if (Array.isArray(n.pods)) {
    pods = n.pods.map((p) => {
      const mark = p.hostNetwork ? "⌂" : p.terminating ? "⊘" : p.ready ? "✓" : "○";
      const cls = `nv-pod${p.ready ? " ready" : ""}${p.hostNetwork ? " host" : ""}${p.terminating ? " terminating" : ""}`;
      const state = p.terminating ? "terminating" : p.ready ? "ready" : `not ready (${p.phase})`;
      return `<li class="${cls}" data-pod="${esc(`${p.namespace}/${p.name}`)}" data-ip="${esc(p.ip || "")}" data-ready="${p.ready}" data-host="${p.hostNetwork}" title="${esc(`${p.namespace}/${p.name}: ${state}${p.hostNetwork ? ", host network (the node's IP)" : ""}`)}">` +
        `<span aria-hidden="true">${mark}</span> <span class="nv-pod-name">${esc(podLabel(p))}</span> <code>${esc(p.ip || "no IP")}</code></li>`;
    }).join("") || '<li class="nv-none">no pods</li>';
  } else {
    const c = n.podCounts || {};
    const parts = c.byPhase ? Object.entries(c.byPhase).map(([k, v]) => `${esc(k)} ${v}`)
      : [`✓ ready ${c.ready || 0}`, `○ not ready ${c.notReady || 0}`, `⊘ terminating ${c.terminating || 0}`];
    pods = `<li class="nv-count" data-n="${n.podTotal}">${Number(n.podTotal).toLocaleString("en-US")} pods: too many to draw one by one — ${parts.join(" · ")}</li>`;
  }
  const down = n.alive === false ? ' <span class="nv-badge bad">✗ down</span>' : "";
  const notReady = n.networkReady ? "" : ' <span class="nv-badge bad" title="CRI NetworkReady false: the CNI plugin has not written its configuration yet">✗ network not ready</span>';
  return `<header><strong>${esc(n.name)}</strong>${down}${notReady} <code title="InternalIP">${esc(n.internalIP || "")}</code></header>` +
    `<div class="nv-cidr">podCIDR <code>${esc(n.podCIDR || "none yet")}</code>${dev}${n.routes ? ` · ${n.routes} route${n.routes === 1 ? "" : "s"} to other nodes` : ""}</div>` +
    `<ul class="nv-pods">${pods}</ul>`;
}

function policyHtml(p) {
  const sel = p.selects == null ? "too many pods in the namespace to match here"
    : p.selectedTotal ? `selects ${p.selectedTotal}: ${p.selects.map(esc).join(", ")}${p.selectedTotal > p.selects.length ? " …" : ""}` : "selects no pod";
  return `<strong>${esc(p.namespace)}/${esc(p.name)}</strong> <span class="nv-kind">${(p.policyTypes || []).map(esc).join(" + ")}</span> ` +
    `podSelector <code>${esc(p.podSelector)}</code> · ${p.ingressRules} ingress rule${p.ingressRules === 1 ? "" : "s"}, ${p.egressRules} egress · ${sel}` +
    '<span class="nv-drops" hidden></span>';
}

// Gives a <select> these [value, text] options unless it has them already; true when refilled.
function refill(sel, opts) {
  const key = JSON.stringify(opts);
  if (sel.dataset.key === key) return false;
  sel.textContent = "";
  for (const [v, t] of opts) sel.add(new Option(t, v));
  sel.dataset.key = key;
  return true;
}

// Keeps a container's keyed children in the frame's order, remaking only what changed.
function sync(box, items, keyOf, make, cls, attrs) {
  const seen = new Set();
  let prev = null;
  for (const item of items) {
    const key = keyOf(item);
    seen.add(key);
    let el = [...box.children].find((c) => c.dataset.key === key);
    const html = make(item);
    if (!el) {
      el = document.createElement(cls[0]);
      el.className = cls[1];
      el.dataset.key = key;
      if (cls[2]) el.tabIndex = 0;
    }
    if (el.dataset.html !== html) {
      el.innerHTML = html;
      el.dataset.html = html;
    }
    for (const [k, v] of Object.entries(attrs(item))) if (el.dataset[k] !== String(v)) el.dataset[k] = String(v);
    const want = prev ? prev.nextSibling : box.firstChild;
    if (want !== el) box.insertBefore(el, want);
    prev = el;
  }
  for (const el of [...box.children]) if (el.dataset.key && !seen.has(el.dataset.key)) el.remove();
}

export class NetworkView {
  constructor(root, { cluster, clock } = {}) {
    this.root = root;
    this.cluster = cluster;
    this.clock = clock || (() => ({ time: 0, paused: false }));
    this.data = null;
    this.tally = newTally();
    this.requestNo = 0;
    this.run = null;           // the traffic being sent: {body, count, rate, t0, sent, busy}
    this.anim = null;          // the hops being animated
    this.queued = null;        // the next request to animate
    this.drops = {};           // NetworkPolicy "ns/name" -> drops seen
    this.lastTrace = null;     // the watched request (its kube-proxy hop marks the rules panel)
    if (!root) return;
    this.$ = (id) => document.getElementById(id);
    this.$("btn-nv-send")?.addEventListener("click", () => this.start());
    this.$("btn-nv-stop")?.addEventListener("click", () => this.stop("stopped"));
    this.$("nv-from")?.addEventListener("change", (e) => { e.target.dataset.touched = "true"; });
    this.$("nv-rules-node")?.addEventListener("change", () => this.loadRules());
    this.$("nv-rules-what")?.addEventListener("change", () => this.loadRules());
    const pickNode = (e) => {
      const node = e.target.closest?.(".nv-node");
      if (!node || e.target.closest(".nv-pod")) return;
      if (e.type === "keydown" && !(e.key === "Enter" || e.key === " ")) return;
      if (e.type === "keydown" && e.target !== node) return;
      e.preventDefault?.();
      this.showRules(node.dataset.node);
    };
    this.$("nv-nodes")?.addEventListener("click", pickNode);
    this.$("nv-nodes")?.addEventListener("keydown", pickNode);
    setInterval(() => this.tick(), 100);
  }

  // -- the frame ------------------------------------------------------------------------
  render(nv) {
    if (!this.root || !nv) return;
    this.data = nv;
    const cni = nv.cni || {};
    const cniText = `CNI plugin ${cni.plugin || "?"} — ${cni.overlay || ""}` +
      ` · pod network ${cni.podSubnet || "?"} · Services ${cni.serviceSubnet || "?"} · cluster DNS ${cni.clusterDNS || "?"}` +
      ` · NetworkPolicy ${cni.enforcesNetworkPolicy ? "enforced (by the plugin)" : "not enforced: this plugin ignores it"}`;
    const cniEl = this.$("nv-cni");
    if (cniEl.textContent !== cniText) cniEl.textContent = cniText;
    cniEl.dataset.plugin = cni.plugin || "";
    sync(this.$("nv-nodes"), nv.nodes || [], (n) => n.name, nodeHtml, ["article", "nv-node", true],
      (n) => ({ node: n.name, podCidr: n.podCIDR || "", internalIp: n.internalIP || "", alive: n.alive !== false }));
    sync(this.$("nv-services"), nv.services || [], (s) => `${s.namespace}/${s.name}`, serviceHtml, ["article", "nv-svc", true],
      (s) => ({ service: `${s.namespace}/${s.name}`, type: s.type, clusterIp: s.clusterIP || "" }));
    const pol = this.$("nv-policies");
    const policies = nv.policies || [];
    if (!pol.querySelector("h3")) pol.innerHTML = '<h3>NetworkPolicies <span class="muted"></span></h3><ul class="nv-policy-list"></ul>';
    const note = policies.length ? (cni.enforcesNetworkPolicy ? `enforced by ${cni.plugin}` : `${cni.plugin} does not enforce them: they have no effect here`)
      : "none";
    pol.querySelector("h3 .muted").textContent = note;
    sync(pol.querySelector("ul"), policies, (p) => `${p.namespace}/${p.name}`, policyHtml, ["li", "nv-policy"],
      (p) => ({ policy: `${p.namespace}/${p.name}`, selected: p.selectedTotal ?? "", drops: this.drops[`${p.namespace}/${p.name}`] || 0 }));
    for (const li of pol.querySelectorAll(".nv-policy")) this.markDrops(li);
    const t = nv.totals || {};
    const summary = `${(nv.nodes || []).length} nodes · ${t.services ?? 0} Services${t.services > (nv.services || []).length ? ` (first ${nv.services.length})` : ""} · ${t.policies ?? 0} NetworkPolicies`;
    const sEl = this.$("nv-summary");
    if (sEl.textContent !== summary) sEl.textContent = summary;
    this.fillChoices(nv);
    this.showEndpointCounts();
  }

  fillChoices(nv) {
    const from = this.$("nv-from");
    if (!from) return;  // a page without controls has no traffic form
    const opts = [["outside", "outside the cluster (198.51.100.10)"]];
    for (const n of nv.nodes || []) opts.push([`node ${n.name}`, `node ${n.name} (${n.internalIP || "?"})`]);
    for (const n of nv.nodes || []) {
      for (const p of n.pods || []) {
        if (!p.hostNetwork && p.ip) opts.push([`pod ${p.namespace}/${p.name}`, `pod ${p.namespace}/${p.name} (${p.ip})`]);
      }
    }
    const keep = from.value;
    if (refill(from, opts)) {
      if (from.dataset.touched && opts.some(([v]) => v === keep)) from.value = keep;
      else {
        // A client pod of the user's, if there is one, is the likeliest source.
        const pod = opts.find(([v]) => v.startsWith("pod ") && !v.startsWith("pod kube-"));
        from.value = pod ? pod[0] : "outside";
      }
    }
    const list = this.$("nv-to-list");
    const to = [];
    const node = (nv.nodes || []).find((n) => n.internalIP);
    for (const s of nv.services || []) {
      to.push([`${s.name}.${s.namespace}`, `${s.type} ${s.clusterIP || ""}`]);
      if (s.clusterIP && s.clusterIP !== "None") to.push([s.clusterIP, `ClusterIP of ${s.namespace}/${s.name}`]);
      for (const p of s.ports || []) if (p.nodePort && node) to.push([`${node.internalIP}:${p.nodePort}`, `NodePort of ${s.namespace}/${s.name} on ${node.name}`]);
      for (const ip of s.loadBalancer || []) to.push([ip, `load balancer of ${s.namespace}/${s.name}`]);
    }
    const tkey = JSON.stringify(to);
    if (list.dataset.key !== tkey) {
      list.textContent = "";
      for (const [v, label] of to) list.append(new Option(label, v));
      list.dataset.key = tkey;
    }
    const input = this.$("nv-to");
    if (!input.value && document.activeElement !== input) {
      const svc = (nv.services || []).find((s) => s.namespace !== "kube-system" && s.name !== "kubernetes" && s.type !== "ExternalName");
      if (svc) input.value = `${svc.name}.${svc.namespace}`;
    }
    const sel = this.$("nv-rules-node");
    const names = (nv.nodes || []).map((n) => n.name);
    const was = sel.value;
    if (refill(sel, names.map((n) => [n, n])) && names.includes(was)) sel.value = was;
  }

  // -- sending ----------------------------------------------------------------------------
  start() {
    const count = Math.max(1, Math.min(1000, parseInt(this.$("nv-count").value, 10) || 1));
    const rate = Math.max(0, Number(this.$("nv-rate").value) || 0);
    const body = { from: this.$("nv-from").value, to: this.$("nv-to").value.trim() };
    if (!body.to) return this.say("to: name a Service (web.default), a ClusterIP, node-ip:nodePort, a pod IP or a URL", false);
    this.tally = newTally();
    this.drops = {};
    this.$("nv-requests").textContent = "";
    this.$("nv-dns").textContent = "";
    this.run = { body, count, rate, t0: this.clock().time, sent: 0, busy: false };
    this.$("btn-nv-stop").disabled = false;
    this.say(`sending ${count} request${count === 1 ? "" : "s"} from ${body.from} to ${body.to}${rate > 0 ? ` at ${rate}/s of virtual time` : ""}…`, null);
    this.showTally();
    this.tick();
  }

  stop(why) {
    if (!this.run) return;
    const r = this.run;
    this.run = null;
    this.$("btn-nv-stop").disabled = true;
    if (why) this.say(`${why}: ${r.sent} of ${r.count} sent`, true);
  }

  say(text, ok) {
    const el = this.$("nv-result");
    el.textContent = text;
    el.className = `result${ok === true ? " ok" : ok === false ? " error" : " working"}`;
  }

  async tick() {
    const run = this.run;
    if (!run || run.busy) return;
    const clock = this.clock();
    const due = dueCount(run.rate, run.count, clock.time - run.t0);
    if (due <= run.sent) {
      if (clock.paused) this.say(`${run.sent} of ${run.count} sent; the virtual clock is paused, so the next request waits for it`, null);
      return;
    }
    const n = Math.min(MAX_BATCH, due - run.sent);
    run.busy = true;
    try {
      const r = await fetch(`/clusters/${encodeURIComponent(this.cluster)}/sim/v1/traffic`, {
        method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ ...run.body, count: n }) });
      const answer = await r.json().catch(() => ({}));
      if (this.run !== run) return;
      if (!r.ok) {
        this.stop(null);
        return this.say(answer?.error?.message || `traffic: HTTP ${r.status}`, false);
      }
      run.sent += n;
      this.take(answer);
      if (run.sent >= run.count) {
        this.stop(null);
        this.say(`${run.count} request${run.count === 1 ? "" : "s"} sent: ${this.verdictText()}`, true);
      } else {
        this.say(`${run.sent} of ${run.count} sent…`, null);
      }
    } catch (err) {
      if (this.run === run) {
        this.stop(null);
        this.say(`traffic: ${err}`, false);
      }
    } finally {
      run.busy = false;
    }
  }

  verdictText() {
    return Object.entries(this.tally.verdicts).map(([v, n]) => `${n} ${v}`).join(", ");
  }

  take(answer) {
    addToTally(this.tally, answer);
    const reqs = answer.requests || [];
    reqs.forEach((req, i) => {
      this.requestNo += 1;
      req.n = this.requestNo;
      this.addRequestRow(req, answer);
      if (req.dns) this.addDns(req.dns);
      for (const h of req.hops || []) {
        if (hopKind(h) === "policy" && h.rule) this.drops[h.rule] = (this.drops[h.rule] || 0) + 1;
      }
      if (i === 0) this.watch(req);
    });
    this.showTally();
    for (const li of document.querySelectorAll("#nv-policies .nv-policy")) this.markDrops(li);
  }

  markDrops(li) {
    const n = this.drops[li.dataset.policy] || 0;
    li.dataset.drops = String(n);
    li.classList.toggle("dropping", n > 0);
    const badge = li.querySelector(".nv-drops");
    if (badge) {
      badge.hidden = !n;
      badge.textContent = n ? ` ⛔ dropped ${n} packet${n === 1 ? "" : "s"}` : "";
    }
  }

  addRequestRow(req) {
    const ol = this.$("nv-requests");
    const li = document.createElement("li");
    li.dataset.n = String(req.n);
    li.dataset.verdict = req.verdict;
    li.dataset.endpoint = req.endpoint || "";
    li.className = `nv-req v-${req.verdict}`;
    const last = (req.hops || [])[req.hops.length - 1] || {};
    const where = req.verdict === "delivered"
      ? `${req.endpoint} ${podLabel(req.pod)}${req.pod?.node ? ` on ${req.pod.node}` : ""}${req.response ? ` · HTTP ${req.response.status}` : ""}`
      : `at ${last.at || "?"}: ${last.what || ""}`;
    li.innerHTML = `<span aria-hidden="true">${VERDICT_MARKS[req.verdict] || "?"}</span> #${req.n} <b>${esc(req.verdict)}</b> ${esc(where)}`;
    ol.prepend(li);
    while (ol.children.length > REQUESTS_SHOWN) ol.lastChild.remove();
  }

  addDns(dns) {
    const ul = this.$("nv-dns");
    for (const q of dns.queries || []) {
      const answer = q.rcode === "NOERROR" ? q.answer.join(", ") : q.rcode;
      const key = `${q.qname}|${answer}|${q.pod?.name || ""}`;
      let li = [...ul.children].find((x) => x.dataset.key === key);
      if (!li) {
        li = document.createElement("li");
        li.dataset.key = key;
        li.dataset.qname = q.qname;
        li.dataset.rcode = q.rcode;
        li.dataset.answer = q.rcode === "NOERROR" ? q.answer.join(",") : "";
        li.dataset.count = "0";
        li.className = `nv-dns-line rc-${q.rcode}`;
      }
      li.dataset.count = String(Number(li.dataset.count) + 1);
      const by = q.pod ? ` <small>answered by ${esc(q.pod.name)} (${esc(q.endpoint || "")})</small>` : q.rcode === "TIMEOUT" ? " <small>no CoreDNS answered</small>" : "";
      li.innerHTML = `<code>${esc(q.qname)}</code> ${esc(q.type || "A")} → <b>${esc(answer || "(no address)")}</b>${by}${Number(li.dataset.count) > 1 ? ` <span class="muted">×${li.dataset.count}</span>` : ""}`;
      ul.prepend(li);
    }
    while (ul.children.length > DNS_SHOWN) ul.lastChild.remove();
  }

  showTally() {
    const box = this.$("nv-tally");
    const t = this.tally;
    box.dataset.sent = String(t.sent);
    box.dataset.answered = String(t.verdicts.delivered || 0);
    if (!t.sent) {
      box.innerHTML = this.run ? "" : '<p class="hint">Send requests to see how kube-proxy spreads them over the endpoints.</p>';
      this.showEndpointCounts();
      return;
    }
    const verdicts = Object.entries(t.verdicts).map(([v, n]) =>
      `<span class="nv-tally-verdict v-${esc(v)}" data-verdict="${esc(v)}" data-n="${n}">${VERDICT_MARKS[v] || "?"} ${esc(v)} ${n}</span>`).join(" ");
    const eps = Object.entries(t.endpoints).sort((a, b) => a[0].localeCompare(b[0]));
    const answered = eps.reduce((s, [, e]) => s + e.n, 0);
    const expect = eps.length ? 100 / eps.length : 0;
    const rows = eps.map(([ep, e]) => {
      const pct = answered ? (100 * e.n) / answered : 0;
      return `<li class="nv-tally-ep" data-endpoint="${esc(ep)}" data-n="${e.n}"><span class="nv-bar" style="width:${pct.toFixed(1)}%"></span>` +
        `<span class="nv-tally-text">${esc(ep)} <small>${esc(podLabel(e.pod))}</small> <b>${e.n}</b> (${pct.toFixed(0)}%)</span></li>`;
    }).join("");
    box.innerHTML = `<div class="nv-verdicts">${t.sent} sent · ${verdicts}</div>` +
      (eps.length ? `<ul class="nv-tally-eps">${rows}</ul><p class="hint">With ${eps.length} endpoints answering, kube-proxy's probabilities give each ≈ ${expect.toFixed(0)}% (1/${eps.length}).</p>` : "");
    this.showEndpointCounts();
  }

  // Each endpoint in the Service boxes says how many of the requests it answered.
  showEndpointCounts() {
    const byIp = {};
    for (const [ep, e] of Object.entries(this.tally.endpoints)) {
      const ip = ep.slice(0, ep.lastIndexOf(":"));
      byIp[ip] = (byIp[ip] || 0) + e.n;
    }
    for (const li of document.querySelectorAll("#nv-services .nv-ep")) {
      const n = byIp[li.dataset.ip] || 0;
      const badge = li.querySelector(".nv-ep-n");
      if (!badge) continue;
      badge.hidden = !n;
      const text = n ? ` ${n} answered` : "";
      if (badge.textContent !== text) badge.textContent = text;
    }
  }

  // -- the watched request, hop by hop -------------------------------------------------
  watch(req) {
    if (this.anim) {
      this.queued = req;  // the one in progress finishes first; the newest waits
      return;
    }
    const hops = [];
    for (const q of req.dns?.queries || []) {
      if (!q.hops) continue;
      for (const h of q.hops) hops.push({ ...h, dns: true, what: `DNS ${q.qname}: ${h.what}` });
      hops.push({ at: q.pod ? `${q.pod.namespace}/${q.pod.name}` : req.hops?.[0]?.at, dns: true, rule: null,
                  what: `CoreDNS answers ${q.qname} A: ${q.rcode === "NOERROR" ? q.answer.join(", ") : q.rcode}` });
    }
    hops.push(...(req.hops || []));
    const ol = this.$("nv-hops");
    ol.dataset.request = String(req.n);
    ol.dataset.verdict = req.verdict;
    ol.dataset.done = "false";
    ol.textContent = "";
    hops.forEach((h, i) => {
      const li = document.createElement("li");
      let kind = hopKind(h);
      const final = i === hops.length - 1 && req.verdict !== "delivered";
      if (final && !["policy", "reject", "drop"].includes(kind)) kind = "fail";
      li.className = `nv-hop k-${kind}`;
      li.dataset.kind = kind;
      li.dataset.at = h.at || "";
      li.dataset.state = "pending";
      const policy = kind === "policy" && h.rule ? ` <span class="nv-policy-name">NetworkPolicy ${esc(h.rule)}</span>` : "";
      const rule = h.rule && kind !== "policy" ? `<code class="nv-hop-rule">${esc(h.rule)}</code>` : "";
      const verdict = final ? ` <b class="nv-verdict">${VERDICT_MARKS[req.verdict] || ""} ${esc(req.verdict)}</b>` : "";
      li.innerHTML = `<span class="nv-at">${esc(h.at || "")}</span> ${esc(h.what)}${policy}${verdict}${rule}`;
      ol.append(li);
    });
    this.lastTrace = req;
    const proxyHop = (req.hops || []).find((h) => h.path || ["dnat", "reject"].includes(hopKind(h)));
    if (proxyHop) this.showRules(proxyHop.at, { quiet: true });
    this.anim = { hops, i: 0, timer: null };
    this.step();
  }

  step() {
    const a = this.anim;
    if (!a) return;
    const items = this.$("nv-hops").children;
    if (a.i >= a.hops.length) {
      this.$("nv-hops").dataset.done = "true";
      this.clearHop();
      this.anim = null;
      if (this.queued) {
        const next = this.queued;
        this.queued = null;
        this.watch(next);
      }
      return;
    }
    const h = a.hops[a.i];
    const li = items[a.i];
    if (li) {
      li.dataset.state = "shown";
      // Keep it in sight inside the list (not by scrolling the page).
      const ol = li.parentElement;
      if (li.offsetTop + li.offsetHeight > ol.scrollTop + ol.clientHeight || li.offsetTop < ol.scrollTop) {
        ol.scrollTop = Math.max(0, li.offsetTop + li.offsetHeight - ol.clientHeight + 8);
      }
    }
    this.moveTo(h);
    a.i += 1;
    a.timer = setTimeout(() => this.step(), HOP_MS);
  }

  elementFor(at) {
    if (!at || at === "outside" || at === "cloud") return this.$("nv-outside");
    const pod = document.querySelector(`#nv-nodes .nv-pod[data-pod="${CSS.escape(at)}"]`);
    if (pod) return pod;
    return document.querySelector(`#nv-nodes .nv-node[data-node="${CSS.escape(at)}"]`);
  }

  clearHop() {
    for (const el of document.querySelectorAll("#network-panel .hop")) el.classList.remove("hop");
    const svg = this.$("nv-packets");
    if (svg) svg.textContent = "";
  }

  moveTo(h) {
    this.clearHop();
    const el = this.elementFor(h.at);
    const kind = hopKind(h);
    if (kind === "dnat") {
      const dst = this.lastTrace?.packet?.dst;
      const svc = dst && [...document.querySelectorAll("#nv-services .nv-svc")].find((s) => s.dataset.clusterIp === dst);
      svc?.classList.add("hop");
    }
    if (!el) return;
    el.classList.add("hop");
    const node = el.closest(".nv-node");
    node?.classList.add("hop");
    const stage = this.$("nv-stage");
    const svg = this.$("nv-packets");
    if (!stage || !svg) return;
    const s = stage.getBoundingClientRect();
    const r = el.getBoundingClientRect();
    const x = r.left - s.left + Math.min(r.width, 40) / 2, y = r.top - s.top + r.height / 2;
    const label = { encap: "VXLAN", snat: "SNAT", dnat: "DNAT", dns: "DNS", policy: "⛔", drop: "⛔", reject: "✗", fail: "✗", reply: "↩" }[kind] || "";
    svg.innerHTML = `<circle class="nv-packet k-${kind}" cx="${x.toFixed(0)}" cy="${y.toFixed(0)}" r="9"></circle>` +
      (label ? `<text class="nv-packet-label" x="${(x + 13).toFixed(0)}" y="${(y + 5).toFixed(0)}">${esc(label)}</text>` : "");
  }

  // -- a node's rules ---------------------------------------------------------------------
  showRules(node, { quiet = false } = {}) {
    const sel = this.$("nv-rules-node");
    if (!sel || ![...sel.options].some((o) => o.value === node)) return;
    sel.value = node;
    if (!quiet) this.$("nv-rules")?.focus?.();
    this.loadRules();
  }

  async loadRules() {
    const node = this.$("nv-rules-node").value;
    const what = this.$("nv-rules-what").value;
    const pre = this.$("nv-rules");
    const meta = this.$("nv-rules-meta");
    if (!node) return;
    const base = `/clusters/${encodeURIComponent(this.cluster)}/sim/v1/nodes/${encodeURIComponent(node)}`;
    const token = (this.rulesToken = (this.rulesToken || 0) + 1);
    let text = "", info = "";
    try {
      if (what === "routes") {
        const r = await fetch(`${base}/routes`, { cache: "no-store" });
        const j = await r.json();
        if (!r.ok) throw new Error(j?.error?.message || `HTTP ${r.status}`);
        text = j.routes || "";
        info = `ip route on ${node} · ${j.cni} · podCIDR ${j.podCIDR || "none"}${j.networkReady ? "" : " · network not ready"}`;
      } else {
        // The mode's own text (iptables-save, ipvsadm -Ln, nft list) where the server has it,
        // else iptables-save.
        let r = await fetch(`${base}/proxy-rules`, { cache: "no-store" });
        let j = await r.json().catch(() => null);
        if (!j || r.status === 404) {
          r = await fetch(`${base}/iptables`, { cache: "no-store" });
          j = await r.json().catch(() => null);
        }
        if (!r.ok || !j) throw new Error(j?.error?.message || `HTTP ${r.status}`);
        text = j.text ?? j.rules ?? "";
        info = `kube-proxy on ${node} · mode ${j.mode || "iptables"}${typeof j.syncedAt === "number" ? ` · last sync at ${j.syncedAt.toFixed(1)}s` : ""}`;
      }
    } catch (err) {
      if (token !== this.rulesToken) return;
      meta.textContent = `${node}: ${err.message || err}`;
      pre.textContent = "";
      return;
    }
    if (token !== this.rulesToken) return;
    // The watched request's marks on this node: the kube-proxy rules it matched, or the route
    // it took.
    const hops = (this.lastTrace?.hops || []).filter((h) => h.at === node);
    let m;
    if (what === "routes") {
      const rules = hops.filter((h) => h.rule && !h.path).map((h) => h.rule);
      m = matchedLines(text, rules, rules[0]);
    } else {
      const hop = hops.find((h) => h.path) || hops.find((h) => ["dnat", "reject", "drop"].includes(hopKind(h)) && h.rule);
      m = matchedLines(text, hop?.path || (hop?.rule ? [hop.rule] : []), hop?.rule);
    }
    const lines = text.replace(/\n$/, "").split("\n");
    pre.innerHTML = lines.map((l, i) => {
      const on = m.matched.has(i);
      return `<span class="nv-line${on ? " matched" : ""}${i === m.target ? " target" : ""}" data-line="${i}">` +
        `<span class="nv-gutter" aria-hidden="true">${on ? "▶" : " "}</span>${esc(l)}${on ? '<span class="sr-only"> (matched)</span>' : ""}</span>`;
    }).join("\n");
    pre.dataset.node = node;
    pre.dataset.what = what;
    pre.dataset.matched = String(m.matched.size);
    meta.textContent = info + (m.matched.size ? ` · ▶ ${m.matched.size} rule${m.matched.size === 1 ? "" : "s"} request #${this.lastTrace?.n} matched` : "");
    const first = pre.querySelector(".target") || pre.querySelector(".matched");
    if (first) pre.scrollTop = Math.max(0, first.offsetTop - 40);
  }
}
