"""A cluster's shape from a plain document: one parser for every door a cluster comes in by.

The simulator control API (`POST /sim/v1/clusters`), the dashboard's "new cluster" form and the
scenario language's `cluster ...` line all describe a cluster with the same document:

    {"seed"?: int, "nodes"?: [{"name", "role"?, "cpu"?, "memory"?}],
     "etcd"?: {"members": 1|3|5|7, "topology": "stacked"|"external",
               "heartbeatInterval": "100ms", "electionTimeout": "1s",
               "strictReconfigCheck": true  (etcd's --strict-reconfig-check: refuse a member
                                             change that could lose the quorum)},
     "nodeMonitorGracePeriod"?: "50s", "nodeMonitorPeriod"?: "5s",
     "defaultTolerationSeconds"?: 300,
     "schedulerConfiguration"?: {KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1)},
     "controllers"?: ["*", "-garbage-collector-controller", ...]  (kube-controller-manager --controllers),
     "serviceSubnet"?: "10.96.0.0/12"  (kubeadm's networking.serviceSubnet: Services' ClusterIPs;
                   "10.96.0.0/12,fd00:10:96::/112" for a dual-stack cluster),
     "skipPhases"?: ["addon/coredns"]  (kubeadm init --skip-phases: leave out the CoreDNS addon),
     "podSubnet"?: "10.244.0.0/16"  (kubeadm's networking.podSubnet: kube-controller-manager's
                   --cluster-cidr, from which the node IPAM controller gives each node a /24;
                   "10.244.0.0/16,fd00:10:244::/56" for dual-stack: a /24 and a /64 per node),
     "cni"?: "flannel" | "calico" | "bridge"  (the CNI plugin the setup installs; sim/cni/),
     "addons"?: ["ingress-nginx"]  (manifests applied once the cluster is up: sim/addons/),
     "kubeProxyMode"?: "iptables" | "ipvs" | "nftables"  (KubeProxyConfiguration.mode; default iptables),
     "cloudProvider"?: "simulated" | "none"  (a cloud-controller-manager and a simulated cloud's
                        load balancers, or bare metal where LoadBalancer Services stay <pending>),
     "access"?: "open" | "owned"  (who may use the Kubernetes API: on an open cluster the anonymous
                        user may do everything; on an owned one everyone is held to RBAC and
                        anonymous requests are refused: sim/apiserver/authfilter.py),
     "owner"?: "a person's name"  (whose sandbox it is, shown in the list of clusters)}

`config_from_spec` checks every field (types, ranges, names, quantities) and raises ConfigError
with a message naming the field, before anything is built: no document can make the engine
allocate without bound or fail later.  The scheduler configuration is defaulted and validated
by the engine when the cluster boots (a bad one is a 400 ClusterError there).

etcd has 3 members by default (etcd's recommended minimum for fault tolerance); with nodes
given and a stacked topology, one per control-plane node given.  Without nodes: three workers,
and as many control-plane nodes (cp-1..cp-N) as a stacked etcd has members (one, with an
external etcd).
"""
from __future__ import annotations

import math
from typing import Any

from sim.api.quantity import QuantityError, parse_quantity
from sim.api.validation import is_dns1123_label, is_dns1123_subdomain
from sim.cluster import CLOUD_PROVIDERS, RESERVED_HOSTS, RUNTIMES, ClusterConfig, NodeSpec
from sim.controllers.descriptors import UnknownController, enabled as enabled_controllers, known_names as known_controllers
from sim.durations import parse_duration

SPEC_KEYS = frozenset({"seed", "nodes", "etcd", "nodeMonitorGracePeriod", "nodeMonitorPeriod",
                       "defaultTolerationSeconds", "schedulerConfiguration", "controllers", "serviceSubnet",
                       "skipPhases", "podSubnet", "cni", "addons", "kubeProxyMode",
                       "cloudProvider", "access", "install", "owner"})
