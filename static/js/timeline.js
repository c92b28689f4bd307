// timeline.js — the timeline bar (templates/dashboard/_timeline.html; docs/timeline.md).
//
// A slider over the moments the worker keeps of this cluster (GET .../sim/v1/history); its right
// end is live.  Dragging it back shows the cluster as it was at that moment: the page stops
// applying live frames (they are still counted, so nothing is lost), renders the moment's
// snapshot and log through the page's own state renderer, makes the cluster's controls inert
// and says so in a banner ("viewing the past at t=…").  "Back to live" (or Esc) fetches the
// current state and follows the frames again.  "Fork from here" makes a new cluster replayed up
// to that moment (POST .../sim/v1/fork); "Export run" downloads the run (GET .../sim/v1/export).
//
// What the DOM exposes (tests rely on it):
//   #timeline          data-mode "live" | "past", data-frame / data-time (the moment shown),
//                      data-moments (how many the slider spans)
//   #timeline-slider   the slider: 0 .. moments (the last position is live)
//   #timeline-banner   shown while viewing the past
//   body.viewing-past  while viewing the past

const bar = document.getElementById("timeline");
const slider = document.getElementById("timeline-slider");
const at = document.getElementById("timeline-at");
const banner = document.getElementById("timeline-banner");
const liveBtn = document.getElementById("timeline-live");
const forkBtn = document.getElementById("timeline-fork");
const forkForm = document.getElementById("timeline-fork-form");
const result = document.getElementById("timeline-result");

let moments = [];      // [{time, frame, revision}], oldest first
let shown = null;      // the moment shown while in the past
let saved = null;      // the frame stream's own callbacks, while they are set aside
let wanted = 0;        // the last moment asked for (a slower answer to an older ask is dropped)
let listing = null;    // the history fetch in flight

const fmt = (t) => `${Number(t).toFixed(1)}s`;

function say(text, error = false) {
  result.textContent = text;
  result.classList.toggle("error", error);
}

async function json(url, options) {
  const r = await fetch(url, { headers: { Accept: "application/json" }, cache: "no-store", ...options });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.message || `HTTP ${r.status}`);
  return body;
}

// The moments kept, from the server (once at a time); the slider keeps its place.
function refresh() {
  if (listing) return listing;
  listing = json(bar.dataset.historyUrl).then((h) => {
    moments = h.moments || [];
    bar.dataset.moments = String(moments.length);
    slider.max = String(moments.length);
    if (!shown) slider.value = slider.max;
    else slider.value = String(Math.max(0, moments.findIndex((m) => m.frame === shown.frame)));
    if (!h.replayable && forkBtn) {
      forkBtn.title = `This run cannot be replayed (${h.unreplayable}): the fork is restored from the moment's ` +
        "etcd keyspace, as a restart would restore it";
    }
  }).catch((err) => say(`history: ${err.message}`, true)).finally(() => { listing = null; });
  return listing;
}

function pilothouse() {
  return window.pilothouse;
}

function setInert(on) {
  for (const el of document.querySelectorAll("#dashboard form, #dashboard .actions, #dashboard [hx-post]")) {
    if (on) el.setAttribute("inert", "");
    else el.removeAttribute("inert");
  }
}

async function showMoment(index) {
  const m = moments[index];
  if (!m) return goLive();
  const ask = ++wanted;
  let state;
  try {
    state = await json(`${bar.dataset.historyUrl}/frame-${m.frame}?parts=snapshot,events`);
  } catch (err) {
    say(`that moment: ${err.message}`, true);
    return;
  }
  if (ask !== wanted) return;
  const p = pilothouse();
  if (!p) return;
  const stream = p.stream;
  if (!saved) {
    // Frames keep coming and are counted (stream.last); the header's clock follows them, but
    // nothing else of them is drawn (no snapshot, no events).
    const own = { onFrame: stream.onFrame, onState: stream.onState };
    saved = own;
    stream.onFrame = (msg) => own.onFrame.call(stream, { ...msg, snapshot: null, events: [], omitted: 0, omittedLog: 0 });
    stream.onState = () => {};
    p.messages.clear();
    p.etcd.clear();
  }
  shown = m;
  // The page's own renderer draws the moment; the header keeps the live clock.
  const live = document.getElementById("dashboard").dataset;
  saved.onState.call(stream, { frame: stream.last, time: Number(live.time) || 0, speed: Number(live.speed) || 1,
                               paused: live.paused === "true", snapshot: state.snapshot, log: state.events || [] });
  document.body.classList.add("viewing-past");
  setInert(true);
  bar.dataset.mode = "past";
  bar.dataset.frame = String(m.frame);
  bar.dataset.time = String(m.time);
  at.textContent = `t=${fmt(m.time)}`;
  slider.setAttribute("aria-valuetext", `t=${fmt(m.time)}, frame ${m.frame}`);
  banner.textContent = `Viewing the past at t=${fmt(m.time)} (frame ${m.frame}): read-only. The cluster runs on; "Back to live" follows it again.`;
  banner.hidden = false;
  liveBtn.hidden = false;
  if (forkBtn) forkBtn.hidden = false;
}

