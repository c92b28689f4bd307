"""The scheduler on the dashboard, in a real browser: taint a node from the Nodes panel and
watch pods stay off it (the scheduler panel's table shows TaintToleration rejecting it); a
Pending pod answers "why Pending?"; a running pod shows its chosen node and the scores; a
ReplicaSet with pod anti-affinity puts one pod per node.

The tests share one demo server (in order: the taint is removed again before the anti-affinity
test needs every worker)."""
from __future__ import annotations

import json

import pytest

from tests.browser.conftest import pods, show_view, submit_ok, wait_js
from tests.conftest import wait_nodes_ready

pytestmark = pytest.mark.services

WORKERS = ["worker-1", "worker-2", "worker-3"]


@pytest.fixture(scope="module", autouse=True)
def fast_clock(browser_server):
    """5x: pods start in a couple of wall seconds; the tests start once every node is Ready (the
    not-ready taint would be every pending pod's reason until the CNI plugin runs)."""
    status, body = browser_server.request("POST", "/clusters/demo/sim/v1/clock", {"speed": 5})
    assert status == 200, body
    wait_nodes_ready(browser_server, "demo")


def explain(page, pod: str, result: str | None = None, timeout: float = 30) -> dict:
    """Click the pod in the diagram and wait for the scheduler panel to show its attempt
    (with that result).  Returns {"result", "node", "why", "rows": [{"node", "chosen", "filter",
    "text", "total", "scores": {plugin: {raw, normalized, weighted}}}], "weights"}."""
    page.click(f'#diagram .pod[data-pod="default/{pod}"]')
    cond = f"""() => {{ const e = document.getElementById('sched-explain');
        return e.dataset.pod === 'default/{pod}' && e.dataset.state === 'loaded'
               {f"&& e.dataset.result === '{result}'" if result else ""}; }}"""
    wait_js(page, cond, timeout, message=f"the scheduler panel to explain {pod}" + (f" ({result})" if result else ""))
    return page.evaluate("""() => {
        const e = document.getElementById('sched-explain');
        const weights = {};
        for (const th of e.querySelectorAll('#sched-table th.plugin')) {
            weights[th.title.split(',')[0]] = +th.title.split('weight ')[1];
        }
        const rows = [...e.querySelectorAll('#sched-table tbody tr')].map(tr => {
            const scores = {};
            for (const td of tr.querySelectorAll('td[data-plugin]')) {
                (scores[td.dataset.plugin] ||= {})[td.dataset.score] = +td.textContent;
            }
            return {node: tr.dataset.node, chosen: tr.dataset.chosen === 'true', cls: tr.className,
                    filter: tr.dataset.filterPlugin, text: tr.querySelector('.filter-col').innerText,
                    total: tr.dataset.total === '' ? null : +tr.dataset.total, scores,
                    background: getComputedStyle(tr.querySelector('td')).backgroundColor};
        });
        return {result: e.dataset.result, node: e.dataset.node,
                why: document.getElementById('sched-why').innerText, rows, weights};
    }""")


def open_scheduling(page, form: str):
    if not page.eval_on_selector(f"{form} .sched-fields", "d => d.open"):
        page.click(f"{form} .sched-fields summary")


def set_taints(page, node: str, taints: str) -> str:
    page.select_option("#node-select", node)
    wait_js(page, f"document.getElementById('node-edit-form').dataset.loaded === '{node}'", 15,
            message=f"the node form to load {node}")
    page.fill("#node-edit-form [name=taints]", taints)
    return submit_ok(page, "#node-edit-form")


def running(page, owner: str, n: int, timeout: float = 60):
    wait_js(page, f"""document.querySelectorAll('#diagram .pod[data-owner="{owner}"][data-phase=Running]').length === {n}""",
            timeout, message=f"{n} Running pods of {owner}")
    return pods(page, f'[data-owner="{owner}"][data-phase=Running]')