ACCESS_MODES = ("open", "owned")
# "": the cluster comes up installed, as after kubeadm init, the pod network and kubeadm join;
# "kubeadm": its hosts have their packages and a running containerd, nothing more, and the
# student installs it step by step (sim/kubeadm_install.py).
INSTALL_MODES = ("", "kubeadm")
MAX_OWNER_LENGTH = 63
SKIPPABLE_PHASES = ("addon/coredns",)     # the kubeadm init phases the simulator can leave out
ETCD_KEYS = frozenset({"members", "topology", "heartbeatInterval", "electionTimeout", "strictReconfigCheck"})
NODE_KEYS = frozenset({"name", "role", "cpu", "memory", "runtime", "kubeletVersion", "labels"})
NODE_ROLES = ("worker", "control-plane")
ETCD_MEMBER_COUNTS = (1, 3, 5, 7)
ETCD_TOPOLOGIES = ("stacked", "external")
# etcd refuses --election-timeout below 5 x --heartbeat-interval and above 50 s
# (etcd server/embed/config.go, Config.Validate).
ETCD_MAX_ELECTION_TIMEOUT = 50.0
# Kubernetes' published limits (kubernetes.io/docs/setup/best-practices/cluster-large/): at most
# 5,000 nodes per cluster.  A node's capacity is bounded so that no typo (cpu "1e20") can make
# the scheduler's arithmetic or the page meaningless: the largest cloud VMs have a few hundred
# cores and a few TiB of memory.
MAX_NODES = 5000
MAX_NODE_CPU = 4096           # cores
MAX_NODE_MEMORY = 64 * 2**40  # 64Ti
# A seed is an int64 in every API that takes one.
INT64_MAX = 2**63 - 1
# node-monitor-grace-period and friends: positive, and at most a day (a longer period would
# never fire within any lesson, and the timers' arithmetic stays finite).
MAX_PERIOD_SECONDS = 24 * 3600.0


class ConfigError(ValueError):
    """A cluster document that cannot be used; the message names the field."""


def default_nodes(control_planes: int = 1, workers: int = 3) -> list[NodeSpec]:
    """kubeadm's usual small VMs: control-plane nodes of 4 CPU / 16Gi, workers of 4 CPU / 8Gi."""
    return ([NodeSpec(f"cp-{i}", "control-plane", "4", "16Gi") for i in range(1, control_planes + 1)]
            + [NodeSpec(f"worker-{i}", "worker", "4", "8Gi") for i in range(1, workers + 1)])


def demo_config(seed: int = 1) -> ClusterConfig:
    """The `demo` cluster: kubeadm's highly available shape with stacked etcd (three
    control-plane nodes, each running kube-apiserver, kube-scheduler, kube-controller-manager
    and an etcd member: a Raft group of 3) and three workers, realistic small VMs."""
    return ClusterConfig(seed=seed, nodes=default_nodes(3, 3), etcd_members=3)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _duration(where: str, value: Any, maximum: float = MAX_PERIOD_SECONDS) -> float:
    try:
        seconds = parse_duration(value)
    except ValueError as e:
        raise ConfigError(f"{where}: {e}") from None
    if seconds <= 0:
        raise ConfigError(f"{where}: must be greater than 0")
    if seconds > maximum:
        raise ConfigError(f"{where}: must be at most {maximum:g}s")
    return seconds


def check_capacity(where: str, cpu: Any, memory: Any) -> tuple[str, str]:
    """A node's cpu and memory as quantity strings, each positive and within the bounds above."""
    out = []
    for what, value, limit, unit in (("cpu", cpu, MAX_NODE_CPU, ""), ("memory", memory, MAX_NODE_MEMORY, " bytes")):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ConfigError(f"{where}.{what}: must be a quantity such as {'4' if what == 'cpu' else '8Gi'}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{where}.{what}: must be a finite quantity")
        text = str(value)
        try:
            amount = parse_quantity(text)
        except (QuantityError, ArithmeticError, ValueError) as e:
            raise ConfigError(f"{where}.{what}: invalid quantity {text!r}: {e}") from None
        if not amount > 0:
            raise ConfigError(f"{where}.{what}: must be greater than 0")
        if amount > limit:
            raise ConfigError(f"{where}.{what}: must be at most {limit}{unit}")
        out.append(text)
    return out[0], out[1]