async function goLive() {
  wanted++;
  const p = pilothouse();
  shown = null;
  slider.value = slider.max;
  slider.setAttribute("aria-valuetext", "live");
  at.textContent = "live";
  banner.hidden = true;
  liveBtn.hidden = true;
  if (forkBtn) forkBtn.hidden = true;
  if (forkForm) forkForm.hidden = true;
  document.body.classList.remove("viewing-past");
  setInert(false);
  bar.dataset.mode = "live";
  delete bar.dataset.frame;
  delete bar.dataset.time;
  if (!saved || !p) return;
  const stream = p.stream;
  stream.onFrame = saved.onFrame;
  stream.onState = saved.onState;
  saved = null;
  try {
    const state = await p.fetchState();
    // The frames counted meanwhile were not drawn: this state replaces them, and the stream
    // goes on from it (a gap after it resyncs, as ever).
    stream.last = Math.max(stream.last, state.frame);
    stream.onState(Object.assign(state, { frame: stream.last }));
    stream.onChange(stream);
  } catch (err) {
    say(`back to live: ${err.message}`, true);
    stream.resync();
  }
}

let debounce = null;
slider.addEventListener("input", () => {
  clearTimeout(debounce);
  const index = Number(slider.value);
  const m = moments[index];
  at.textContent = m ? `t=${fmt(m.time)}` : "live";
  debounce = setTimeout(() => (m ? showMoment(index) : goLive()), 120);
});
// The list is fetched when someone comes to use the slider, so that idle pages cost nothing.
bar.addEventListener("pointerenter", refresh);
bar.addEventListener("focusin", refresh);
liveBtn.addEventListener("click", goLive);
document.addEventListener("keydown", (e) => {
  if (e.key !== "Escape" || !shown) return;
  const t = e.target;
  if (t && t !== slider && /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)) return;
  goLive();
});

forkBtn?.addEventListener("click", () => {
  forkForm.hidden = false;
  forkForm.querySelector("input").focus();
});
document.getElementById("timeline-fork-cancel")?.addEventListener("click", () => { forkForm.hidden = true; });
forkForm?.addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!shown) return;
  const name = forkForm.querySelector("input").value.trim();
  say(`forking ${name} at t=${fmt(shown.time)}…`);
  try {
    const made = await json(bar.dataset.forkUrl, {
      method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ name, frame: shown.frame }),
    });
    result.textContent = "";
    result.classList.remove("error");
    const a = document.createElement("a");
    a.href = `/clusters/${encodeURIComponent(made.cluster)}/`;
    a.textContent = `open ${made.cluster} (paused at t=${fmt(made.time)})`;
    result.append("forked: ", a);
    forkForm.hidden = true;
  } catch (err) {
    say(`fork: ${err.message}`, true);
  }
});

// Export: fetched first, so that a run that cannot be exported says why instead of downloading
// an error.
const exportLink = document.getElementById("timeline-export");
exportLink?.addEventListener("click", async (e) => {
  e.preventDefault();
  say("exporting the run…");
  try {
    const run = await json(exportLink.href);
    const url = URL.createObjectURL(new Blob([JSON.stringify(run, null, 1)], { type: "application/json" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = exportLink.getAttribute("download") || "run.json";
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    say(`exported: ${run.journal.length} command${run.journal.length === 1 ? "" : "s"} up to t=${fmt(run.end.time)}`);
  } catch (err) {
    say(`export: ${err.message}`, true);
  }
});

refresh();
