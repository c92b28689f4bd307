// views.js — the cluster page's views and the keyboard.
//
// One page, several views of one cluster under a shared header: each by URL
// (/clusters/<c>/ for the architecture, /clusters/<c>/<view> for the others), by its tab in
// #view-nav and by its key (the tab's aria-keyshortcuts: a w t e s o l).  #dashboard[data-view]
// says which one is shown; css/views.css shows it.
//
// Presenter shortcuts, never while typing in a field: space pauses or resumes the clock,
// ArrowRight steps, digits 1-9 pick the n-th speed of the speed list.  The large-screen mode
// (body.big) is toggled by #btn-big or ?big=1 (?big=0 leaves it) and remembered in
// localStorage.

const BIG_KEY = "pilothouse.big";

export class Views {
  constructor(root, { nav, onChange = () => {} } = {}) {
    this.root = root;
    this.nav = nav;
    this.onChange = onChange;
    this.links = nav ? [...nav.querySelectorAll("a[data-view]")] : [];
    this.names = this.links.map((a) => a.dataset.view);
    this.keys = new Map(this.links.map((a) => [a.getAttribute("aria-keyshortcuts"), a.dataset.view]));
    nav?.addEventListener("click", (e) => {
      const a = e.target.closest("a[data-view]");
      if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
      e.preventDefault();
      this.show(a.dataset.view, { push: true });
    });
    // The tabs as one toolbar: arrow keys move between them (Enter follows the link).
    nav?.addEventListener("keydown", (e) => {
      const i = this.links.indexOf(document.activeElement);
      if (i < 0 || (e.key !== "ArrowLeft" && e.key !== "ArrowRight" && e.key !== "Home" && e.key !== "End")) return;
      e.preventDefault();
      e.stopPropagation();
      const n = this.links.length;
      const j = e.key === "Home" ? 0 : e.key === "End" ? n - 1 : (i + (e.key === "ArrowRight" ? 1 : -1) + n) % n;
      this.links[j].focus();
    });
    window.addEventListener("popstate", () => this.show(this.ofPath(location.pathname)));
    // Old links: /clusters/<c>/#workloads, #network.
    const hash = location.hash.slice(1);
    if (this.names.includes(hash)) this.show(hash);
  }

  get current() {
    return this.root.dataset.view;
  }

  url(view) {
    const base = `/clusters/${encodeURIComponent(this.root.dataset.cluster)}/`;
    return view === "architecture" ? base : `${base}${view}`;
  }

  ofPath(path) {
    return this.names.find((v) => v !== "architecture" && path.endsWith(`/${v}`)) || "architecture";
  }

  show(view, { push = false } = {}) {
    if (!this.names.includes(view)) return;
    const was = this.root.dataset.view;
    this.root.dataset.view = view;
    for (const a of this.links) {
      if (a.dataset.view === view) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    if (push && location.pathname !== this.url(view)) {
      history.pushState({ view }, "", this.url(view) + location.search);
    }
    if (was !== view) this.onChange(view, was);
  }

  viewOfKey(key) {
    return this.keys.get(key) || null;
  }
}

// A key typed into a field is the field's: no shortcut then.
export function typing(target) {
  return !!target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
}

// The presenter's clock keys: space, ArrowRight, 1-9.  Each clicks the header's own control
// (so it does what the button does, and nothing when the page shows no controls).
export function clockShortcut(e, doc = document) {
  if (e.key === " " || e.key === "Spacebar") {
    const pause = doc.getElementById("btn-pause");
    const resume = doc.getElementById("btn-resume");
    const btn = pause && !pause.hidden ? pause : resume && !resume.hidden ? resume : null;
    if (!btn) return false;
    btn.click();
    return true;
  }
  if (e.key === "ArrowRight") {
    const step = doc.getElementById("btn-step");
    if (!step) return false;
    step.click();
    return true;
  }
  if (/^[1-9]$/.test(e.key)) {
    const sel = doc.getElementById("speed-select");
    const opt = sel?.options[Number(e.key) - 1];
    if (!opt) return false;
    if (sel.value !== opt.value) {
      sel.value = opt.value;
      sel.dispatchEvent(new Event("change", { bubbles: true }));
    }
    return true;
  }
  return false;
}

// The large-screen mode: ?big=1 / ?big=0 wins, then what was last chosen on this browser.
export function wireBigScreen(button, { onChange = () => {} } = {}) {
  const param = new URLSearchParams(location.search).get("big");
  let stored = null;
  try { stored = localStorage.getItem(BIG_KEY); } catch { /* storage may be off */ }
  const set = (on, remember) => {
    document.body.classList.toggle("big", on);
    button?.setAttribute("aria-pressed", String(on));
    if (remember) {
      try { localStorage.setItem(BIG_KEY, on ? "1" : "0"); } catch { /* storage may be off */ }
    }
    onChange(on);
  };
  if (param === "1" || param === "0") set(param === "1", true);
  else set(stored === "1", false);
  button?.addEventListener("click", () => set(!document.body.classList.contains("big"), true));
  return set;
}