def node_spec(where: str, doc: Any, default_role: str = "worker") -> NodeSpec:
    """One node of the document: {"name", "role"?, "cpu"?, "memory"?, "runtime"?, "kubeletVersion"?,
    "labels"?}."""
    if not isinstance(doc, dict):
        raise ConfigError(f"{where}: must be an object {{name, role, cpu, memory}}")
    unknown = set(doc) - NODE_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(NODE_KEYS))}")
    name = doc.get("name")
    if not isinstance(name, str) or not is_dns1123_subdomain(name):
        raise ConfigError(f"{where}.name: must be a lowercase RFC 1123 subdomain (e.g. worker-4)")
    if name in RESERVED_HOSTS:
        raise ConfigError(f'{where}.name: "{name}" is the name of a host outside the cluster (one of: '
                          f'{", ".join(RESERVED_HOSTS)})')
    role = doc.get("role", default_role)
    if role not in NODE_ROLES:
        raise ConfigError(f'{where}.role: must be "worker" or "control-plane"')
    cpu, memory = check_capacity(where, doc.get("cpu", "4"), doc.get("memory", "8Gi"))
    runtime = doc.get("runtime", "containerd")
    if runtime not in RUNTIMES:
        raise ConfigError(f'{where}.runtime: must be one of {", ".join(RUNTIMES)} (docker: Docker Engine through cri-dockerd)')
    from sim.cluster import ClusterError
    from sim.kubeadm import check_node_identity
    try:
        kubelet_version, labels = check_node_identity(doc.get("kubeletVersion", ""), doc.get("labels"))
    except ClusterError as e:
        raise ConfigError(f"{where}: {e}") from None
    return NodeSpec(name, role, cpu, memory, runtime=runtime, kubelet_version=kubelet_version, labels=labels)


