// commandbar.js — the presenter's command bar: one line to act on the cluster without scrolling
// to a form.  Opened by ":" (or its header button), closed by Escape; Enter runs the line; up
// and down walk this browser's history of lines.
//
// Each command is a request the control API already serves (README, "Control API") or a
// view, a lesson action or a kubectl line for the page's console, so the bar adds no behaviour
// of its own: `parseCommand` turns a line into one of
//
//   {request: {method, path, body}, says}   POST /clusters/<c>/sim/v1/<path> with `body`
//   {view}                                  switch the page to a view
//   {kubectl}                               run the line in the kubectl console
//   {help}                                  list the commands
//   {error}                                 what is wrong with the line, in words
//
// and the bar shows the answer (or the API's Status message) as text.  Only on a page with
// controls: a watcher's page has no bar, and the API would refuse them anyway.

const HISTORY_KEY = "pilothouse.commandbar.history";
const VIEWS = ["architecture", "workloads", "network", "etcd", "scheduler", "objects", "lessons"];
const FAULTS = ["crash", "hang", "fail-health", "unready", "leak-memory", "burn-cpu", "recover"];
const LESSON_ACTIONS = ["play", "pause", "next", "back", "restart", "stop"];

// What `help` lists, and what the input's suggestions offer (<x>: a value to fill in).
export const COMMANDS = [
  ["pause", "pause the cluster's clock"],
  ["resume", "run the clock again"],
  ["step <duration>", "pause, then run that much virtual time (1s, 500ms, 2m)"],
  ["skip <duration>", "run ahead that much virtual time at once"],
  ["speed <factor>", "run at that many times wall-clock speed (0.01 to 50)"],
  ["view <name>", `show a view: ${VIEWS.join(", ")}`],
  ["kill node <node>", "power a node off"],
  ["restore node <node>", "power it back on"],
  ["add node <name> [cpu=4] [memory=8Gi] [runtime=containerd]", "add a worker"],
  ["kill component <node> <component>", "kill kube-apiserver, kube-scheduler, ... on a control-plane node"],
  ["kill member <member>", "stop an etcd member"],
  ["restore member <member>", "start it again"],
  ["transfer leader <member>", "make that etcd member the leader"],
  ["add member <host> [learner]", "etcdctl member add: a new etcd member on that host (a learner with \"learner\")"],
  ["promote member <member>", "etcdctl member promote: a learner in sync becomes a voter"],
  ["remove member <member>", "etcdctl member remove"],
  ["etcd put <key> <value>", "etcdctl put"],
  ["partition <host,host> | <host,host>", "cut the network between groups of hosts"],
  ["heal", "end the partition and restore every link"],
  ["fault <pod|ns/pod> <fault> [container]", `a fault in a pod's application: ${FAULTS.join(", ")}`],
  ["lesson <action>", `the lesson playing: ${LESSON_ACTIONS.join(", ")}`],
  ["kubectl <args>", "run kubectl in the console"],
  ["help", "this list"],
];

const DURATION = /^\d+(\.\d+)?(ms|s|m|h)?$/;

function words(line) {
  return line.trim().split(/\s+/).filter(Boolean);
}

function seconds(text) {
  return DURATION.test(text) && !/(ms|s|m|h)$/.test(text) ? `${text}s` : text;
}

