"""The page tells the truth (issue 8): the header stops claiming "running" when the server stops
answering, says when the cluster falls behind its speed, draws a summarised snapshot as counts,
shows recovered engine errors in the log, repairs a cluster that could not be restored, and
says when a cluster was deleted.

Tests that stop, freeze or corrupt a server start their own (never the module's shared one).
"""
from __future__ import annotations

import os
import signal

import pytest

from tests.builders import MakePod, MakeReplicaSet
from tests.browser.conftest import open_dashboard, wait_js
from tests.conftest import make_cluster

pytestmark = pytest.mark.services

STATUS = "document.getElementById('dashboard').dataset.status"
# The browser logs refused (re)connections while a server is down.
# The large-cluster test's snapshot limit: 200 pods are enough to pass it (700 at the default).
SERVER_ENV = {"PILOTHOUSE_SNAPSHOT_POD_LIMIT": "100"}
DOWN_ERRORS = ["ERR_CONNECTION_REFUSED", "[object Event]", "WebSocket connection to"]


def status(page) -> str:
    return page.evaluate(STATUS)


def wait_status(page, want: str, timeout: float = 15):
    wait_js(page, f"{STATUS} === {want!r}", timeout, message=f'the status badge to say "{want}"')
    assert page.inner_text("#clock-state") == want


# -- status.js on its own -------------------------------------------------------------------

def test_status_rules(page, browser_server):
    page.goto(browser_server.base + "/static/js/status.js")
    out = page.evaluate("""async () => {
      const s = await import('/static/js/status.js');
      const st = (o) => s.clusterStatus(o).label;
      return {
        running: st({ws: 'open', paused: false, sinceFrameMs: 100}),
        paused: st({ws: 'open', paused: true, sinceFrameMs: 60000}),
        closed: st({ws: 'closed', paused: false, sinceFrameMs: 100}),
        closedPaused: st({ws: 'closed', paused: true}),
        stale: st({ws: 'open', paused: false, sinceFrameMs: 3500}),
        broken: st({ws: 'closed', broken: 'KeyError: nodes'}),
        deleted: st({ws: 'closed', deleted: true, broken: 'x'}),
        pace: s.paceWarning(0.42, 1),
        pace5: s.paceWarning(0.5, 5).label,
        keepingUp: s.paceWarning(0.95, 1),
        noPace: s.paceWarning(undefined, 1),
        // Once on screen it stays until the pace is clearly back (no flicker around 0.95).
        stillShown: s.paceWarning(0.96, 1, {shown: true}) !== null,
        cleared: s.paceWarning(0.97, 1, {shown: true}),
      };
    }""")
    assert out["running"] == "running"
    assert out["paused"] == "paused"  # a paused cluster sends no frames: silence is no fault
    assert out["closed"] == out["closedPaused"] == "disconnected"
    assert out["stale"] == "not responding"
    assert out["broken"] == "broken"
    assert out["deleted"] == "deleted"
    assert out["pace"]["label"] == "falling behind: 0.42× of 1×"
    assert "more work than it can do at this speed" in out["pace"]["title"]
    assert "clock runs slower than asked" in out["pace"]["title"]
    assert out["pace5"] == "falling behind: 2.5× of 5×"
    assert out["keepingUp"] is None and out["noPace"] is None
    assert out["stillShown"] and out["cleared"] is None


# -- frames fed to the live page ------------------------------------------------------------

FEED = """(over) => {
  const p = window.pilothouse;
  const frame = Object.assign({type: 'cluster.frame', frame: p.stream.last + 1, time: +document.getElementById('dashboard').dataset.time,
                               speed: 1, paused: false, pace: 1, events: [], omitted: 0, omittedLog: 0, snapshot: null}, over);
  p.stream.receive(frame);
  const pb = document.getElementById('pace-state');
  return {frame: p.stream.last, status: document.getElementById('dashboard').dataset.status,
          pace: pb.hidden ? null : pb.textContent, paceTitle: pb.title};
}"""


