"""The etcd panel (static/js/etcd.js) on its own, in the browser, fed by hand: layout for 1-7
members, who counts as cut off, heartbeat grouping and the cap on messages in flight, and an
election timer that runs down between frames and waits while the clock is paused."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.services

HARNESS = """async (script) => {
  const mod = await import('/static/js/etcd.js');
  document.body.innerHTML = '<svg id="s"></svg><table id="t"><tbody></tbody></table><select id="sel"></select>';
  const panel = new mod.EtcdPanel(document.getElementById('s'), document.getElementById('t'),
                                  document.getElementById('sel'));
  const member = (i, role, extra) => ({name: 'etcd-' + i, address: 'etcd@etcd-' + i, host: 'etcd-' + i, role,
    term: 2, vote: 'etcd-1', leader: 'etcd-1', commitIndex: 5, appliedIndex: 5, raftIndex: 5,
    electionElapsed: 0, randomizedElectionTimeout: 10, ...(extra || {})});
  const snap = (n, network) => ({etcd: Array.from({length: n}, (_, i) => member(i + 1, i === 0 ? 'leader' : 'follower')),
                                 network: network || {partition: []}});
  const sleep = (ms) => new Promise(r => setTimeout(r, ms));
  const api = { mod, panel, member, snap, sleep };
  return await (new Function('api', 'return (async () => {' + script + '})()'))(api);
}"""


@pytest.fixture
def run(page, browser_server):
    page.goto(browser_server.base + "/static/js/etcd.js")  # same origin, no page scripts

    def run(script: str):
        return page.evaluate(HARNESS, script)

    return run


def test_layout_keeps_members_apart(run):
    out = run("""
      const res = {};
      for (const n of [1, 3, 5, 7]) {
        const g = api.mod.geometry(n);
        let min = Infinity;
        for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++)
          min = Math.min(min, Math.hypot(g.pts[i].x - g.pts[j].x, g.pts[i].y - g.pts[j].y));
        const inside = g.pts.every(p => p.x > 60 && p.x < g.w - 60 && p.y > 60 && p.y < g.h - 60);
        res[n] = {min: n > 1 ? min : null, inside};
      }
      return res;""")
    for n, r in out.items():
        assert r["inside"], (n, r)
        if r["min"] is not None:
            assert r["min"] >= 190, (n, r)  # two rings (2 x 50) plus room for their labels


def test_render_table_select_and_isolation(run):
    out = run("""
      const {panel, snap} = api;
      panel.render(snap(3, {partition: [['etcd-2'], ['etcd-1', 'etcd-3', 'cp-1']]}), {speed: 1, paused: false, tick: 0.1});
      const g = [...document.querySelectorAll('#s .etcd-member')];
      return {members: g.map(x => [x.dataset.member, x.dataset.role, x.dataset.isolated]),
              rows: [...document.querySelectorAll('#t tbody tr')].map(r => r.dataset.member),
              options: [...document.getElementById('sel').options].map(o => o.textContent),
              leader: document.getElementById('s').dataset.leader};""")
    assert out["members"] == [["etcd-1", "leader", "false"], ["etcd-2", "follower", "true"],
                              ["etcd-3", "follower", "false"]]
    assert out["rows"] == ["etcd-1", "etcd-2", "etcd-3"]
    assert out["options"] == ["etcd-1 (leader)", "etcd-2 (follower)", "etcd-3 (follower)"]
    assert out["leader"] == "etcd-1"


def test_timer_runs_down_between_frames_and_waits_when_paused(run):
    out = run("""
      const {panel, snap, sleep} = api;
      // 0.1 s ticks at 1x: 10 ticks pass in a second; the timeout is 10 ticks.
      panel.render(snap(3), {speed: 1, paused: false, tick: 0.1});
      const left = () => +document.querySelector('#s .etcd-member[data-member="etcd-2"]').dataset.timerLeft;
      const a = left();
      await sleep(400);
      await new Promise(r => requestAnimationFrame(r));
      const b = left();
      panel.render(snap(3), {speed: 1, paused: true, tick: 0.1});
      await new Promise(r => requestAnimationFrame(r));
      const c = left();
      await sleep(300);
      panel.render(snap(3), {speed: 1, paused: true, tick: 0.1});
      await new Promise(r => requestAnimationFrame(r));
      const d = left();
      return {a, b, c, d};""")
    assert out["a"] > 0.95
    assert 0.3 < out["b"] < 0.8, out
    assert out["d"] == pytest.approx(out["c"], abs=0.02), out


def test_heartbeats_are_labelled_with_their_count_and_messages_are_capped(run):
    out = run("""
      const {panel, snap, mod} = api;
      panel.render(snap(3), {speed: 1, paused: false, tick: 0.1});
      const hb = {kind: 'message', src: 'etcd@etcd-1', dst: 'etcd@etcd-2', type: 'MsgHeartbeat', t: 1, arrive: 1.001, count: 7};
      panel.play([hb], 1);
      const label = document.querySelector('#s .raft-msg text').textContent;
      const many = Array.from({length: 60}, (_, i) => ({kind: 'message', src: 'etcd@etcd-1', dst: 'etcd@etcd-3',
                                                        type: 'MsgApp', t: 1 + i / 1000, arrive: 1.5}));
      many.push({kind: 'message', src: 'kube-apiserver@cp-1', dst: 'etcd@etcd-1', type: 'txn', t: 1});
      panel.play(many, 1);
      return {label, active: panel.active.length, skipped: panel.skipped, max: mod.MAX_ACTIVE,
              raft: mod.isRaftMessage(many[0]), api: mod.isRaftMessage(many[60]),
              labels: [mod.raftLabel('MsgVote'), mod.raftLabel('MsgApp'), mod.raftLabel('MsgPreVote')]};""")
    assert out["label"] == "heartbeat ×7"
    # One heartbeat already moving; 60 appends compete for the remaining slots; the apiserver's
    # txn is not Raft traffic and is left to the diagram.
    assert out["active"] == out["max"] and out["skipped"] == 60 - (out["max"] - 1)
    assert out["raft"] is True and out["api"] is False
    assert out["labels"] == ["RequestVote", "AppendEntries", "PreVote"]


def test_endpoint_status_table_shows_revision_and_db_size(run):
    """The member table is `etcdctl endpoint status`: revision and DB SIZE (humanized as etcdctl
    prints it, base 1000) beside term, log, commit and applied index."""
    out = run("""
      const s = api.snap(3);
      s.etcd[0].revision = 42; s.etcd[0].dbSize = 20480;
      s.etcd[1].revision = 41; s.etcd[1].dbSize = 512;
      s.etcd[2].revision = 42; s.etcd[2].dbSize = 1234567;
      api.panel.render(s, {speed: 1, paused: true, tick: 0.1});
      return [...document.querySelectorAll('#t tbody tr')].map(r => [...r.cells].map(c => c.textContent));
    """)
    assert [row[7] for row in out] == ["42", "41", "42"]
    assert [row[8] for row in out] == ["20 kB", "512 B", "1.2 MB"]


def test_an_election_s_messages_are_drawn_even_when_every_slot_is_taken(run):
    """A busy leader's appends fill every slot; a vote that comes next still gets one, from the
    oldest append (the panel's story is the election), and stays counted as drawn."""
    out = run("""
      const {panel, snap, mod} = api;
      panel.render(snap(3), {speed: 1, paused: false, tick: 0.1});
      const apps = Array.from({length: 40}, (_, i) => ({kind: 'message', src: 'etcd@etcd-1', dst: 'etcd@etcd-3',
                                                        type: 'MsgApp', t: 1 + i / 1000, arrive: 1.5}));
      panel.play(apps, 1);
      const full = panel.active.length;
      panel.play([{kind: 'message', src: 'etcd@etcd-2', dst: 'etcd@etcd-3', type: 'MsgPreVote', t: 2, arrive: 2.01},
                  {kind: 'message', src: 'etcd@etcd-2', dst: 'etcd@etcd-3', type: 'MsgVote', t: 2.02, arrive: 2.03},
                  {kind: 'message', src: 'etcd@etcd-1', dst: 'etcd@etcd-2', type: 'MsgApp', t: 2.05, arrive: 2.06}]);
      return {full, max: mod.MAX_ACTIVE, active: panel.active.length, drawn: panel.drawn,
              types: [...document.querySelectorAll('#s .raft-msg')].map(g => g.dataset.type)};""")
    assert out["full"] == out["max"] and out["active"] == out["max"]
    assert out["drawn"]["PreVote"] == 1 and out["drawn"]["RequestVote"] == 1
    assert "MsgPreVote" in out["types"] and "MsgVote" in out["types"]
    assert out["types"].count("MsgApp") == out["max"] - 2   # the new append found no slot
