"""The Network view (issue 12), in a real browser: opened by URL and by the key `t`; requests
sent from a pod to a Service through the page's form, their hops appearing one after another
(the DNS query to CoreDNS, kube-proxy's DNAT, the CNI hop, delivery, the reply), the tally per
endpoint; a node's kube-proxy rules with the rules the packet matched marked; and, on a Calico
cluster, a NetworkPolicy's drop marked where it happens.  The page is followed on its DOM
(static/js/network.js documents the attributes); every wait is on a condition with a bound."""
from __future__ import annotations

import pytest

from tests.browser.conftest import wait_js
from tests.conftest import wait_until

pytestmark = pytest.mark.services

FLANNEL, CALICO = "nv", "nvcal"
SPEED = 10

WEB = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
       "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                             "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}}}
SVC = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
       "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 80}], "type": "NodePort"}}
CLIENT = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "client", "labels": {"app": "client"}},
          "spec": {"containers": [{"name": "c", "image": "busybox:1.36", "command": ["sleep", "3600"]}]}}
# The documentation's "default deny all ingress traffic", narrowed to the web pods.
DENY = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "web-deny"},
        "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress"]}}

# Records the order in which the watched request's hops are shown (data-state "shown").
RECORD_JS = """() => {
  window.__shown = [];
  const ol = document.getElementById('nv-hops');
  window.__obs?.disconnect();
  window.__obs = new MutationObserver((muts) => {
    for (const m of muts) {
      const li = m.target;
      if (m.attributeName === 'data-state' && li.dataset?.state === 'shown')
        window.__shown.push([[...ol.children].indexOf(li), li.dataset.kind]);
    }
  });
  window.__obs.observe(ol, {subtree: true, attributes: true, attributeFilter: ['data-state']});
}"""


def _boot(server, name: str, **spec) -> None:
    status, body = server.request("POST", "/sim/v1/clusters", {"name": name, **spec})
    assert status in (201, 409), body
    wait_until(lambda: server.request("GET", f"/clusters/{name}/api/v1/namespaces/default/serviceaccounts/default")[0]
               == 200, timeout=30, interval=0.05, message=f"cluster {name} bootstrapped")
    assert server.request("POST", f"/clusters/{name}/sim/v1/clock", {"speed": SPEED})[0] == 200
    for path, body in ((f"/clusters/{name}/apis/apps/v1/namespaces/default/deployments", WEB),
                       (f"/clusters/{name}/api/v1/namespaces/default/services", SVC),
                       (f"/clusters/{name}/api/v1/namespaces/default/pods", CLIENT)):
        status, got = server.request("POST", path, body)
        assert status == 201, got

    def ready() -> bool:
        _, sl = server.request("GET", f"/clusters/{name}/apis/discovery.k8s.io/v1/namespaces/default/endpointslices"
                                      "?labelSelector=kubernetes.io/service-name=web")
        ready_eps = [e for s in sl.get("items") or () for e in s.get("endpoints") or ()
                     if (e.get("conditions") or {}).get("ready")]
        _, pod = server.request("GET", f"/clusters/{name}/api/v1/namespaces/default/pods/client")
        return len(ready_eps) == 3 and (pod.get("status") or {}).get("phase") == "Running"
    wait_until(ready, timeout=60, interval=0.2, message=f"{name}: web's 3 endpoints ready and the client running")


# One control-plane node and three workers (one etcd member): the view is about the workers'
# datapath, and an HA control plane tripled the clusters' cost on a busy test machine.
ONE_CONTROL_PLANE = {"etcd": {"members": 1}}


@pytest.fixture(scope="module")
def clusters(browser_server):
    _boot(browser_server, FLANNEL, **ONE_CONTROL_PLANE)
    _boot(browser_server, CALICO, cni="calico", **ONE_CONTROL_PLANE)
    return browser_server