def test_pace_badge_follows_the_frames(dashboard):
    page = dashboard
    wait_status(page, "running")
    # Read in the same turn of the event loop as the frame is applied: the server's own frames
    # (ten a second, with its real pace) follow right after.
    out = page.evaluate(FEED, {"pace": 1.0, "speed": 1})
    assert out["pace"] is None
    out = page.evaluate(FEED, {"pace": 0.42, "speed": 1})
    assert out["pace"] == "falling behind: 0.42× of 1×"
    assert "clock runs slower than asked" in out["paceTitle"]
    assert out["status"] == "running"
    out = page.evaluate(FEED, {"pace": 0.3, "speed": 10})
    assert out["pace"] == "falling behind: 3× of 10×"
    # Keeping up again: the badge goes.
    out = page.evaluate(FEED, {"pace": 1.0, "speed": 1})
    assert out["pace"] is None
    # Paused, a pace says nothing: no badge.
    out = page.evaluate(FEED, {"pace": 0.2, "speed": 1, "paused": True})
    assert out["pace"] is None and out["status"] == "paused"


def _pause(page, server, cluster="demo"):
    code, body = server.request("POST", f"/clusters/{cluster}/sim/v1/clock", {"paused": True})
    assert code == 200, body
    wait_js(page, "document.getElementById('dashboard').dataset.paused === 'true'", 10,
            message="the page to see the clock paused")
    # A paused, idle cluster sends no frames: what is fed next stays on the page.


def test_summarised_and_missing_snapshots_render(dashboard, browser_server):
    page = dashboard
    wait_js(page, "document.querySelectorAll('#diagram .node.worker').length >= 3", 20)
    _pause(page, browser_server)
    # A frame without a snapshot keeps the last one drawn.
    before = page.evaluate("document.querySelectorAll('#diagram .node').length")
    page.evaluate(FEED, {"paused": True, "snapshot": None})
    assert page.evaluate("document.querySelectorAll('#diagram .node').length") == before

    # A summarised snapshot, as cluster/worker/frames.py summarise_snapshot makes one.
    page.evaluate(FEED, {"paused": True, "snapshot": page.evaluate("""() => {
      const s = structuredClone(window.pilothouse.diagram.snapshot);
      s.summarised = true; s.podTotal = 1454;
      s.nodes = s.nodes.map((n) => n.role === 'control-plane'
        ? {...n, pods: [], podCounts: {}, podTotal: 0}
        : {...n, pods: [], podCounts: {Running: 401, Pending: 20, Terminating: 3}, podTotal: 424});
      s.pending = Array.from({length: 50}, (_, i) => ({name: `big-${i}`, namespace: 'default', phase: 'Pending'}));
      s.pendingTotal = 182;
      s.replicasets = Array.from({length: 100}, (_, i) => ({name: `rs-${i}`, replicas: 10, ready: 10}));
      s.replicasetsTotal = 250;
      return s; }""")})
    counts = page.evaluate("""[...document.querySelectorAll('#diagram .pod-counts')].map(g => ({
        node: g.dataset.node, total: g.dataset.total, text: g.dataset.text,
        rows: [...g.querySelectorAll('.count-row text')].map(t => t.textContent)}))""")
    workers = [c for c in counts if c["node"].startswith("worker")]
    assert len(workers) == 3, counts
    for c in workers:
        assert c["total"] == "424"
        # A bound pod still Pending reads ContainerCreating, as on a chip.
        assert c["rows"] == ["ContainerCreating 20", "Running 401", "Terminating 3"]
        assert c["text"] == "ContainerCreating 20 · Running 401 · Terminating 3"
    # No pod chips on the nodes; the queue lists its first 50 and says so.
    assert page.evaluate("document.querySelectorAll('#diagram .pod[data-node]:not([data-node=\"\"])').length") == 0
    assert page.evaluate("document.querySelectorAll('#diagram .pod[data-node=\"\"]').length") == 50
    title = page.text_content("#pending-queue .queue-title")
    assert "(182)" in title and "first 50 of 182 shown" in title, title
    assert page.get_attribute("#pending-queue", "data-count") == "182"
    rs = page.text_content("#rs-summary")
    assert rs.startswith("first 100 of 250 ReplicaSets"), rs
    assert page.inner_text("#diagram-note").startswith("1,454 pods: too many to draw one by one")

    # A frame too large even for counts (fit(): nodes without pods or counts, no lists).
    page.evaluate(FEED, {"paused": True, "truncated": True, "snapshot": page.evaluate("""() => {
      const s = structuredClone(window.pilothouse.diagram.snapshot);
      delete s.pending; delete s.replicasets; delete s.scheduler; delete s.pendingTotal; delete s.replicasetsTotal;
      s.nodes = s.nodes.map(({podCounts, podTotal, ...n}) => ({...n, pods: [], taints: []}));
      return s; }""")})
    assert page.evaluate("""[...document.querySelectorAll('#diagram .pod-counts')]
        .filter(g => g.dataset.node.startsWith('worker')).every(g => g.dataset.mode === 'unlisted')""")
    assert page.text_content("#rs-summary").startswith("first 100 of 250"), "kept, not replaced by 'none'"

    # A null snapshot after all that: nothing throws (the page fixture fails on any JS error).
    page.evaluate(FEED, {"paused": True, "snapshot": None})
    code, _ = browser_server.request("POST", "/clusters/demo/sim/v1/clock", {"paused": False})
    assert code == 200
    # The server's own snapshots bring the chips back.
    wait_js(page, "document.querySelectorAll('#diagram .pod-counts[data-mode=unlisted]').length === 0", 15,
            message="the server's next snapshot to replace the fed one")
    assert page.is_hidden("#diagram-note")


