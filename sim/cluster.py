"""`Cluster`: one whole simulated Kubernetes cluster, the engine's single facade.

The Django side (cluster/) only ever talks to this class.  INTERFACE (stable; the body is being
written):

    cfg = ClusterConfig(seed=1, nodes=[NodeSpec("cp-1", "control-plane", "4", "8Gi"),
                                       NodeSpec("worker-1", "worker", "4", "8Gi"), ...],
                        node_monitor_grace_period=50.0, default_toleration_seconds=300.0)
    c = Cluster("demo", cfg)                  # bootstraps etcd, apiserver, nodes ... at t=0
    c = Cluster.restore("demo", saved_topology, etcd_log, time)   # after a process restart
    c.now                                     # virtual seconds (float)
    c.run_until(t) / c.advance(seconds)       # run the kernel
    c.run_until(t, max_events=N) -> bool      # a bounded slice: False while t is not reached
    resp = c.request(req)                     # one Kubernetes API request, runs until answered
    p = c.begin_request(req)                  # ... or in slices: send it (or answer at once),
    c.run_request(p, max_events=N)            #   run at most N events: the response or None,
    c.request_reply(p)                        #   poll without running: the response or None
    c.kill_node(name); c.restore_node(name)   # ClusterError(message, code=404) on an unknown node
    c.add_node(name, cpu="4", memory="8Gi")   # ClusterError (400 invalid, 409 duplicate)
    c.configure(node_monitor_grace_period=40) # per-cluster timings, see Cluster.TIMINGS
    c.api_time                                # the clock on the API timestamps' scale
    c.snapshot() -> dict                      # state for the dashboard (format below)
    c.drain_events() -> list[dict]            # trace events since the last drain (format below)
    c.committed_since(rev) -> list[dict]      # etcd log after `rev`: {"revision","key","value"}
    c.topology() -> dict                      # JSON: config + nodes + alive flags (persist it)
    c.compacted_revision -> int
    c.scheduler_queue() -> dict               # kube-scheduler's queue (active/backoff/unschedulable)
    c.scheduling_explanation(ns, name)        # a pod's latest scheduling attempt (dict) or None

ApiRequest (dict):
    {"verb": "get"|"list"|"create"|"update"|"patch"|"delete"|"deletecollection"|"watch",
     "group": "" | "apps" | "coordination.k8s.io" | ..., "version": "v1",
     "resource": "pods", "namespace": "default" | None, "name": "web" | None,
     "subresource": None | "status" | "binding",
     "body": dict | None,                      # create/update/patch(the patch document)
     "patch_type": "application/merge-patch+json" | "application/strategic-merge-patch+json" |
                   "application/json-patch+json" | None,
     "query": {"labelSelector": str, "fieldSelector": str, "resourceVersion": str,
               "gracePeriodSeconds": str, "limit": str, ...},
     "as": {"apiVersion": "meta.k8s.io/v1", "includeObject": "Metadata"} | None}
                                               # a get/list answered as a Table (sim/registry/tables.py)
ApiResponse (dict): {"code": int, "body": dict}; body is the object, a List
    ({"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": ...}, "items": []}),
    or a Status object on errors.  For "watch": {"code": 200, "events": [{"type": "ADDED",
    "object": {...}}, ...], "resourceVersion": "<last rv>"}: the events after
    query.resourceVersion, possibly none; poll again from the returned resourceVersion.  A too old
    resourceVersion gives code 410 with a Status (reason "Expired").

Trace events (drain_events), JSON dicts with at least "t" (virtual s) and "kind":
    {"kind": "message", "src": "kubelet@worker-1", "dst": "kube-apiserver@cp-1",
     "type": "update pods/status", "arrive": t2}          # one network hop
    {"kind": "drop", "src", "dst", "type"}                  # a hop lost on the network
    {"kind": "action", "component": "kube-scheduler@cp-1",
     "text": "kube-scheduler bound default/web-1 to worker-2"}
    {"kind": "k8s-event", "namespace", "object": "Pod/web-1", "reason", "type", "message",
     "source": "kubelet"}                                   # a Kubernetes Event was written
                                                            # (once, by the apiserver that wrote it)
    {"kind": "error", "component", "message"}               # an exception recovered (Kernel.handle_crash)
    {"kind": "corrupt-object", "component", "key", "message"}  # an etcd value that does not decode
    {"kind": "node", "node": "worker-2", "alive": false}    # killed / restored / added
Component addresses are "<component>@<host>": kube-apiserver, etcd, kube-scheduler,
kube-controller-manager on the control-plane host; kubelet, kube-proxy, containerd on every node.

snapshot():
    {"cluster": name, "time": float, "resourceVersion": int,
     "nodes": [{"name", "role": "control-plane"|"worker", "alive": bool,
                "ready": "True"|"False"|"Unknown", "unschedulable": bool,
                "cpu": "4", "memory": "8Gi", "allocatable": {...}, "taints": [...],
                "components": [{"name": "kubelet", "address": "kubelet@worker-1",
                                "running": bool}, ...],
                "pods": [{"namespace", "name", "phase", "ready": bool, "terminating": bool,
                          "ip": str|None, "owner": "ReplicaSet/web"|None}]}],
     "control_plane": [{"name": "kube-apiserver", "address": ..., "host": "cp-1",
                        "running": bool}, ...],
     "pending": [pods not yet bound, same shape as node pods],
     "scheduler": {"leader", "active": n, "backoff": n, "unschedulable": n,
                   "pods": [up to 50 queue entries as scheduler_queue() gives, plus "queue"]},
     "replicasets": [{"namespace", "name", "replicas", "ready", "available"}],
     "workloads": {...}  # the Workloads view: format in sim/workloadview.py
     "cloud": {"address": "cloud-api@cloud", "total": n,      # sim/cloud/ (cloudProvider simulated)
               "loadBalancers": [{"service", "ip", "backends", "healthy"}]},
     "networkview": {...}  # the Network view: format in sim/networkview.py
     "kubeadm": {...}     # install "kubeadm" only: Cluster.kubeadm_status (runs' last lines)
     "corrupt": [{"key": "/registry/pods/default/hello", "message"}]}  # objects it cannot show
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from sim.api import status as st
from sim.api.meta import EPOCH
from sim.api.podutil import node_ready_status
from sim.api.quantity import QuantityError, parse_quantity
from sim.api.validation import is_dns1123_subdomain
from sim.registry import BUILTIN
from sim.apiserver import storage
from sim.apiserver.authfilter import Authentication
from sim.apiserver.server import KubeAPIServer
from sim.controllers.manager import KubeControllerManager
from sim.etcd.mvcc import MVCCStore
from sim.etcd.raft import ConfChangeAddLearnerNode, ConfChangeAddNode, ConfChangeRemoveNode, ConfState
from sim.etcd.server import EtcdMember, member_id, member_record
from sim.external import CLIENT_HOST, VIA_CONSOLE, ConsoleClient, ExternalClient
from sim.loadgenerator import MAX_REQUESTS_PER_SECOND, LoadGenerator
from sim.flowcontrol import (CONTROLLER_MANAGER_BURST, CONTROLLER_MANAGER_QPS, KUBELET_BURST, KUBELET_QPS,
                             SCHEDULER_BURST, SCHEDULER_QPS)
from sim.kernel import Kernel
from sim import kubeadm
from sim.kubelet.kubelet import Kubelet
from sim.kubelet.staticpods import is_mirror_pod
from sim.kubeadm import check_node_identity
from sim.pki import CertificateAuthority
from sim.kubelet.runtime import ContainerRuntime
from sim.registry.core.pods import status_column as pod_status_column
from sim.kubeproxy import KubeProxy
from sim import addons, clusterdns, cni, ingressnginx, kubeadm_dns, kubeadm_proxy, kubeproxy_process, traffic
from sim.cni.agent import CNIAgent
from sim.cni.node import NodeNetwork
from sim.ipfamily import node_ipv6, split_cidrs
from sim.metricsserver import MetricsServer
from sim.podfaults import PodFaultError, inject_pod_fault, pod_cri_calls
from sim.csi.backend import StorageBackend
from sim.csi.controller import CSIController
from sim.cloud.controllermanager import CloudControllerManager
from sim.cloud.provider import CLOUD_HOST, SimulatedCloud
from sim.scheduler.framework.config import ConfigError as SchedulerConfigError
from sim.scheduler.scheduler import KubeScheduler, load_configuration as load_scheduler_configuration
from sim.api.defaults import TAINT_CONTROL_PLANE
from sim.networkview import NetworkView
from sim.workloadview import WorkloadView

log = logging.getLogger("sim")

READ_VERBS = ("get", "list", "watch")
# snapshot(): how many objects it cannot render (or etcd values that do not decode) it lists.
MAX_CORRUPT_LISTED = 100
KIND_OBJECTS_SHOWN = 20  # names of each kind's objects in a dashboard frame
REQUEST_TIMEOUT = 60.0  # kube-apiserver's --request-timeout default
# etcd's request timeout (etcdserver ServerConfig.ReqTimeout: 5 s + 2 x the election timeout of
# 1 s): how long etcdctl put and move-leader wait for the cluster before "request timed out".
ETCD_REQUEST_TIMEOUT = 7.0
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def node_ip(index: int) -> str:
    return f"192.168.{index // 240}.{10 + index % 240}"


RUNTIMES = ("containerd", "cri-o", "docker")
CLOUD_PROVIDERS = ("simulated", "none")   # ClusterConfig.cloud_provider
RESERVED_HOSTS = (CLIENT_HOST, CLOUD_HOST)  # hosts outside the cluster: no node may take their names


@dataclass
class NodeSpec:
    name: str
    role: str = "worker"          # "worker" | "control-plane"
    cpu: str = "4"
    memory: str = "8Gi"
    pods: int = 110
    alive: bool = True
    # The container runtime behind the kubelet's CRI: "containerd", "cri-o" or "docker"
    # (Docker Engine through cri-dockerd).
    runtime: str = "containerd"
    # The kubelet's release (status.nodeInfo.kubeletVersion; "" = the cluster's) and the labels
    # it registers the Node with (--node-labels).
    kubelet_version: str = ""
    labels: dict = field(default_factory=dict)


@dataclass
class ClusterConfig:
    seed: int = 1
    nodes: list[NodeSpec] = field(default_factory=list)
    node_monitor_grace_period: float = 50.0   # kube-controller-manager, v1.32 default
    node_monitor_period: float = 5.0
    default_toleration_seconds: int = 300     # DefaultTolerationSeconds admission plugin
    # etcd: how many members (1, 3, 5 or 7) and where they run.  "stacked": a member on each
    # control-plane node (so as many members as control-plane nodes); "external": on hosts of
    # their own, named etcd-1..N.  Raft timings are etcd's flags.
    etcd_members: int = 1
    etcd_topology: str = "stacked"
    etcd_heartbeat_interval: float = 0.1      # --heartbeat-interval 100 ms
    etcd_election_timeout: float = 1.0        # --election-timeout 1000 ms
    # --snapshot-count: entries applied between two snapshots, each followed by a Raft log
    # compaction that keeps etcd_snapshot_catchup_entries behind it (etcdserver's
    # SnapshotCatchUpEntries).  etcd 3.5 defaults to 100000; see sim/etcd/server.py for ours.
    etcd_snapshot_count: int = 10000
    etcd_snapshot_catchup_entries: int = 5000
    # etcd's --strict-reconfig-check (on by default): a member change is refused when it would
    # leave too few started members for a quorum, or while a voting member is unreachable.
    etcd_strict_reconfig_check: bool = True
    # etcd's membership once it changed at run time (`etcdctl member add / promote / remove`,
    # applied through Raft), persisted with the topology: {"members": [{"name", "host", "id",
    # "learner", "started"}], "removed": [{"name", "host", "id"}], "next": the number in the
    # next new member's name}.  Empty: the configured members (etcd_members, etcd_topology).
    etcd_membership: dict = field(default_factory=dict)
    # When virtual time 0 happened, in Unix seconds (API timestamps count from it).  The Django
    # side sets it to the wall-clock moment a cluster is created, so `kubectl describe` ages
    # look right; the engine never reads the wall clock itself.  None: 2026-01-01T00:00:00Z.
    start_unix_time: float | None = None
    # kube-scheduler's --config: a KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1)
    # as JSON, defaulted and validated as upstream does (profiles, plugins per extension point,
    # weights, pluginConfig args, percentageOfNodesToScore, pod backoff).  None: the defaults.
    scheduler_config: dict | None = None
    # kubeadm's networking.serviceSubnet (kube-apiserver --service-cluster-ip-range): where
    # Services' ClusterIPs come from; the first address is the `kubernetes` Service's.
    service_subnet: str = "10.96.0.0/12"
    # Client-side rate limits of the components' API clients (client-go's token bucket,
    # sim/flowcontrol.py): kube-controller-manager --kube-api-qps/--kube-api-burst (each
    # controller its own client), kube-scheduler clientConnection.qps/burst, kubelet
    # kubeAPIQPS/kubeAPIBurst.  Upstream's defaults; a qps <= 0 turns the limit off.
    controller_manager_kube_api_qps: float = CONTROLLER_MANAGER_QPS
    controller_manager_kube_api_burst: int = CONTROLLER_MANAGER_BURST
    scheduler_kube_api_qps: float = SCHEDULER_QPS
    scheduler_kube_api_burst: int = SCHEDULER_BURST
    kubelet_kube_api_qps: float = KUBELET_QPS
    kubelet_kube_api_burst: int = KUBELET_BURST
    # kube-controller-manager --controllers: "*" (the ones on by default), "foo", "-foo".
    controllers: list = field(default_factory=lambda: ["*"])
    # kubeadm init --skip-phases: "addon/coredns" leaves out the CoreDNS addon (no coredns
    # Deployment, no kube-dns Service), as a cluster that installs its own DNS does.
    skip_phases: list = field(default_factory=list)
    # kubeadm's networking.podSubnet: kube-controller-manager's --cluster-cidr, carved into
    # /24s per node by the node IPAM controller (sim/controllers/nodeipam.py).
    pod_subnet: str = "10.244.0.0/16"
    # The CNI plugin the cluster's setup installs (sim/cni/): "flannel", "calico" or "bridge".
    cni: str = "flannel"

    @property
    def dual_stack(self) -> bool:
        """An IPv4/IPv6 dual-stack cluster: a podSubnet of both families ("v4,v6"), so every
        node has an IPv6 address too (kubelet --node-ip v4,v6) and pods get one of each."""
        return len(split_cidrs(self.pod_subnet)) > 1
    # The cloud the cluster runs in (sim/cloud/): "simulated" runs a cloud-controller-manager on
    # the control plane against a simulated cloud whose load balancers serve LoadBalancer
    # Services; "none" is bare metal: no cloud-controller-manager, and a LoadBalancer Service's
    # EXTERNAL-IP stays <pending> (its node ports still work).
    cloud_provider: str = "simulated"
    # Add-ons applied once the cluster is up, as `kubectl apply -f` of their manifests would
    # (sim/addons/: "ingress-nginx", the ingress-nginx controller's bare-metal install).
    addons: list = field(default_factory=list)
    # kubeadm's KubeProxyConfiguration `mode` (the kube-proxy ConfigMap's config.conf): "" is
    # iptables on Linux; "ipvs" or "nftables" (sim/kubeproxy.py MODES).
    kube_proxy_mode: str = ""
    # Who may use the Kubernetes API (sim/apiserver/authfilter.py): "open" lets the anonymous
    # user do everything (a request with a token is held to its roles); "owned" holds everyone
    # to RBAC, so only the admin token's holder (and whom RBAC allows) may act.
    access: str = "open"
    # How it was installed: "" comes up ready, "kubeadm" is installed by the student step by step
    # (sim/kubeadm_install.py); `kubeadm` is that installation's progress, persisted with the
    # topology so a restart of Pilothouse finds the hosts as they were: {"installed": [hosts
    # whose kubelet kubeadm started], "addons": bool, "podNetwork": bool, "token": str, ...}.
    install: str = ""
    kubeadm: dict = field(default_factory=dict)
    # Who the cluster belongs to, as a person's name (a student's sandbox): shown in the list of
    # clusters; nothing in the engine reads it.
    owner: str = ""
    # The cluster's secrets: {"adminToken": the static token of kubernetes-admin (system:masters),
    # "serviceAccountKey": the key ServiceAccount tokens are signed with}.  The Django side makes
    # random ones when it creates a cluster; None: derived from the name and seed (engine tests).
    credentials: dict | None = None

    @classmethod
    def default(cls, seed: int = 1) -> "ClusterConfig":
        return cls(seed=seed, nodes=[NodeSpec("cp-1", "control-plane", "4", "16Gi"),
                                     NodeSpec("worker-1"), NodeSpec("worker-2"), NodeSpec("worker-3")])

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "ClusterConfig":
        data = dict(data)
        data["nodes"] = [NodeSpec(**n) for n in data.get("nodes", [])]
        return cls(**data)


# The last lines of each kubeadm run a frame carries (the whole output: GET …/sim/v1/kubeadm).
KUBEADM_LINES_SHOWN = 40


@dataclass
class PendingRequest:
    """A Kubernetes API request begun with Cluster.begin_request: the external client's request
    id (None when it was answered at once), its virtual deadline, and the response once known."""
    rid: int | None
    deadline: float
    response: dict | None = None
    client: "ExternalClient | None" = None   # who sent it (the console's requests have their own)


# Events an input to a stream session may run at once (the process's answer to it).
STREAM_EVENTS = 2000


class ClusterError(Exception):
    """A simulator command that cannot be done; `code` is the HTTP status to answer with."""

    def __init__(self, message: str, code: int = 400):
        super().__init__(message)
        self.code = code


def _usable_log(etcd_log: Any, warnings: list[str]) -> list[dict]:
    """The persisted etcd entries a keyspace can be rebuilt from, in revision order: each a
    {"revision": int > 0, "key": non-empty str, "value": str or None}.  Anything else is left
    out with a warning, never an exception (what the values hold is the apiservers' to judge)."""
    if not isinstance(etcd_log, (list, tuple)):
        warnings.append(f"etcd log of type {type(etcd_log).__name__} ignored")
        return []
    out, bad = [], 0
    for e in etcd_log:
        rev = e.get("revision") if isinstance(e, dict) else None
        key = e.get("key") if isinstance(e, dict) else None
        value = e.get("value") if isinstance(e, dict) else None
        if not isinstance(rev, int) or isinstance(rev, bool) or rev <= 0 or not isinstance(key, str) or not key \
                or not (value is None or isinstance(value, str)):
            bad += 1
            continue
        out.append({"revision": rev, "key": key, "value": value})
    out.sort(key=lambda e: e["revision"])
    unique = [e for i, e in enumerate(out) if i == 0 or e["revision"] != out[i - 1]["revision"]]
    if bad:
        warnings.append(f"{bad} etcd log entr{'y' if bad == 1 else 'ies'} that are not (revision, key, value) ignored")
    if len(unique) < len(out):
        warnings.append(f"{len(out) - len(unique)} etcd log entries repeating a revision ignored")
    return unique


def _usable_disks(disks: Any, warnings: list[str]) -> dict[str, dict]:
    """The persisted etcd member disks (EtcdMember.disk_state()) that are well formed."""
    if not disks:
        return {}
    if not isinstance(disks, dict):
        warnings.append("etcd member disks ignored: not a mapping")
        return {}
    out = {}
    for name, d in disks.items():
        snap = d.get("snapshot") if isinstance(d, dict) else None
        hs = (d.get("hardState") or {}) if isinstance(d, dict) else None
        ints = [snap.get("index"), snap.get("term")] if isinstance(snap, dict) else [None]
        if isinstance(hs, dict):
            ints.append(hs.get("term", 0))
        if isinstance(name, str) and isinstance(hs, dict) and all(
                isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in ints) \
                and (hs.get("vote") is None or isinstance(hs.get("vote"), str)):
            out[name] = d
        else:
            warnings.append(f"etcd member disk {name!r} ignored: not a disk state")
    return out


class Cluster:
    def __init__(self, name: str, config: ClusterConfig | None = None, *, store: MVCCStore | None = None,
                 start_time: float = 0.0, running_pods: list[dict] | None = None, record_commits: bool = True,
                 seed_log: list[dict] | None = None):
        self.name = name
        self.config = config or ClusterConfig.default()
        self.kernel = Kernel(self.config.seed, start_time)
        if self.config.start_unix_time is not None:
            self.kernel.epoch_offset = float(int(self.config.start_unix_time)) - EPOCH.timestamp()
        self.store = store or MVCCStore()
        self._seed_log = seed_log or []
        self.record_commits = record_commits
        self._commits: list[dict] = []
        # The page's entry of each pod, by key, with the resourceVersion it was made from: a
        # snapshot remakes only the entries of pods that changed since the last one.
        self._pod_entries: dict[tuple, tuple[str, dict]] = {}
        self._workloads = WorkloadView()  # the snapshot's "workloads" (sim/workloadview.py)
        self._networkview = NetworkView()  # the snapshot's "networkview" (sim/networkview.py)
        self._recorded = self.store.revision
        cps = [n for n in self.config.nodes if n.role == "control-plane"]
        if not cps:
            raise ClusterError("a cluster needs a control-plane node")
        self.cp_hosts = [c.name for c in cps]
        # A cluster the student installs grows its control plane host by host (kubeadm join
        # --control-plane): it may have any number of control-plane nodes.
        if len(self.cp_hosts) not in (1, 3) and self.config.install != "kubeadm":
            raise ClusterError("a cluster has 1 or 3 control-plane nodes")
        self.cp_host = self.cp_hosts[0]
        k = self.kernel
        self.etcd_members = self._build_etcd(cps)
        self.etcd = self.etcd_members[0]
        # Every control-plane node runs kube-apiserver, kube-scheduler and
        # kube-controller-manager (and, stacked, an etcd member); the scheduler and the
        # controller manager talk to their own node's apiserver, and only the holders of their
        # Leases act.
        self.apiservers, self.schedulers, self.controller_managers = [], [], []
        self.cp_components: dict[str, list] = {}
        # The simulated CSI driver's disks (sim/csi/): outside every node, so a volume's files
        # follow it from node to node; its controller plugin runs on the control plane.
        self.storage_backend = StorageBackend()
        # The cloud outside the cluster (sim/cloud/): its load balancers and their health
        # checks.  With cloudProvider "none" it exists but nothing asks it for anything.
        if self.config.cloud_provider not in CLOUD_PROVIDERS:
            raise ClusterError(f'cloud_provider must be one of: {", ".join(CLOUD_PROVIDERS)}')
        self.cloud = SimulatedCloud()
        k.add_component(self.cloud)
        self.cloud.start()
        try:
            scheduler_config = load_scheduler_configuration(self.config.scheduler_config)
        except SchedulerConfigError as e:
            raise ClusterError(str(e)) from None
        authentication = Authentication.for_cluster(self.config.access, *self._credentials())
        # The cluster CA (kubeadm's /etc/kubernetes/pki/ca.crt and ca.key, sim/pki.py): derived
        # from the cluster's secret (an engine-made cluster's: from its seed, so two clusters of
        # one configuration hold the same objects whatever their names), valid from its virtual
        # time 0, the same on every restart and replay.
        ca_secret = (self.config.credentials or {}).get("serviceAccountKey") or f"seed/{self.config.seed}"
        self.ca = CertificateAuthority.for_cluster(ca_secret, self.kernel.epoch_offset)
        self._scheduler_config, self._authentication = scheduler_config, authentication
        for host in self.cp_hosts:
            self._build_control_plane_host(host)
        self.apiserver, self.scheduler, self.controller_manager = \
            self.apiservers[0], self.schedulers[0], self.controller_managers[0]
        # metrics-server, one replica on the first control-plane node, behind every
        # apiserver's aggregator (the APIService v1beta1.metrics.k8s.io).
        self.metrics_server = MetricsServer(self.cp_host, self.apiserver_endpoints(self.cp_host))
        self.cp_components[self.cp_host].append(self.metrics_server)
        k.add_component(self.metrics_server)
        for api in self.apiservers:
            api.metrics_server = self.metrics_server.address
        self.client = ExternalClient()
        self.console_client = ConsoleClient()
        # The per-workload load generator, outside the cluster beside the client (sim/loadgenerator.py).
        self.load_generator = LoadGenerator(CLIENT_HOST, [a.address for a in self.apiservers])
        k.add_component(self.load_generator)
        self.control_plane = [c for host in self.cp_hosts for c in self.cp_components[host]] + \
            [m for m in self.etcd_members if m.host in self.cp_hosts]
        for c in self.apiservers + self.schedulers + self.controller_managers + [self.client, self.console_client] + self.etcd_members:
            k.add_component(c)
        for host in self.cp_hosts:
            for c in self.cp_components[host][3:]:
                if c is not self.metrics_server:
                    k.add_component(c)
        self.node_components: dict[str, list] = {}
        self.cni_agents: dict[str, CNIAgent] = {}
        # kube-proxy's parsed EndpointSlices, shared by this cluster's nodes (sim/kubeproxy_iptables.py).
        self.slice_memo: dict = {}
        self.specs: dict[str, NodeSpec] = {}
        self.stopped_members: set[str] = set()
        for i, spec in enumerate(self.config.nodes):
            self._build_node(spec, i)
        # The mirror pods a restart of Pilothouse found: their static pods keep their restart counts.
        self._persisted_mirrors = [p for p in running_pods or [] if is_mirror_pod(p)]
        if running_pods:
            self._adopt_running(running_pods)
        # kubeadm init / join, when the student installs the cluster (sim/kubeadm_install.py).
        self.kubeadm_runs: dict = {}
        for m in self.etcd_members:
            if (m.host not in self.specs or self.specs[m.host].alive) and self.host_installed(m.host) \
                    and self.etcd_records[m.name].get("started", True):
                m.start()
        self.client.start()
        self.console_client.start()
        self.load_generator.start()
        if self.host_installed(self.cp_host):
            self.kernel.call_later(0.05, self._bootstrap_namespaces)
        for host in self.cp_hosts:
            if self.specs[host].alive:
                if self.host_installed(host):
                    for c in self.cp_components[host]:
                        c.start()
                    self._boot_static_pods(host)
            else:
                self.kernel.network.cut(host)
        for spec in self.config.nodes:
            if spec.alive:
                for c in self._node_agents(spec.name):
                    c.start()
            else:
                self.kernel.network.cut(spec.name)

    # -- construction -------------------------------------------------------------------
    def _credentials(self) -> tuple[str, str]:
        """(admin token, service-account key): the configuration's, else derived from the name
        and seed, which only an engine-made cluster (tests, benchmarks) relies on."""
        creds = self.config.credentials or {}
        if creds.get("adminToken") and creds.get("serviceAccountKey"):
            return creds["adminToken"], creds["serviceAccountKey"]
        seed = hashlib.sha256(f"pilothouse/{self.name}/{self.config.seed}".encode()).hexdigest()
        return seed[:32], seed[32:]

    @property
    def admin_token(self) -> str:
        return self._credentials()[0]

    def _hook_store(self, store: MVCCStore) -> None:
        """Record committed writes for persistence.  Every member applies the same writes in
        the same order, so the first member to apply a revision records it."""
        store.on_commit.append(self._record_commit)

    def _record_commit(self, revision: int, key: str, value: str | None) -> None:
        if self.record_commits and revision > self._recorded:
            self._recorded = revision
            self._commits.append({"revision": revision, "key": key, "value": value})

    def _build_etcd(self, cps: list[NodeSpec]) -> list[EtcdMember]:
        cfg = self.config
        if cfg.etcd_membership:
            # Membership changed at run time: the members as last applied (a restart of
            # Pilothouse brings back an added member and not a removed one).
            specs = [dict(r) for r in cfg.etcd_membership["members"]]
            removed = [dict(r) for r in cfg.etcd_membership.get("removed", [])]
        else:
            n = cfg.etcd_members
            if n not in (1, 3, 5, 7):
                raise ClusterError("etcd_members must be 1, 3, 5 or 7")
            if cfg.etcd_topology == "stacked" and cfg.install == "kubeadm":
                hosts = [cps[0].name]   # kubeadm init's local etcd; more join by a member add
            elif cfg.etcd_topology == "stacked":
                if n != len(cps):
                    raise ClusterError(f"a stacked topology runs one etcd member per control-plane node: "
                                       f"{len(cps)} control-plane node(s), not {n} members")
                hosts = [c.name for c in cps]
            elif cfg.etcd_topology == "external":
                hosts = [f"etcd-{i}" for i in range(1, n + 1)]
            else:
                raise ClusterError('etcd_topology must be "stacked" or "external"')
            # etcd computes the initial members' IDs from their peer URLs and the cluster token
            # (kubeadm leaves --initial-cluster-token at its default, "etcd-cluster").
            specs = [{"name": f"etcd-{i}", "host": host, "learner": False, "started": True,
                      "id": member_id([self._etcd_peer_url(host)], "etcd-cluster")}
                     for i, host in enumerate(hosts, 1)]
            removed = []
        members = []
        for i, spec in enumerate(specs):
            # Every member's disk starts as a copy of the same keyspace (a restore).
            store = self.store if i == 0 else MVCCStore()
            if i > 0:
                for e in self._seed_log:
                    store.replay(e["revision"], e["key"], e["value"])
                if self.store.compact_revision:
                    store.compact(self.store.compact_revision)
            members.append(self._etcd_member_object(spec["host"], store, spec["name"]))
        records = [self._etcd_record(spec) for spec in specs]
        removed_records = [self._etcd_record(dict(r, learner=False)) for r in removed]
        for m in members:
            m.set_membership(records, removed=removed_records)
        # What every member's log starts from (index 0): a member joining later is given it
        # with its empty log, as etcd's bootstrap ConfChange entries would tell it.
        self._etcd_base = (records, members[0].conf_state if members else ConfState(), removed_records)
        self._etcd_conf_index = 0
        self.etcd_records = {spec["name"]: spec for spec in specs}
        self.etcd_removed = removed
        numbers = [int(r["name"].rsplit("-", 1)[-1]) for r in specs + removed
                   if r["name"].rsplit("-", 1)[-1].isdigit()]
        self._etcd_next = max([int(cfg.etcd_membership.get("next") or 0)] + [k + 1 for k in numbers])
        self.etcd_departed: list[EtcdMember] = []   # removed members' processes (they stop themselves)
        disks = getattr(self, "_etcd_disks", None)
        if disks:
            # Restarting from persisted disks (Cluster.restore).  One keyspace was persisted for
            # the whole group, at what the most advanced member had applied, so every member
            # restarts from that point: a Raft log that is a snapshot at its (index, term),
            # with the membership as persisted then.  Each keeps its own term and vote.  (A
            # member restarted further behind would claim an older point than its keyspace; the
            # group would then hold logs that disagree about what is committed.)
            point = max(disks.values(), key=lambda d: int(d["snapshot"]["index"]))["snapshot"]
            for m in members:
                hs = (disks.get(m.name) or {}).get("hardState") or {"term": 0, "vote": None, "commit": 0}
                m.load_disk({"hardState": hs, "snapshot": point})
            self._etcd_conf_index = int(point["index"])
        return members

    def _etcd_member_object(self, host: str, store: MVCCStore, name: str) -> EtcdMember:
        cfg = self.config
        election_ticks = max(2, round(cfg.etcd_election_timeout / cfg.etcd_heartbeat_interval))
        self._hook_store(store)
        m = EtcdMember(host, store, name=name, heartbeat_interval=cfg.etcd_heartbeat_interval,
                       election_ticks=election_ticks, snapshot_count=cfg.etcd_snapshot_count,
                       snapshot_catchup_entries=cfg.etcd_snapshot_catchup_entries)
        m.on_conf_change.append(self._etcd_conf_applied)
        m.on_removed_exit = self._etcd_removed_exit
        return m

    def _etcd_peer_ip(self, host: str) -> str:
        """Where a member's peers reach it: its node's IP, or an external etcd host's name."""
        names = [n.name for n in self.config.nodes]
        return node_ip(names.index(host)) if host in names else host

    def _etcd_peer_url(self, host: str) -> str:
        return f"https://{self._etcd_peer_ip(host)}:2380"

    def _etcd_record(self, spec: dict) -> dict:
        return member_record(spec["id"], spec["name"], spec["host"], f"{EtcdMember.component}@{spec['host']}",
                             self._etcd_peer_ip(spec["host"]), spec.get("learner", False))

    def _build_control_plane_host(self, host: str) -> list:
        """The control-plane components of control-plane node `host` (its kube-apiserver, whose
        etcd is its local member first, kube-scheduler and kube-controller-manager talking to
        that apiserver, the CSI controller, and cloud-controller-manager): built, not started.
        At construction for each control-plane node, and for a host `kubeadm join
        --control-plane` adds at run time."""
        local = [m.address for m in self.etcd_members if m.host == host]
        endpoints = local + [m.address for m in self.etcd_members if m.address not in local]
        api = KubeAPIServer(host, endpoints, toleration_seconds=self.config.default_toleration_seconds,
                            service_cluster_ip_range=self.config.service_subnet,
                            authentication=self._authentication)
        # --advertise-address: its node's IP (the kubernetes Service's endpoints)
        api.advertise_address = node_ip([n.name for n in self.config.nodes].index(host))
        sched = KubeScheduler(host, api.address, config=self._scheduler_config,
                              kube_api_qps=self.config.scheduler_kube_api_qps,
                              kube_api_burst=self.config.scheduler_kube_api_burst)
        cm = KubeControllerManager(host, api.address,
                                   kube_api_qps=self.config.controller_manager_kube_api_qps,
                                   kube_api_burst=self.config.controller_manager_kube_api_burst,
                                   node_monitor_grace_period=self.config.node_monitor_grace_period,
                                   node_monitor_period=self.config.node_monitor_period,
                                   controllers=self.config.controllers,
                                   cluster_cidr=self.config.pod_subnet, cluster_ca=self.ca)
        csi = CSIController(host, api.address, self.storage_backend)
        self.apiservers.append(api)
        self.schedulers.append(sched)
        self.controller_managers.append(cm)
        self.cp_components[host] = [api, sched, cm, csi]
        if self.config.cloud_provider == "simulated":
            # cloud-controller-manager: leader elected, one per control-plane node.
            self.cp_components[host].append(CloudControllerManager(host, api.address, self.cloud.address))
        return self.cp_components[host]

    def _build_node(self, spec: NodeSpec, index: int) -> None:
        runtime = ContainerRuntime(spec.name, kind=spec.runtime)
        taints = [{"key": TAINT_CONTROL_PLANE, "effect": "NoSchedule"}] if spec.role == "control-plane" else []
        kubelet = Kubelet(spec.name, self.apiserver_endpoints(spec.name, index), runtime.address, spec.cpu,
                          spec.memory, spec.pods,
                          role=spec.role, internal_ip=node_ip(index),
                          labels=dict(spec.labels or {}),
                          taints=taints, kube_api_qps=self.config.kubelet_kube_api_qps,
                          kube_api_burst=self.config.kubelet_kube_api_burst, runtime_kind=spec.runtime,
                          kubelet_version=spec.kubelet_version or None)
        kubelet.node_runtime = runtime
        # A worker `kubeadm join` started that has not finished its TLS bootstrap: its disk has
        # bootstrap-kubelet.conf and no kubelet.conf (sim/kubeadm_install.py).
        token = (self.config.kubeadm.get("bootstrapping") or {}).get(spec.name)
        if token:
            kubelet.kubelet_conf, kubelet.bootstrap_kubeconfig = False, token
        kubelet.on_kubelet_conf = lambda host=spec.name: (self.config.kubeadm.get("bootstrapping") or {}).pop(host, None)
        ip6 = node_ipv6(node_ip(index)) if self.config.dual_stack else None
        if ip6:
            kubelet.internal_ips.append(ip6)   # --node-ip=<v4>,<v6>
        runtime.on_faults_changed = kubelet.wake_probes
        if spec.name in self.cp_hosts:
            kubeadm.install(self, spec.name, kubelet, runtime)
        kubelet.storage_backend = self.storage_backend
        kubelet.cluster_dns = kubeadm_dns.dns_ip(self.config.service_subnet)
        runtime.pod_network = lambda src, resolv, host, server, node=spec.name, http=False, qtype=None, host_header=None: (
            clusterdns.http_get(self, node, src, resolv, host, host=host_header) if http
            else clusterdns.exchange(self, node, src, server, host, qtype) if qtype
            else clusterdns.lookup(self, node, src, resolv, host, server))
        # A container's process that is a simulated component (ContainerRuntime.pod_process): the
        # kube-proxy DaemonSet's (sim/kubeproxy_process.py), an ingress controller's.
        runtime.pod_process = lambda c, node=spec.name, runtime=runtime: (
            kubeproxy_process.pod_process(self, node, c) or ingressnginx.pod_process(self, node, runtime, c))
        # The node's kube-proxy: what its kube-proxy pod's container runs (it starts with that
        # container, not with the node), and the node's kernel rules, which outlive it.
        proxy = KubeProxy(spec.name, self.apiserver_endpoints(spec.name, index), node_ip=node_ip(index),
                          mode=self.config.kube_proxy_mode, service_cidrs=(self.config.service_subnet,), node_ip6=ip6,
                          cluster_cidr=self.config.pod_subnet,
                          slice_memo=self.slice_memo)
        # The node's network (sim/cni/): the runtime runs the CNI plugin for each sandbox; the
        # plugin's agent (flanneld, calico-node) is what its DaemonSet's container runs.
        plugin = cni.plugin_for(self)
        runtime.network, runtime.cni = NodeNetwork(spec.name, node_ip(index), ip6), plugin
        if plugin.agent_binary:
            agent = CNIAgent(spec.name, self.apiserver_endpoints(spec.name, index), plugin, runtime.network,
                             self.config.pod_subnet)
            runtime.host_processes[plugin.agent_binary] = agent
            self.kernel.add_component(agent)
            self.cni_agents[spec.name] = agent
        for c in (runtime, kubelet, proxy):
            self.kernel.add_component(c)
        self.node_components[spec.name] = [runtime, kubelet, proxy]
        self.specs[spec.name] = spec

    def _node_agents(self, name: str) -> list:
        """What runs on a node from its boot: the container runtime and the kubelet (systemd
        units).  Its kube-proxy runs in a pod of the kube-proxy DaemonSet.  A host kubeadm has
        not set up yet runs only its runtime (the kubelet has no configuration to start with)."""
        return self.node_components[name][:2 if self.host_installed(name) else 1]

    def host_installed(self, host: str) -> bool:
        """Has kubeadm (init or join) started this host's kubelet?  Always, unless the cluster
        is installed by the student (install "kubeadm")."""
        return self.config.install != "kubeadm" or host in self.config.kubeadm.get("installed", ())

    def apiserver_endpoints(self, host: str, index: int = 0) -> list[str]:
        """The apiservers a node's agents use, in failover order: through the control-plane
        load balancer, spread across apiservers by node (a control-plane node's own first)."""
        addrs = [a.address for a in self.apiservers]
        if host in self.cp_hosts:
            i = self.cp_hosts.index(host)
        else:
            i = index % len(addrs)
        return addrs[i:] + addrs[:i]

    def serving_apiserver(self) -> KubeAPIServer | None:
        """The apiserver the load balancer sends outside clients to: the first one running and
        reachable."""
        for a in self.apiservers:
            if a.running and self.kernel.network.reachable(self.client.host, a.host):
                return a
        return None

    def _adopt_running(self, pods: list[dict]) -> None:
        for pod in pods:
            spec, status, md = pod.get("spec"), pod.get("status"), pod.get("metadata")
            if not (isinstance(spec, dict) and isinstance(status, dict) and isinstance(md, dict)):
                continue
            node, uid, ip = spec.get("nodeName"), md.get("uid"), status.get("podIP")
            containers = spec.get("containers")
            if is_mirror_pod(pod):
                continue  # a static pod runs from its manifest (_boot_static_pods), not from the API
            if node in self.node_components and status.get("phase") == "Running" and isinstance(uid, str) \
                    and isinstance(containers, list) and (ip is None or isinstance(ip, str)):
                runtime = self.node_components[node][0]
                statuses = {cs.get("name"): cs for cs in status.get("containerStatuses") or [] if isinstance(cs, dict)}
                runtime.adopt(uid, ip, [
                    {"name": c["name"], "image": c.get("image"), "command": c.get("command"), "args": c.get("args"),
                     "containerID": (statuses.get(c["name"]) or {}).get("containerID"),
                     "restartCount": (statuses.get(c["name"]) or {}).get("restartCount", 0),
                     "stdin": c.get("stdin"), "stdinOnce": c.get("stdinOnce"), "tty": c.get("tty")}
                    for c in containers if isinstance(c, dict) and isinstance(c.get("name"), str)
                    and "running" in ((statuses.get(c["name"]) or {}).get("state") or {"running": {}})],
                    hostname=md.get("name") if isinstance(md.get("name"), str) else "")

    def _bootstrap_namespaces(self, with_addons: bool | None = None, with_network: bool | None = None) -> None:
        """kube-apiserver's system namespaces controller: default, kube-system, kube-public,
        kube-node-lease exist from the start.

        Each also gets, at once, what kube-controller-manager's serviceaccounts and
        root-ca-cert-publisher controllers make in every namespace (its `default` ServiceAccount
        and the `kube-root-ca.crt` ConfigMap) - upstream they appear a few seconds later, once
        kube-controller-manager has won its Lease, and a pod created meanwhile is refused
        ("serviceaccount "default" not found").  A fresh cluster is used at once (by the page,
        the scenarios, kubectl), so its system namespaces start complete; the controllers then
        find nothing to do there, and do the same for every namespace created later."""
        # A student's kubeadm install (sim/kubeadm_install.py) makes the addons and the pod
        # network in steps of their own; a restart brings back the ones it had reached.
        if with_addons is None:
            with_addons = self.config.install != "kubeadm" or bool(self.config.kubeadm.get("addons"))
        if with_network is None:
            with_network = self.config.install != "kubeadm" or bool(self.config.kubeadm.get("podNetwork"))
        api = self.serving_apiserver()
        if api is None:
            return
        if not api.synced:
            self.kernel.call_later(0.05, lambda: self._bootstrap_namespaces(with_addons, with_network))
            return
        from sim.controllers.rootcacertpublisher import root_ca_config_map

        def populate(ns: str, resp: dict, tries: int = 0) -> None:
            if resp.get("code") != 201:
                return
            if ("", ns) not in api.cache.objects("namespaces"):
                # Committed, not yet in the watch cache (a create in it would be a 404): soon.
                if tries < 100:
                    self.kernel.call_later(0.01, lambda: populate(ns, resp, tries + 1))
                return
            api.handle({"verb": "create", "resource": "serviceaccounts", "namespace": ns,
                        "body": {"metadata": {"name": "default", "namespace": ns}}}, lambda r: None)
            api.handle({"verb": "create", "resource": "configmaps", "namespace": ns,
                        "body": root_ca_config_map(ns, self.ca.certificate_pem)}, lambda r: None)
            # The setup step that applies the CNI plugin's manifest (kube-flannel.yml,
            # calico.yaml), as after `kubeadm init`: its objects in their namespace.
            for group, resource, where, body in manifests:
                if where == ns and resource != "namespaces":
                    api.handle({"verb": "create", "group": group, "resource": resource, "namespace": ns,
                                "body": body}, lambda r: None)
            if ns == "kube-system" and "addon/coredns" not in self.config.skip_phases and with_addons:
                # kubeadm init's last phase: the CoreDNS addon (sim/kubeadm_dns.py).
                for group, resource, body in kubeadm_dns.objects(self.config.service_subnet):
                    api.handle({"verb": "create", "group": group, "resource": resource, "namespace": ns,
                                "body": body}, lambda r: None)
            if ns == "kube-system" and with_addons:
                # kubeadm init's kube-proxy addon (sim/kubeadm_proxy.py): its ServiceAccount, ConfigMap
                # and DaemonSet, whose pod on every node runs the node's kube-proxy.
                endpoint = f"{self.node_components[self.cp_hosts[0]][1].internal_ip}:6443"
                for group, resource, body in kubeadm_proxy.objects(self.config.kube_proxy_mode,
                                                                   self.config.pod_subnet, endpoint):
                    api.handle({"verb": "create", "group": group, "resource": resource, "namespace": ns,
                                "body": body}, lambda r: None)

        if with_network:
            for addon in self.config.addons:
                self._apply_manifest(addons.manifest(addon))
        plugin = cni.plugin_for(self)
        manifests = plugin.objects(self.config.pod_subnet) if hasattr(plugin, "objects") and with_network else []
        extra_ns = [body for _g, res, _ns, body in manifests if res == "namespaces"]
        for ns in SYSTEM_NAMESPACES + tuple(b["metadata"]["name"] for b in extra_ns):
            if ("", ns) not in api.cache.objects("namespaces"):
                ns_body = next((b for b in extra_ns if b["metadata"]["name"] == ns), {"metadata": {"name": ns}})
                api.handle({"verb": "create", "resource": "namespaces", "body": ns_body},
                           lambda r, ns=ns: populate(ns, r))

    def _apply_manifest(self, objects: list[tuple[str, str, dict]], tries: int = 0) -> None:
        """Create a manifest's objects in order, each once the one before is answered and its
        namespace is in the watch cache, as `kubectl apply -f` does one document after another.
        What exists already (a restart) is left alone."""
        api = self.serving_apiserver()
        if not objects or api is None or tries > 1000:
            return
        group, resource, body = objects[0]
        ns = (body.get("metadata") or {}).get("namespace")
        if not api.synced or (ns and ("", ns) not in api.cache.objects("namespaces")):
            self.kernel.call_later(0.05, lambda: self._apply_manifest(objects, tries + 1))
            return
        api.handle({"verb": "create", "group": group, "resource": resource, "namespace": ns, "body": body},
                   lambda r: self._apply_manifest(objects[1:]))

    @classmethod
    def restore(cls, name: str, topology: dict, etcd_log: list[dict], time: float,
                compacted_revision: int = 0, etcd_disks: dict[str, dict] | None = None) -> "Cluster":
        """Rebuild a cluster after a process restart from its persisted topology and the
        committed etcd entries (each {"revision", "key", "value"}), in revision order.

        `etcd_disks` (member name -> EtcdMember.disk_state(), as etcd_disk_states() returned them
        when the entries were saved) brings back each member's Raft term, vote and indexes:
        the members restart from a snapshot at the saved applied index instead of an empty
        log at term 0."""
        warnings: list[str] = []
        etcd_log = _usable_log(etcd_log, warnings)
        store = MVCCStore()
        for e in etcd_log:
            store.replay(e["revision"], e["key"], e["value"])
        if isinstance(compacted_revision, int) and not isinstance(compacted_revision, bool) \
                and 0 < compacted_revision <= store.revision:
            store.compact(compacted_revision)
        elif compacted_revision:
            warnings.append(f"compacted revision {compacted_revision!r} ignored")
        # Pods that were running keep their sandboxes; a value that does not decode is left to
        # the apiservers, which report it as a corrupt object.
        pods_res = BUILTIN.lookup("", "pods")
        pods = []
        for kv in store.range(pods_res.etcd_prefix):
            key = storage.object_key(pods_res, kv.key)
            obj = storage.decode(pods_res, key, kv.value)[0] if key is not None else None
            if obj is not None:
                pods.append(obj)
        try:
            config = ClusterConfig.from_json(topology["config"])
        except (KeyError, TypeError, ValueError) as e:
            raise ClusterError(f"the saved topology is not a cluster configuration: {e}") from None
        # __init__ builds and starts the members; _build_etcd loads the disks in between.
        c = cls.__new__(cls)
        c._etcd_disks = _usable_disks(etcd_disks, warnings)
        c.__init__(name, config, store=store, start_time=time, running_pods=pods, seed_log=etcd_log)
        c.restore_warnings = warnings
        for w in warnings:
            log.warning("cluster %s: restore: %s", name, w)
            c.kernel.emit("restore-warning", message=w)
        return c

    def etcd_disk_states(self) -> dict[str, dict]:
        """Each member's disk_state() (JSON): persist it with the committed entries, and pass
        it back to Cluster.restore(etcd_disks=...) to restart with terms and indexes intact."""
        return {m.name: m.disk_state() for m in self.etcd_members}

    # -- time -------------------------------------------------------------------------
    @property
    def now(self) -> float:
        return self.kernel.now

    @property
    def api_time(self) -> float:
        """The cluster's clock as its API timestamps count it: seconds since sim.api.meta.EPOCH
        (compare with sim.api.meta.parse_timestamp to print ages)."""
        return self.kernel.now + self.kernel.epoch_offset

    def run_until(self, t: float, max_events: int | None = None) -> bool:
        """Run the cluster to virtual time `t`; True once there.  With `max_events`, stop
        after that many kernel events and answer False if `t` is not reached yet: a caller that
        must stay responsive runs long stretches in slices, yielding between them,
        `while not c.run_until(t, max_events=5000): await asyncio.sleep(0)`, and gets the same
        trace as one call.  Nothing here reads the wall clock."""
        return self.kernel.run_until(t, max_events=max_events)

    def advance(self, seconds: float, max_events: int | None = None) -> bool:
        """run_until(now + seconds, max_events).  For slices, fix the target once and loop on
        run_until: advance() again would count from wherever the last slice stopped."""
        return self.kernel.run_until(self.kernel.now + seconds, max_events=max_events)

    # -- the Kubernetes API -----------------------------------------------------------
    def apiserver_reachable(self) -> bool:
        return self.serving_apiserver() is not None

    def begin_request(self, req: dict) -> "PendingRequest":
        """Start one Kubernetes API request; poll it with request_reply / run_request.

        Sends `req` to the serving kube-apiserver over the simulated network, or answers it at
        once: 503 when no kube-apiserver is reachable; watches and reads at a given
        resourceVersion from the apiserver's watch cache (no virtual time passes).  Consistent
        reads (no resourceVersion) go to etcd's leader first, like writes; until the cache has
        loaded (just after a restart) everything waits for it.  The request's virtual deadline is
        now + REQUEST_TIMEOUT (kube-apiserver's --request-timeout): then it is a 504."""
        api = self.serving_apiserver()
        if api is None and req.get("verb") == "nonresource" and self.config.access != "owned" \
                and not (req.get("credentials") or {}).get("token") and not (req.get("credentials") or {}).get("impersonate"):
            # /version and /healthz of an open cluster need no API server to be allowed.
            return PendingRequest(None, self.kernel.now, {"code": 200, "body": st.success()})
        if api is None:
            return PendingRequest(None, self.kernel.now, {"code": 503, "body": st.unavailable(
                f"no kube-apiserver is reachable (control-plane node(s) {', '.join(self.cp_hosts)} down)")})
        query = req.get("query") or {}
        if api.synced and (req.get("verb") in ("watch", "discovery", "nonresource") or (
                req.get("verb") in READ_VERBS and (query.get("resourceVersion") or query.get("continue")))):
            out: list[dict] = []
            api.serve(req, out.append)
            if out:
                return PendingRequest(None, self.kernel.now, out[0])
        client = self.console_client if req.get("via") == VIA_CONSOLE else self.client
        rid = client.send_request(api.address, req)
        return PendingRequest(rid, self.kernel.now + REQUEST_TIMEOUT, client=client)

    def request_reply(self, pending: "PendingRequest") -> dict | None:
        """The response to a begun request, or None while it is in flight and its virtual
        deadline has not passed (then a 504 Timeout Status).  Runs nothing."""
        if pending.response is None:
            client = pending.client or self.client
            resp = client.take_reply(pending.rid)
            if resp is None and self.kernel.now >= pending.deadline:
                client.forget(pending.rid)
                resp = {"code": 504, "body": st.timeout()}
            pending.response = resp
        return pending.response

    def run_request(self, pending: "PendingRequest", max_events: int | None = None) -> dict | None:
        """Run the kernel until the request is answered or its deadline passes (at most
        `max_events` events), then request_reply(pending): None means "not yet, call again"."""
        if pending.response is None and pending.rid is not None:
            rid, replies = pending.rid, (pending.client or self.client).replies
            self.kernel.run_until(pending.deadline, stop=lambda: rid in replies, max_events=max_events)
        return self.request_reply(pending)

    def request(self, req: dict) -> dict:
        """One Kubernetes API request, run until answered (begin_request + run_request)."""
        pending = self.begin_request(req)
        resp = self.run_request(pending)
        while resp is None:  # only with a bounded run; kept for symmetry
            resp = self.run_request(pending)
        return resp

    # -- simulator commands -----------------------------------------------------------
    def _spec(self, name: str) -> NodeSpec:
        spec = self.specs.get(name)
        if spec is None:
            raise ClusterError(f'node "{name}" not found', 404)
        return spec

    def stream(self, node: str, token: str, stdin: str = "", close_stdin: bool = False,
               close: bool = False) -> dict | None:
        """The client's side of an exec -i/-t or attach session on `node`'s streaming server
        (sim/kubelet/streaming.py), as the connection kube-apiserver proxies to it carries it:
        deliver stdin, answer the output since the last call and whether it ended; `close`: the
        client went.  None: no such session (ended, or the node is down).  Input runs the
        events due now, so the process answers what it was given at once (an echo, a
        command's output) while no virtual time passes: its sleeps wait for the clock."""
        spec = self.specs.get(node)
        if spec is None or not spec.alive:
            return None
        server = self.node_components[node][0].streaming
        if close:
            server.close(token)
            return None
        answer = server.io(token, stdin, close_stdin)
        if answer is not None and (stdin or close_stdin) and not answer["done"]:
            self.kernel.run_until(self.kernel.now, max_events=STREAM_EVENTS)
            more = server.io(token)
            if more is not None:
                answer = {**more, "output": answer["output"] + more["output"]}
        return answer

    # -- a student's kubeadm install (sim/kubeadm_install.py) ------------------------------
    def _kubeadm_host(self, host: str, role: str) -> NodeSpec:
        if self.config.install != "kubeadm":
            raise ClusterError('this cluster came up installed: create one with "install": "kubeadm" '
                               "to run kubeadm on its hosts", 409)
        spec = self.specs.get(host) if isinstance(host, str) else None
        if spec is None:
            raise ClusterError(f'node "{host}" not found', 404)
        if spec.role != role:
            raise ClusterError(f'"{host}" is a {spec.role} host: kubeadm '
                               f'{"init runs on the control-plane host" if role == "control-plane" else "join runs on a worker"}', 400)
        if not spec.alive:
            raise ClusterError(f'host "{host}" is powered off', 409)
        run = self.kubeadm_runs.get(host)
        if run is not None and run.state == "running":
            raise ClusterError(f'kubeadm is already running on "{host}"', 409)
        return spec

    def _kubeadm_run(self, host: str, command: str, steps) -> dict:
        from sim.kubeadm_install import Kubeadm
        old = self.kubeadm_runs.pop(host, None)
        if old is not None:
            old.stop()
            self.kernel.remove_component(old)
        run = Kubeadm(self, host, command)
        self.kernel.add_component(run)
        run.start()
        self.kubeadm_runs[host] = run
        run.run(steps(run))
        return run.status()

    def kubeadm_init(self, host: str, upload_certs: bool = False) -> dict:
        """`kubeadm init [--upload-certs]` on the control-plane host: runs in virtual time;
        kubeadm_status() follows it."""
        from sim.kubeadm_install import init_steps
        if not isinstance(upload_certs, bool):
            raise ClusterError("uploadCerts must be true or false")
        self._kubeadm_host(host, "control-plane")
        return self._kubeadm_run(host, "kubeadm init" + (" --upload-certs" if upload_certs else ""),
                                 lambda run: init_steps(run, upload_certs))

    def kubeadm_join(self, host: str, token: str, control_plane: bool = False,
                     certificate_key: str | None = None) -> dict:
        """`kubeadm join <endpoint> --token <token>` on a host kubeadm has not set up; with
        `control_plane`, `--control-plane --certificate-key <key>`: the host becomes a
        control-plane node with a stacked etcd member (sim/kubeadm_install.py)."""
        from sim.kubeadm_install import join_steps
        if not isinstance(control_plane, bool):
            raise ClusterError("controlPlane must be true or false")
        if certificate_key is not None and not isinstance(certificate_key, str):
            raise ClusterError("certificateKey must be a string")
        self._kubeadm_host(host, "worker")
        command = f"kubeadm join --token {token}"
        if control_plane:
            command += " --control-plane" + (f" --certificate-key {certificate_key}" if certificate_key else "")
        return self._kubeadm_run(host, command,
                                 lambda run: join_steps(run, token, control_plane, certificate_key or ""))

    # `kubeadm join --control-plane`'s etcd and control plane (kubeadm's learner mode).
    def kubeadm_etcd_add_learner(self, host: str) -> tuple[str, str]:
        """kubeadm's etcd client, MemberAddAsLearner: proposes the new member (a learner) for
        `host`; answers (request id, member name).  The reply comes to self.client."""
        srv, name, _rec, change = self._etcd_add_change(host, True)
        return self.client.send_etcd_member_change(srv.address, change, "kubeadm: etcd member add --learner"), name

    def kubeadm_etcd_started(self, name: str) -> None:
        """The member's static pod started (etcd with --initial-cluster-state=existing)."""
        self._etcd_start_new(self._member(name))

    def kubeadm_etcd_promote(self, name: str) -> str | None:
        """kubeadm's MemberPromote: the request id, or None while etcd would refuse it (no
        leader, or the learner not in sync yet: kubeadm retries)."""
        leader = self._etcd_leader()
        if leader is None:
            return None
        try:
            self._may_promote_member(leader, name)
        except ClusterError:
            return None
        rec = self.etcd_records[name]
        change = {"type": ConfChangeAddNode, "nodeId": name,
                  "context": {"member": {"id": rec["id"], "name": name}, "isPromote": True}}
        return self.client.send_etcd_member_change(leader.address, change, "kubeadm: etcd member promote")

    def kubeadm_add_control_plane(self, host: str) -> None:
        """The joined host is a control-plane node from now on: its components are built as
        for a control-plane node at construction (_build_control_plane_host), its kubelet runs
        them as static pods beside its etcd member, and the control-plane load balancer gains
        its apiserver (every client's endpoints)."""
        spec = self.specs[host]
        spec.role = "control-plane"
        before = {a.address for a in self.apiservers}
        self.cp_hosts.append(host)
        comps = self._build_control_plane_host(host)
        api = comps[0]
        api.metrics_server = self.metrics_server.address
        for c in comps:
            self.kernel.add_component(c)
        self.control_plane.extend(comps + [m for m in self.etcd_members if m.host == host])
        runtime, kubelet, _ = self.node_components[host]
        kubelet.role = "control-plane"
        kubeadm.install(self, host, kubelet, runtime)
        for comp in list(self.kernel.components.values()):
            client = getattr(comp, "api", None)
            endpoints = getattr(client, "endpoints", None)
            if isinstance(endpoints, list) and endpoints and endpoints[0] in before and api.address not in endpoints:
                endpoints.append(api.address)
        for c in comps:
            c.start()
        self._boot_static_pods(host, rebooted=True)
        if kubelet.running:
            kubelet.sync_static_pods()

    def kubeadm_pod_network(self) -> dict:
        """`kubectl apply -f` of the CNI plugin's manifest (kube-flannel.yml, calico.yaml), the
        step between kubeadm init and a Ready node."""
        if self.config.install != "kubeadm":
            raise ClusterError('this cluster came up installed with its pod network', 409)
        if not self.config.kubeadm.get("addons"):
            raise ClusterError("run kubeadm init first: the pod network is applied to a running control plane", 409)
        self.config.kubeadm["podNetwork"] = True
        plugin = cni.plugin_for(self)
        objects = plugin.objects(self.config.pod_subnet) if hasattr(plugin, "objects") else []
        ordered = [(g, r, b) for g, r, _ns, b in objects if r == "namespaces"] + \
                  [(g, r, {**b, "metadata": {**b["metadata"], **({"namespace": ns} if ns else {})}})
                   for g, r, ns, b in objects if r != "namespaces"]
        self._apply_manifest(ordered)
        for addon in self.config.addons:
            self._apply_manifest(addons.manifest(addon))
        return self.kubeadm_status()

    def kubeadm_start_host(self, host: str, bootstrap_token: str | None = None, control_plane: bool = False) -> None:
        """kubeadm's kubelet-start: the kubelet runs from now on (and on every boot); on the
        control-plane host it starts the static pods kubeadm wrote: etcd and the control plane.
        `kubeadm join` gives the kubelet a bootstrap kubeconfig (`bootstrap_token`) instead of a
        kubelet.conf: it performs the TLS bootstrap before it registers (sim/kubelet/certificate.py)."""
        installed = self.config.kubeadm.setdefault("installed", [])
        if host not in installed:
            installed.append(host)
        if bootstrap_token:
            kubelet = self.node_components[host][1]
            kubelet.kubelet_conf, kubelet.bootstrap_kubeconfig = False, bootstrap_token
            self.config.kubeadm.setdefault("bootstrapping", {})[host] = bootstrap_token
        if control_plane:
            # join --control-plane: the kubelet registers its Node as a control-plane node's
            # (--register-with-taints, as on the host kubeadm init set up).
            kubelet = self.node_components[host][1]
            kubelet.role, kubelet.taints = "control-plane", [{"key": TAINT_CONTROL_PLANE, "effect": "NoSchedule"}]
        if host in self.cp_hosts:
            for m in self.etcd_members:
                if m.host == host and m.name not in self.stopped_members:
                    m.start()
            for c in self.cp_components[host]:
                c.start()
            self._boot_static_pods(host, rebooted=True)
            # kube-apiserver's own system namespaces; the addons and the pod network come later.
            self.kernel.call_later(0.05, lambda: self._bootstrap_namespaces(False, False))
        self.node_components[host][1].start()

    def kubeadm_remove_bootstrap_kubeconfig(self, host: str) -> None:
        """The end of join's kubelet-start phase: `os.Remove(bootstrap-kubelet.conf)`, whatever
        came of the bootstrap (a kubelet still waiting keeps the token it read)."""
        self.node_components[host][1].bootstrap_kubeconfig = None

    def kubelet_bootstrapped(self, host: str) -> bool:
        """Has the kubelet written /etc/kubernetes/kubelet.conf (what join's TLS bootstrap wait
        looks for)?"""
        return bool(self.node_components[host][1].kubelet_conf)

    def node_registered(self, host: str) -> bool:
        api = self.serving_apiserver()
        return api is not None and api.synced and ("", host) in api.cache.objects("nodes")

    def kubeadm_status(self, lines: int | None = None) -> dict:
        """The install's progress and each host's last kubeadm run (its output: all of it, or
        the last `lines` lines, as the page's frames carry it)."""
        from sim.kubeadm_install import control_plane_join_command, join_command
        state = self.config.kubeadm
        return {"install": self.config.install, "installed": list(state.get("installed", [])),
                "addons": bool(state.get("addons")), "podNetwork": bool(state.get("podNetwork")),
                "joinCommand": join_command(self),
                # init --upload-certs: the join command for control-plane nodes, with the key.
                "controlPlaneJoinCommand": control_plane_join_command(self),
                "hosts": [{"name": s.name, "role": s.role, "installed": self.host_installed(s.name),
                           "registered": self.node_registered(s.name)} for s in self.config.nodes],
                "runs": [r.status(lines) for r in self.kubeadm_runs.values()]}

    def kill_node(self, name: str) -> None:
        """Power the node off: its kubelet, kube-proxy and runtime stop and it drops off the
        network (on the control-plane node, the control plane goes with it)."""
        spec = self._spec(name)
        if not spec.alive:
            return
        spec.alive = False
        for c in self._node_agents(name):
            c.stop()
        self.node_components[name][0].power_off()   # every container ends: kube-proxy's too
        proxy = self.kube_proxy(name)
        if proxy.running:
            proxy.stop()
        proxy.reboot()                               # and the kernel's rules go with the power
        agent = self.cni_agents.get(name)
        if agent is not None and agent.running:
            agent.stop()
        if name in self.cp_hosts:
            for c in self.cp_components[name]:
                if c.running:
                    c.stop()
        for m in self.etcd_members + self.etcd_departed:  # etcd on the host, a static pod or not
            if m.host == name and m.running:
                m.stop()
        self.kernel.network.cut(name)
        self.kernel.emit("node", node=name, alive=False)

    def restore_node(self, name: str) -> None:
        spec = self._spec(name)
        if spec.alive:
            return
        spec.alive = True
        self.kernel.network.reconnect(name)
        if name in self.cp_hosts and self.host_installed(name):
            for m in self.etcd_members:
                if m.host == name and m.name not in self.stopped_members:
                    m.start()
            for c in self.cp_components[name]:
                c.start()
            self._boot_static_pods(name, rebooted=True)
        elif name not in self.cp_hosts:
            # An etcd member added on a worker runs as a plain process there (no static pod).
            for m in self.etcd_members:
                if m.host == name and m.name not in self.stopped_members and self.etcd_records[m.name].get("started"):
                    m.start()
        for c in self._node_agents(name):
            c.start()
        self.kernel.emit("node", node=name, alive=True)

    def add_node(self, name: str, cpu: str = "4", memory: str = "8Gi", pods: int = 110,
                 runtime: str = "containerd", kubelet_version: str = "", labels: dict | None = None) -> None:
        if not isinstance(name, str) or not is_dns1123_subdomain(name):
            raise ClusterError(f'invalid node name "{name}": must be a lowercase RFC 1123 subdomain')
        if name in self.specs or name in RESERVED_HOSTS:
            raise ClusterError(f'node "{name}" already exists', 409)
        for what, q in (("cpu", cpu), ("memory", memory)):
            try:
                if parse_quantity(str(q)) <= 0:
                    raise ClusterError(f"{what} must be greater than 0")
            except QuantityError as e:
                raise ClusterError(f"invalid {what} {q!r}: {e}") from e
        if runtime not in RUNTIMES:
            raise ClusterError(f'invalid runtime "{runtime}": must be one of {", ".join(RUNTIMES)}')
        kubelet_version, labels = check_node_identity(kubelet_version, labels)
        spec = NodeSpec(name, "worker", str(cpu), str(memory), int(pods), runtime=runtime,
                        kubelet_version=kubelet_version, labels=labels)
        self.config.nodes.append(spec)
        self._build_node(spec, len(self.config.nodes) - 1)
        for c in self._node_agents(name):
            c.start()
        self.kernel.emit("node", node=name, alive=True, added=True)

    def _boot_static_pods(self, host: str, rebooted: bool = False) -> None:
        kubeadm.boot_static_pods(self, host, [] if rebooted else self._persisted_mirrors, rebooted)

    def kill_component(self, node: str, component: str) -> dict:
        """Kill a control-plane component's process (`crictl stop`, `kill -9`): its static
        pod's container dies, and the node's kubelet restarts it."""
        return kubeadm.kill_component(self, node, component)

    def inject_fault(self, namespace: str, pod: str, body: Any) -> dict:
        """A fault in a pod's container (sim/podfaults.py); ClusterError for bad input."""
        try:
            return inject_pod_fault(self, namespace, pod, body)
        except PodFaultError as e:
            raise ClusterError(str(e), e.code) from None

    # -- load ---------------------------------------------------------------------------
    def _workload(self, namespace: str, kind: str, name: str):
        """The kind a word names ("deployment", "rs", "ReplicaSet", "deployments.apps") and
        the object, which must exist; ClusterError 404 otherwise."""
        res = self.apiserver.registry.resolve(kind) if isinstance(kind, str) and kind else None
        if res is None or not res.namespaced:
            raise ClusterError(f'the server doesn\'t have a resource type "{kind}"', 404)
        return res

    def set_load(self, namespace: str, kind: str, name: str, requests_per_second: float) -> dict:
        """Send `requests_per_second` HTTP requests a second to the ready pods of a workload
        (sim/loadgenerator.py); 0 stops it.  {"namespace", "kind", "name",
        "requestsPerSecond", "pods", "sent", "answered", "failed"}; ClusterError 400 for a bad
        rate, 404 for an unknown kind or workload."""
        rps = requests_per_second
        if isinstance(rps, bool) or not isinstance(rps, (int, float)) or not math.isfinite(rps) \
                or not 0 <= rps <= MAX_REQUESTS_PER_SECOND:
            raise ClusterError(f"requestsPerSecond must be a number from 0 to {MAX_REQUESTS_PER_SECOND:g}")
        res = self._workload(namespace, kind, name)
        if rps > 0:
            resp = self.request({"verb": "get", "group": res.group, "resource": res.name, "namespace": namespace,
                                 "name": name, "query": {"resourceVersion": "0"}})
            if resp["code"] != 200:
                raise ClusterError((resp.get("body") or {}).get("message") or f"{res.name} {name!r} not found",
                                   resp["code"])
        return self.load_generator.set_load(namespace, res.group, res.name, res.kind, name, float(rps))

    def load(self, namespace: str, kind: str, name: str) -> dict | None:
        """The load set on a workload (as set_load answers), or None."""
        res = self._workload(namespace, kind, name)
        return self.load_generator.load_of(namespace, res.group, res.name, name)

    def pod_cri_calls(self, namespace: str, pod: str) -> dict:
        """The CRI calls made for a pod on its node (sim/podfaults.py); ClusterError if none."""
        try:
            return pod_cri_calls(self, namespace, pod)
        except PodFaultError as e:
            raise ClusterError(str(e), e.code) from None

    def kube_proxy(self, node: str) -> KubeProxy:
        """The node's kube-proxy (ClusterError 404 for a node the cluster does not have)."""
        for c in self.node_components.get(node, ()):
            if isinstance(c, KubeProxy):
                return c
        raise ClusterError(f'node "{node}" not found', 404)

    def node_iptables(self, node: str) -> dict:
        """The rules kube-proxy last wrote on `node`, as iptables-save prints them
        (sim/kubeproxy.py): {"node", "mode", "rules", "syncedAt", "syncs", "services", ...}."""
        return self.kube_proxy(node).iptables()

    def node_routes(self, node: str) -> dict:
        """The node's routing table as `ip route` prints it, as the CNI plugin and its agent
        wrote it (sim/cni/): {"node", "cni", "podCIDR", "podCIDRs", "networkReady", "routes" (text),
        "routes6" (`ip -6 route`), "table": [{"dst", "dev", "via", "line"}], "links": {interface: address}}."""
        self._spec(node)
        net, plugin = self.node_components[node][0].network, cni.plugin_for(self)
        table = plugin.table(self, net)
        table6 = plugin.table(self, net, v6=True)
        return {"node": node, "cni": plugin.name, "podCIDR": net.pod_cidr, "podCIDRs": list(net.pod_cidrs),
                "networkReady": net.status()["status"],
                "routes": "".join(r.text() + "\n" for r in table),
                # `ip -6 route` (a dual-stack node's; empty otherwise)
                "routes6": "".join(r.text() + "\n" for r in table6),
                "table": [{"dst": r.dst, "dev": r.dev or None, "via": r.via, "line": r.text()} for r in table],
                "links": {"eth0": net.node_ip, **dict(sorted(net.links.items()))}}

    def send_traffic(self, body: Any) -> dict:
        """Requests traced hop by hop (sim/traffic.py); ClusterError for bad input."""
        try:
            return traffic.send(self, body)
        except traffic.TrafficError as e:
            raise ClusterError(str(e), e.code) from None
    def node_proxy_rules(self, node: str) -> dict:
        """The rules kube-proxy last wrote on `node` in its mode's own shape (sim/kubeproxy.py):
        {"node", "mode", "text", "syncedAt", "syncs", "services", "endpoints", "metrics", ...}."""
        return self.kube_proxy(node).proxy_rules()

    # -- etcd ---------------------------------------------------------------------------
    def _member(self, name: str) -> EtcdMember:
        for m in self.etcd_members:
            if m.name == name:
                return m
        raise ClusterError(f'etcd member "{name}" not found', 404)

    def kill_etcd_member(self, name: str) -> None:
        """Stop the member's process (its disk - keyspace, Raft log, term and vote - survives).
        An external member's host goes off the network with it."""
        m = self._member(name)
        self.stopped_members.add(name)
        if m.host in self.cp_hosts:
            # A stacked member is a static pod: it stays down as when its manifest is moved
            # out of /etc/kubernetes/manifests (the kubelet stops it and deletes its mirror pod).
            kubeadm.remove_etcd_manifest(self, m)
        if m.running:
            m.stop()
        if m.host not in self.specs:
            self.kernel.network.cut(m.host)
        self.kernel.emit("etcd", member=name, address=m.address, role="stopped", event="killed")

    def restore_etcd_member(self, name: str) -> None:
        m = self._member(name)
        self.stopped_members.discard(name)
        if m.host not in self.specs:
            self.kernel.network.reconnect(m.host)
        elif m.host in self.cp_hosts:
            # The manifest is back: the kubelet starts the static pod (once its node is up).
            kubeadm.restore_etcd_manifest(self, m)
            return
        elif not self.specs[m.host].alive:
            return  # its node is down: it starts when the node is restored
        if not m.running:
            m.start()
        self._etcd_mark_started(name)  # a member added but never started starts now

    def etcd_timeout_now(self, name: str) -> None:
        """Make the member's election timer fire now (RaftScope's "timeout" button): it starts
        a (pre-)election as if it had stopped hearing from a leader."""
        m = self._member(name)
        if not m.running:
            raise ClusterError(f'etcd member "{name}" is stopped', 409)
        m.campaign()

    def etcd_is_learner(self, name: str) -> bool:
        """Whether etcd member `name` is a learner (it votes on nothing and serves no client)."""
        return bool(self.etcd_records.get(name, {}).get("learner"))

    def etcd_transfer_leadership(self, to: str) -> None:
        """`etcdctl move-leader`: the leader catches `to` up and sends it MsgTimeoutNow, which
        starts an election that skips pre-vote (thesis §3.10).  Answered, as etcdserver's
        MoveLeader answers, once `to` leads - the kernel runs until then - or with etcd's
        ErrTimeoutLeaderTransfer (504) after the request timeout: a transferee that does not
        catch up within an election timeout makes the leader abort the transfer, and one that is
        a pre-candidate at that moment ignores MsgTimeoutNow (raft's stepCandidate)."""
        target = self._member(to)
        if self.etcd_is_learner(to):
            raise ClusterError("etcdserver: bad leader transferee (a learner cannot lead)", 409)
        leader = next((m for m in self.etcd_members if m.is_leader), None)
        if leader is None:
            raise ClusterError("etcdserver: no leader", 503)
        if not target.running:
            raise ClusterError(f'etcd member "{to}" is stopped', 409)
        if leader is target:
            return
        leader.transfer_leadership(to)
        self.kernel.run_until(self.kernel.now + ETCD_REQUEST_TIMEOUT, stop=lambda: target.is_leader)
        if not target.is_leader:
            raise ClusterError("etcdserver: request timed out, leader transfer took too long", 504)

    def etcd_put(self, key: str, value: str, member: str | None = None) -> dict:
        """`etcdctl put`: a client write straight to etcd (to `member`, default the first one
        running), acknowledged after commit.  ClusterError 504 when no quorum commits it within
        etcd's request timeout."""
        if not isinstance(key, str) or not key or not isinstance(value, str):
            raise ClusterError("key and value must be non-empty strings")
        voters = [x for x in self.etcd_members if not self.etcd_is_learner(x.name)]
        m = self._member(member) if member else next((x for x in voters if x.running), None)
        if m is None or not m.running:
            raise ClusterError("no etcd member is running", 503)
        if self.etcd_is_learner(m.name):
            raise ClusterError("etcdserver: rpc not supported for learner", 503)
        rid = self.client.send_etcd_put(m.address, key, value)
        replies = self.client.replies
        self.kernel.run_until(self.kernel.now + ETCD_REQUEST_TIMEOUT, stop=lambda: rid in replies)
        reply = self.client.take_reply(rid)
        if reply is None:
            self.client.forget(rid)
            raise ClusterError("etcdserver: request timed out", 504)
        return {"key": key, "revision": reply["revision"], "member": m.name}

    def etcd_compact(self, revision: int | None = None) -> int:
        """`etcdctl compact`: drop history before `revision` (default: the current one).
        Watches and reads from older revisions then fail with "required revision has been
        compacted"."""
        current = max(m.store.revision for m in self.etcd_members)
        compacted = max(m.store.compact_revision for m in self.etcd_members)
        rev = current if revision is None else revision
        if not isinstance(rev, int) or isinstance(rev, bool):
            raise ClusterError("revision must be an integer")
        if rev <= compacted:
            raise ClusterError(f"mvcc: required revision has been compacted (compacted at {compacted})")
        if rev > current:
            raise ClusterError("mvcc: required revision is a future revision")
        m = next((x for x in self.etcd_members if x.running and not self.etcd_is_learner(x.name)),
                 None)
        if m is None:
            raise ClusterError("no etcd member is running", 503)
        self.kernel.network.send(self.client.address, m.address, {"type": "etcd.compact", "revision": rev},
                                 "etcdctl compact")
        self.advance(0.5)
        return rev

    def etcd_snapshot_save(self) -> dict:
        """`etcdctl snapshot save`: the keyspace of a member as it is now (the leader's, when
        there is one), as {"revision", "kvs": [[key, value, mod_revision], ...]}."""
        m = next((x for x in self.etcd_members if x.is_leader), None) or \
            next((x for x in self.etcd_members if x.running), self.etcd_members[0])
        kvs = m.store.range("")
        return {"member": m.name, "revision": m.store.revision,
                "kvs": [[kv.key, kv.value, kv.mod_revision] for kv in kvs]}

    def etcd_snapshot_restore(self, snapshot: dict) -> None:
        """`etcdutl snapshot restore` on every member, then restart them as a new cluster: each
        member's keyspace becomes the snapshot's (its revision included), Raft logs start
        empty, and every kube-apiserver relists."""
        try:
            kvs = sorted(((str(k), str(v), int(r)) for k, v, r in snapshot["kvs"]), key=lambda x: x[2])
            revision = int(snapshot["revision"])
        except (KeyError, TypeError, ValueError):
            raise ClusterError("not a snapshot: expected {\"revision\", \"kvs\": [[key, value, mod_revision], ...]}") from None
        was_running = {m.name: m.running for m in self.etcd_members}
        for m in self.etcd_members:
            if m.running:
                m.stop()
        # etcd is down while etcdutl restores: what the old members had in flight (txn replies,
        # watch events, Raft messages of the old keyspace) lands first, or a kube-apiserver
        # could apply it after it relisted the restored keyspace.
        addresses = {m.address for m in self.etcd_members}
        landed = max((t for (src, _), t in self.kernel.network.last_arrival.items() if src in addresses),
                     default=0.0)
        if landed > self.kernel.now:
            self.kernel.run_until(landed)
        # etcdutl makes a new cluster of the members given in --initial-cluster, every one a
        # voter (a learner comes back as one) and no removed IDs.
        for spec in self.etcd_records.values():
            spec["learner"] = False
        records = [self._etcd_record(spec) for spec in self.etcd_records.values()]
        if self.config.etcd_membership:
            self.etcd_removed = []
            self._save_membership()
        for m in self.etcd_members:
            store = MVCCStore()
            for key, value, rev in kvs:
                store.replay(rev, key, value)
            store.revision = max(store.revision, revision)
            self._hook_store(store)
            m.store = store
            m.raft_storage = type(m.raft_storage)()
            m.applied_index = 0
            m.set_membership(records)
            if was_running[m.name]:
                m.start()
        self._etcd_base = (records, self.etcd_members[0].conf_state, [])
        self._etcd_conf_index = 0
        # A new keyspace: persistence records its writes from the restored revision on (they
        # may reuse revisions the old keyspace had), and the old keyspace's writes not yet
        # handed out by committed_since are gone with it.
        self.store = self.etcd_members[0].store
        self._recorded = self.store.revision
        self._commits.clear()
        self.kernel.emit("etcd", event="snapshot-restore", revision=revision)
        for api in self.apiservers:
            if api.running:
                api.relist()

    def etcd_status(self) -> list[dict]:
        """The member list with each member's endpoint status (role, term, indexes, db size),
        its etcd member ID, whether it is a learner and whether it ever started."""
        out = []
        for m in self.etcd_members:
            spec = self.etcd_records.get(m.name) or {}
            out.append({**m.status(), "id": spec.get("id"), "isLearner": bool(spec.get("learner")),
                        "started": bool(spec.get("started", True))})
        return out

    # -- etcd membership (etcdctl member list / add / promote / remove) ---------------------
    # etcd's errors for these, as etcdctl prints them (api/v3rpc/rpctypes), and the HTTP status
    # the control API answers them with (gRPC FailedPrecondition -> 409, Unavailable -> 503).
    ERR_NOT_ENOUGH_STARTED = "etcdserver: re-configuration failed due to not enough started members"
    ERR_UNHEALTHY = "etcdserver: unhealthy cluster"
    ERR_LEARNER_NOT_READY = "etcdserver: can only promote a learner member which is in sync with leader"
    # server/etcdserver/server.go readyPercentThreshold: a learner is "in sync" when its Match is
    # at least 90% of the leader's.
    LEARNER_READY_PERCENT = 0.9
    # etcdserver HealthInterval: a peer must have been connected this long to count as healthy.
    HEALTH_INTERVAL = 5.0
    # The client's deadline for a membership change (etcd's request timeout).
    MEMBER_CHANGE_TIMEOUT = ETCD_REQUEST_TIMEOUT

    def etcd_member_list(self) -> list[dict]:
        """`etcdctl member list -w json`: the members as the leader (or else a running member)
        applied them: {"ID", "name", "peerURLs", "clientURLs", "isLearner", "started", "host"}."""
        srv = self._etcd_serving()
        if srv is None:
            raise ClusterError("no etcd member is running", 503)
        return [self._public_member(r) for r in srv.member_list()]

    def _public_member(self, r: dict) -> dict:
        spec = self.etcd_records.get(r["name"]) or {}
        return {"ID": r["id"], "name": r["name"], "peerURLs": list(r["peerURLs"]), "clientURLs": list(r["clientURLs"]),
                "isLearner": bool(r["isLearner"]), "started": bool(spec.get("started", True)), "host": r["host"]}

    def _etcd_leader(self) -> EtcdMember | None:
        leaders = [m for m in self.etcd_members if m.is_leader]
        return max(leaders, key=lambda m: m.raft.term) if leaders else None

    def _etcd_serving(self) -> EtcdMember | None:
        """The member etcdctl's request is served by: the leader, whose transport knows every
        peer (in the simulator peers exchange only Raft messages, and a follower hears from the
        leader alone); without one, the first running voter."""
        leader = self._etcd_leader()
        if leader is not None:
            return leader
        running = [m for m in self.etcd_members if m.running]
        return next((m for m in running if not self.etcd_is_learner(m.name)), None) or \
            next(iter(running), None)

    def _etcd_voting(self) -> list[dict]:
        return [r for r in self.etcd_records.values() if not r.get("learner")]

    def _etcd_connected_since(self, srv: EtcdMember, name: str) -> bool:
        since = srv.active_since(name)
        return since is not None and since <= self.kernel.now - self.HEALTH_INTERVAL

    def _may_add_member(self, srv: EtcdMember, learner: bool) -> None:
        """EtcdServer.mayAddMember (with --strict-reconfig-check)."""
        voting = self._etcd_voting()
        if not learner:
            # RaftCluster.IsReadyToAddVotingMember: the started voters must be a quorum of the
            # voters with the new one (adding a second member to a one-member cluster is allowed).
            nmembers = len(voting) + 1
            nstarted = sum(1 for r in voting if r.get("started", True))
            if not (nstarted == 1 and nmembers == 2) and nstarted < nmembers // 2 + 1:
                raise ClusterError(self.ERR_NOT_ENOUGH_STARTED, 409)
        # isConnectedFullySince: every voting member connected for HealthInterval.
        if any(r["name"] != srv.name and not self._etcd_connected_since(srv, r["name"]) for r in voting):
            raise ClusterError(self.ERR_UNHEALTHY, 503)

    def _may_remove_member(self, srv: EtcdMember, name: str) -> None:
        """EtcdServer.mayRemoveMember (with --strict-reconfig-check)."""
        if self.etcd_records[name].get("learner"):
            return  # a learner is not part of any quorum
        voting = self._etcd_voting()
        rest = [r for r in voting if r["name"] != name]
        nstarted = sum(1 for r in rest if r.get("started", True))
        if nstarted < len(rest) // 2 + 1:  # IsReadyToRemoveVotingMember
            raise ClusterError(self.ERR_NOT_ENOUGH_STARTED, 409)
        if name != srv.name and srv.active_since(name) is None:
            return  # a member that is down is safe to remove: it is not part of the active quorum
        active = sum(1 for r in voting if r["name"] == srv.name or self._etcd_connected_since(srv, r["name"]))
        if active - 1 < 1 + (len(voting) - 1) // 2:
            raise ClusterError(self.ERR_UNHEALTHY, 503)

    def _may_promote_member(self, leader: EtcdMember, name: str) -> None:
        """EtcdServer.mayPromoteMember: isLearnerReady on the leader, then (strict)
        IsReadyToPromoteMember."""
        progress = leader.raft.prs
        if name not in progress:
            raise ClusterError(f'etcd member "{name}" not found: etcdserver: member not found', 404)
        leader_match = progress[leader.name].match if leader.name in progress else leader.raft.log.last_index()
        if leader_match and progress[name].match / leader_match < self.LEARNER_READY_PERCENT:
            raise ClusterError(self.ERR_LEARNER_NOT_READY, 409)
        if self.config.etcd_strict_reconfig_check:
            voting = self._etcd_voting()
            nmembers = len(voting) + 1
            nstarted = 1 + sum(1 for r in voting if r.get("started", True))
            if nstarted < nmembers // 2 + 1:
                raise ClusterError(self.ERR_NOT_ENOUGH_STARTED, 409)

    def _etcd_configure(self, srv: EtcdMember, change: dict, label: str) -> dict:
        """EtcdServer.configure as the client sees it: the member proposes the change and answers
        once it applied it; etcd's request timeout without an answer (no quorum, or the leader
        turned the change into an empty entry because another one was pending)."""
        rid = self.client.send_etcd_member_change(srv.address, change, label)
        replies = self.client.replies
        self.kernel.run_until(self.kernel.now + self.MEMBER_CHANGE_TIMEOUT, stop=lambda: rid in replies)
        reply = self.client.take_reply(rid)
        if reply is None:
            self.client.forget(rid)
            raise ClusterError("etcdserver: request timed out", 504)
        if reply.get("error"):
            code, message = reply["error"]
            raise ClusterError(message, 404 if code == "NotFound" else 409)
        return reply

    def _etcd_member_by_name_or_id(self, member: str) -> dict:
        if not isinstance(member, str) or not member:
            raise ClusterError("member: Required value (an etcd member's name or hex ID)")
        for r in self.etcd_records.values():
            if member in (r["name"], r["id"]):
                return r
        raise ClusterError(f'etcd member "{member}" not found', 404)


    def _etcd_add_change(self, host: Any, learner: bool) -> tuple:
        """etcd's checks before a member add, and the ConfChange: (serving member, new member's
        name, its record, the change)."""
        if not isinstance(learner, bool):
            raise ClusterError("learner must be true or false")
        if not isinstance(host, str) or not host or not is_dns1123_subdomain(host):
            raise ClusterError(f'invalid host {host!r}: a node name, or a new host\'s name (a lowercase RFC 1123 subdomain)')
        if host in RESERVED_HOSTS:
            raise ClusterError(f'host "{host}" is reserved')
        spec = self.specs.get(host)
        if spec is not None and not spec.alive:
            raise ClusterError(f'host "{host}" is powered off', 409)
        here = next((m for m in self.etcd_members if m.host == host), None)
        if here is not None:
            raise ClusterError(f'host "{host}" already runs etcd member "{here.name}"', 409)
        for old in [m for m in self.etcd_departed if m.host == host]:
            runtime = self.node_components[host][0] if host in self.node_components else None
            if old.running or (runtime is not None and runtime.host_processes.get("etcd") is old):
                raise ClusterError(f'host "{host}" still runs the removed etcd member "{old.name}" '
                                   f"(its static pod: remove /etc/kubernetes/manifests/etcd.yaml there first, as "
                                   f"kubeadm reset does)", 409)
            self.kernel.remove_component(old)
            self.etcd_departed.remove(old)
        srv = self._etcd_serving()
        if srv is None:
            raise ClusterError("no etcd member is running", 503)
        if self.config.etcd_strict_reconfig_check:
            self._may_add_member(srv, learner)
        # Member names are never reused (a removed member's may still be known to someone).
        name = f"etcd-{self._etcd_next}"
        self._etcd_next += 1
        unix_now = int(EPOCH.timestamp() + self.kernel.epoch_offset + self.kernel.now)
        rec = self._etcd_record({"name": name, "host": host, "learner": learner,
                                 "id": member_id([self._etcd_peer_url(host)], "", unix_now)})
        change = {"type": ConfChangeAddLearnerNode if learner else ConfChangeAddNode, "nodeId": name,
                  "context": {"member": rec}}
        return srv, name, rec, change

    def etcd_member_add(self, host: Any, learner: bool = False) -> dict:
        """`etcdctl member add etcd-N --peer-urls=https://<host>:2380 [--learner]`, then etcd
        started on `host` with --initial-cluster-state=existing: an empty disk that catches up
        from the leader (its log, or a snapshot).  `host` is a node without an etcd member, or
        a new host of its own (an external etcd's).  Answers {"member", "members",
        "initialCluster"}."""
        srv, name, rec, change = self._etcd_add_change(host, learner)
        reply = self._etcd_configure(srv, change, "etcdctl member add" + (" --learner" if learner else ""))
        m = self._member(name)
        self._etcd_start_new(m)
        records = [self._etcd_record(r) for r in self.etcd_records.values()]
        return {"member": self._public_member(dict(rec, isLearner=learner)),
                "members": [self._public_member(r) for r in reply["members"]],
                "initialCluster": ",".join(f"{r['name']}={r['peerURLs'][0]}" for r in records),
                "initialClusterState": "existing"}

    def _etcd_start_new(self, m: EtcdMember) -> None:
        """Start a member just added (etcd on its host, --initial-cluster-state=existing)."""
        spec = self.specs.get(m.host)
        if spec is not None and not spec.alive:
            return
        if m.host not in self.specs:
            self.kernel.network.reconnect(m.host)
        if not m.running:
            m.start()
        self._etcd_mark_started(m.name)

    def _etcd_mark_started(self, name: str) -> None:
        spec = self.etcd_records.get(name)
        if spec is not None and not spec.get("started", True):
            spec["started"] = True
            self._save_membership()

    def etcd_member_promote(self, member: str) -> dict:
        """`etcdctl member promote <id>`: the learner becomes a voter - once the leader sees its
        log in sync (etcd: "can only promote a learner member which is in sync with leader")."""
        rec = self._etcd_member_by_name_or_id(member)
        leader = self._etcd_leader()
        if leader is None:
            # etcd forwards a promotion to the leader and waits for one (waitLeader).
            self.kernel.run_until(self.kernel.now + self.MEMBER_CHANGE_TIMEOUT,
                                  stop=lambda: self._etcd_leader() is not None)
            leader = self._etcd_leader()
            if leader is None:
                raise ClusterError("etcdserver: request timed out", 504)
        self._may_promote_member(leader, rec["name"])
        change = {"type": ConfChangeAddNode, "nodeId": rec["name"],
                  "context": {"member": {"id": rec["id"], "name": rec["name"]}, "isPromote": True}}
        reply = self._etcd_configure(leader, change, "etcdctl member promote")
        return {"member": rec["name"], "members": [self._public_member(r) for r in reply["members"]]}

    def etcd_member_remove(self, member: str) -> dict:
        """`etcdctl member remove <id>`: the member leaves the configuration; once it applies
        that it stops itself (and a static pod's container then keeps failing: its manifest is
        still there).  Refused, with --strict-reconfig-check, when the voters left could not
        form a quorum."""
        rec = self._etcd_member_by_name_or_id(member)
        srv = self._etcd_serving()
        if srv is None:
            raise ClusterError("no etcd member is running", 503)
        if self.config.etcd_strict_reconfig_check:
            self._may_remove_member(srv, rec["name"])
        change = {"type": ConfChangeRemoveNode, "nodeId": rec["name"],
                  "context": {"member": {"id": rec["id"], "name": rec["name"]}}}
        reply = self._etcd_configure(srv, change, "etcdctl member remove")
        return {"member": rec["name"], "members": [self._public_member(r) for r in reply["members"]]}

    def _etcd_conf_applied(self, member: EtcdMember, index: int, cc, err) -> None:
        """A member applied a configuration change: the first to apply index `index` makes the
        cluster follow it (every member applies the same change there)."""
        if index <= self._etcd_conf_index:
            return
        self._etcd_conf_index = index
        if err is not None or cc.node_id is None:
            return
        ctx = cc.context or {}
        name = cc.node_id
        if cc.type == ConfChangeRemoveNode:
            spec = self.etcd_records.pop(name, None)
            if spec is not None:
                self.etcd_removed.append({"name": name, "host": spec["host"], "id": spec["id"]})
            gone = next((m for m in self.etcd_members if m.name == name), None)
            if gone is not None:
                self.etcd_members.remove(gone)
                self.etcd_departed.append(gone)
                self.stopped_members.discard(name)
                if gone in self.control_plane:
                    self.control_plane.remove(gone)
                if self.store is gone.store and self.etcd_members:
                    self.store = self.etcd_members[0].store
                if self.etcd is gone and self.etcd_members:
                    self.etcd = self.etcd_members[0]
        elif ctx.get("isPromote"):
            if name in self.etcd_records:
                self.etcd_records[name]["learner"] = False
        else:
            rec = ctx["member"]
            self.etcd_records[name] = {"name": name, "host": rec["host"], "id": rec["id"],
                                       "learner": cc.type == ConfChangeAddLearnerNode, "started": False}
            m = self._etcd_member_object(rec["host"], MVCCStore(), name)
            base_records, base_cs, base_removed = self._etcd_base
            m.set_membership(base_records, conf_state=base_cs, removed=base_removed,
                             transport=[self._etcd_record(r) for r in self.etcd_records.values()])
            old = self.kernel.components.get(m.address)
            if old is not None and not old.running:
                self.kernel.remove_component(old)
            if m.address not in self.kernel.components:
                self.kernel.add_component(m)
            self.etcd_members.append(m)
            if m.host in self.cp_hosts:
                self.control_plane.append(m)
        self._save_membership()
        self.kernel.emit("etcd", event="membership", change=cc.type, member=name,
                         promote=bool(ctx.get("isPromote")), index=index)

    def _save_membership(self) -> None:
        self.config.etcd_membership = {
            "members": [dict(r) for r in self.etcd_records.values()],
            "removed": [dict(r) for r in self.etcd_removed],
            "next": self._etcd_next,
        }

    def _etcd_removed_exit(self, m: EtcdMember) -> None:
        """A removed member's process exited.  Run by a static pod (stacked), its container
        fails and the kubelet restarts it - to exit again, in CrashLoopBackOff, until the
        manifest is removed."""
        if m.host in self.cp_hosts and m.host in self.node_components:
            self.node_components[m.host][0].process_killed(m, 1)

    # -- network faults ------------------------------------------------------------------
    def hosts(self) -> list[str]:
        return [spec.name for spec in self.config.nodes]

    def partition(self, groups: list[list[str]]) -> None:
        """Cut the network between groups of hosts (node names).  Hosts in no group keep
        reaching everyone; the processes keep running on every side, so a worker cut off from
        the control plane keeps its containers running while the cluster thinks it is gone."""
        if not isinstance(groups, list) or len(groups) < 2 or not all(isinstance(g, list) and g for g in groups):
            raise ClusterError("groups must be a list of at least two non-empty lists of node names")
        # Names may be nodes or etcd members (a stacked member stands for its node's host).
        host_of = {h: h for h in self.hosts()}
        host_of.update({m.name: m.host for m in self.etcd_members})
        hosts = []
        for g in groups:
            for h in g:
                if h not in host_of:
                    raise ClusterError(f'node or etcd member "{h}" not found', 404)
            hosts.append(sorted({host_of[h] for h in g}))
        try:
            self.kernel.network.partition(hosts)
        except ValueError as e:
            raise ClusterError(str(e)) from None
        self.kernel.emit("network", partition=hosts)

    def set_link(self, a: str, b: str, latency_ms: float | None = None, loss: float | None = None) -> dict:
        """Degrade the link between two hosts (node or etcd member names): one-way latency in
        milliseconds and a share of messages lost (0..1).  `heal` restores every link."""
        host_of = {h: h for h in self.hosts()}
        host_of.update({m.name: m.host for m in self.etcd_members})
        for name in (a, b):
            if name not in host_of:
                raise ClusterError(f'node or etcd member "{name}" not found', 404)
        if host_of[a] == host_of[b]:
            raise ClusterError(f"{a} and {b} are on the same host")
        if latency_ms is not None and (isinstance(latency_ms, bool) or not isinstance(latency_ms, (int, float))
                                       or not 0 <= latency_ms <= 60_000):
            raise ClusterError("latencyMs must be a number from 0 to 60000")
        if loss is not None and (isinstance(loss, bool) or not isinstance(loss, (int, float)) or not 0 <= loss <= 1):
            raise ClusterError("loss must be a number from 0 to 1")
        self.kernel.network.set_link(host_of[a], host_of[b],
                                     latency=None if latency_ms is None else latency_ms / 1000.0, loss=loss)
        self.kernel.emit("network", link=[host_of[a], host_of[b]], latencyMs=latency_ms, loss=loss)
        return self.network_state()

    def heal(self) -> None:
        self.kernel.network.heal()
        self.kernel.emit("network", partition=[])

    def network_state(self) -> dict:
        groups: dict[int, list[str]] = {}
        for h, i in self.kernel.network.partition_of.items():
            groups.setdefault(i, []).append(h)
        links = [{"hosts": sorted(pair), "latencyMs": round(link.latency * 1000, 3), "loss": link.loss}
                 for pair, link in sorted(self.kernel.network.links.items(), key=lambda kv: sorted(kv[0]))]
        return {"partition": [sorted(groups[i]) for i in sorted(groups)], "links": links}

    # -- per-cluster timings, like the real components' flags ---------------------------
    TIMINGS = {
        # name: (kube-controller-manager / admission flag it mirrors)
        "node_monitor_grace_period": "--node-monitor-grace-period",
        "node_monitor_period": "--node-monitor-period",
        "default_toleration_seconds": "--default-not-ready-toleration-seconds / --default-unreachable-toleration-seconds",
    }

    def timings(self) -> dict:
        return {k: getattr(self.config, k) for k in self.TIMINGS}

    def configure(self, **timings) -> dict:
        """Change timings at run time.  The controller manager picks up its periods on its
        next pass; a new toleration applies to pods created from now on (admission), as it
        would after restarting kube-apiserver with the new flag."""
        for k, v in timings.items():
            if k not in self.TIMINGS:
                raise ClusterError(f"unknown setting {k!r}; known: {', '.join(self.TIMINGS)}")
            try:
                v = float(v)
            except (TypeError, ValueError):
                raise ClusterError(f"{k} must be a number of seconds") from None
            if v < 0 or (k != "default_toleration_seconds" and v <= 0):
                raise ClusterError(f"{k} must be greater than 0")
        for k, v in timings.items():
            if k == "default_toleration_seconds":
                self.config.default_toleration_seconds = int(float(v))
                for api in self.apiservers:
                    api.toleration_seconds = int(float(v))
            else:
                setattr(self.config, k, float(v))
                for cm in self.controller_managers:
                    setattr(cm, k, float(v))
        return self.timings()

    # -- observation ------------------------------------------------------------------
    def drain_events(self) -> list[dict[str, Any]]:
        return self.kernel.drain_trace()

    def committed_since(self, revision: int) -> list[dict]:
        """Committed etcd entries after `revision` not yet handed out (for persistence).
        Entries at or before `revision` are forgotten: the caller has stored them."""
        self._commits[:] = [e for e in self._commits if e["revision"] > revision]
        return list(self._commits)

    @property
    def compacted_revision(self) -> int:
        return self.store.compact_revision

    def topology(self) -> dict:
        return {"config": self.config.to_json(), "cp_host": self.cp_host}

    @staticmethod
    def _pod_entry(pod: dict) -> dict:
        md, spec, status = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
        ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
        owner = next((f"{r['kind']}/{r['name']}" for r in md.get("ownerReferences") or [] if r.get("controller")), None)
        waiting = next((cs["state"]["waiting"].get("reason") for cs in status.get("containerStatuses") or []
                        if "waiting" in (cs.get("state") or {})), None)
        try:
            shown = pod_status_column(pod)
        except Exception:  # noqa: BLE001 - a status no printer foresaw: the phase will do
            shown = status.get("phase", "Pending")
        # "status": what `kubectl get pods` prints in STATUS (CrashLoopBackOff, Completed,
        # Init:0/1, ImagePullBackOff ...), which the page writes on the pod's chip.
        return {"namespace": md["namespace"], "name": md["name"], "phase": status.get("phase", "Pending"),
                "reason": waiting, "status": shown, "ready": ready, "terminating": bool(md.get("deletionTimestamp")),
                "ip": status.get("podIP"), "owner": owner, "node": spec.get("nodeName"),
                "nominated": status.get("nominatedNodeName")}

    def snapshot(self, pod_limit: int | None = None, pending_shown: int = 50,
                 replicasets_shown: int | None = None) -> dict:
        """The dashboard's state (format in the module docstring).  Never raises on what the
        cluster holds: an object it cannot render is left out and listed, with etcd values
        that do not decode, in "corrupt": [{"key", "message"}] (at most MAX_CORRUPT_LISTED).

        With `pod_limit`, a cluster of more pods is summarised at a cost that does not grow
        with them: `summarised: true`, `podTotal`; each node's "pods" empty, with `podCounts`
        ({phase or "Terminating": n}) and `podTotal`; "pending" the first `pending_shown`
        unbound pods by name, with `pendingTotal`.  With `replicasets_shown`, at most that many
        ReplicaSets, with `replicasetsTotal` when there are more."""
        api = self.serving_apiserver() or self.apiserver
        cache = api.cache
        census = cache.observers["pods"]  # the pods' PodCensus (sim/registry/core/pods.py)
        objs = cache.resources
        corrupt: list[dict] = []
        summarised = pod_limit is not None and len(objs["pods"].objects) > pod_limit

        def unrenderable(res_name: str, key: tuple[str, str], e: Exception) -> None:
            if len(corrupt) < MAX_CORRUPT_LISTED:
                res = api.registry.by_gr(res_name)
                corrupt.append({"key": res.key(key[0] or None, key[1]), "message": f"cannot be shown: {type(e).__name__}: {e}"})

        pods_by_node: dict[str | None, list[dict]] = {}
        pod_objects = objs["pods"].objects
        # Summarised: the first unbound pods in key order (the cache keeps the keys sorted;
        # when most pods are unbound this stops after a few).
        shown = pod_objects.items() if not summarised else [
            (k, pod_objects[k]) for k in itertools.islice(
                (k for k in cache.sorted_keys("pods") if k in census.unbound), pending_shown)]
        entries, self._pod_entries = self._pod_entries, {}
        for key, pod in shown:
            try:
                rv = pod["metadata"].get("resourceVersion")
                made = entries.get(key)
                entry = made[1] if made is not None and made[0] == rv and rv else self._pod_entry(pod)
                self._pod_entries[key] = (rv, entry)
                entry = dict(entry)
                pods_by_node.setdefault(entry["node"], []).append(entry)
            except Exception as e:  # noqa: BLE001 - a value of an unforeseen shape is skipped
                unrenderable("pods", key, e)
        for lst in pods_by_node.values():
            lst.sort(key=lambda p: (str(p["namespace"]), str(p["name"])))
        nodes = []
        for spec in self.config.nodes:
            node = objs["nodes"].objects.get(("", spec.name))
            comps = self.node_components[spec.name]
            try:
                nstatus, nspec = (node or {}).get("status") or {}, (node or {}).get("spec") or {}
                ready = node_ready_status(node) if node else "Unknown"
                allocatable, taints = nstatus.get("allocatable", {}), nspec.get("taints", [])
                unschedulable = bool(nspec.get("unschedulable"))
            except Exception as e:  # noqa: BLE001
                unrenderable("nodes", ("", spec.name), e)
                ready, allocatable, taints, unschedulable = "Unknown", {}, [], False
            nodes.append({"name": spec.name, "role": spec.role, "alive": spec.alive, "cpu": spec.cpu,
                          "memory": spec.memory, "registered": node is not None, "ready": ready,
                          "unschedulable": unschedulable, "allocatable": allocatable, "taints": taints,
                          "components": [{"name": c.component, "address": c.address, "running": c.running}
                                         for c in (comps[1], comps[2], comps[0])],
                          "pods": pods_by_node.get(spec.name, [])})
            if summarised:
                counts = dict(census.counts.get(spec.name) or {})
                nodes[-1].update(podCounts=counts, podTotal=sum(counts.values()))
        rss = []
        for key, rs in cache.objects("replicasets.apps").items():
            try:
                s = rs.get("status") or {}
                rss.append({"namespace": rs["metadata"]["namespace"], "name": rs["metadata"]["name"],
                            "replicas": rs["spec"].get("replicas", 1), "current": s.get("replicas", 0),
                            "ready": s.get("readyReplicas", 0), "available": s.get("availableReplicas", 0)})
            except Exception as e:  # noqa: BLE001
                unrenderable("replicasets.apps", key, e)
        rss.sort(key=lambda r: (str(r["namespace"]), str(r["name"])))
        for rc in objs.values():
            for c in list(rc.corrupt.values())[:MAX_CORRUPT_LISTED - len(corrupt)]:
                corrupt.append({"key": c.key, "message": c.error})
        extra: dict[str, Any] = {}
        if summarised:
            extra = {"summarised": True, "podTotal": len(pod_objects), "pendingTotal": len(census.unbound)}
        if replicasets_shown is not None and len(rss) > replicasets_shown:
            extra.update(summarised=True, replicasetsTotal=len(rss))
            rss = rss[:replicasets_shown]
        return {**extra, "cluster": self.name, "time": round(self.now, 3), "resourceVersion": cache.rv,
                "nodes": nodes,
                "control_plane": [{"name": c.component, "address": c.address, "host": c.host, "running": c.running,
                                   "leading": getattr(c, "leading", None) if c.running else False}
                                  for c in self.control_plane],
                "pending": pods_by_node.get(None, []),
                "etcd": self.etcd_status(),
                "network": self.network_state(),
                "scheduler": self._scheduler_frame(),
                "replicasets": rss,
                "kinds": self._kinds_frame(api),
                "workloads": self._workloads.frame(cache, self.api_time, self._loads()),
                **({"cloud": self.cloud.frame(KIND_OBJECTS_SHOWN)} if self.config.cloud_provider == "simulated" else {}),
                **({"kubeadm": self.kubeadm_status(KUBEADM_LINES_SHOWN)} if self.config.install == "kubeadm" else {}),
                "networkview": self._networkview.frame(self, cache, nodes),
                "corrupt": corrupt}

    def _loads(self) -> dict:
        """The load generator's loads by (namespace, group, resource, name), for the
        Workloads view."""
        lg = getattr(self, "load_generator", None)
        loads = getattr(lg, "loads", None) or {}
        return {key: lg.describe(load) for key, load in loads.items()}

    def _kinds_frame(self, api, shown: int = KIND_OBJECTS_SHOWN) -> list[dict]:
        """Every kind the API server serves (built-in and custom, through its registry), with
        how many objects it holds and the first few by name: the dashboard's "API objects"."""
        out = []
        for res in api.registry.stored():
            keys = api.cache.sorted_keys(res.gr)
            names = [f"{ns}/{name}" if ns else name for ns, name in keys[:shown]]
            out.append({"group": res.group, "resource": res.name, "kind": res.kind, "namespaced": res.namespaced,
                        "source": res.source, "count": len(keys), "names": names})
        return out

    # -- kube-scheduler: queue and explanations -------------------------------------------
    def _leading_scheduler(self):
        return next((s for s in self.schedulers if s.running and s.leading and s.core is not None), None)

    def scheduler_queue(self) -> dict:
        """The leading kube-scheduler's queue: {"active": [{"pod", "priority", "attempts"}],
        "backoff": [... "until"], "unschedulable": [... "since", "message"], "leader",
        "profiles": each profile's plugins per extension point}."""
        s = self._leading_scheduler()
        if s is None:
            return {"active": [], "backoff": [], "unschedulable": [], "leader": None, "profiles": []}
        return dict(s.core.queue_view(), leader=s.address, profiles=s.core.describe_profiles())

    def scheduling_explanation(self, namespace: str, name: str) -> dict | None:
        """The latest scheduling attempt for a pod (any scheduler instance that led), or None."""
        best = None
        for s in self.schedulers:
            core = s.core if s.running else None
            rec = core.explanations.get((namespace, name)) if core is not None else None
            if rec is not None and (best is None or rec.time >= best.time):
                best = rec
        return best.to_json() if best is not None else None

    def _scheduler_frame(self) -> dict:
        s = self._leading_scheduler()
        if s is None:
            return {"leader": None, "active": 0, "backoff": 0, "unschedulable": 0, "pods": []}
        return dict(s.core.queue_frame(50), leader=s.address)
