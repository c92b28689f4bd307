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

import ipaddress
from typing import Any

from sim.api.podutil import condition, is_deleting
from sim.api.quantity import format_memory, value
from sim.client import ClientComponent
from sim.flowcontrol import KUBELET_BURST, KUBELET_QPS
from sim.kubelet.runtime import image_size

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
# The pod conditions the kubelet owns and writes whole (kubetypes.PodConditionsByKubelet, with
# PodReadyToStartContainers as 1.29+ enables it); it keeps every other one it finds.
KUBELET_POD_CONDITIONS = frozenset({"PodScheduled", "Ready", "Initialized", "ContainersReady",
                                    "PodReadyToStartContainers"})
EVICTION_HARD_MEMORY = 100 * 1024 * 1024  # memory.available<100Mi is held back from allocatable


class Kubelet(ClientComponent):
    component = "kubelet"
    # KubeletConfiguration kubeAPIQPS / kubeAPIBurst (50 / 100 since 1.27; sim/flowcontrol.py)
    kube_api_qps, kube_api_burst = KUBELET_QPS, KUBELET_BURST

    def __init__(self, host: str, apiserver: str, runtime: str, cpu: str, memory: str, pods: int = 110,
                 role: str = "worker", pod_cidr: str = "10.244.0.0/24", internal_ip: str = "192.168.0.10",
                 labels: dict | None = None, taints: list | None = None,
                 kube_api_qps: float | None = None, kube_api_burst: int | None = None):
        super().__init__(host, apiserver, kube_api_qps, kube_api_burst)
        # The heartbeat client (node lease, node status) is never throttled: kubelet sets its
        # QPS to -1 so that a busy kubelet still renews its lease (cmd/kubelet/app/server.go).
        self.heartbeat = self.api.client_for("heartbeat", qps=-1)
        self.runtime = runtime
        self.cpu, self.memory, self.max_pods = cpu, memory, pods
        self.role, self.pod_cidr, self.internal_ip = role, pod_cidr, internal_ip
        self.extra_labels = labels or {}
        self.taints = taints or []

    # -- lifecycle ----------------------------------------------------------------------
    def on_start(self) -> None:
        self.workers: dict[str, dict] = {}       # pod uid -> worker state
        self.cri_pending: dict[int, Any] = {}
        self.cri_next = 0
        self.registered = False
        self.last_report = -1e9
        self.reported_ready = None
        self.runtime_sandboxes: dict | None = None
        self.action(f"kubelet on {self.host} started")
        self.cri("cri.ListPodSandbox", {}, self._runtime_listed)

    def _runtime_listed(self, reply: dict) -> None:
        self.runtime_sandboxes = reply.get("sandboxes", {})
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
                                             "kubeadm.alpha.kubernetes.io/cri-socket": "unix:///var/run/containerd/containerd.sock"}},
                "spec": {"podCIDR": self.pod_cidr, "podCIDRs": [self.pod_cidr],
                         **({"taints": list(self.taints)} if self.taints else {})},
                "status": {"capacity": capacity, "allocatable": allocatable,
                           "conditions": self.conditions(),
                           "addresses": [{"type": "InternalIP", "address": self.internal_ip},
                                         {"type": "Hostname", "address": self.host}],
                           "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                           "nodeInfo": {"architecture": "amd64", "bootID": "", "containerRuntimeVersion": "containerd://1.7.24",
                                        "kernelVersion": "6.1.0-28-amd64", "kubeProxyVersion": "",
                                        "kubeletVersion": KUBELET_VERSION, "machineID": "", "operatingSystem": "linux",
                                        "osImage": "Debian GNU/Linux 12 (bookworm)", "systemUUID": ""}}}

    def conditions(self, previous: list | None = None) -> list[dict]:
        now = self.timestamp()
        prev = {c["type"]: c for c in previous or []}
        wanted = [("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                  ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                  ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                  ("Ready", "True", "KubeletReady", "kubelet is posting ready status")]
        out = []
        for ctype, status, reason, message in wanted:
            old = prev.get(ctype)
            transition = old["lastTransitionTime"] if old and old.get("status") == status else now
            out.append({"type": ctype, "status": status, "lastHeartbeatTime": now,
                        "lastTransitionTime": transition, "reason": reason, "message": message})
        return out

    def register_node(self) -> None:
        def created(resp: dict) -> None:
            if resp["code"] in (201, 409):
                if resp["code"] == 201:
                    self.action(f"kubelet registered node {self.host}")
                    self.api.event(resp["body"], "Starting", "Starting kubelet.", "kubelet", self.host)
                self.registered = True
                self.node_informer = self.informer("nodes", field_selector=f"metadata.name={self.host}",
                                                   on_add=lambda n: None, on_update=lambda o, n: None)
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
        """kubelet_node_status.go tryUpdateNodeStatus: GET the Node (resourceVersion=0, from
        the apiserver's cache, not the kubelet's own informer, which may be stale after a
        partition), and patch its status when it changed or every 5 minutes."""
        if self.registered:
            self.heartbeat.request({"verb": "get", "resource": "nodes", "name": self.host,
                                    "query": {"resourceVersion": "0"}}, self._node_got, timeout=HEARTBEAT_TIMEOUT)
        self.call_later(NODE_STATUS_UPDATE_FREQUENCY, self.update_node_status)

    def _node_got(self, resp: dict) -> None:
        if resp["code"] != 200:
            return
        node = resp["body"]
        ready = condition(node, "Ready")
        changed = ready is None or ready.get("status") != "True"
        if changed or self.now - self.last_report >= NODE_STATUS_REPORT_FREQUENCY:
            self.last_report = self.now
            conds = self.conditions(node["status"].get("conditions"))
            self.heartbeat.patch("nodes", None, self.host, {"status": {"conditions": conds}},
                                 subresource="status", patch_type="application/strategic-merge-patch+json",
                                 timeout=HEARTBEAT_TIMEOUT)
            if changed:
                self.api.event(node, "NodeReady", f"Node {self.host} status is now: NodeReady", "kubelet", self.host)

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

    # -- pods -------------------------------------------------------------------------
    def _pods_synced(self) -> None:
        # Sandboxes the runtime runs for pods no longer bound here are stopped (orphans).
        known = {p["metadata"]["uid"] for p in self.pod_informer.list()}
        for uid in list(self.runtime_sandboxes or {}):
            if uid not in known:
                self.cri("cri.StopPodSandbox", {"pod_uid": uid}, lambda r: None)

    def _allocate_ip(self) -> str:
        net = ipaddress.ip_network(self.pod_cidr)
        used = {w.get("ip") for w in self.workers.values()}
        for i, addr in enumerate(net.hosts()):
            if i == 0:
                continue  # .1 is the bridge
            if str(addr) not in used:
                return str(addr)
        return str(net.network_address)

    def sync_pod(self, pod: dict) -> None:
        uid = pod["metadata"]["uid"]
        w = self.workers.get(uid)
        if is_deleting(pod):
            if w is None:
                w = self.workers[uid] = {"uid": uid, "pod": pod, "state": "new", "ip": None, "containers": {}}
            w["pod"] = pod
            if w["state"] not in ("terminating", "terminated"):
                self.terminate(w)
            return
        if w is not None:
            w["pod"] = pod
            return
        if pod["status"].get("phase") in ("Succeeded", "Failed"):
            return
        w = self.workers[uid] = {"uid": uid, "pod": pod, "state": "new", "ip": None, "containers": {},
                                 "restarts": 0}
        sandbox = (self.runtime_sandboxes or {}).get(uid)
        if sandbox is not None and pod["status"].get("phase") == "Running":
            # The runtime still runs this pod (Pilothouse itself restarted): adopt it.
            w["ip"] = sandbox["ip"]
            w["state"] = "running"
            w["containers"] = {c: "running" for c in sandbox["containers"]}
            return
        if pod["status"].get("phase") == "Running":
            # The node rebooted: its containers are gone; start the pod again.
            w["restarts"] = 1 + max([cs.get("restartCount", 0) for cs in pod["status"].get("containerStatuses") or []] or [0])
            self.api.event(pod, "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.", "kubelet", self.host)
        self.start_pod(w)

    def start_pod(self, w: dict) -> None:
        pod = w["pod"]
        w["state"] = "creating"
        w["ip"] = self._allocate_ip()
        self.action(f"kubelet on {self.host} starting pod {pod['metadata']['namespace']}/{pod['metadata']['name']}")
        self.post_status(w)
        self.cri("cri.RunPodSandbox", {"pod_uid": w["uid"], "ip": w["ip"]}, lambda r: self._sandbox_ready(w))

    def _sandbox_ready(self, w: dict) -> None:
        if w["state"] != "creating":
            return
        w["sandbox_ready"] = True
        self._next_container(w, 0)

    def _next_container(self, w: dict, i: int) -> None:
        if w["state"] != "creating":
            return
        pod = w["pod"]
        containers = pod["spec"]["containers"]
        if i >= len(containers):
            w["state"] = "running"
            w["started_at"] = self.timestamp()
            self.post_status(w)
            self.action(f"kubelet on {self.host}: pod {pod['metadata']['namespace']}/{pod['metadata']['name']} is Running")
            return
        c = containers[i]
        image = c["image"]
        always = c.get("imagePullPolicy") == "Always"
        ref = self._ref(pod, f"spec.containers{{{c['name']}}}")

        # The image manager (pkg/kubelet/images): ask the runtime for the image, pull it when
        # missing or when the policy is Always.
        def image_status(r: dict) -> None:
            if w["state"] != "creating":
                return
            if r.get("present") and not always:
                self.api.event(ref, "Pulled", f'Container image "{image}" already present on machine',
                               "kubelet", self.host)
                return create()
            self.api.event(ref, "Pulling", f'Pulling image "{image}"', "kubelet", self.host)
            self.cri("cri.PullImage", {"image": image}, pulled)

        def pulled(r: dict) -> None:
            if w["state"] != "creating":
                return
            d = r.get("duration", 0.0)
            self.api.event(ref, "Pulled", f'Successfully pulled image "{image}" in {d}s ({d}s including waiting). '
                           f'Image size: {r.get("size", image_size(image))} bytes.', "kubelet", self.host)
            create()

        def create() -> None:
            self.cri("cri.CreateContainer", {"pod_uid": w["uid"], "name": c["name"], "image": image}, created)

        def created(r: dict) -> None:
            if w["state"] != "creating" or r.get("error"):
                return
            w["containers"][c["name"]] = "created"
            self.api.event(ref, "Created", f"Created container: {c['name']}", "kubelet", self.host)
            self.cri("cri.StartContainer", {"pod_uid": w["uid"], "name": c["name"]}, started)

        def started(r: dict) -> None:
            if w["state"] != "creating":
                return
            w["containers"][c["name"]] = "running"
            self.api.event(ref, "Started", f"Started container {c['name']}", "kubelet", self.host)
            self._next_container(w, i + 1)

        self.cri("cri.ImageStatus", {"image": image}, image_status)

    @staticmethod
    def _ref(pod: dict, field_path: str) -> dict:
        ref = {"kind": "Pod", "apiVersion": "v1", "metadata": dict(pod["metadata"])}
        ref["metadata"]["fieldPath"] = field_path
        return ref

    def terminate(self, w: dict) -> None:
        pod = w["pod"]
        prev = w["state"]
        w["state"] = "terminating"
        grace = pod["metadata"].get("deletionGracePeriodSeconds", 30)
        running = [name for name, s in w["containers"].items() if s in ("running", "created")]
        self.action(f"kubelet on {self.host} stopping pod {pod['metadata']['namespace']}/{pod['metadata']['name']}")
        remaining = [len(running)]

        def all_stopped() -> None:
            self.cri("cri.StopPodSandbox", {"pod_uid": w["uid"]}, lambda r: self._terminated(w, prev))

        if not running:
            return all_stopped()
        for name in running:
            self.api.event(self._ref(pod, f"spec.containers{{{name}}}"), "Killing", f"Stopping container {name}",
                           "kubelet", self.host)

            def stopped(r: dict, name=name) -> None:
                w["containers"][name] = ("terminated", r.get("exit_code", 0))
                remaining[0] -= 1
                if remaining[0] == 0:
                    all_stopped()

            self.cri("cri.StopContainer", {"pod_uid": w["uid"], "name": name, "timeout": grace}, stopped)

    def _terminated(self, w: dict, prev_state: str) -> None:
        w["state"] = "terminated"
        pod = w["pod"]
        if prev_state in ("running", "creating"):
            self.post_status(w)
        md = pod["metadata"]

        def deleted(resp: dict) -> None:
            if resp["code"] < 400 or resp["code"] == 404:
                self.workers.pop(w["uid"], None)

        self.api.delete("pods", md["namespace"], md["name"], deleted, grace=0, precondition_uid=md["uid"])

    def pod_removed(self, pod: dict) -> None:
        """The pod object is gone from the API (deleted for good): stop whatever still runs."""
        w = self.workers.pop(pod["metadata"]["uid"], None)
        if w is not None and w["state"] in ("creating", "running"):
            w["state"] = "terminated"
            for name in list(w["containers"]):
                self.cri("cri.StopContainer", {"pod_uid": w["uid"], "name": name, "timeout": 0}, lambda r: None)
            self.cri("cri.StopPodSandbox", {"pod_uid": w["uid"]}, lambda r: None)

    # -- status manager ---------------------------------------------------------------
    def post_status(self, w: dict) -> None:
        pod = w["pod"]
        now = self.timestamp()
        state = w["state"]
        prev_conditions = {c["type"]: c for c in pod["status"].get("conditions") or []}
        generation = pod["metadata"].get("generation")  # KEP-5067: the generation acted on

        def cond(ctype: str, status: str, reason: str | None = None) -> dict:
            old = prev_conditions.get(ctype)
            # reason and message are always named, None deleting what an earlier writer left
            # (the strategic merge patch below merges a condition's fields).
            out = {"type": ctype, "status": status, "lastProbeTime": None,
                   "lastTransitionTime": old["lastTransitionTime"] if old and old.get("status") == status else now,
                   "reason": reason, "message": None}
            if generation:
                out["observedGeneration"] = generation
            return out

        statuses = []
        for c in pod["spec"]["containers"]:
            s = w["containers"].get(c["name"])
            cs = {"name": c["name"], "image": c["image"], "imageID": "", "restartCount": w.get("restarts", 0),
                  "started": False, "ready": False}
            # One of the three states; the other two named None so that the merge deletes them.
            none = {"waiting": None, "running": None, "terminated": None}
            if state == "running" and s == "running":
                cs.update(ready=True, started=True, state={**none, "running": {"startedAt": w.get("started_at", now)}},
                          containerID=f"containerd://{w['uid'].replace('-', '')[:12]}{c['name']}",
                          imageID=f"docker.io/library/{c['image']}@sha256:{image_size(c['image']):064x}"[:120])
            elif isinstance(s, tuple):
                code = s[1]
                cs["state"] = {**none, "terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error",
                                                     "startedAt": w.get("started_at", now), "finishedAt": now}}
            else:
                cs["state"] = {**none, "waiting": {"reason": "ContainerCreating"}}
            statuses.append(cs)
        ready = state == "running"
        sandbox = state in ("running",) or (state == "creating" and w.get("sandbox_ready"))
        phase = pod["status"].get("phase", "Pending")
        if state == "running":
            phase = "Running"
        elif state == "terminated" and phase == "Running":
            # Since 1.27 the kubelet moves a deleted pod to a terminal phase before removal.
            phase = "Succeeded" if all(isinstance(v, tuple) and v[1] == 0 for v in w["containers"].values()) else "Failed"
        conditions = [cond("PodReadyToStartContainers", "True" if sandbox else "False"),
                      cond("Initialized", "True"),
                      cond("Ready", "True" if ready else "False", None if ready else "ContainersNotReady"),
                      cond("ContainersReady", "True" if ready else "False", None if ready else "ContainersNotReady"),
                      cond("PodScheduled", "True")]
        # Conditions the kubelet does not own (DisruptionTarget from a preemption or an
        # eviction, readiness gates) are copied over, as generateAPIPodStatus does
        # (pkg/kubelet/kubelet_pods.go, kubetypes.PodConditionByKubelet).
        conditions += [c for t, c in prev_conditions.items() if t not in KUBELET_POD_CONDITIONS]
        status = {"phase": phase, "conditions": conditions, "hostIP": self.internal_ip,
                  "hostIPs": [{"ip": self.internal_ip}], "containerStatuses": statuses,
                  "startTime": pod["status"].get("startTime") or now}
        if generation:
            status["observedGeneration"] = generation
        if w.get("ip") and state != "terminated":
            status["podIP"] = w["ip"]
            status["podIPs"] = [{"ip": w["ip"]}]
        md = pod["metadata"]
        # A strategic merge patch, as statusutil.PatchPodStatus sends: conditions merge by type,
        # so one set meanwhile by someone else (not yet in this kubelet's copy) is kept.
        status["$setElementOrder/conditions"] = [{"type": c["type"]} for c in conditions]
        self.api.patch("pods", md["namespace"], md["name"], {"status": status}, subresource="status",
                       patch_type="application/strategic-merge-patch+json")
