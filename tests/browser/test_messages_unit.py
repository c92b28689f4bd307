"""The architecture view's travelling messages (static/js/messages.js) on their own, in the
browser, fed by hand: at most MAX_ACTIVE dots move at once (replies at most half of them), and a
scheduler's bind is always drawn, even when earlier traffic holds every slot."""
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
