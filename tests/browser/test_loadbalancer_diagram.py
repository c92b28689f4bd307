"""The cloud-controller-manager and the simulated cloud in the architecture view: a
cloud-controller-manager in each control-plane node's box (one leading, the others on standby),
the cloud beside the API clients, showing a LoadBalancer Service's address once the service
controller has it."""
from __future__ import annotations

import pytest

from tests.browser.conftest import open_dashboard, wait_js
from tests.conftest import wait_until

pytestmark = pytest.mark.services

CLUSTER = "lb-lab"

# The document's default: three control-plane nodes, each with a cloud-controller-manager, one
# holding the Lease and the others on standby, as kube-controller-manager's.
CLOUD = """() => {
  const ccms = [...document.querySelectorAll('#diagram .component[data-component="cloud-controller-manager"]')];
  const leading = ccms.filter(c => c.dataset.leading === 'true');
  const standby = ccms.filter(c => c.classList.contains('standby'));
  const cloud = document.querySelector('#diagram .component.cloud');
  return ccms.length === 3 && leading.length === 1 && cloud ?
    {node: leading[0].dataset.node, standby: standby.length, addr: cloud.dataset.addr,
     lbs: cloud.dataset.loadBalancers, text: cloud.textContent} : null;
}"""


def test_the_ccm_and_the_clouds_load_balancer_on_the_diagram(page, browser_server):
    status, body = browser_server.request("POST", "/sim/v1/clusters", {"name": CLUSTER, "seed": 4})
    assert status == 201, body
    wait_until(lambda: browser_server.request(
        "GET", f"/clusters/{CLUSTER}/api/v1/namespaces/default/serviceaccounts/default")[0] == 200,
        timeout=20, interval=0.05, message=f"cluster {CLUSTER} bootstrapped")
    open_dashboard(page, browser_server, CLUSTER)
    first = wait_js(page, CLOUD, 30, message="the cloud-controller-manager and the cloud drawn")
    assert first["addr"] == "cloud-api@cloud" and first["standby"] == 2 and first["lbs"] == "0"
    status, body = browser_server.request("POST", f"/clusters/{CLUSTER}/api/v1/namespaces/default/services", {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"type": "LoadBalancer", "selector": {"app": "web"}, "ports": [{"port": 80}]}})
    assert status == 201, body
    # The service controller provisions once the cloud-controller-manager leads and the nodes are
    # Ready: at 5x that is seconds of wall time even on a loaded machine.
    status, body = browser_server.request("POST", f"/clusters/{CLUSTER}/sim/v1/clock", {"speed": 5})
    assert status == 200, body
    shown = wait_js(page, f"(() => {{ const r = ({CLOUD})(); return r && r.lbs === '1' ? r : null; }})()", 30,
                    message="the load balancer on the cloud")
    assert "203.0.113.1" in shown["text"]
