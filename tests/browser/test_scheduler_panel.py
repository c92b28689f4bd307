"""The scheduler on the dashboard, in a real browser: taint a node from the Nodes panel and
watch pods stay off it (the scheduler panel's table shows TaintToleration rejecting it); a
Pending pod answers "why Pending?"; a running pod shows its chosen node and the scores; a
ReplicaSet with pod anti-affinity puts one pod per node.

The tests share one demo server (in order: the taint is removed again before the anti-affinity
test needs every worker)."""
from __future__ import annotations

import pytest

from tests.browser.conftest import pods, submit_ok, wait_js

pytestmark = pytest.mark.services

WORKERS = ["worker-1", "worker-2", "worker-3"]


@pytest.fixture(scope="module", autouse=True)
def fast_clock(browser_server):
    """5x: pods start in a couple of wall seconds."""
    status, body = browser_server.request("POST", "/clusters/demo/sim/v1/clock", {"speed": 5})
    assert status == 200, body


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

    # The queue shows it among the unschedulable pods with the scheduler's reason ...
    entry = '#sched-queue .sched-q[data-queue=unschedulable] li[data-pod="default/greedy"]'
    page.wait_for_selector(entry, timeout=30_000)
    assert "Insufficient cpu" in page.inner_text(f"{entry} .q-reason")
    # ... and picking it there shows the same decision.
    page.click('#diagram .pod[data-name=tolerant]')
    wait_js(page, "document.getElementById('sched-explain').dataset.pod === 'default/tolerant'", 15)
    page.click(f"{entry} button")
    wait_js(page, """() => { const e = document.getElementById('sched-explain');
        return e.dataset.pod === 'default/greedy' && e.dataset.result === 'Unschedulable'; }""", 15,
            message="the queue entry to pick greedy")
    assert page.eval_on_selector('#diagram .pod[data-name=greedy]', "p => p.classList.contains('selected')")

    # Delete it (it is picked) so that it does not wait in the queue for the next tests.
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
