"""Preemption on the dashboard (issue 4): a high-priority pod that fits nowhere evicts a
lower-priority one, and waits in the scheduling queue showing the node it was nominated for
(status.nominatedNodeName) until the victim is gone; the scheduler panel says "nominated".

The victim's node is powered off first (its kubelet is dead, the node still counts as Ready for
the 50 s grace period), so the victim stays Terminating and the nomination stays on screen."""
from __future__ import annotations

import pytest

from tests.builders import MakePod, MakePriorityClass
from tests.browser.conftest import open_dashboard, wait_js
from tests.conftest import wait_until


pytestmark = pytest.mark.services

CLUSTER = "preempt"


@pytest.fixture(scope="module")
def cluster(browser_server):
    status, body = browser_server.request("POST", "/sim/v1/clusters", {
        "name": CLUSTER, "seed": 5,
        "nodes": [{"name": "cp-1", "role": "control-plane"}, {"name": "worker-1", "cpu": "2", "memory": "4Gi"}]})
    assert status == 201, body
    api = f"/clusters/{CLUSTER}"
    wait_until(lambda: browser_server.request("GET", f"{api}/api/v1/namespaces/default/serviceaccounts/default")[0] == 200,
               timeout=20, interval=0.05, message=f"cluster {CLUSTER} bootstrapped")
    for name, value in (("low", 100), ("high", 100000)):
        status, body = browser_server.request("POST", f"{api}/apis/scheduling.k8s.io/v1/priorityclasses",
                                              MakePriorityClass().name(name).value(value).manifest())
        assert status == 201, body
    return browser_server


def test_a_preemptor_waits_nominated_for_the_victims_node(page, cluster):
    api = f"/clusters/{CLUSTER}"
    open_dashboard(page, cluster, CLUSTER)
    status, body = cluster.request("POST", f"{api}/api/v1/namespaces/default/pods", MakePod().name("victim").priority_class_name("low").container("nginx", name="c", cpu="1500m").manifest())
    assert status == 201, body
    wait_js(page, "document.querySelector('#diagram .pod[data-name=victim][data-phase=Running]')", 60,
            message="the low-priority pod Running on worker-1")
    assert cluster.request("POST", f"{api}/sim/v1/nodes/worker-1/kill")[0] == 200
    status, body = cluster.request("POST", f"{api}/api/v1/namespaces/default/pods", MakePod().name("vip").priority_class_name("high").container("nginx", name="c", cpu="1500m").manifest())
    assert status == 201, body
    # The preemptor sits in the queue, drawn with the node it was nominated for.
    wait_js(page, "document.querySelector('#diagram .pod[data-name=vip][data-nominated=worker-1]')", 30,
            message="the high-priority pod nominated for worker-1")
    label = page.eval_on_selector("#diagram .pod[data-name=vip]", "g => g.textContent")
    assert "→ worker-1" in label, label
    # Its victim is being deleted (Terminating on the dead node).
    wait_js(page, "document.querySelector('#diagram .pod[data-name=victim][data-phase=Terminating]')", 30,
            message="the victim Terminating")
    _, victim = cluster.request("GET", f"{api}/api/v1/namespaces/default/pods/victim")
    target = next(c for c in victim["status"]["conditions"] if c["type"] == "DisruptionTarget")
    assert target["reason"] == "PreemptionByScheduler"
    # The scheduler panel says so too.
    page.click("#diagram .pod[data-name=vip]")
    wait_js(page, """(() => { const e = document.getElementById('sched-explain');
                     return e.dataset.pod === 'default/vip' && e.dataset.state === 'loaded'; })()""", 15,
            message="the preemptor's scheduling attempt")
    assert "nominated worker-1" in page.inner_text("#sched-explain")