def _open(page, server, cluster: str, path: str = "network"):
    page.goto(f"{server.base}/clusters/{cluster}/{path}")
    wait_js(page, "document.getElementById('dashboard')?.dataset.ws === 'open'", 20, message="the WebSocket")
    return page


def _send(page, to: str = "web.default", count: int = 6, rate: float = 0, source: str = "pod default/client"):
    wait_js(page, "(v) => [...document.getElementById('nv-from').options].some((o) => o.value === v)", 20,
            arg=source, message=f"{source} among the sources")
    page.select_option("#nv-from", source)
    page.fill("#nv-to", to)
    page.fill("#nv-count", str(count))
    page.fill("#nv-rate", str(rate))
    page.evaluate(RECORD_JS)
    page.click("#btn-nv-send")
    wait_js(page, "document.getElementById('nv-hops').dataset.done === 'true'", 30, message="every hop shown")
    wait_js(page, f"Number(document.getElementById('nv-tally').dataset.sent) === {count}", 30,
            message=f"{count} requests tallied")


def test_the_view_opens_by_url_and_by_the_key_t(page, clusters):
    _open(page, clusters, FLANNEL, "workloads")
    page.keyboard.press("t")
    wait_js(page, "document.getElementById('dashboard').dataset.view === 'network'", 5, message="the key t")
    assert page.url.endswith(f"/clusters/{FLANNEL}/network")
    assert page.is_visible("#network-panel") and not page.is_visible("#workloads-panel")
    assert page.get_attribute("#view-nav a[data-view=network]", "aria-current") == "page"
    _open(page, clusters, FLANNEL)
    assert page.evaluate("document.getElementById('dashboard').dataset.view") == "network"
    assert page.is_visible("#network-panel") and not page.is_visible("#diagram")
    wait_js(page, "document.querySelectorAll('#nv-services .nv-svc[data-service=\"default/web\"] .nv-ep[data-state=ready]')"
                  ".length === 3", 20, message="web's three ready endpoints")
    nodes = page.evaluate("""[...document.querySelectorAll('#nv-nodes .nv-node')].map((n) => ({
        node: n.dataset.node, cidr: n.dataset.podCidr, ip: n.dataset.internalIp,
        pods: [...n.querySelectorAll('.nv-pod:not(.host)')].map((p) => p.dataset.ip)}))""")
    assert nodes and all(n["cidr"] and n["ip"] for n in nodes)
    # Every pod-network pod's IP is in its node's CIDR (the node IPAM controller's /24).
    for n in nodes:
        prefix = n["cidr"].rsplit(".", 1)[0] + "."
        assert all(ip.startswith(prefix) for ip in n["pods"]), n
    assert "flannel" in page.inner_text("#nv-cni") and "VXLAN" in page.inner_text("#nv-cni")
    box = page.inner_text('#nv-services .nv-svc[data-service="default/web"]')
    assert "NodePort" in box and "80→80/TCP" in box


def test_traffic_to_a_service_shows_its_hops_in_order_and_the_spread(page, clusters):
    _open(page, clusters, FLANNEL)
    _send(page, count=6)
    hops = page.evaluate("[...document.querySelectorAll('#nv-hops .nv-hop')].map((h) => [h.dataset.kind, h.textContent])")
    kinds = [k for k, _ in hops]
    # The name first: queries to CoreDNS (the search path's first candidate is NXDOMAIN),
    # then the connection: kube-proxy's DNAT, delivery to the pod, the reply.
    assert kinds[0] == "dns" and "dnat" in kinds and kinds[-2:] == ["deliver", "reply"]
    assert max(i for i, k in enumerate(kinds) if k == "dns") < kinds.index("dnat")
    assert any("CoreDNS answers web.default.svc.cluster.local A: 10." in t for _, t in hops)
    dnat = next(t for k, t in hops if k == "dnat" and not t.startswith("kube-system"))
    assert "-j DNAT --to-destination" in dnat   # the matched rule's text is shown
    # The hops were shown one after another, in their order.
    shown = page.evaluate("window.__shown")
    assert [i for i, _ in shown] == list(range(len(hops)))
    # The tally: every request answered, spread over the endpoints, counted on the Service box.
    tally = page.evaluate("""[...document.querySelectorAll('#nv-tally .nv-tally-ep')].map((e) => Number(e.dataset.n))""")
    assert sum(tally) == 6 and 1 <= len(tally) <= 3
    assert page.get_attribute("#nv-tally .nv-tally-verdict[data-verdict=delivered]", "data-n") == "6"
    assert page.locator("#nv-requests li[data-verdict=delivered]").count() == 6
    dns = page.evaluate("[...document.querySelectorAll('#nv-dns li')].map((l) => [l.dataset.qname, l.dataset.rcode])")
    assert ["web.default.svc.cluster.local", "NOERROR"] in dns
    assert ["web.default.default.svc.cluster.local", "NXDOMAIN"] in dns