def test_a_taint_keeps_pods_off_until_they_tolerate_it(dashboard):
    page = dashboard
    # Taint worker-1 from the Nodes panel: the form shows the Node's labels from the API.
    page.select_option("#node-select", "worker-1")
    wait_js(page, "document.getElementById('node-edit-form').dataset.loaded === 'worker-1'", 15)
    assert "kubernetes.io/hostname=worker-1" in page.input_value("#node-edit-form [name=labels]")
    assert "dedicated=gpu:NoSchedule" in set_taints(page, "worker-1", "dedicated=gpu:NoSchedule")
    wait_js(page, """document.querySelector('#diagram .node[data-node-name="worker-1"]').dataset.taints === 'dedicated=gpu:NoSchedule'""",
            15, message="the diagram to flag worker-1's taint")

    # Pods without a toleration never land there.
    page.fill("#create-rs-form [name=name]", "plain")
    page.fill("#create-rs-form [name=replicas]", "4")
    submit_ok(page, "#create-rs-form")
    placed = running(page, "ReplicaSet/plain", 4)
    assert {p["node"] for p in placed} <= {"worker-2", "worker-3"}, placed

    # The scheduler panel says why: TaintToleration rejected worker-1.
    d = explain(page, placed[0]["name"], "Scheduled")
    row = next(r for r in d["rows"] if r["node"] == "worker-1")
    assert row["filter"] == "TaintToleration" and not row["chosen"], row
    assert "node(s) had untolerated taint {dedicated: gpu}" in row["text"], row
    assert {r["node"] for r in d["rows"] if r["filter"] == ""} == {"worker-2", "worker-3"}

    # A pod that tolerates the taint (and asks for worker-1) lands there.
    page.fill("#create-pod-form [name=name]", "tolerant")
    page.fill("#create-pod-form [name=node_selector]", "kubernetes.io/hostname=worker-1")
    open_scheduling(page, "#create-pod-form")
    page.fill("#create-pod-form [name=tol_key]", "dedicated")
    page.fill("#create-pod-form [name=tol_value]", "gpu")
    page.select_option("#create-pod-form [name=tol_effect]", "NoSchedule")
    submit_ok(page, "#create-pod-form")
    wait_js(page, "document.querySelector('#diagram .pod[data-name=tolerant][data-phase=Running]')?.dataset.node === 'worker-1'",
            60, message="tolerant Running on worker-1")
    d = explain(page, "tolerant", "Scheduled")
    (chosen,) = [r for r in d["rows"] if r["chosen"]]
    assert chosen["node"] == "worker-1" and chosen["filter"] == "" and d["node"] == "worker-1"

    # Untaint it again (the form empties the list), for the tests after this one.
    set_taints(page, "worker-1", "")
    wait_js(page, """document.querySelector('#diagram .node[data-node-name="worker-1"]').dataset.taints === ''""", 15)


def test_a_pending_pod_says_why(dashboard):
    page = dashboard
    page.fill("#create-pod-form [name=name]", "greedy")
    page.fill("#create-pod-form [name=cpu]", "64")
    submit_ok(page, "#create-pod-form")
    page.wait_for_selector('#diagram .pod[data-name=greedy]')
    d = explain(page, "greedy", "Unschedulable")
    assert d["why"].startswith("Why Pending?") and "Insufficient cpu" in d["why"], d["why"]
    assert d["node"] == ""
    for r in d["rows"]:
        if r["node"] in WORKERS:
            assert r["filter"] == "NodeResourcesFit" and "Insufficient cpu" in r["text"], r
        assert not r["chosen"] and r["total"] is None
    assert "0/6 nodes are available:" in page.inner_text("#sched-explain .message")

    # The queue (the Scheduler view) shows it among the unschedulable pods with the scheduler's
    # reason ...
    show_view(page, "scheduler")
    entry = '#sched-queue .sched-q[data-queue=unschedulable] li[data-pod="default/greedy"]'
    page.wait_for_selector(entry, timeout=30_000)
    assert "Insufficient cpu" in page.inner_text(f"{entry} .q-reason")
    # ... and picking it there shows the same decision.
    show_view(page, "architecture")
    page.click('#diagram .pod[data-name=tolerant]')
    wait_js(page, "document.getElementById('sched-explain').dataset.pod === 'default/tolerant'", 15)
    show_view(page, "scheduler")
    page.click(f"{entry} button")
    wait_js(page, """() => { const e = document.getElementById('sched-explain');
        return e.dataset.pod === 'default/greedy' && e.dataset.result === 'Unschedulable'; }""", 15,
            message="the queue entry to pick greedy")
    assert page.eval_on_selector('#diagram .pod[data-name=greedy]', "p => p.classList.contains('selected')")

    # Delete it (it is picked) so that it does not wait in the queue for the next tests.
    show_view(page, "architecture")
    submit_ok(page, "#delete-pod-form")
    page.wait_for_selector('#diagram .pod[data-name=greedy]', state="detached", timeout=30_000)


