"""An HA control plane in the architecture view (issue 3): three control-plane nodes, one active
kube-scheduler and kube-controller-manager (the Lease holders), the others on standby; losing the
active one's node hands the lease to another."""
from __future__ import annotations

import pytest

from tests.browser.conftest import open_dashboard, wait_js
from tests.conftest import wait_until

pytestmark = pytest.mark.services

CLUSTER = "ha-lab"

ACTIVE = """(comp) => {
  const cs = [...document.querySelectorAll(`#diagram .component[data-component="${comp}"]`)];
  const active = cs.filter(c => c.dataset.leading === 'true' && c.dataset.running === 'true');
  const standby = cs.filter(c => c.classList.contains('standby'));
  return cs.length === 3 && active.length === 1 ? {node: active[0].dataset.node, standby: standby.length} : null;
}"""


@pytest.fixture(scope="module")
def ha(browser_server):
    status, body = browser_server.request("POST", "/sim/v1/clusters", {
        "name": CLUSTER, "seed": 9, "etcd": {"members": 3, "topology": "stacked"}})
    assert status == 201, body
    wait_until(lambda: browser_server.request("GET", f"/clusters/{CLUSTER}/api/v1/namespaces/default/serviceaccounts/default")[0] == 200,
               timeout=20, interval=0.05, message=f"cluster {CLUSTER} bootstrapped")
    return browser_server


def test_one_active_scheduler_and_handover(page, ha):
    open_dashboard(page, ha, CLUSTER)
    sched = wait_js(page, ACTIVE, 30, arg="kube-scheduler", message="one active kube-scheduler")
    assert sched["standby"] == 2
    cm = wait_js(page, ACTIVE, 30, arg="kube-controller-manager", message="one active kube-controller-manager")
    assert cm["standby"] == 2
    status, _ = ha.request("POST", f"/clusters/{CLUSTER}/sim/v1/nodes/{sched['node']}/kill")
    assert status == 200
    ha.request("POST", f"/clusters/{CLUSTER}/sim/v1/clock", {"advance": "30s"})
    moved = wait_js(page, f"""(() => {{ const r = ({ACTIVE})('kube-scheduler');
                                       return r && r.node !== '{sched["node"]}' ? r : null; }})()""",
                    30, message="another kube-scheduler took the lease")
    assert moved["node"] != sched["node"]


def test_component_labels_are_not_cut_off(page, ha):
    """Long labels ("kube-controller-manager · standby", "etcd-2 · follower") wrap onto two
    lines in their box instead of being cut with an ellipsis."""
    open_dashboard(page, ha, CLUSTER)
    wait_js(page, ACTIVE, 30, arg="kube-controller-manager", message="one active kube-controller-manager")
    texts = page.eval_on_selector_all("#diagram .component text", "ts => ts.map(t => t.textContent)")
    assert "kube-controller-manager" in texts and "standby" in texts
    assert not [t for t in texts if t.endswith("…")], texts
