"""The kubelet: registers its Node, keeps it alive, and runs the pods bound to it.

Upstream defaults mirrored here (pkg/kubelet, KubeletConfiguration):
- node Lease in kube-node-lease renewed every 10 s (renewInterval = 25% of the 40 s lease);
- node status computed every nodeStatusUpdateFrequency (10 s) and posted when it changed, or
  every nodeStatusReportFrequency (5 min) regardless;
- a pod runs as: sandbox (pause) -> for each container: pull image, create, start; the status
  manager reports Pending/ContainerCreating, then Running with a pod IP and Ready;
- a pod with deletionTimestamp is stopped within its grace period, then the kubelet deletes it
  for good (grace 0, uid precondition), which is what lets the API server forget it.
"""
from __future__ import annotations

from typing import Any

from sim.api.defaults import TAINT_NOT_READY
from sim.api.podutil import condition, is_deleting
from sim.api.quantity import format_memory, value
from sim.client import ClientComponent
from sim.flowcontrol import KUBELET_BURST, KUBELET_QPS
from sim.api import status as st
from sim.kubelet import persistentvolumes
from sim.kubelet.certificate import TLSBootstrap
from sim.kubelet.evictionmanager import EvictionManager
from sim.kubelet.execsession import attach_to_container, exec_in_container
from sim.kubelet.portforward import port_forward
from sim.kubelet.logs import container_logs
from sim.kubelet.objectcache import ObjectCache
from sim.kubelet.prober import Prober
from sim.kubelet.resourcemetrics import resource_metrics
from sim.kubelet.pods import KUBELET_POD_CONDITIONS, PodLifecycle  # noqa: F401 (re-exported)
from sim.kubelet.nodeinfo import NodeIdentity
from sim.kubelet.staticpods import StaticPods

LEASE_DURATION = 40
LEASE_RENEW_INTERVAL = 10.0
NODE_STATUS_UPDATE_FREQUENCY = 10.0
NODE_STATUS_REPORT_FREQUENCY = 300.0
# The kubelet's heartbeat client (lease and node status) times out after
# min(nodeStatusUpdateFrequency, nodeLeaseDurationSeconds) = 10 s (cmd/kubelet/app/server.go),
# so a heartbeat lost to a dead connection is retried well before the node is marked Unknown.
HEARTBEAT_TIMEOUT = min(NODE_STATUS_UPDATE_FREQUENCY, LEASE_DURATION)
# The release every node reports (status.nodeInfo.kubeletVersion), as a kubeadm cluster at the
# API server's release (cluster/api/discovery.py KUBERNETES_VERSION, v1.36.4) has it.  Since 1.33
# (DisableNodeKubeProxyVersion on by default, KEP-4004) the kubelet leaves the deprecated
# nodeInfo.kubeProxyVersion empty: `kubectl describe node` shows a blank "Kube-Proxy Version:".
KUBELET_VERSION = "v1.36.4"
# status.nodeInfo.containerRuntimeVersion and kubeadm's cri-socket annotation, per runtime.
RUNTIME_VERSIONS = {"containerd": "containerd://1.7.24", "cri-o": "cri-o://1.33.2", "docker": "docker://28.0.1"}
CRI_SOCKETS = {"containerd": "unix:///var/run/containerd/containerd.sock", "cri-o": "unix:///var/run/crio/crio.sock",
               "docker": "unix:///var/run/cri-dockerd.sock"}
EVICTION_HARD_MEMORY = 100 * 1024 * 1024
RUNTIME_STATUS_PERIOD = 5.0   # kubelet.go: go wait.Until(kl.updateRuntimeUp, 5*time.Second, ...)  # memory.available<100Mi is held back from allocatable