def test_error_events_show_in_the_log(dashboard, browser_server):
    page = dashboard
    _pause(page, browser_server)
    page.evaluate(FEED, {"paused": True, "events": [
        {"kind": "error", "component": "kube-controller-manager@cp-1", "t": 12.5,
         "message": "ZeroDivisionError: division by zero (replicaset default/web)"}],
        "omittedLog": 7})
    li = page.locator("#event-log li.sim-error").first
    assert li.is_visible()
    assert li.locator(".log-who").inner_text() == "kube-controller-manager · cp-1"
    assert li.locator(".log-text").inner_text() == \
        "internal error (recovered): ZeroDivisionError: division by zero (replicaset default/web)"
    assert page.locator("#event-log li", has_text="7 more log lines left out").count() == 1
    code, _ = browser_server.request("POST", "/clusters/demo/sim/v1/clock", {"paused": False})
    assert code == 200


# -- a server that stops answering ----------------------------------------------------------

def test_badge_stops_claiming_running_when_the_server_does_not_answer(page, start_server):
    server = start_server("truthful-stop")
    open_dashboard(page, server)
    wait_status(page, "running")

    # Frozen (SIGSTOP): the WebSocket stays open but no frame comes.
    os.kill(server.proc.pid, signal.SIGSTOP)
    try:
        wait_status(page, "not responding", 10)
        assert page.get_attribute("#dashboard", "data-ws") == "open"
        assert "No update from the server" in page.get_attribute("#clock-state", "title")
        # Nothing pretends to be live: the etcd election timers show what the server last
        # reported (followers just heard a heartbeat), not a guess run down to "election now".
        timers = "[...document.querySelectorAll('#etcd-svg [data-timer-left]')].map(g => +g.dataset.timerLeft)"
        held = page.evaluate(timers)
        assert held and all(left > 0 for left in held), held
        page.wait_for_timeout(1000)  # a window in which they must not move
        assert page.evaluate(timers) == held
    finally:
        os.kill(server.proc.pid, signal.SIGCONT)
    wait_status(page, "running", 15)

    # Gone: from the moment the page notices, the badge never says "running" again.
    page.expected_errors += DOWN_ERRORS
    page.evaluate("""() => { window.__labels = [];
      new MutationObserver(() => window.__labels.push(document.getElementById('clock-state').textContent))
        .observe(document.getElementById('clock-state'), {childList: true, characterData: true, subtree: true}); }""")
    server.stop()
    wait_status(page, "disconnected", 15)
    assert page.get_attribute("#clock-state", "class") == "badge disconnected"
    assert page.get_attribute("#dashboard", "data-ws") == "closed"
    # Stays so across the extension's reconnection attempts: a window of a few seconds in
    # which it must NOT change (nothing to wait for but time).
    page.wait_for_timeout(3000)
    assert status(page) == "disconnected"
    assert "running" not in page.evaluate("window.__labels"), page.evaluate("window.__labels")


