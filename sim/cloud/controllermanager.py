"""cloud-controller-manager (k8s.io/cloud-provider, cmd/cloud-controller-manager): the control-plane
component through which a cluster with an external cloud provider (kubelets started with
--cloud-provider=external) talks to its cloud.

A kubeadm cluster runs it as a DaemonSet (or Deployment) in kube-system on the control-plane
nodes, with leader election on the Lease kube-system/cloud-controller-manager; here it is a
process on every control-plane node, like the csi-controller and metrics-server addons (no pod
object), and only the Lease holder acts.  Of upstream's controllers (cloud-node,
cloud-node-lifecycle, service, route) it runs the service controller
(sim/cloud/servicecontroller.py): the kubelets set their nodes' addresses themselves and the
CNI plugin routes pod CIDRs, so the node controllers and the route controller have nothing to do
here (and the node.cloudprovider.kubernetes.io/uninitialized taint is not used).

Its calls to the cloud (sim/cloud/provider.py) are messages to `cloud-api@cloud` answered when
the operation is done; an unanswered one fails after CLOUD_CALL_TIMEOUT, as a provider's API
call gives up.
"""
from __future__ import annotations

from typing import Callable

from sim.controllers.manager import InformerFactory, SharedInformer
from sim.flowcontrol import CONTROLLER_MANAGER_BURST, CONTROLLER_MANAGER_QPS
from sim.leaderelection import LeaderElectedComponent

CLUSTER_NAME = "kubernetes"     # --cluster-name default
CLOUD_CALL_TIMEOUT = 60.0


class CloudControllerManager(InformerFactory, LeaderElectedComponent):
    component = "cloud-controller-manager"
    lease_name = "cloud-controller-manager"
    # The generic controller manager options' --kube-api-qps 20 / --kube-api-burst 30.
    kube_api_qps, kube_api_burst = CONTROLLER_MANAGER_QPS, CONTROLLER_MANAGER_BURST

    def __init__(self, host: str, apiserver, cloud: str, cluster_name: str = CLUSTER_NAME):
        super().__init__(host, apiserver)
        self.cloud_address, self.cluster_name = cloud, cluster_name

    def on_start(self) -> None:
        self.cloud_pending: dict[int, tuple[Callable, int]] = {}
        self.cloud_next = 0
        super().on_start()

    def start_leading(self) -> None:
        from sim.cloud.servicecontroller import ServiceController
        self.informers: dict[tuple, SharedInformer] = {}
        self.informers_started = False
        self.controllers = [ServiceController(self)]
        for c in self.controllers:
            c.start()
        self.start_informers(("nodes", "services"))

    # -- the cloud's API -----------------------------------------------------------------------
    def cloud_call(self, method: str, service: dict, nodes: list[dict], callback: Callable[[dict], None]) -> None:
        """Call the cloud; callback({"result": ...} or {"error": message})."""
        self.cloud_next += 1
        cid = self.cloud_next
        timer = self.call_later(CLOUD_CALL_TIMEOUT, lambda: self._cloud_answer(
            cid, {"error": f"{method}: the cloud API did not answer within {CLOUD_CALL_TIMEOUT:g}s"}))
        self.cloud_pending[cid] = (callback, timer)
        self.send(self.cloud_address, {"type": "cloud.call", "id": cid, "method": method, "cluster": self.cluster_name,
                                       "service": service, "nodes": nodes}, method)

    def on_message(self, src: str, msg: dict) -> None:
        if msg.get("type") == "cloud.reply":
            self._cloud_answer(msg.get("id"), msg)

    def _cloud_answer(self, cid, msg: dict) -> None:
        entry = self.cloud_pending.pop(cid, None)
        if entry is None:
            return
        callback, timer = entry
        self.cancel_timer(timer)
        callback(msg)
