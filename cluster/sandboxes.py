"""Sandboxes (issue 13): a student makes a cluster of their own from a template on the index
page - how many workers, the control plane's topology, etcd's members, the container runtime,
the CNI plugin - and owns it: it is created `"access": "owned"` with the student's name as its
owner, and the student gets its owner's (presenter's) token in a cookie, so their page controls
it and their kubeconfig download is its admin's.

The topologies are kubeadm's (https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/ha-topology/):

    single      one control-plane node, its etcd stacked on it (`kubeadm init`)
    stacked     three (or five) control-plane nodes, each with its etcd member
    external    one control-plane node and an etcd cluster of its own hosts

The worker validates the resulting POST /sim/v1/clusters spec as for any cluster
(sim/clusterconfig.py); this module only turns the form into it."""
from __future__ import annotations

from typing import Any

from sim.cluster import RUNTIMES
from sim.cni import PLUGINS as CNI_PLUGINS

TOPOLOGIES = {
    "single": "single control plane (etcd stacked on it)",
    "stacked": "highly available, stacked etcd (a member on each control-plane node)",
    "external": "external etcd (etcd on hosts of its own)",
}
ETCD_MEMBERS = (1, 3, 5)
MAX_WORKERS = 5
MAX_OWNER = 40


class SandboxError(ValueError):
    pass


def choices() -> dict[str, Any]:
    """What the index page's form offers."""
    return {"topologies": list(TOPOLOGIES.items()), "etcd_members": ETCD_MEMBERS,
            "workers": list(range(1, MAX_WORKERS + 1)), "runtimes": list(RUNTIMES), "cnis": sorted(CNI_PLUGINS)}


def _int(data, key: str, allowed) -> int:
    raw = str(data.get(key, "")).strip()
    try:
        value = int(raw)
    except ValueError:
        raise SandboxError(f'{key}: "{raw}" is not a number') from None
    if value not in allowed:
        raise SandboxError(f"{key}: {value} is not one of {', '.join(map(str, allowed))}")
    return value


def spec_from_form(data) -> tuple[str, dict[str, Any]]:
    """(cluster name, the create spec) from the form; SandboxError on bad input."""
    owner = str(data.get("owner", "")).strip()
    if not owner:
        raise SandboxError("your name: Required value")
    if len(owner) > MAX_OWNER or not owner.isprintable():
        raise SandboxError(f"your name: at most {MAX_OWNER} printable characters")
    topology = str(data.get("topology", "single"))
    if topology not in TOPOLOGIES:
        raise SandboxError(f'topology: Unsupported value: "{topology}"')
    workers = _int(data, "workers", range(1, MAX_WORKERS + 1))
    members = 1 if topology == "single" else _int(data, "etcd_members", ETCD_MEMBERS)
    if topology == "stacked" and members == 1:
        raise SandboxError("etcd members: a highly available control plane has 3 or 5 (one per control-plane node)")
    runtime = str(data.get("runtime", "containerd"))
    if runtime not in RUNTIMES:
        raise SandboxError(f'runtime: Unsupported value: "{runtime}"')
    cni = str(data.get("cni", "flannel"))
    if cni not in CNI_PLUGINS:
        raise SandboxError(f'cni: Unsupported value: "{cni}"')
    name = str(data.get("name", "")).strip().lower() or _name_for(owner)
    planes = members if topology == "stacked" else 1
    nodes = [{"name": f"cp-{i}", "role": "control-plane", "cpu": "4", "memory": "16Gi"} for i in range(1, planes + 1)]
    nodes += [{"name": f"worker-{i}", "runtime": runtime} for i in range(1, workers + 1)]
    spec = {"nodes": nodes, "etcd": {"members": members, "topology": "external" if topology == "external" else "stacked"},
            "cni": cni, "access": "owned", "owner": owner}
    return name, spec


def _name_for(owner: str) -> str:
    """A DNS label from a person's name: "Zoë B." -> "zo-b-sandbox"."""
    label = "".join(c if c.isascii() and c.isalnum() else "-" for c in owner.lower()).strip("-")
    while "--" in label:
        label = label.replace("--", "-")
    return f"{label[:40].strip('-') or 'student'}-sandbox"