def test_a_running_pod_shows_its_chosen_node_and_scores(dashboard):
    page = dashboard
    page.fill("#create-pod-form [name=name]", "picked")
    submit_ok(page, "#create-pod-form")
    wait_js(page, "document.querySelector('#diagram .pod[data-name=picked][data-phase=Running]')", 60)
    node = page.get_attribute('#diagram .pod[data-name=picked]', "data-node")
    d = explain(page, "picked", "Scheduled")
    assert d["node"] == node
    assert d["why"].startswith(f"Why this node? {node} "), d["why"]
    (chosen,) = [r for r in d["rows"] if r["chosen"]]
    assert chosen["node"] == node and "chosen" in chosen["cls"]
    # Highlighted: the chosen row is painted with the Running colour.
    assert chosen["background"] == "rgb(220, 252, 231)", chosen["background"]
    assert set(chosen["scores"]) == set(d["weights"]) and d["weights"]["TaintToleration"] == 3
    for plugin, s in chosen["scores"].items():
        assert set(s) == {"raw", "normalized", "weighted"}
        assert s["weighted"] == s["normalized"] * d["weights"][plugin], (plugin, s)
    assert chosen["total"] == sum(s["weighted"] for s in chosen["scores"].values())
    feasible = [r for r in d["rows"] if r["filter"] == ""]
    assert {r["node"] for r in feasible} == set(WORKERS)
    assert chosen["total"] == max(r["total"] for r in feasible)
    assert all(r["filter"] == "TaintToleration" for r in d["rows"] if r["node"].startswith("cp-"))


def test_a_replicaset_with_anti_affinity_puts_one_pod_per_node(dashboard):
    page = dashboard
    page.fill("#create-rs-form [name=name]", "solo")
    page.fill("#create-rs-form [name=replicas]", "4")
    open_scheduling(page, "#create-rs-form")
    page.select_option("#create-rs-form [name=pa_type]", "podAntiAffinity")
    assert page.input_value("#create-rs-form [name=pa_topology_key]") == "kubernetes.io/hostname"
    submit_ok(page, "#create-rs-form")
    placed = running(page, "ReplicaSet/solo", 3)
    assert sorted(p["node"] for p in placed) == WORKERS, placed
    # The fourth has nowhere to go: every worker already runs a pod it must not share a node with.
    wait_js(page, """document.querySelectorAll('#diagram .pod[data-owner="ReplicaSet/solo"]').length === 4""", 30)
    (waiting,) = [p for p in pods(page, '[data-owner="ReplicaSet/solo"]') if p["phase"] == "Pending"]
    d = explain(page, waiting["name"], "Unschedulable")
    for r in d["rows"]:
        if r["node"] in WORKERS:
            assert r["filter"] == "InterPodAffinity" and "anti-affinity" in r["text"], r
    assert "anti-affinity" in d["why"], d["why"]


