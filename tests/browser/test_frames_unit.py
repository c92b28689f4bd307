"""FrameStream (static/js/frames.js) on its own, in the browser, with a fake state source:
ordering, stale frames, gaps, a failing resync, buffered frames, a restarted server."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.services

HARNESS = """async (script) => {
  const { FrameStream } = await import('/static/js/frames.js');
  const log = [];
  let states = [];        // queued answers of fetchState: a state object or an Error
  const fetches = [];
  const stream = new FrameStream({
    frame: 10,
    fetchState: async () => { fetches.push(stream.last); const s = states.shift();
                              if (s instanceof Error || s === undefined) throw s || new Error('no state'); return s; },
    onFrame: (m) => log.push('frame ' + m.frame),
    onState: (s, o) => log.push('state ' + s.frame + (o && o.restart ? ' restart' : '')),
  });
  const f = (n) => ({type: 'cluster.frame', frame: n, events: []});
  const until = async (cond) => { for (let i = 0; i < 100 && !cond(); i++) await new Promise(r => setTimeout(r, 50)); };
  const api = { stream, log, fetches, f, until, setStates: (x) => { states = x; } };
  return await (new Function('api', 'return (async () => {' + script + '})()'))(api);
}"""


@pytest.fixture
def run(page, browser_server):
    page.goto(browser_server.base + "/static/js/frames.js")  # same origin, no page scripts

    def run(script: str):
        return page.evaluate(HARNESS, script)

    return run


def test_in_order_and_stale_frames(run):
    out = run("""
      const {stream, log, f} = api;
      for (const n of [9, 10, 11, 12, 12, 11, 13]) stream.receive(f(n));
      return {log, last: stream.last, ignored: stream.ignored, resyncs: stream.resyncs};""")
    assert out == {"log": ["frame 11", "frame 12", "frame 13"], "last": 13, "ignored": 4, "resyncs": 0}


def test_gap_resyncs_then_applies_newer_buffered_frames(run):
    out = run("""
      const {stream, log, f, until, fetches} = api;
      api.setStates([{frame: 14, log: []}]);
      stream.receive(f(11));
      stream.receive(f(13));           // 12 lost: resync
      stream.receive(f(14));           // arrives while resyncing: buffered, covered by the state
      stream.receive(f(15));           // buffered, newer than the state: applied after it
      await until(() => !stream.resyncing && stream.last === 15);
      stream.receive(f(16));
      return {log, last: stream.last, resyncs: stream.resyncs, fetches: fetches.length};""")
    assert out == {"log": ["frame 11", "state 14", "frame 15", "frame 16"], "last": 16,
                   "resyncs": 1, "fetches": 1}


def test_failed_resync_retries_and_loses_nothing(run):
    out = run("""
      const {stream, log, f, until, fetches} = api;
      api.setStates([new Error('HTTP 503'), {frame: 20, log: []}]);
      stream.receive(f(20));
      stream.receive(f(21));
      await until(() => !stream.resyncing && stream.last === 21);
      return {log, last: stream.last, fetches: fetches.length, failures: stream.failures};""")
    assert out == {"log": ["state 20", "frame 21"], "last": 21, "fetches": 2, "failures": 0}


def test_pushed_states_newer_same_and_restarted(run):
    out = run("""
      const {stream, log, f} = api;
      stream.receiveState({frame: 10, log: []});   // what the page already shows
      stream.receiveState({frame: 12, log: []});   // newer (reconnect after a while)
      stream.receive(f(13));
      stream.receiveState({frame: 3, log: []});    // the server restarted: frames count afresh
      stream.receive(f(4));
      stream.receive(f(13));                       // stale from the old count? no: a gap now
      return {log: log.slice(0, 5), restarts: stream.restarts, resyncing: stream.resyncing};""")
    assert out["log"] == ["state 12", "frame 13", "state 3 restart", "frame 4"]
    assert out["restarts"] == 1


def test_adopt_and_stop(run):
    out = run("""
      const {stream, log, f, fetches} = api;
      stream.receive(f(11));
      const older = stream.adopt({frame: 10, log: []});   // frames newer than it were applied
      const same = stream.adopt({frame: 11, log: []});    // a reset keeps the count: replaces the view
      stream.receive(f(12));
      stream.stop();                                      // the cluster was deleted
      stream.receive(f(13));
      stream.receive(f(20));                              // a gap: no resync once stopped
      stream.receiveState({frame: 30, log: []});
      const late = stream.adopt({frame: 40, log: []});
      await stream.resync();
      return {log, older, same, late, last: stream.last, fetches: fetches.length, resyncing: stream.resyncing};""")
    assert out == {"log": ["frame 11", "state 11", "frame 12"], "older": False, "same": True, "late": False,
                   "last": 12, "fetches": 0, "resyncing": False}