// One line -> what to do (see the module comment).  Pure: no DOM, no fetch.
export function parseCommand(line) {
  const text = String(line || "").trim();
  if (!text) return { error: "type a command; help lists them" };
  if (/^kubectl(\s|$)/.test(text)) return { kubectl: text };
  const w = words(text);
  const [verb, a, b, ...rest] = w;
  const need = (what, value) => (value ? null : { error: `${verb}: which ${what}? (${usage(verb)})` });
  const post = (path, body = {}, says = text) => ({ request: { method: "POST", path, body }, says });
  switch (verb) {
    case "help": case "?":
      return { help: true };
    case "pause":
      return post("clock", { paused: true });
    case "resume": case "play":
      return post("clock", { paused: false });
    case "step":
      if (a && !DURATION.test(a)) return { error: `step: "${a}" is not a duration (1s, 500ms, 2m)` };
      return post("clock", { step: seconds(a || "1s") });
    case "skip": case "advance":
      if (!a || !DURATION.test(a)) return { error: `${verb}: give a duration (30s, 5m)` };
      return post("clock", { advance: seconds(a) });
    case "speed": {
      const x = Number(String(a || "").replace(/x$/i, ""));
      if (!a || !Number.isFinite(x) || x <= 0) return { error: "speed: give a factor (0.5, 2, 10x)" };
      return post("clock", { speed: x });
    }
    case "view": case "go": {
      const view = VIEWS.find((v) => v === a || (a && v.startsWith(a)));
      return view ? { view } : { error: `${verb}: one of ${VIEWS.join(", ")}` };
    }
    case "kill": case "restore":
      if (a === "node") return need("node", b) || post(`nodes/${encodeURIComponent(b)}/${verb}`);
      if (a === "member") return need("member", b) || post(`etcd/members/${encodeURIComponent(b)}/${verb}`);
      if (a === "component" && verb === "kill") {
        if (!b || !rest[0]) return { error: `kill component: give the node and the component (${usage("kill")})` };
        return post(`nodes/${encodeURIComponent(b)}/components/${encodeURIComponent(rest[0])}/kill`);
      }
      return { error: `${verb}: ${verb === "kill" ? "node, component or member" : "node or member"}? (${usage(verb)})` };
    case "promote": case "remove":
      if (a !== "member" || !b) return { error: `${verb}: ${usage(verb)}` };
      return post(`etcd/members/${encodeURIComponent(b)}/${verb}`);
    case "add": {
      if (a === "member") {
        if (!b) return need("host", b);
        if (rest.length && (rest.length > 1 || rest[0] !== "learner")) return { error: `add member: ${usage("add")}` };
        return post("etcd/members", { host: b, learner: rest[0] === "learner" });
      }
      if (a !== "node") return { error: `add: "add node <name>" or "add member <host>" (${usage("add")})` };
      if (!b) return need("name", b);
      const body = { name: b };
      for (const kv of rest) {
        const [k, ...v] = kv.split("=");
        if (!["cpu", "memory", "runtime"].includes(k) || !v.length) return { error: `add node: "${kv}" is not cpu=, memory= or runtime=` };
        body[k] = v.join("=");
      }
      return post("nodes", body);
    }
    case "transfer":
      if (a !== "leader" || !b) return { error: `transfer: ${usage("transfer")}` };
      return post(`etcd/members/${encodeURIComponent(b)}/transfer-leadership`);
    case "etcd":
      if (a !== "put" || !b || !rest.length) return { error: `etcd: ${usage("etcd")}` };
      return post("etcd/put", { key: b, value: rest.join(" ") });
    case "partition": {
      const groups = w.slice(1).join(" ").split("|").map((g) => g.split(/[\s,]+/).filter(Boolean)).filter((g) => g.length);
      if (groups.length < 2) return { error: `partition: at least two groups (${usage("partition")})` };
      return post("network/partition", { groups });
    }
    case "heal":
      return post("network/heal");
    case "fault": {
      if (!a || !b) return { error: `fault: ${usage("fault")}` };
      if (!FAULTS.includes(b)) return { error: `fault: "${b}" is not one of ${FAULTS.join(", ")}` };
      const [ns, pod] = a.includes("/") ? a.split("/", 2) : ["default", a];
      return post(`pods/${encodeURIComponent(ns)}/${encodeURIComponent(pod)}/fault`, rest[0] ? { fault: b, container: rest[0] } : { fault: b });
    }
    case "lesson":
      if (!LESSON_ACTIONS.includes(a)) return { error: `lesson: one of ${LESSON_ACTIONS.join(", ")}` };
      return post("lesson", { action: a });
    default:
      return { error: `unknown command "${verb}": help lists them` };
  }
}