# -- static/js/scheduler.js on its own: large records, the queue's timers, no attempt -------------
PANEL_HTML = """
<section id="scheduler-panel" data-api="/clusters/x/sim/v1/scheduler">
  <span id="sched-summary"></span>
  <div id="sched-queue">
    <div class="sched-q" data-queue="active"><span class="count"></span><ol></ol></div>
    <div class="sched-q" data-queue="backoff"><span class="count"></span><ol></ol></div>
    <div class="sched-q" data-queue="unschedulable"><span class="count"></span><ol></ol></div>
  </div>
  <div id="sched-explain"></div>
</section>"""

HARNESS = """async ({html, script}) => {
  document.body.innerHTML = html;
  const mod = await import('/static/js/scheduler.js');
  const answers = [];       // what the fake fetch answers, in order: [status, body]
  const asked = [];
  window.fetch = async (url) => { asked.push(url); const [status, body] = answers.shift();
                                  return new Response(JSON.stringify(body), {status}); };
  const panel = new mod.SchedulerPanel(document.getElementById('scheduler-panel'));
  const until = async (cond) => { for (let i = 0; i < 100 && !cond(); i++) await new Promise(r => setTimeout(r, 20)); };
  const api = { mod, panel, answers, asked, until, $: (s) => document.querySelector(s),
                $$: (s) => [...document.querySelectorAll(s)] };
  return await (new Function('api', 'return (async () => {' + script + '})()'))(api);
}"""


@pytest.fixture
def run(page, browser_server):
    page.goto(browser_server.base + "/static/js/scheduler.js")  # same origin, no page scripts

    def run(script: str):
        return page.evaluate(HARNESS, {"html": PANEL_HTML, "script": script})

    return run


def big_record(n_nodes: int) -> dict:
    """A 5,000-node attempt as the engine records it: 500 rows, the chosen one first."""
    plugins = [{"name": "TaintToleration", "weight": 3}, {"name": "NodeResourcesFit", "weight": 1}]
    rows = [{"name": f"node-{i}", "filter": None, "chosen": i == 0, "total": 400 - i % 100,
             "scores": {"TaintToleration": {"raw": 0, "normalized": 100, "weighted": 300},
                        "NodeResourcesFit": {"raw": 100 - i % 100, "normalized": 100 - i % 100,
                                             "weighted": 100 - i % 100}}} for i in range(250)]
    rows += [{"name": f"node-{i}", "filter": {"plugin": "NodeResourcesFit", "code": "Unschedulable",
                                              "reasons": ["Insufficient cpu"]}, "scores": {}, "total": None,
              "chosen": False} for i in range(250, 500)]
    return {"pod": "default/web", "time": 12.5, "attempt": 1, "profile": "default-scheduler",
            "result": "Scheduled", "node": "node-0", "nominatedNode": None,
            "message": "Successfully assigned default/web to node-0",
            "why": "node-0 had the highest total score (400) of 2500 feasible nodes: TaintToleration 300, NodeResourcesFit 100",
            "numAllNodes": n_nodes, "numEvaluated": n_nodes, "numFeasible": 2500, "filterPlugins": [],
            "skippedFilterPlugins": [], "prefilter": None, "scorePlugins": plugins, "nodes": rows,
            "truncated": True}


def test_a_large_record_shows_its_rows_with_a_note(run):
    out = run("""
      const {panel, answers, asked, until, $, $$} = api;
      answers.push([200, %s]);
      panel.select('default/web');
      await until(() => $('#sched-explain').dataset.state === 'loaded');
      return {asked, rows: $$('#sched-table tbody tr').length, note: $('.note.truncated').innerText,
              chosen: $$('#sched-table tr[data-chosen=true]').map(r => r.dataset.node),
              first: $('#sched-table tbody tr').dataset.node, why: $('#sched-why').innerText,
              head: $$('#sched-table th.plugin').map(th => th.innerText)};""" % json.dumps(big_record(5000)))
    assert out["asked"] == ["/clusters/x/sim/v1/scheduler/pods/default/web"]
    assert out["rows"] == 500 and out["chosen"] == ["node-0"] and out["first"] == "node-0"
    assert out["note"].startswith("Showing 500 of 5000 nodes"), out["note"]
    assert out["why"].startswith("Why this node? node-0 had the highest total score (400)")
    assert out["head"] == ["Taint Toleration ×3", "Fit ×1"]


