// lessons.js — the Lessons panel (templates/dashboard/_lessons.html): the lesson list by
// chapter, the current step (narration, task, kubectl line, question, what it waits for), the
// presenter's buttons, and the step's components highlighted in the diagram.
//
// It polls GET /clusters/<c>/sim/v1/lesson about once a second: looking ticks the server's
// level-triggered player (sim/lessons/player.py), so the step follows the cluster's state
// whoever changed it.  Buttons POST to the same URL; the "n" key is "next" while a lesson is
// loaded.  Import it once (`import "./lessons.js";`): it finds #lessons-panel itself.
//
// Lesson text arrives as HTML the server rendered from a safe Markdown subset (escaped first,
// cluster/dashboard/markdown.py); everything else (names, checks, errors) is written as text.
//
// What the DOM exposes (tests rely on it):
//   #lessons-panel     data-state: "loading", "idle" (no lesson), "playing", "paused", "finished",
//                      "error"; data-lesson (its id), data-step (1-based), data-step-state
//   #lesson-list       .lesson-chapter > .lesson-item[data-lesson] with Start buttons
//                      ([data-start], [data-start-new]; a lesson that starts from a saved
//                      moment has only [data-start-new])
//   #lesson-steps li   data-state per step (pending, active, waiting, done, passed, skipped,
//                      failed, stuck); aria-current on the current one
//   #lesson-checks li  data-ok "true"/"false": each check the step waits for
//   .lesson-highlight  the class put on every [data-addr] (and node) the step highlights

const POLL_MS = 1000;

function el(tag, attrs = {}, text = null) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("data-") || k.startsWith("aria-") || k === "title" || k === "type") e.setAttribute(k, v);
    else e[k] = v;
  }
  if (text !== null) e.textContent = text;
  return e;
}

// The elements a highlight names: a component address ("kube-scheduler@cp-1"), a component on
// every node ("kubelet", "etcd": every "kubelet@..." / "etcd@..."), a node ("worker-1"), a pod.
export function highlightTargets(root, name) {
  const q = CSS.escape(name);
  const sel = [`[data-addr="${q}"]`, `[data-addr="host:${q}"]`, `[data-addr^="${q}@"]`,
               `[data-component="${q}"]`, `[data-node-name="${q}"]`, `.pod[data-name="${q}"]`];
  return [...root.querySelectorAll(sel.join(","))];
}

export class LessonsPanel {
  constructor(panel) {
    this.panel = panel;
    this.cluster = panel.dataset.cluster;
    this.controls = panel.dataset.controls === "true";
    this.base = `/clusters/${encodeURIComponent(this.cluster)}/sim/v1`;
    this.state = null;      // the last {player, step}
    this.highlights = [];
    this.$ = (id) => panel.querySelector("#" + id);
    panel.addEventListener("click", (e) => this.onClick(e));
    this.loadList();
    this.poll();
    this.timer = setInterval(() => this.poll(), POLL_MS);
    // The diagram redraws its boxes; put the highlight back on the new ones.
    const diagram = document.getElementById("diagram");
    if (diagram && window.MutationObserver) {
      let queued = false;
      new MutationObserver(() => {
        if (queued) return;
        queued = true;
        requestAnimationFrame(() => { queued = false; this.applyHighlight(); });
      }).observe(diagram, { childList: true, subtree: true });
    }
  }