function usage(verb) {
  return COMMANDS.filter(([c]) => c.split(" ")[0] === verb).map(([c]) => c).join("; ") || "help lists the commands";
}

export class CommandBar {
  constructor(panel, { cluster, setView, kubectlConsole }) {
    this.panel = panel;
    this.cluster = cluster;
    this.setView = setView;
    this.kubectlConsole = kubectlConsole;
    this.input = panel.querySelector("#command-input");
    this.result = panel.querySelector("#command-result");
    this.help = panel.querySelector("#command-help");
    try { this.history = JSON.parse(localStorage.getItem(HISTORY_KEY) || "[]"); } catch { this.history = []; }
    this.cursor = this.history.length;
    const list = panel.querySelector("#command-suggestions");
    for (const [c] of COMMANDS) list.append(Object.assign(document.createElement("option"), { value: c.split(" <")[0] }));
    for (const [c, what] of COMMANDS) {
      const li = document.createElement("li");
      const code = document.createElement("code");
      code.textContent = c;
      li.append(code, ` — ${what}`);
      this.help.append(li);
    }
    panel.querySelector("#command-form").addEventListener("submit", (e) => { e.preventDefault(); this.run(this.input.value); });
    this.input.addEventListener("keydown", (e) => {
      if (e.key === "Escape") { e.preventDefault(); this.close(); }
      else if (e.key === "ArrowUp" && this.cursor > 0) { e.preventDefault(); this.input.value = this.history[--this.cursor]; }
      else if (e.key === "ArrowDown") {
        e.preventDefault();
        this.cursor = Math.min(this.history.length, this.cursor + 1);
        this.input.value = this.history[this.cursor] || "";
      }
    });
    panel.querySelector("#command-close")?.addEventListener("click", () => this.close());
  }

  get isOpen() {
    return !this.panel.hidden;
  }

  open() {
    this.panel.hidden = false;
    this.input.focus();
    this.input.select();
  }

  close() {
    this.panel.hidden = true;
    document.activeElement?.blur?.();
  }

  say(text, kind) {
    this.result.textContent = text;
    this.result.className = `result ${kind}`;
    this.panel.dataset.outcome = kind;
  }

  remember(line) {
    if (this.history[this.history.length - 1] !== line) this.history.push(line);
    this.history = this.history.slice(-100);
    this.cursor = this.history.length;
    try { localStorage.setItem(HISTORY_KEY, JSON.stringify(this.history)); } catch { /* private mode */ }
  }

  async run(line) {
    const what = parseCommand(line);
    this.help.hidden = !what.help;
    if (what.error) return this.say(what.error, "error");
    this.remember(line.trim());
    this.input.value = "";
    if (what.help) return this.say("the commands:", "ok");
    if (what.view) {
      this.setView(what.view, { push: true });
      return this.say(`view: ${what.view}`, "ok");
    }
    if (what.kubectl) {
      if (!this.kubectlConsole) return this.say("this page has no kubectl console", "error");
      this.kubectlConsole.open();
      this.kubectlConsole.input.value = what.kubectl;
      this.kubectlConsole.submit();
      return this.say(`sent to the console: ${what.kubectl}`, "ok");
    }
    const { method, path, body } = what.request;
    this.say(`${what.says} …`, "busy");
    try {
      const r = await fetch(`/clusters/${encodeURIComponent(this.cluster)}/sim/v1/${path}`, {
        method, headers: { Accept: "application/json", "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
      let data = null;
      try { data = await r.json(); } catch { /* not JSON */ }
      if (!r.ok) return this.say(`${what.says}: ${(data && data.message) || `HTTP ${r.status}`}`, "error");
      this.say(`${what.says}: done`, "ok");
    } catch (e) {
      this.say(`${what.says}: ${e.message || e}`, "error");
    }
  }
}