class Kubelet(StaticPods, NodeIdentity, PodLifecycle, Prober, ClientComponent):
    component = "kubelet"
    # KubeletConfiguration kubeAPIQPS / kubeAPIBurst (50 / 100 since 1.27; sim/flowcontrol.py)
    kube_api_qps, kube_api_burst = KUBELET_QPS, KUBELET_BURST

    def __init__(self, host: str, apiserver: str, runtime: str, cpu: str, memory: str, pods: int = 110,
                 role: str = "worker", internal_ip: str = "192.168.0.10",
                 labels: dict | None = None, taints: list | None = None,
                 kube_api_qps: float | None = None, kube_api_burst: int | None = None,
                 runtime_kind: str = "containerd", kubelet_version: str | None = None):
        super().__init__(host, apiserver, kube_api_qps, kube_api_burst)
        # The heartbeat client (node lease, node status) is never throttled: kubelet sets its
        # QPS to -1 so that a busy kubelet still renews its lease (cmd/kubelet/app/server.go).
        self.heartbeat = self.api.client_for("heartbeat", qps=-1)
        self.runtime = runtime
        self.runtime_kind = runtime_kind
        # The node's runtime, whose log files this kubelet reads (the same machine's disk).
        self.node_runtime = None
        self.cpu, self.memory, self.max_pods = cpu, memory, pods
        # The node's podCIDR is the node IPAM controller's (spec.podCIDR), read from the Node.
        self.role, self.pod_cidr, self.internal_ip = role, None, internal_ip
        # --node-ip: the node's addresses, the primary (IPv4) first; a dual-stack node's has
        # its IPv6 address too (Cluster sets it).
        self.internal_ips = [internal_ip]
        self.extra_labels = labels or {}
        self.taints = taints or []
        self.kubelet_version = kubelet_version or KUBELET_VERSION
        self.manifests: dict[str, str] = {}  # staticPodPath, /etc/kubernetes/manifests (the node's disk)
        # Its credentials on the node's disk: /etc/kubernetes/kubelet.conf with a client
        # certificate (as `kubeadm init` writes it, and as a cluster that comes up installed has
        # it), or - left by `kubeadm join` - only /etc/kubernetes/bootstrap-kubelet.conf and its
        # bootstrap token, traded for a certificate by the TLS bootstrap (sim/kubelet/certificate.py).
        self.kubelet_conf = True
        self.bootstrap_kubeconfig: str | None = None   # the bootstrap token
        self.bootstrap_key = None                       # kubelet-client.key.tmp
        self.client_certificate: str | None = None      # kubelet-client-current.pem (PEM)
        self.on_kubelet_conf = None                     # called once the bootstrap wrote kubelet.conf

    # -- lifecycle ----------------------------------------------------------------------
    def on_start(self) -> None:
        self.started_at = self.now
        self.init_pods()
        self.init_probes()
        self.object_cache = ObjectCache(self)
        self.boot_id = None  # the kubelet starts once per boot (nodeinfo.py)
        self.housekeeping, self.mirror_deletes = False, set()
        self.cri_pending: dict[int, Any] = {}
        self.cri_next = 0
        self.registered = False
        self.node_informer = None
        self.last_report = -1e9
        self.reported_ready = None
        self.runtime_sandboxes: dict | None = None
        self.network_condition: dict | None = None   # the runtime's NetworkReady (CRI Status)
        self.update_runtime_up()
        self.eviction = EvictionManager(self)
        self.eviction.start()
        self.action(f"kubelet on {self.host} started")
        # CRI's GetContainerEvents stream: the runtime tells this kubelet of container exits.
        self.send(self.runtime, {"type": "cri.GetContainerEvents"}, "GetContainerEvents")
        self.cri("cri.ListPodSandbox", {}, self._runtime_listed)

    def on_stop(self) -> None:
        self.stop_probes()
        super().on_stop()

    def _runtime_listed(self, reply: dict) -> None:
        self.runtime_sandboxes = reply.get("sandboxes", {})
        self.sync_static_pods()  # static pods run before (and without) the API server
        if self.kubelet_conf:
            self.register_node()
        elif self.bootstrap_kubeconfig:
            TLSBootstrap(self, self.bootstrap_kubeconfig, self._bootstrapped).start()
        else:
            # LoadClientCert with neither file: the process exits; systemd tries again.
            self.action(f"kubelet on {self.host}: failed to run Kubelet: unable to load bootstrap kubeconfig: "
                        "stat /etc/kubernetes/bootstrap-kubelet.conf: no such file or directory")

    def _bootstrapped(self, certificate: str) -> None:
        """The TLS bootstrap's end: kubelet.conf points at the issued certificate; the Node
        registers."""
        self.client_certificate, self.kubelet_conf = certificate, True
        if self.on_kubelet_conf is not None:
            self.on_kubelet_conf()
        self.register_node()

    # -- node registration, lease, status ----------------------------------------------
    def node_object(self) -> dict:
        mem = value(self.memory)
        labels = {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
                  "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": self.host,
                  "kubernetes.io/os": "linux", **self.extra_labels}
        if self.role == "control-plane":
            labels["node-role.kubernetes.io/control-plane"] = ""
            labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
        capacity = {"cpu": str(self.cpu), "memory": format_memory(mem), "pods": str(self.max_pods),
                    "ephemeral-storage": "100Gi"}
        allocatable = dict(capacity, memory=format_memory(mem - EVICTION_HARD_MEMORY))
        return {"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": self.host, "labels": labels,
                             "annotations": {"node.alpha.kubernetes.io/ttl": "0",
                                             "kubeadm.alpha.kubernetes.io/cri-socket": CRI_SOCKETS.get(self.runtime_kind, CRI_SOCKETS["containerd"])}},
                # initialNode: registered with the not-ready NoSchedule taint, which the node
                # lifecycle controller removes once the node is Ready (TaintNodesByCondition).
                "spec": {"taints": list(self.taints) + [{"key": TAINT_NOT_READY, "effect": "NoSchedule"}]},
                "status": {"capacity": capacity, "allocatable": allocatable,
                           "conditions": self.conditions(),
                           "addresses": [{"type": "InternalIP", "address": ip} for ip in self.internal_ips]
                           + [{"type": "Hostname", "address": self.host}],
                           "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                           "nodeInfo": self.node_info(), "images": self.node_images()}}

    def conditions(self, previous: list | None = None) -> list[dict]:
        now = self.timestamp()
        prev = {c["type"]: c for c in previous or []}
        memory = ("MemoryPressure", "True", "KubeletHasInsufficientMemory", "kubelet has insufficient memory available") \
            if self.memory_pressure() else \
            ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available")
        wanted = [memory,
                  ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                  ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                  self._ready_condition()]
        out = []
        for ctype, status, reason, message in wanted:
            old = prev.get(ctype)
            transition = old["lastTransitionTime"] if old and old.get("status") == status else now
            out.append({"type": ctype, "status": status, "lastHeartbeatTime": now,
                        "lastTransitionTime": transition, "reason": reason, "message": message})
        return out

    def _ready_condition(self) -> tuple[str, str, str, str]:
        """pkg/kubelet/nodestatus ReadyCondition: not ready while the runtime reports an error
        (runtimeState.runtimeErrors / networkErrors)."""
        net = self.network_condition
        if net is not None and not net.get("status"):
            return ("Ready", "False", "KubeletNotReady",
                    f"container runtime network not ready: NetworkReady=false reason:{net.get('reason')} "
                    f"message:{net.get('message')}")
        return ("Ready", "True", "KubeletReady", "kubelet is posting ready status")

    def network_error(self) -> str | None:
        """The error syncPod gives a pod that needs the pod network while it is not ready."""
        ready = self._ready_condition()
        return f"network is not ready: {ready[3]}" if ready[1] == "False" else None

    def update_runtime_up(self) -> None:
        """kubelet.go updateRuntimeUp, every 5 s: the runtime's Status (RuntimeReady,
        NetworkReady) becomes the runtime state the Ready condition reports.  The CRI call goes
        over the node's local socket; it is read directly, undrawn.  A change posts the node
        status at once (fastStatusUpdateOnce / the status manager's immediate update)."""
        network = getattr(self.node_runtime, "network", None)
        cond = network.status() if network is not None else None
        if cond != self.network_condition:
            self.network_condition = cond
            self.update_node_status_now()
        self.call_later(RUNTIME_STATUS_PERIOD, self.update_runtime_up)

    def _own_node_changed(self, node: dict) -> None:
        """The node's spec.podCIDR, once the node IPAM controller set it: kubelet.go
        updatePodCIDR hands it to the runtime (CRI UpdateRuntimeConfig), a dual-stack node's
        podCIDRs joined by a comma."""
        spec = node.get("spec") or {}
        cidr = ",".join(spec.get("podCIDRs") or ([spec["podCIDR"]] if spec.get("podCIDR") else []))
        if cidr and cidr != self.pod_cidr:
            self.pod_cidr = cidr
            self.cri("cri.UpdateRuntimeConfig", {"pod_cidr": cidr}, lambda r: None)

    def register_node(self) -> None:
        def created(resp: dict) -> None:
            if resp["code"] in (201, 409):
                if resp["code"] == 201:
                    self.action(f"kubelet registered node {self.host}")
                    self.api.event(resp["body"], "Starting", "Starting kubelet.", "kubelet", self.host)
                    persistentvolumes.register_csi_node(self, resp["body"])
                self.registered = True
                self.node_informer = self.informer("nodes", field_selector=f"metadata.name={self.host}",
                                                   on_add=self._own_node_changed,
                                                   on_update=lambda o, n: self._own_node_changed(n))
                self.node_informer.start()
                self.pod_informer = self.informer("pods", field_selector=f"spec.nodeName={self.host}",
                                                  on_add=self.sync_pod, on_update=lambda o, n: self.sync_pod(n),
                                                  on_delete=self.pod_removed, on_synced=self._pods_synced)
                self.pod_informer.start()
                self.renew_lease()
                self.call_later(1.0, self.update_node_status)
            else:
                self.call_later(7.0, self.register_node)  # registration retries, as upstream

        self.api.create("nodes", self.node_object(), created)

    def renew_lease(self) -> None:
        lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                 "metadata": {"name": self.host, "namespace": "kube-node-lease"},
                 "spec": {"holderIdentity": self.host, "leaseDurationSeconds": LEASE_DURATION,
                          "renewTime": self.micro_timestamp()}}

        def done(resp: dict) -> None:
            if resp["code"] == 404:
                self.heartbeat.create("leases", lease, group="coordination.k8s.io")

        self.heartbeat.patch("leases", "kube-node-lease", self.host, {"spec": lease["spec"]}, done,
                       group="coordination.k8s.io", timeout=HEARTBEAT_TIMEOUT)
        self.call_later(LEASE_RENEW_INTERVAL, self.renew_lease)

    def update_node_status(self) -> None:
        """kubelet_node_status.go tryUpdateNodeStatus: read the Node, and patch its status when
        it changed or every 5 minutes."""
        if self.registered:
            self._read_node()
        self.call_later(NODE_STATUS_UPDATE_FREQUENCY, self.update_node_status)

    def _read_node(self) -> None:
        """The Node as tryUpdateNodeStatus's first try reads it: from the kubelet's own node
        informer ("In large clusters, GET and PUT operations on Node objects coming from here
        are the majority of load on apiserver and etcd ... we are serving GET operations from
        local lister"), which may lag a little behind; until that informer has listed, a GET
        from the apiserver's cache (resourceVersion=0)."""
        informer = self.node_informer
        node = informer.get(None, self.host) if informer is not None and informer.synced else None
        if node is not None:
            return self._node_got({"code": 200, "body": node})
        self.heartbeat.request({"verb": "get", "resource": "nodes", "name": self.host,
                                "query": {"resourceVersion": "0"}}, self._node_got, timeout=HEARTBEAT_TIMEOUT)

    def _node_got(self, resp: dict) -> None:
        if resp["code"] != 200:
            return
        node = resp["body"]
        ready = condition(node, "Ready")
        want = self._ready_condition()[1]
        changed = ready is None or ready.get("status") != want
        pressure = (condition(node, "MemoryPressure") or {}).get("status") != ("True" if self.memory_pressure() else "False")
        # nodeInfo (a new bootID after a reboot) and images are posted when they changed.
        facts = {k: make() for k, current, make in (("nodeInfo", self.current_node_info(), self.node_info),
                                                    ("images", self.current_node_images(), self.node_images))
                 if node["status"].get(k) != current}
        # The tick 30 update periods after the last report is the one due to report again: the
        # clock's sum of thirty 10 s steps may fall a hair short of 300 s.
        if changed or pressure or facts or self.now - self.last_report >= NODE_STATUS_REPORT_FREQUENCY - 1e-6:
            self.last_report = self.now
            conds = self.conditions(node["status"].get("conditions"))
            self.heartbeat.patch("nodes", None, self.host, {"status": {"conditions": conds, **facts}},
                                 subresource="status", patch_type="application/strategic-merge-patch+json",
                                 timeout=HEARTBEAT_TIMEOUT)
            if changed:
                what = "NodeReady" if want == "True" else "NodeNotReady"
                self.api.event(node, what, f"Node {self.host} status is now: {what}", "kubelet", self.host)

    def memory_pressure(self) -> bool:
        eviction = getattr(self, "eviction", None)
        return eviction is not None and eviction.under_memory_pressure()

    def update_node_status_now(self) -> None:
        """A node condition changed (the eviction manager's): post it without waiting for the
        next nodeStatusUpdateFrequency tick, as the kubelet's fast status update does."""
        if self.registered:
            self._read_node()

    # -- CRI --------------------------------------------------------------------------
    def cri(self, op: str, body: dict, callback) -> None:
        self.cri_next += 1
        self.cri_pending[self.cri_next] = callback
        self.send(self.runtime, {"type": op, "id": self.cri_next, **body}, op[4:])

    def on_message(self, src: str, msg: dict) -> None:
        if msg.get("type") == "cri.reply":
            cb = self.cri_pending.pop(msg["id"], None)
            if cb is not None:
                cb(msg)
        elif msg.get("type") == "cri.ContainerEvent":
            self.container_event(msg)
        elif msg.get("type") in ("kubelet.exec", "kubelet.attach"):
            serve = exec_in_container if msg["type"] == "kubelet.exec" else attach_to_container
            serve(self, msg, lambda reply: self.send(
                src, {"type": "kubelet.reply", "id": msg.get("id"), **reply}, f"{msg['type'][8:]} reply"))
        elif msg.get("type") == "kubelet.portForward":
            port_forward(self, msg, lambda reply: self.send(
                src, {"type": "kubelet.reply", "id": msg.get("id"), **reply}, "portForward reply"))
        elif msg.get("type") == "kubelet.resourceMetrics":
            self.send(src, {"type": "kubelet.reply", "id": msg.get("id"), **resource_metrics(self)},
                      "metrics/resource reply")
        elif msg.get("type") == "kubelet.containerLogs":
            reply = container_logs(self, self.node_runtime, msg) if self.node_runtime is not None else \
                {"code": 503, "body": st.unavailable("the container runtime is not ready")}
            self.send(src, {"type": "kubelet.reply", "id": msg.get("id"), **reply}, "containerLogs reply")


    # -- helpers the pod workers use ----------------------------------------------------
    @staticmethod
    def _ref(pod: dict, field_path: str) -> dict:
        ref = {"kind": "Pod", "apiVersion": "v1", "metadata": dict(pod["metadata"])}
        ref["metadata"]["fieldPath"] = field_path
        return ref