  async request(method, url, body) {
    const init = { method, headers: { Accept: "application/json" } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const resp = await fetch(url, init);
    let data = null;
    try { data = await resp.json(); } catch { /* not JSON */ }
    if (!resp.ok) throw new Error((data && (data.message || (data.error && data.error.message))) || `HTTP ${resp.status}`);
    return data;
  }

  async loadList() {
    const list = this.$("lesson-list");
    try {
      const data = await this.request("GET", `${this.base}/lessons`);
      list.replaceChildren();
      for (const ch of data.chapters) {
        const sec = el("section", { class: "lesson-chapter", "data-chapter": ch.name });
        sec.append(el("h3", {}, ch.title));
        const ul = el("ul");
        for (const l of ch.lessons) {
          const li = el("li", { class: "lesson-item", "data-lesson": l.id });
          li.append(el("strong", {}, l.title), el("span", { class: "muted" },
            ` · ${l.stepCount} steps` + (l.from ? " · starts from a saved moment" : "")));
          if (l.summary) li.append(el("p", { class: "lesson-summary" }, l.summary));
          if (this.controls) {
            const row = el("div", { class: "lesson-start" });
            // A lesson that starts from a saved moment cannot rewind this cluster to it: only
            // a new cluster, made at that moment, can play it.
            if (!l.from) row.append(el("button", { type: "button", "data-start": l.id, title: "Play it on this cluster as it is" }, "Start here"));
            if (l.cluster || l.from) row.append(el("button", { type: "button", "data-start-new": l.id,
              title: l.from ? "Create a cluster at the lesson's saved moment, and play the lesson there"
                : "Create a cluster shaped as the lesson needs it, and play the lesson there" }, "Start in a new cluster"));
            li.append(row);
          }
          ul.append(li);
        }
        sec.append(ul);
        list.append(sec);
      }
      this.lessons = Object.fromEntries(data.chapters.flatMap((c) => c.lessons).map((l) => [l.id, l]));
    } catch (err) {
      list.replaceChildren(el("p", { class: "lesson-error" }, `The lessons could not be loaded: ${err.message}`));
    }
  }

  async poll() {
    if (this.busy || document.hidden) return;
    // Only while the page is live (not disconnected, broken or deleted), and outside the Lessons
    // view only while a lesson is loaded (for "n" and the highlight): a room of viewers on
    // other views does not poll for nothing.  The first look, at load, always happens.
    const root = document.getElementById("dashboard");
    if (root && this.state !== null) {
      if (root.dataset.ws !== "open" || root.classList.contains("is-broken") || root.classList.contains("is-deleted")) return;
      if (root.dataset.view !== "lessons" && !(this.state && this.state.player)) return;
    }
    try {
      this.show(await this.request("GET", `${this.base}/lesson`));
    } catch (err) {
      if (this.state === null) this.state = { player: null };   // looked once: the guards apply
      this.showError(err.message);
    }
  }

  async act(body) {
    this.busy = true;
    try {
      this.show(await this.request("POST", `${this.base}/lesson`, body));
      this.hideError();
    } catch (err) {
      this.showError(err.message);
    } finally {
      this.busy = false;
    }
  }

  async startNew(id) {
    const lesson = (this.lessons || {})[id];
    if (!lesson) return;
    const name = `${id}-${Math.random().toString(36).slice(2, 6)}`.slice(0, 40).replace(/^-+|-+$/g, "");
    try {
      // The server makes the cluster the lesson wants (its spec, or its saved moment imported
      // from the server's own file) and starts the lesson there.
      await this.request("POST", "/sim/v1/clusters", { name, lesson: id });
      location.assign(`/clusters/${encodeURIComponent(name)}/lessons`);
    } catch (err) {
      this.showError(`Could not start ${lesson.title} in a new cluster: ${err.message}`);
    }
  }

  onClick(e) {
    const b = e.target.closest("button");
    if (!b || !this.panel.contains(b)) return;
    if (b.dataset.start) this.act({ start: b.dataset.start });
    else if (b.dataset.startNew) this.startNew(b.dataset.startNew);
    else if (b.dataset.lessonAction) this.act({ action: b.dataset.lessonAction });
    else if (b.id === "lesson-reveal") {
      const answer = this.$("lesson-answer");
      answer.hidden = !answer.hidden;
      b.setAttribute("aria-expanded", String(!answer.hidden));
      b.textContent = answer.hidden ? "Show the answer" : "Hide the answer";
    } else if (b.id === "lesson-kubectl-run") this.runInConsole();
  }

  runInConsole() {
    const line = this.state && this.state.step && this.state.step.kubectl;
    const kc = window.pilothouse && window.pilothouse.kubectlConsole;
    if (!line || !kc) return;
    kc.open();
    kc.input.value = line;
    kc.submit();
  }

  next() {
    if (this.controls && this.state && this.state.player && !this.state.player.finished) this.act({ action: "next" });
  }

  show(data) {
    this.state = data;
    const p = data && data.player;
    const panel = this.panel;
    const player = this.$("lesson-player");
    if (!p) {
      panel.dataset.state = "idle";
      delete panel.dataset.lesson;
      player.hidden = true;
      this.setHighlight([]);
      return;
    }
    player.hidden = false;
    panel.dataset.lesson = p.lesson;
    panel.dataset.state = p.finished ? "finished" : (p.states[p.index] === "failed" || p.states[p.index] === "stuck") ? "error"
      : p.playing ? "playing" : "paused";
    panel.dataset.step = String(p.index + 1);
    panel.dataset.stepState = p.state;
    this.$("lesson-title").textContent = p.title;
    this.$("lesson-progress").textContent = p.finished ? `all ${p.stepCount} steps` : `step ${p.index + 1} of ${p.stepCount}`;
    this.$("lesson-state").textContent = p.finished ? "finished ✓" : p.playing ? "▶ playing" : "❚❚ paused";
    const playBtn = this.$("lesson-play"), pauseBtn = this.$("lesson-pause");
    if (playBtn) playBtn.hidden = p.playing;
    if (pauseBtn) pauseBtn.hidden = !p.playing;
    // The steps, as markers with their state (text and shape, not colour alone).
    const marks = { pending: "○", active: "●", waiting: "◔", done: "✓", passed: "✓", skipped: "↷", failed: "✗", stuck: "!" };
    const ol = this.$("lesson-steps");
    ol.replaceChildren(...p.states.map((s, i) => {
      const li = el("li", { "data-state": s, title: `step ${i + 1}: ${s}` }, marks[s] || "○");
      if (i === p.index && !p.finished) li.setAttribute("aria-current", "step");
      return li;
    }));
    const step = data.step;
    if (p.finished || !step) {
      this.$("lesson-step-title").textContent = p.finished ? "The lesson is over." : "";
      this.$("lesson-narration").replaceChildren();
      for (const id of ["lesson-task", "lesson-kubectl", "lesson-question"]) this.$(id).hidden = true;
      this.$("lesson-checks").replaceChildren();
      this.setHighlight([]);
      return;
    }
    this.$("lesson-step-title").textContent = step.title || `Step ${p.index + 1}`;
    // Server-rendered from the safe Markdown subset: the lesson file's text, escaped, then marked up.
    if (this.shownStep !== `${p.lesson}/${p.index}`) {
      this.shownStep = `${p.lesson}/${p.index}`;
      this.$("lesson-narration").innerHTML = step.html.narration;
      this.$("lesson-task").hidden = !step.task;
      this.$("lesson-task-text").innerHTML = step.html.task;
      this.$("lesson-kubectl").hidden = !step.kubectl;
      this.$("lesson-kubectl-line").textContent = step.kubectl ? `$ ${step.kubectl}` : "";
      const q = this.$("lesson-question");
      q.hidden = !step.question;
      this.$("lesson-q").innerHTML = step.question ? step.html.question : "";
      const answer = this.$("lesson-answer");
      answer.innerHTML = step.question ? step.html.answer : "";
      answer.hidden = true;
      const reveal = this.$("lesson-reveal");
      reveal.setAttribute("aria-expanded", "false");
      reveal.textContent = "Show the answer";
    }
    const checks = this.$("lesson-checks");
    const stateText = { waiting: "waiting for", done: "done", passed: "already so", active: "will wait for", stuck: "still not so after the step's timeout", failed: "the action failed" };
    checks.replaceChildren(...(step.wait || []).map((w) => {
      const c = (p.checks || []).find((x) => x.expect === w);
      const ok = !!(c && c.ok);
      const li = el("li", { "data-ok": String(ok) });
      li.append(el("span", { class: "check-mark", "aria-hidden": "true" }, ok ? "✓" : "…"),
                el("code", {}, w),
                el("span", { class: "muted" }, ok ? " holds" : (c && c.message ? ` — ${c.message}` : ` — ${stateText[p.state] || ""}`)));
      return li;
    }));
    // A step whose action is only a kubectl line: while the lesson plays, the presenter's page
    // runs it through the kubectl console (the server's player cannot run kubectl), once.
    const key = `${p.lesson}/${p.index}`;
    if (this.controls && p.playing && step.kubectl && !(step.do || []).length && (step.wait || []).length
        && !["done", "passed"].includes(p.state) && this.autoRan !== key) {
      this.autoRan = key;
      this.runInConsole();
    }
    if (p.error) this.showError(p.error);
    else this.hideError();
    this.setHighlight(step.highlight || []);
  }

  showError(message) {
    const e = this.$("lesson-error");
    e.textContent = message;
    e.hidden = false;
  }

  hideError() {
    const e = this.$("lesson-error");
    e.hidden = true;
    e.textContent = "";
  }

  setHighlight(names) {
    this.highlights = names;
    this.applyHighlight();
  }

  applyHighlight() {
    const want = new Set(this.highlights.flatMap((n) => highlightTargets(document, n)));
    for (const old of document.querySelectorAll(".lesson-highlight")) if (!want.has(old)) old.classList.remove("lesson-highlight");
    for (const e of want) if (!e.classList.contains("lesson-highlight")) e.classList.add("lesson-highlight");
  }
}

const panel = document.getElementById("lessons-panel");
export const lessons = panel ? new LessonsPanel(panel) : null;
if (lessons) {
  window.pilothouseLessons = lessons;
  // The presenter's "n": the next lesson step, wherever focus is but in a text field.
  document.addEventListener("keydown", (e) => {
    if (e.key !== "n" || e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
    const t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    if (!lessons.state || !lessons.state.player) return;
    e.preventDefault();
    lessons.next();
  });
}
