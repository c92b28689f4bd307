"""static/js/network.js on its own, in the browser: how it names a hop from the datapath's
words, which lines of iptables-save a packet's path marks, how many requests a rate makes due,
the tally, and that whatever a frame names is written as text, never as markup."""
from __future__ import annotations

import pytest

from tests.browser.conftest import open_dashboard, wait_js

pytestmark = pytest.mark.services

IMPORT = "const m = await import('/static/js/network.js');"


def _eval(page, server, body: str):
    page.goto(server.base + "/static/js/network.js")  # same origin, no page scripts
    return page.evaluate(f"async () => {{ {IMPORT} {body} }}")


def test_hops_are_named_from_the_datapaths_words(page, browser_server):
    got = _eval(page, browser_server, """return [
      "pod default/client (10.244.2.3) opens TCP to 10.96.4.2:80 from its network namespace",
      "kube-proxy DNATs 10.96.4.2:80 to endpoint 10.244.1.3:80",
      "kube-proxy REJECTs it: the Service has no endpoints",
      "calico NetworkPolicy drops it (ingress): no policy allows it",
      "MASQUERADE (nat POSTROUTING): source 198.51.100.10 becomes 10.244.1.0",
      "flannel.1 VXLAN-encapsulates it (VNI 1): outer 192.168.0.12 -> 192.168.0.11 UDP dport 8472",
      "worker-1's flannel.1 decapsulates it; cni0 delivers it to 10.244.1.3's veth",
      "container nginx of pod default/web-1 accepts 10.244.1.3:80",
      "reply from 10.244.1.3:80 reaches 10.244.2.3 as 10.96.4.2:80 (conntrack reverses the DNAT)",
      "node worker-2 is cut off from it (network partition): the packet is lost",
      "nothing listens on 10.244.1.3:8080: connection refused (RST)",
    ].map((what) => m.hopKind({what})).concat([m.hopKind({what: "x", dns: true})]);""")
    assert got == ["open", "dnat", "reject", "policy", "snat", "encap", "decap", "deliver", "reply", "drop", "fail", "dns"]


def test_the_path_marks_its_lines_within_their_table(page, browser_server):
    got = _eval(page, browser_server, """
      const text = ['*filter', '-A KUBE-SERVICES -j X', 'COMMIT', '*nat', '-A KUBE-SERVICES -j X',
                    '-A KUBE-SEP-A -j DNAT --to-destination 10.244.1.3:80', 'COMMIT'].join('\\n');
      const r = m.matchedLines(text, ['nat -A KUBE-SERVICES -j X'], 'nat -A KUBE-SEP-A -j DNAT --to-destination 10.244.1.3:80');
      const routes = m.matchedLines('default via 1.1.1.1\\n10.244.1.0/24 dev cni0', ['10.244.1.0/24 dev cni0'], '10.244.1.0/24 dev cni0');
      return [[...r.matched].sort(), r.target, [...routes.matched], routes.target];""")
    assert got == [[4, 5], 5, [1], 1]   # the nat table's KUBE-SERVICES line, not the filter's


def test_a_rate_makes_requests_due_in_virtual_time_and_the_tally_counts_them(page, browser_server):
    got = _eval(page, browser_server, """
      const due = [m.dueCount(2, 10, 0), m.dueCount(2, 10, 0.49), m.dueCount(2, 10, 0.5), m.dueCount(2, 10, 100),
                   m.dueCount(0, 10, 0)];
      const t = m.newTally();
      m.addToTally(t, {requests: [{verdict: 'delivered', endpoint: '10.0.0.1:80', pod: {name: 'a'}},
                                  {verdict: 'delivered', endpoint: '10.0.0.1:80'}, {verdict: 'dropped'}]});
      return [due, t.sent, t.verdicts, t.endpoints['10.0.0.1:80'].n];""")
    assert got == [[1, 1, 2, 10, 10], 3, {"delivered": 2, "dropped": 1}, 2]


def test_names_in_a_frame_are_written_as_text(page, browser_server):
    open_dashboard(page, browser_server)
    evil = "<img src=x onerror=window.__pwned=1>"
    page.evaluate("""(evil) => {
      const nv = window.pilothouse.networkView;
      nv.render({cni: {plugin: evil, overlay: evil}, totals: {services: 1, policies: 1},
        nodes: [{name: evil, internalIP: evil, podCIDR: evil, networkReady: true, device: {name: evil, address: evil},
                 pods: [{namespace: evil, name: evil, ip: evil, ready: true}], podTotal: 1}],
        services: [{namespace: evil, name: evil, type: evil, clusterIP: evil, selector: evil,
                    ports: [{name: evil, port: evil, targetPort: evil, protocol: evil, nodePort: evil}], loadBalancer: [evil],
                    endpoints: [{ip: evil, pod: evil, node: evil, state: evil}], endpointTotal: 1}],
        policies: [{namespace: evil, name: evil, policyTypes: [evil], podSelector: evil, selects: [evil], selectedTotal: 1,
                    ingressRules: 0, egressRules: 0}]});
      nv.render = () => {};  // the cluster's next frames must not draw over it
    }""", evil)
    wait_js(page, "document.querySelectorAll('#nv-services .nv-svc').length === 1", 5, message="the frame drawn")
    assert page.evaluate("document.querySelectorAll('#network-panel img').length") == 0
    assert page.evaluate("window.__pwned") is None
    assert evil in page.inner_text("#nv-services") and evil in page.inner_text("#nv-policies")
