"""kube-proxy: runs on every node.  It programs Service virtual IPs from Services and
EndpointSlices; this cluster does not serve Services yet (a later issue), so it only starts,
syncs its (empty) rules and reports, which is what a real kube-proxy does with no Services."""
from __future__ import annotations

from sim.client import ClientComponent
from sim.flowcontrol import KUBE_PROXY_BURST, KUBE_PROXY_QPS


class KubeProxy(ClientComponent):
    component = "kube-proxy"
    kube_api_qps, kube_api_burst = KUBE_PROXY_QPS, KUBE_PROXY_BURST  # clientConnection defaults

    def on_start(self) -> None:
        self.action(f"kube-proxy on {self.host} started (iptables mode, 0 services)")