def test_the_queue_shows_backoff_time_left_and_unschedulable_reasons(run):
    out = run("""
      const {panel, $, $$} = api;
      const snap = (time) => ({time, nodes: [], pending: [], scheduler: {
        leader: 'kube-scheduler@cp-2', active: 1, backoff: 1, unschedulable: 60,
        pods: [{pod: 'default/a', priority: 1000, attempts: 0, queue: 'active'},
               {pod: 'default/b', priority: 0, attempts: 2, until: 14.5, queue: 'backoff'},
               {pod: 'default/c', priority: 0, attempts: 1, since: 3, queue: 'unschedulable',
                message: '0/3 nodes are available: 3 Insufficient cpu.'}]}});
      panel.render(snap(12.0));
      const left1 = $('[data-queue=backoff] .q-left').innerText;
      const button = $('[data-queue=backoff] li button');
      panel.render(snap(13.75));
      return {left1, left2: $('[data-queue=backoff] .q-left').innerText,
              sameButton: button === $('[data-queue=backoff] li button'),
              counts: $$('.sched-q .count').map(c => c.innerText),
              reason: $('[data-queue=unschedulable] .q-reason').innerText,
              more: $('[data-queue=unschedulable] .q-more').innerText,
              active: $('[data-queue=active] li').dataset.pod,
              summary: $('#sched-summary').innerText};""")
    assert out["left1"] == "2.5 s left" and out["left2"] == "0.8 s left"
    assert out["sameButton"], "a frame that only moves the clock must not rebuild the entries"
    assert out["counts"] == ["1", "1", "60"]
    assert out["reason"] == "0/3 nodes are available: 3 Insufficient cpu."
    assert out["more"] == "… and 59 more" and out["active"] == "default/a"
    assert out["summary"] == "leader on cp-2 · 1 active · 1 backing off · 60 unschedulable"


def test_no_attempt_yet_then_a_new_attempt_is_fetched(run):
    out = run("""
      const {panel, answers, asked, until, $} = api;
      answers.push([404, {kind: 'Status', status: 'Failure', code: 404, reason: 'NotFound',
                          message: 'no scheduling attempt recorded for pod "default/new"', details: {name: 'new', kind: 'pods'}}]);
      panel.select('default/new');
      await until(() => $('#sched-explain').dataset.state === 'none');
      const none = $('#sched-explain').innerText;
      // The scheduler tries it: its FailedScheduling Event arrives in a frame.
      answers.push([200, {pod: 'default/new', time: 3, attempt: 1, profile: 'default-scheduler',
                          result: 'Unschedulable', node: null, nominatedNode: null,
                          message: '0/1 nodes are available: 1 Insufficient cpu.',
                          why: 'no node passed the filters: 1 Insufficient cpu (NodeResourcesFit)',
                          numAllNodes: 1, numEvaluated: 1, numFeasible: 0, scorePlugins: [], truncated: false,
                          nodes: [{name: 'w', filter: {plugin: 'NodeResourcesFit', code: 'Unschedulable',
                                   reasons: ['Insufficient cpu']}, scores: {}, total: null, chosen: false}]}]);
      panel.noteEvents([{kind: 'k8s-event', namespace: 'default', object: 'Pod/new', reason: 'FailedScheduling'}]);
      panel.render({time: 3, nodes: [], pending: [], scheduler: {pods: []}});
      await until(() => $('#sched-explain').dataset.state === 'loaded');
      return {none, asked: asked.length, result: $('#sched-explain').dataset.result,
              why: $('#sched-why').innerText, row: $('#sched-table tr[data-node=w]').dataset.filterPlugin};""")
    assert 'no scheduling attempt recorded for pod "default/new"' in out["none"]
    assert out["asked"] == 2 and out["result"] == "Unschedulable" and out["row"] == "NodeResourcesFit"
    assert out["why"] == "Why Pending? no node passed the filters: 1 Insufficient cpu (NodeResourcesFit)"
