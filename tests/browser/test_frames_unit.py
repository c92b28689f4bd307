"""FrameStream (static/js/frames.js) on its own, in the browser, with a fake state source:
ordering, stale frames, gaps, a failing resync, buffered frames, a restarted server, and
snapshot deltas (made by cluster/worker/snapdelta.py, applied by applySnapshotDelta)."""
from __future__ import annotations

import copy
import json

import pytest

from cluster.worker.snapdelta import diff
from tests.cluster.test_snapdelta import BASE, CASES

pytestmark = pytest.mark.services

HARNESS = """async (script) => {
  const { FrameStream, applySnapshotDelta } = await import('/static/js/frames.js');
  const log = [];
  const seen = [];        // the frames onFrame got
  let states = [];        // queued answers of fetchState: a state object or an Error
  const fetches = [];
  const stream = new FrameStream({
    frame: 10,
    fetchState: async () => { fetches.push(stream.last); const s = states.shift();
                              if (s instanceof Error || s === undefined) throw s || new Error('no state'); return s; },
    onFrame: (m) => { log.push('frame ' + m.frame); seen.push(m); },
    onState: (s, o) => log.push('state ' + s.frame + (o && o.restart ? ' restart' : '')),
  });
  const f = (n) => ({type: 'cluster.frame', frame: n, events: []});
  const until = async (cond) => { for (let i = 0; i < 100 && !cond(); i++) await new Promise(r => setTimeout(r, 50)); };
  const api = { stream, log, seen, fetches, f, until, applySnapshotDelta, setStates: (x) => { states = x; } };
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


@pytest.fixture
def delta_cases():
    """(base, ops, expected) for every change of the Python tests, ops made by the server's diff."""
    out = []
    for change in CASES.values():
        new = copy.deepcopy(BASE)
        change(new)
        out.append({"base": BASE, "ops": diff(BASE, new), "expected": json.loads(json.dumps(new))})
    return out


def test_python_deltas_apply_in_the_page_and_leave_the_base(run, delta_cases):
    out = run(f"""
      const cases = {json.dumps(delta_cases)};
      return cases.map((c) => {{
        const before = JSON.stringify(c.base);
        const got = api.applySnapshotDelta(c.base, c.ops);
        return {{got, untouched: JSON.stringify(c.base) === before}};
      }});""")
    assert [o["got"] for o in out] == [c["expected"] for c in delta_cases]
    assert all(o["untouched"] for o in out)


def test_ops_that_do_not_fit_throw(run):
    out = run("""
      const base = {time: 1, nodes: [{name: 'n1', pods: []}]};
      const bad = [[['set', [], 1]], [['set', ['nodes', 3, 'name'], 'x']], [['del', ['nope']]],
                   [['set', ['time', 'x'], 1]], [['splice', ['nodes'], 0, 2, []]], [['move', ['time'], 2]], 'set'];
      const threw = bad.map((ops) => { try { api.applySnapshotDelta(base, ops); return false; } catch { return true; } });
      let noBase = false;
      try { api.applySnapshotDelta(null, []); } catch { noBase = true; }
      return {threw, noBase};""")
    assert out == {"threw": [True] * 7, "noBase": True}


def test_a_key_named_proto_stays_a_key(run):
    out = run("""
      const base = JSON.parse('{"labels": {"a": "1"}}');
      const got = api.applySnapshotDelta(base, [['set', ['labels', '__proto__'], {polluted: true}]]);
      return {json: JSON.stringify(got), polluted: ({}).polluted === true || got.labels.polluted === true};""")
    assert out == {"json": '{"labels":{"a":"1","__proto__":{"polluted":true}}}', "polluted": False}


def test_stream_applies_deltas_and_resyncs_when_it_cannot(run):
    """onFrame gets each frame's whole snapshot; a delta with no snapshot to apply it to, or one
    that does not fit, reloads the state and then applies the buffered frames on top of it."""
    out = run("""
      const {stream, log, seen, until, fetches} = api;
      const d = (n, ops) => ({type: 'cluster.frame', frame: n, events: [], snapshot: null, snapshotDelta: ops});
      // No snapshot yet (the harness's page was rendered without one): the delta cannot apply.
      api.setStates([{frame: 10, log: [], snapshot: {time: 10, pods: ['a']}},
                     {frame: 13, log: [], snapshot: {time: 13, pods: ['a', 'b', 'c']}}]);
      stream.receive(d(11, [['set', ['time'], 11]]));
      await until(() => !stream.resyncing && stream.last === 11);
      stream.receive(d(12, [['splice', ['pods'], 1, 0, ['b']], ['set', ['time'], 12]]));
      stream.receive({type: 'cluster.frame', frame: 13, events: [], snapshot: null});   // no snapshot: keep
      stream.receive(d(14, [['set', ['pods', 2], 'C']]));     // does not fit the page's [a, b]: the state's [a, b, c]
      await until(() => !stream.resyncing && stream.last === 14 && fetches.length === 2);
      stream.receive(d(15, [['del', ['time']]]));
      return {log, fetches: fetches.length, deltas: stream.deltas,
              snaps: seen.map((m) => m.snapshot), last: stream.snapshot};""")
    assert out["log"] == ["state 10", "frame 11", "frame 12", "frame 13", "state 13", "frame 14", "frame 15"]
    assert out["fetches"] == 2 and out["deltas"] == 4
    assert out["snaps"] == [{"time": 11, "pods": ["a"]}, {"time": 12, "pods": ["a", "b"]}, None,
                            {"time": 13, "pods": ["a", "b", "C"]}, {"pods": ["a", "b", "C"]}]
    assert out["last"] == {"pods": ["a", "b", "C"]}