def config_from_spec(spec: Any) -> ClusterConfig:
    """A ClusterConfig from the cluster document (see the module docstring)."""
    if not isinstance(spec, dict):
        raise ConfigError("the cluster must be described by a JSON object")
    unknown = set(spec) - SPEC_KEYS
    if unknown:
        raise ConfigError(f"unknown field(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(SPEC_KEYS))}")
    seed = spec.get("seed", 1)
    if not _is_int(seed) or not -INT64_MAX - 1 <= seed <= INT64_MAX:
        raise ConfigError("seed must be an integer (int64)")
    etcd = spec.get("etcd")
    if etcd is None:
        etcd = {}
    if not isinstance(etcd, dict):
        raise ConfigError("etcd must be an object: {members, topology, heartbeatInterval, electionTimeout}")
    unknown = set(etcd) - ETCD_KEYS
    if unknown:
        raise ConfigError(f"etcd: unknown field(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(ETCD_KEYS))}")
    topology = etcd.get("topology", "stacked")
    if topology not in ETCD_TOPOLOGIES:
        raise ConfigError('etcd.topology must be "stacked" or "external"')
    nodes = spec.get("nodes")
    if nodes is not None and not isinstance(nodes, list):
        raise ConfigError("nodes must be a list")
    if nodes and len(nodes) > MAX_NODES:
        raise ConfigError(f"nodes: at most {MAX_NODES} nodes (Kubernetes' published limit)")
    if "members" in etcd:
        members = etcd["members"]
    elif nodes and topology == "stacked":
        members = sum(1 for n in nodes if isinstance(n, dict) and n.get("role") == "control-plane")
    elif spec.get("install") == "kubeadm":
        members = 1   # kubeadm init's one control-plane node and its local etcd
    else:
        members = 3
    if not _is_int(members) or members not in ETCD_MEMBER_COUNTS:
        raise ConfigError("etcd.members must be 1, 3, 5 or 7")
    heartbeat = _duration("etcd.heartbeatInterval", etcd.get("heartbeatInterval", 0.1), maximum=10.0)
    election = _duration("etcd.electionTimeout", etcd.get("electionTimeout", 1.0), maximum=ETCD_MAX_ELECTION_TIMEOUT)
    if election < 5 * heartbeat - 1e-9:
        raise ConfigError(f"etcd.electionTimeout ({election * 1000:g}ms) should be at least "
                          f"5 times etcd.heartbeatInterval ({heartbeat * 1000:g}ms)")
    if not nodes:
        specs = default_nodes(members if topology == "stacked" else 1, 3)
    else:
        specs = [node_spec(f"nodes[{i}]", n) for i, n in enumerate(nodes)]
        names = [s.name for s in specs]
        duplicate = next((n for n in names if names.count(n) > 1), None)
        if duplicate:
            raise ConfigError(f'nodes: node "{duplicate}" is given twice')
        if not any(s.role == "control-plane" for s in specs):
            raise ConfigError("nodes: at least one control-plane node is needed")
    strict = etcd.get("strictReconfigCheck", True)
    if not isinstance(strict, bool):
        raise ConfigError("etcd.strictReconfigCheck must be true or false")
    config = ClusterConfig(seed=seed, nodes=specs, etcd_members=members, etcd_topology=topology,
                           etcd_heartbeat_interval=heartbeat, etcd_election_timeout=election,
                           etcd_strict_reconfig_check=strict)
    for key, attr in (("nodeMonitorGracePeriod", "node_monitor_grace_period"),
                      ("nodeMonitorPeriod", "node_monitor_period")):
        if key in spec:
            setattr(config, attr, _duration(key, spec[key]))
    if "defaultTolerationSeconds" in spec:
        value = spec["defaultTolerationSeconds"]
        # DefaultTolerationSeconds' flags are int64s; a day is far beyond any lesson's need.
        if not _is_int(value) or not 0 <= value <= MAX_PERIOD_SECONDS:
            raise ConfigError(f"defaultTolerationSeconds must be an integer from 0 to {MAX_PERIOD_SECONDS:.0f}")
        config.default_toleration_seconds = value
    if "serviceSubnet" in spec:
        config.service_subnet = service_subnet(spec["serviceSubnet"])
    if "podSubnet" in spec:
        config.pod_subnet = pod_subnet(spec["podSubnet"])
    if "cni" in spec:
        from sim.cni import PLUGINS
        if spec["cni"] not in PLUGINS:
            raise ConfigError(f"cni must be one of: {', '.join(sorted(PLUGINS))}")
        config.cni = spec["cni"]
    if "skipPhases" in spec:
        phases = spec["skipPhases"]
        if not isinstance(phases, list) or any(p not in SKIPPABLE_PHASES for p in phases):
            raise ConfigError(f"skipPhases must be a list of: {', '.join(SKIPPABLE_PHASES)}")
        config.skip_phases = list(phases)
    if "cloudProvider" in spec:
        if spec["cloudProvider"] not in CLOUD_PROVIDERS:
            raise ConfigError(f'cloudProvider must be one of: {", ".join(CLOUD_PROVIDERS)} '
                              '("none": no cloud-controller-manager, LoadBalancer Services stay <pending>)')
        config.cloud_provider = spec["cloudProvider"]
    if "addons" in spec:
        from sim.addons import ADDONS
        names = spec["addons"]
        if not isinstance(names, list) or any(n not in ADDONS for n in names) or len(set(names)) != len(names):
            raise ConfigError(f"addons must be a list of distinct add-ons of: {', '.join(ADDONS)}")
        config.addons = list(names)
    if "kubeProxyMode" in spec:
        config.kube_proxy_mode = kube_proxy_mode(spec["kubeProxyMode"])
    if "access" in spec:
        if spec["access"] not in ACCESS_MODES:
            raise ConfigError(f"access: Unsupported value: {spec['access']!r}: supported values: "
                              + ", ".join(f'"{m}"' for m in ACCESS_MODES))
        config.access = spec["access"]
    if "install" in spec:
        if spec["install"] not in INSTALL_MODES:
            raise ConfigError(f"install: Unsupported value: {spec['install']!r}: supported values: "
                              + ", ".join(f'"{m}"' for m in INSTALL_MODES))
        cps = [n for n in config.nodes if n.role == "control-plane"]
        if spec["install"] == "kubeadm" and (len(cps) != 1 or config.etcd_topology != "stacked"):
            # kubeadm init runs on the one control-plane host; more join at run time with
            # kubeadm join --control-plane (an etcd member add), from hosts listed as workers.
            raise ConfigError('install "kubeadm" needs exactly one control-plane node with its stacked etcd '
                              "(more join with kubeadm join --control-plane: list them as workers)")
        config.install = spec["install"]
    if "owner" in spec:
        owner = spec["owner"]
        if not isinstance(owner, str) or len(owner) > MAX_OWNER_LENGTH or not owner.isprintable():
            raise ConfigError(f"owner must be a printable name of at most {MAX_OWNER_LENGTH} characters")
        config.owner = owner.strip()
    if "controllers" in spec:
        # kube-controller-manager --controllers: ["*", "-garbage-collector-controller"], ...
        flags = spec["controllers"]
        if not isinstance(flags, list) or not all(isinstance(f, str) and f for f in flags):
            raise ConfigError('controllers must be a list of controller names ("*", "foo", "-foo")')
        try:
            enabled_controllers(flags)
        except UnknownController as e:
            raise ConfigError(f"controllers: {e}; known: {', '.join(known_controllers())}") from None
        config.controllers = list(flags)
    if "schedulerConfiguration" in spec:
        scheduler_config = spec["schedulerConfiguration"]
        if not isinstance(scheduler_config, dict):
            raise ConfigError("schedulerConfiguration must be a KubeSchedulerConfiguration object "
                              '({"profiles": [...], "percentageOfNodesToScore": ...})')
        config.scheduler_config = scheduler_config
    return config