def test_a_nodes_rules_mark_the_rules_the_packet_matched(page, clusters):
    _open(page, clusters, FLANNEL)
    _send(page, count=1)
    endpoint = page.evaluate("document.querySelector('#nv-requests li').dataset.endpoint")
    wait_js(page, "Number(document.getElementById('nv-rules').dataset.matched) > 0", 15, message="matched rules marked")
    client_node = page.evaluate("document.querySelector('#nv-nodes .nv-pod[data-pod=\"default/client\"]')"
                                ".closest('.nv-node').dataset.node")
    assert page.get_attribute("#nv-rules", "data-node") == client_node
    target = page.inner_text("#nv-rules .nv-line.target")
    assert f"-j DNAT --to-destination {endpoint}" in target and target.startswith("▶")
    matched = page.evaluate("[...document.querySelectorAll('#nv-rules .nv-line.matched')].map((l) => l.textContent)")
    assert any("-A KUBE-SERVICES" in m and "default/web cluster IP" in m for m in matched)
    assert any("-A KUBE-SVC-" in m for m in matched)
    # The same node's routes: the route the packet took is marked.
    page.select_option("#nv-rules-what", "routes")
    wait_js(page, "document.getElementById('nv-rules').dataset.what === 'routes'", 10, message="the routes")
    assert "dev cni0" in page.inner_text("#nv-rules")
    # Another node picked by keyboard: its rules load.
    other = page.evaluate(f"[...document.querySelectorAll('#nv-nodes .nv-node')].map((n) => n.dataset.node)"
                          f".find((n) => n !== '{client_node}')")
    page.focus(f'#nv-nodes .nv-node[data-node="{other}"]')
    page.keyboard.press("Enter")
    wait_js(page, f"document.getElementById('nv-rules').dataset.node === '{other}'", 10, message="the other node")


def test_a_network_policy_drop_is_marked_on_calico(page, clusters):
    status, body = clusters.request("POST", f"/clusters/{CALICO}/apis/networking.k8s.io/v1/namespaces/default/networkpolicies",
                                    DENY)
    assert status == 201, body
    _open(page, clusters, CALICO)
    wait_js(page, "document.querySelector('#nv-policies .nv-policy[data-policy=\"default/web-deny\"]')?.dataset.selected === '3'",
            20, message="the policy selecting web's three pods")
    assert "enforced by calico" in page.inner_text("#nv-policies h3")
    _send(page, count=3)
    assert page.get_attribute("#nv-hops", "data-verdict") == "dropped"
    last = page.locator("#nv-hops .nv-hop").last
    assert last.get_attribute("data-kind") == "policy"
    assert "NetworkPolicy default/web-deny" in last.inner_text() and "dropped" in last.inner_text()
    assert page.get_attribute("#nv-tally .nv-tally-verdict[data-verdict=dropped]", "data-n") == "3"
    policy = '#nv-policies .nv-policy[data-policy="default/web-deny"]'
    assert page.get_attribute(policy, "data-drops") == "3" and "dropped 3 packets" in page.inner_text(policy)