# -- a cluster that could not be restored ---------------------------------------------------

def test_broken_cluster_is_repaired_from_the_page(page, start_server):
    server = start_server("truthful-broken")
    make_cluster(server, "lab")  # bootstrapped: it has stored keys
    server.stop()
    # What the worker finds on restart is not a cluster topology: the restore fails.
    server.manage("shell", "-c", "from cluster.models import SimCluster; "
                                 "assert SimCluster.objects.filter(name='lab').update(topology={'x': 1}) == 1")
    server.start()
    code, state = server.request("GET", "/clusters/lab/sim/v1/state")
    assert code == 200 and state["broken"], state

    page.goto(f"{server.base}/clusters/lab/")
    wait_js(page, "!document.getElementById('broken-panel').hidden", 10, message="the repair panel")
    assert page.is_hidden("#diagram")
    assert page.is_hidden("#clock-form")
    assert page.inner_text("#clock-state") == "broken"
    assert page.inner_text("#broken-error").strip() == state["broken"]
    keys = page.evaluate("[...document.querySelectorAll('#stored-keys li[data-key]')].map(l => l.dataset.key)")
    assert keys == state["storedKeys"] and keys, keys
    assert page.locator("#stored-keys li[data-key] button", has_text="delete this key").count() == len(keys)
    # The log says why, as an error line.
    assert page.locator("#event-log li.sim-error", has_text="could not be restored").count() >= 1

    # "Retry restore" cannot help (the topology is still wrong): it says so, still broken.
    page.click("#btn-broken-retry")
    page.wait_for_selector("#broken-result.error")
    assert "still cannot be restored" in page.inner_text("#broken-result")
    assert not page.is_hidden("#broken-panel")

    # Deleting a key asks first; saying no changes nothing.
    page.once("dialog", lambda d: d.dismiss())
    page.click("#stored-keys li[data-key] button")
    assert page.inner_text("#broken-result").startswith("the cluster still cannot")
    assert page.locator("#stored-keys li[data-key]").count() == len(keys)
    # Saying yes drops it (here that cannot help either: the list shrinks, the panel stays).
    victim = keys[0]
    page.once("dialog", lambda d: d.accept())
    page.click(f"#stored-keys li[data-key='{victim}'] button")
    wait_js(page, "document.getElementById('broken-result').textContent.startsWith('key ')", 10)
    assert page.inner_text("#broken-result").startswith(f"key {victim} deleted, but the cluster still cannot be restored")
    wait_js(page, f"!document.querySelector(`#stored-keys li[data-key='{victim}']`)", 10,
            message="the deleted key to leave the list")
    code, state = server.request("GET", "/clusters/lab/sim/v1/state")
    assert victim not in state["storedKeys"]

    asked = []
    page.once("dialog", lambda d: (asked.append(d.message), d.accept()))
    page.click("#btn-broken-reset")
    # (On success the panel goes away, its result line with it.)
    page.wait_for_selector("#broken-result.ok, #broken-result.error", state="attached")
    assert page.get_attribute("#broken-result", "class") == "result ok", page.inner_text("#broken-result")
    assert asked and "Reset cluster \"lab\" to its template?" in asked[0]
    # Running again: the diagram with its nodes, the controls back, frames flowing.
    wait_js(page, "document.getElementById('broken-panel').hidden && "
                  "document.querySelectorAll('#diagram .node').length >= 2", 20,
            message="the diagram of the reset cluster")
    assert page.is_visible("#diagram") and page.is_visible("#clock-form")
    wait_status(page, "running", 20)
    f = int(page.get_attribute("#dashboard", "data-frame"))
    wait_js(page, f"+document.getElementById('dashboard').dataset.frame > {f}", 10, message="frames to flow")
    code, state = server.request("GET", "/clusters/lab/sim/v1/state")
    assert code == 200 and not state.get("broken")


