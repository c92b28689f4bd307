"""The architecture view's travelling messages (static/js/messages.js) on their own, in the
browser, fed by hand: at most MAX_ACTIVE dots move at once (replies at most half of them), and the
hops of a pod's life (its bind first, then its watch notification to the kubelet, its status
updates) are drawn even when earlier traffic holds every slot."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.services

HARNESS = """async (script) => {
  const mod = await import('/static/js/messages.js');
  document.body.innerHTML = '<svg id="s" width="800" height="600"></svg>';
  const boxes = {};
  const rectOf = (addr) => (boxes[addr] ||= {x: 40 * Object.keys(boxes).length, y: 100, w: 30, h: 20});
  const layer = new mod.Messages(document.getElementById('s'), rectOf);
  const hop = (src, dst, type, t) => ({kind: 'message', src, dst, type, t, arrive: t + 0.001});
  return await (new Function('api', 'return (async () => {' + script + '})()'))({mod, layer, hop});
}"""


@pytest.fixture
def run(page, browser_server):
    page.goto(browser_server.base + "/static/js/messages.js")  # same origin, no page scripts
    return lambda script: page.evaluate(HARNESS, script)


def test_dots_are_capped_and_a_bind_still_gets_through(run):
    out = run("""
      const {mod, layer, hop} = api;
      const writes = Array.from({length: 40}, (_, i) =>
        hop('kube-apiserver@cp-1', 'etcd@cp-1', 'write /registry/leases/x', 1 + i / 1000));
      const replies = Array.from({length: 40}, (_, i) =>
        hop('etcd@cp-1', 'kube-apiserver@cp-1', 'txn reply', 1 + i / 1000));
      layer.play(replies, 1);
      const afterReplies = layer.active.length;
      layer.play(writes, 1);
      const full = layer.active.length;
      const skipped = layer.skipped;
      layer.play([hop('kube-scheduler@cp-1', 'kube-apiserver@cp-1', 'create pods/binding', 2)], 1);
      return {max: mod.MAX_ACTIVE, afterReplies, full, skipped, after: layer.active.length,
              kinds: [...layer.kinds], bind: layer.drawn['bind'] || 0,
              dom: document.querySelectorAll('#s .msg').length,
              bindDom: document.querySelectorAll('#s .msg-bind').length};""")
    # Replies (minor traffic) take at most half the slots; requests fill the rest.
    assert out["afterReplies"] == out["max"] // 2
    assert out["full"] == out["max"]
    assert out["skipped"] == (40 - out["max"] // 2) + (40 - out["max"] // 2)
    # The bind takes the oldest dot's slot: still MAX_ACTIVE on screen, the bind among them.
    assert out["bind"] == 1 and out["bindDom"] == 1
    assert out["after"] == out["max"] and out["dom"] == out["max"]
    assert "bind kube-scheduler kube-apiserver" in out["kinds"]


def test_a_pods_hops_make_room_by_rank(run):
    out = run("""
      const {mod, layer, hop} = api;
      const writes = Array.from({length: mod.MAX_ACTIVE}, (_, i) =>
        hop('kube-apiserver@cp-1', 'etcd@cp-1', 'write /registry/leases/x', 1 + i / 1000));
      layer.play(writes, 1);
      const ranks = () => layer.active.map((m) => m.rank);
      // A full set of lease writes: the kubelet's watch notification takes the oldest one's slot.
      layer.play([hop('kube-apiserver@cp-1', 'kubelet@worker-1', 'watch pods', 2)], 1);
      const afterWatch = {n: layer.active.length, ranks: ranks(),
                          first: layer.active[0].g.dataset.type, last: layer.active.at(-1).g.dataset.type};
      // Fill every slot with pod hops: another pod hop finds nothing less important and is
      // skipped; a bind still takes the oldest pod hop's slot.
      const pods = Array.from({length: mod.MAX_ACTIVE}, (_, i) =>
        hop('kubelet@worker-1', 'kube-apiserver@cp-1', 'patch pods/status', 3 + i / 1000));
      layer.play(pods, 1);
      const skipped = layer.skipped;
      layer.play([hop('kubelet@worker-2', 'kube-apiserver@cp-1', 'patch pods/status', 4)], 1);
      const podSkipped = layer.skipped - skipped;
      layer.play([hop('kube-scheduler@cp-1', 'kube-apiserver@cp-1', 'create pods/binding', 5)], 1);
      return {max: mod.MAX_ACTIVE, afterWatch, allPods: ranks(), podSkipped,
              rankOf: ['create pods/binding', 'watch pods', 'patch pods/status', 'patch leases',
                       'patch pods/status → 200', 'watch event']
                .map((type) => mod.rank(hop('a@x', 'b@y', type, 0))),
              kinds: [...layer.kinds]};""")
    assert out["rankOf"] == [0, 1, 1, 2, 3, 3]
    assert out["afterWatch"]["n"] == out["max"]
    assert out["afterWatch"]["ranks"].count(1) == 1 and out["afterWatch"]["last"] == "watch pods"
    assert out["afterWatch"]["first"] == "write /registry/leases/x"  # the oldest write went
    assert "watch kube-apiserver kubelet" in out["kinds"]
    # The pod hops displaced every write; the extra pod hop was skipped; the bind got through.
    assert out["podSkipped"] == 1
    assert sorted(out["allPods"]) == [0] + [1] * (out["max"] - 1), out["allPods"]
    assert "bind kube-scheduler kube-apiserver" in out["kinds"]
