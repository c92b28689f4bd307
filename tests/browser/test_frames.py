"""No gap, no double counting: the page starts from the state at frame N, applies frames > N in
order, ignores frames <= N, and on a gap resyncs from /clusters/<name>/dashboard/state."""
from __future__ import annotations

import pytest

from tests.conftest import wait_until

from tests.browser.conftest import submit_ok, wait_js

pytestmark = pytest.mark.services

# Compare the page's log with the server's log ring, frame by frame: same number of lines per
# frame, each line id'd log-<frame>-<i>, and the i-th line of a frame shows that event.  Frames
# at the ring's oldest edge may be cut, so only frames after it count.
COMPARE_LOG = """async () => {
  const s = await pilothouse.fetchState();
  const root = document.getElementById('dashboard');
  const lines = [...document.querySelectorAll('#event-log li')];
  const ids = lines.map(l => l.id);
  const oldest = s.log.length ? s.log[0].frame : 0;
  const expected = [];
  const per = new Map();
  for (const ev of s.log) {
    const i = per.get(ev.frame) || 0; per.set(ev.frame, i + 1);
    if (ev.frame > oldest) expected.push({id: `log-${ev.frame}-${i}`, text: ev.text || ev.message || ev.node || ''});
  }
  const got = lines.filter(l => +l.dataset.frame > oldest && +l.dataset.frame <= s.frame).map(l => l.id);
  const problems = [];
  if (new Set(ids).size !== ids.length) problems.push('duplicate log ids');
  const want = expected.map(e => e.id);
  if (JSON.stringify([...got].sort()) !== JSON.stringify([...want].sort()))
    problems.push(`ids differ: page ${got.length} vs server ${want.length}: ` +
                  JSON.stringify({missing: want.filter(x => !got.includes(x)).slice(0, 5),
                                  extra: got.filter(x => !want.includes(x)).slice(0, 5)}));
  for (const e of expected) {
    const li = document.getElementById(e.id);
    if (li && e.text && !li.innerText.includes(e.text)) problems.push(`${e.id} does not show ${e.text}`);
  }
  return {serverFrame: s.frame, pageFrame: +root.dataset.frame, entries: want.length, problems};
}"""


def _pause(server, paused: bool):
    status, body = server.request("POST", "/clusters/demo/sim/v1/clock", {"paused": paused})
    assert status == 200, body


def _settled_compare(page, timeout=20):
    """Wait until the page has applied the server's latest frame, then compare logs."""
    def settled():
        r = page.evaluate(COMPARE_LOG)
        return r if r["pageFrame"] == r["serverFrame"] else None

    return wait_until(settled, timeout, interval=0.2, message="the page to reach the server's frame")


def _make_activity(page, name):
    page.fill("#create-rs-form [name=name]", name)
    page.fill("#create-rs-form [name=replicas]", "2")
    submit_ok(page, "#create-rs-form")
    wait_js(page, f"""document.querySelectorAll('#diagram .pod[data-owner="ReplicaSet/{name}"][data-phase=Running]').length === 2""",
            60, message=f"ReplicaSet {name} running")


def test_page_log_equals_server_log(dashboard, browser_server):
    page = dashboard
    first = int(page.evaluate("JSON.parse(document.getElementById('initial-state').textContent).frame"))
    _make_activity(page, "seq")
    assert int(page.get_attribute("#dashboard", "data-frame")) > first
    _pause(browser_server, True)
    try:
        r = _settled_compare(page)
        assert r["entries"] > 0
        assert not r["problems"], r["problems"]
        # Frames seen were consecutive after the starting state (no resync was needed).
        history = page.evaluate("pilothouse.stream.history.filter(h => h[0] === 'frame').map(h => h[1])")
        applied = [f for f in history if f > first]
        assert applied == list(range(applied[0], applied[0] + len(applied))), applied[:20]
    finally:
        _pause(browser_server, False)


def test_frames_at_or_below_the_last_are_ignored(dashboard):
    page = dashboard
    result = page.evaluate("""() => {
      const s = pilothouse.stream;
      const before = document.querySelectorAll('#event-log li').length;
      const ignored = s.ignored;
      for (const f of [s.last, s.last - 1, 0]) {
        s.receive({type: 'cluster.frame', frame: f, time: 0, speed: 1, paused: false, snapshot: null,
                   events: [{kind: 'action', t: 0, component: 'test@nowhere', text: 'STALE-FRAME-' + f}]});
      }
      return {added: document.querySelectorAll('#event-log li').length - before,
              ignored: s.ignored - ignored,
              stale: document.getElementById('event-log').innerText.includes('STALE-FRAME')};
    }""")
    assert result == {"added": 0, "ignored": 3, "stale": False}


def test_gap_resyncs_from_the_state_endpoint(dashboard, browser_server):
    page = dashboard
    _make_activity(page, "gap")
    # Lose the next three frames, as an overloaded channel layer would, and mark the log so we
    # can see it being replaced.
    page.evaluate("""() => {
      const s = pilothouse.stream;
      const orig = s.receive.bind(s);
      window.__dropped = [];
      s.receive = (m) => {
        if (window.__dropped.length < 3 && m.frame > s.last && !s.resyncing) { window.__dropped.push(m.frame); return; }
        return orig(m);
      };
      const li = document.createElement('li'); li.id = 'log-sentinel';
      document.getElementById('event-log').prepend(li);
    }""")
    resyncs = int(page.get_attribute("#dashboard", "data-resyncs"))
    wait_js(page, f"+document.getElementById('dashboard').dataset.resyncs > {resyncs}", 20,
            message="a resync after the gap")
    wait_js(page, "document.getElementById('dashboard').dataset.resyncing === 'false'", 10)
    dropped = page.evaluate("window.__dropped")
    assert len(dropped) == 3
    # The state replaced the log (the sentinel is gone) and frames continue after it.
    assert page.locator("#log-sentinel").count() == 0
    assert int(page.get_attribute("#dashboard", "data-frame")) >= dropped[-1]
    f = int(page.get_attribute("#dashboard", "data-frame"))
    wait_js(page, f"+document.getElementById('dashboard').dataset.frame > {f}", 10,
            message="frames to continue after the resync")
    _pause(browser_server, True)
    try:
        r = _settled_compare(page)
        assert not r["problems"], r["problems"]
    finally:
        _pause(browser_server, False)


def test_frames_sent_together_are_applied_one_by_one(dashboard):
    """A `cluster.frames` message (the server's delivery fell behind: cluster/fanout.py) is
    taken apart into its frames, each handled as if it came alone: here two the page has
    already applied, so both are counted as ignored and nothing is drawn twice."""
    page = dashboard
    result = page.evaluate("""() => {
      const s = pilothouse.stream;
      const ignored = s.ignored, last = s.last;
      const frame = (n) => ({type: 'cluster.frame', frame: n, time: 0, speed: 1, paused: false, snapshot: null,
                             events: [{kind: 'action', t: 0, component: 'test@nowhere', text: 'BATCHED-' + n}]});
      const message = JSON.stringify({type: 'cluster.frames', frames: [frame(last - 1), frame(last)]});
      document.getElementById('dashboard').dispatchEvent(
        new CustomEvent('htmx:wsBeforeMessage', {detail: {message}, cancelable: true}));
      return {ignored: s.ignored - ignored, last: s.last >= last,
              drawn: document.getElementById('event-log').innerText.includes('BATCHED-')};
    }""")
    assert result == {"ignored": 2, "last": True, "drawn": False}