# -- deleting a cluster ---------------------------------------------------------------------

def test_deleting_a_running_cluster_from_the_page(page, browser_server):
    code, body = browser_server.request("POST", "/sim/v1/clusters", {"name": "doomed"})
    assert code == 201, body
    open_dashboard(page, browser_server, "doomed")
    # Another viewer of the same cluster learns it from the last frame.
    other = page.context.new_page()
    other_errors: list[str] = []
    other.on("pageerror", lambda e: other_errors.append(str(e)))
    open_dashboard(other, browser_server, "doomed")

    page.click("#cluster-menu summary")
    page.once("dialog", lambda d: d.dismiss())
    page.click("#btn-cluster-delete")
    assert page.inner_text("#clock-state") != "deleted"  # said no: nothing happened
    asked = []
    page.once("dialog", lambda d: (asked.append(d.message), d.accept()))
    page.click("#btn-cluster-delete")
    wait_js(page, "!document.getElementById('gone-panel').hidden", 10, message="the deleted panel")
    assert asked and 'Delete cluster "doomed"?' in asked[0]
    assert "This cluster was deleted" in page.inner_text("#gone-panel")
    assert page.inner_text("#clock-state") == "deleted"
    assert page.is_hidden("#diagram") and page.is_hidden("#clock-form")

    wait_js(other, "!document.getElementById('gone-panel').hidden", 10, message="the other viewer to see it")
    assert other.inner_text("#clock-state") == "deleted"
    # ... and neither page reconnects.
    for p in (page, other):
        wait_js(p, "document.getElementById('dashboard').dataset.ws === 'closed'", 10,
                message="the WebSocket to close for good")
    other.wait_for_timeout(2000)  # a window in which it must not reconnect
    assert other.get_attribute("#dashboard", "data-ws") == "closed"
    assert other_errors == []
    code, body = browser_server.request("GET", "/sim/v1/clusters")
    assert "doomed" not in body["clusters"]


def test_reset_a_running_cluster_from_the_menu(page, browser_server):
    code, body = browser_server.request("POST", "/sim/v1/clusters", {"name": "again"})
    assert code == 201, body
    open_dashboard(page, browser_server, "again")
    page.fill("#create-pod-form [name=name]", "before-reset")
    page.click("#create-pod-form button[type=submit]")
    wait_js(page, "document.querySelector('#diagram .pod[data-name=\"before-reset\"]')", 20)
    page.click("#cluster-menu summary")
    page.once("dialog", lambda d: d.accept())
    page.click("#btn-cluster-reset")
    page.wait_for_selector("#cluster-menu-result.ok")
    wait_js(page, "!document.querySelector('#diagram .pod[data-name=\"before-reset\"]')", 15,
            message="the pod to be gone after the reset")
    wait_status(page, "running")
    assert page.locator("#diagram .node").count() >= 2
    code, body = browser_server.request("GET", "/clusters/again/api/v1/namespaces/default/pods")
    assert code == 200 and body["items"] == []