def kube_proxy_mode(value: Any) -> str:
    """KubeProxyConfiguration.mode as kube-proxy's validation accepts it on Linux
    (pkg/proxy/apis/config/validation validateProxyModeLinux): "iptables", "ipvs" or "nftables";
    "" is iptables (the simulator stores it as given)."""
    from sim.kubeproxy import MODES
    if value == "":
        return ""
    if not isinstance(value, str) or value not in MODES:
        raise ConfigError(f"kubeProxyMode: Unsupported value: {value!r}: supported values: "
                          + ", ".join(f'"{m}"' for m in MODES))
    return value


# kubeadm's constants (cmd/kubeadm/app/constants): the smallest ranges it accepts, and the
# limits it shares with kube-apiserver and kube-controller-manager.
MIN_ADDRESSES_IN_SERVICE_SUBNET = 10     # MinimumAddressesInServiceSubnet
MIN_ADDRESSES_IN_POD_SUBNET = 14         # MinimumAddressesInPodSubnet
MAX_BITS_FOR_SERVICE_SUBNET = 20         # MaximumBitsForServiceSubnet (kube-apiserver's maxCIDRBits)
POD_SUBNET_NODE_MASK_MAX_DIFF = 16       # PodSubnetNodeMaskMaxDiff
NODE_MASK = {4: 24, 6: 64}               # --node-cidr-mask-size-ipv4 / -ipv6 defaults
DUAL_STACK_MSG = "expected one (IPv4 or IPv6) CIDR or two CIDRs from each family for dual-stack networking"


def _cidrs(value: Any, field: str, example: str, min_addresses: int) -> list:
    """kubeadm's ValidateIPNetFromString (cmd/kubeadm/app/apis/kubeadm/validation): one CIDR, or
    two of different families ("v4cidr,v6cidr", kubeadm's dual-stack form), each of at least
    `min_addresses`.  The simulator's nodes are IPv4-first, so the primary (first) range must be
    IPv4; IPv6-only and IPv6-primary clusters are not modelled."""
    import ipaddress
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f'{field} must be a CIDR such as "{example}" (or "v4cidr,v6cidr" for dual-stack)')
    nets = []
    for part in value.split(","):
        try:
            nets.append(ipaddress.ip_network(part.strip(), strict=True))
        except ValueError:
            raise ConfigError(f'{field}: Invalid value: "{value}": couldn\'t parse subnet') from None
    if len(nets) > 2 or (len(nets) == 2 and nets[0].version == nets[1].version):
        raise ConfigError(f'{field}: Invalid value: "{value}": {DUAL_STACK_MSG}')
    for net in nets:
        if net.num_addresses < min_addresses:
            raise ConfigError(f'{field}: Invalid value: "{net}": subnet with {net.num_addresses} address(es) is too '
                              f'small, the minimum is {min_addresses}')
    if nets[0].version != 4:
        raise ConfigError(f"{field}: the primary (first) range must be IPv4: the simulator models IPv4 and "
                          f"IPv4/IPv6 dual-stack clusters (e.g. \"{example}\")")
    return nets


def service_subnet(value: Any) -> str:
    """--service-cluster-ip-range: kubeadm's ValidateServiceSubnetSize (the same limit
    kube-apiserver's validateClusterIPFlags applies): at most 20 host bits per family, so a /12
    for IPv4 and a /108 for IPv6."""
    nets = _cidrs(value, "serviceSubnet", "10.96.0.0/12", MIN_ADDRESSES_IN_SERVICE_SUBNET)
    for net in nets:
        bits = net.max_prefixlen
        if bits - net.prefixlen > MAX_BITS_FOR_SERVICE_SUBNET:
            raise ConfigError(f'serviceSubnet: Invalid value: "{net}": specified service subnet is too large; for '
                              f"{bits}-bit addresses, the mask must be >= {bits - MAX_BITS_FOR_SERVICE_SUBNET}")
    return ",".join(str(n) for n in nets)