def test_a_cluster_deleted_while_the_page_was_away(page, start_server):
    server = start_server("truthful-gone")
    make_cluster(server, "ghost")
    open_dashboard(page, server, "ghost")
    page.expected_errors += DOWN_ERRORS
    server.stop()
    wait_status(page, "disconnected")
    server.manage("shell", "-c", "from cluster.models import SimCluster; "
                                 "assert SimCluster.objects.filter(name='ghost').delete()[0] >= 1")
    server.start()
    # The reconnection finds no such cluster (the consumer closes with 4404): the page says so
    # and stops trying.
    wait_js(page, "!document.getElementById('gone-panel').hidden", 30, message="the page to learn the cluster is gone")
    assert page.inner_text("#gone-panel h2") == "This cluster no longer exists"
    assert page.inner_text("#clock-state") == "deleted"
    page.wait_for_timeout(2000)  # a window in which it must not reconnect
    assert page.get_attribute("#dashboard", "data-ws") == "closed"


def test_a_large_cluster_is_drawn_as_counts(page, browser_server):
    """End to end: a cluster of more pods than the server's snapshot limit (lowered to 100 for
    this module, SERVER_ENV; 600 by default) sends summarised snapshots, and the page draws what
    the server counted."""
    make_cluster(browser_server, "big")
    # 200 pods of 100m CPU: about 37 fit on each of the three 4-CPU workers beside their
    # DaemonSets' pods, the rest wait in the scheduling queue.
    rs = (MakeReplicaSet().name("many").replicas(200).selector({"app": "many"})
          .template(MakePod().labels({"app": "many"}).container("nginx", name="c", cpu="100m", memory="1Mi")).manifest())
    code, body = browser_server.request("POST", "/clusters/big/apis/apps/v1/namespaces/default/replicasets", rs)
    assert code == 201, body
    try:
        open_dashboard(page, browser_server, "big")
        code, body = browser_server.request("POST", "/clusters/big/sim/v1/clock", {"advance": "20s"}, timeout=90)
        assert code == 200, body
        wait_js(page, "document.getElementById('diagram').dataset.summarised === 'true'", 60,
                message="a summarised snapshot")
        _pause(page, browser_server, "big")
        code, state = browser_server.request("GET", "/clusters/big/sim/v1/state")
        snap = state["snapshot"]
        # The ReplicaSet's 200, the control plane's static pods (their mirror pods in kube-system)
        # and the kube-proxy, CoreDNS and CNI pods kubeadm's add-ons start.
        code, every = browser_server.request("GET", "/clusters/big/api/v1/pods")
        assert code == 200, every
        total = len(every["items"])
        assert total > 200 + 6, total
        assert snap["summarised"] and snap["podTotal"] == total, {k: snap.get(k) for k in ("summarised", "podTotal")}
        wait_js(page, f"+document.getElementById('dashboard').dataset.frame >= {state['frame']}", 10)
        drawn = page.evaluate("""Object.fromEntries([...document.querySelectorAll('#diagram .pod-counts')].map(g =>
            [g.dataset.node, {total: +g.dataset.total, counts: JSON.parse(g.dataset.counts)}]))""")
        for node in snap["nodes"]:
            if not node["podTotal"]:
                continue
            want = {("ContainerCreating" if k == "Pending" else k): v for k, v in node["podCounts"].items() if v}
            assert drawn[node["name"]] == {"total": node["podTotal"], "counts": want}, node["name"]
        assert page.evaluate("document.querySelectorAll('#diagram .pod[data-node]:not([data-node=\"\"])').length") == 0
        pending_total = snap["pendingTotal"]
        assert pending_total > 50 and len(snap["pending"]) == 50
        assert f"first 50 of {pending_total} shown" in page.text_content("#pending-queue .queue-title")
        assert page.inner_text("#diagram-note").startswith(f"{total:,} pods: too many to draw one by one")
    finally:
        browser_server.request("DELETE", "/sim/v1/clusters/big")