def pod_subnet(value: Any) -> str:
    """--cluster-cidr, carved by the node IPAM controller into /24 (IPv4) and /64 (IPv6) node
    ranges: kubeadm's ValidatePodSubnetNodeMask (the node mask inside the range, at most 16
    bits longer - cidrset's limit too)."""
    nets = _cidrs(value, "podSubnet", "10.244.0.0/16", MIN_ADDRESSES_IN_POD_SUBNET)
    for net in nets:
        node_mask = NODE_MASK[net.version]
        if net.prefixlen > node_mask:
            raise ConfigError(f'podSubnet: Invalid value: "{net}": the size of pod subnet with mask {net.prefixlen} '
                              f"is smaller than the size of node subnet with mask {node_mask}")
        if node_mask - net.prefixlen > POD_SUBNET_NODE_MASK_MAX_DIFF:
            raise ConfigError(f'podSubnet: Invalid value: "{net}": pod subnet mask ({net.prefixlen}) and node-mask '
                              f"({node_mask}) difference is greater than {POD_SUBNET_NODE_MASK_MAX_DIFF}")
    return ",".join(str(n) for n in nets)


WORD_KEYS = frozenset({"seed", "workers", "control-planes", "etcd", "topology", "cpu", "memory", "grace",
                       "toleration", "skip-phases", "cni", "addons", "cloud-provider"})


def config_from_words(words: list[str]) -> ClusterConfig:
    """The scenario language's `cluster seed=3 control-planes=3 etcd=3 topology=external
    workers=3 cpu=4 memory=8Gi grace=40s toleration=60s skip-phases=addon/coredns cni=bridge` line, as the same document
    config_from_spec takes (every key optional; defaults: seed 1, cp-1 and three workers)."""
    kv: dict[str, str] = {}
    for word in words:
        key, eq, value = word.partition("=")
        if not eq or key not in WORD_KEYS:
            raise ConfigError(f"cluster: unknown setting {word!r}; known: {', '.join(sorted(WORD_KEYS))}")
        kv[key] = value

    def integer(key: str, default: int, lo: int, hi: int) -> int:
        try:
            n = int(kv.get(key, default))
        except ValueError:
            raise ConfigError(f"cluster: {key} must be an integer") from None
        if not lo <= n <= hi:
            raise ConfigError(f"cluster: {key} must be from {lo} to {hi}")
        return n

    cps = integer("control-planes", 1, 1, 7)
    workers = integer("workers", 3, 0, MAX_NODES - cps)
    nodes = [{"name": n.name, "role": n.role, "cpu": n.cpu, "memory": n.memory} for n in default_nodes(cps, 0)]
    nodes += [{"name": f"worker-{i}", "role": "worker", "cpu": kv.get("cpu", "4"), "memory": kv.get("memory", "8Gi")}
              for i in range(1, workers + 1)]
    spec: dict[str, Any] = {"seed": integer("seed", 1, 0, INT64_MAX), "nodes": nodes,
                            "etcd": {"members": integer("etcd", cps, 1, 7), "topology": kv.get("topology", "stacked")}}
    if "cloud-provider" in kv:
        spec["cloudProvider"] = kv["cloud-provider"]
    if "skip-phases" in kv:
        spec["skipPhases"] = [p for p in kv["skip-phases"].split(",") if p]
    if "cni" in kv:
        spec["cni"] = kv["cni"]
    if "addons" in kv:
        spec["addons"] = [a for a in kv["addons"].split(",") if a]
    if "grace" in kv:
        spec["nodeMonitorGracePeriod"] = kv["grace"]
    if "toleration" in kv:
        try:
            spec["defaultTolerationSeconds"] = int(parse_duration(kv["toleration"]))
        except ValueError as e:
            raise ConfigError(f"cluster: toleration: {e}") from None
    return config_from_spec(spec)


def check_cluster_name(name: Any) -> str:
    """A cluster's name is a DNS-1123 label, like a kubeconfig context's cluster."""
    if not isinstance(name, str) or not is_dns1123_label(name):
        raise ConfigError("name: a lowercase RFC 1123 label must consist of lower case alphanumeric "
                          "characters or '-', and must start and end with an alphanumeric character")
    return name
