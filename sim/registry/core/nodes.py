"""Nodes (pkg/registry/core/node): cluster-scoped, stored under /registry/minions/ as
upstream still does; the kubelet creates its Node with a status and keeps it current."""
from __future__ import annotations

from typing import Any

from sim.api import validation
from sim.api.defaults import default_node
from sim.api.meta import deep_copy
from sim.api.schema import BY_KIND
from sim.registry.printers import AGE, NAME, Printer, col, since
from sim.registry.resource import COMMON_FIELDS, Resource
from sim.registry.strategy import Strategy


class NodeStrategy(Strategy):
    default_copies = True  # its defaulter deep-copies first (sim.api.defaults)

    def default(self, obj, ctx):
        return default_node(obj)

    def prepare_for_create(self, res, obj, ctx):
        """nodeStrategy.PrepareForCreate keeps the status the kubelet registers with."""

    def keep_status(self, new, old):
        if "status" in old:
            new["status"] = deep_copy(old["status"])

    def validate(self, obj):
        return validation.validate_node(obj)


NODE_COLUMNS = [
    NAME,
    col("Status", description="The status of the node"),
    col("Roles", description="The roles of the node"),
    AGE,
    col("Version", description="Kubelet Version reported by the node."),
    col("Internal-IP", priority=1, description="List of addresses reachable to the node."),
    col("External-IP", priority=1, description="List of addresses reachable to the node."),
    col("OS-Image", priority=1, description="OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy))."),
    col("Kernel-Version", priority=1, description="Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."),
    col("Container-Runtime", priority=1, description="ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2)."),
]


def node_row(node: dict, now: float) -> list[Any]:
    md, spec, st = node.get("metadata", {}), node.get("spec", {}), node.get("status", {})
    status = []
    for cond in st.get("conditions", []):
        if cond.get("type") == "Ready":
            status.append("Ready" if cond.get("status") == "True" else "NotReady")
    if not status:
        status.append("Unknown")
    if spec.get("unschedulable"):
        status.append("SchedulingDisabled")
    roles = []
    for label, value in (md.get("labels") or {}).items():
        if label.startswith("node-role.kubernetes.io/"):
            role = label[len("node-role.kubernetes.io/"):]
            if role:
                roles.append(role)
        elif label == "kubernetes.io/role" and value:
            roles.append(value)
    info = st.get("nodeInfo", {})

    def address(kind: str) -> str:
        for a in st.get("addresses", []):
            if a.get("type") == kind:
                return a.get("address", "")
        return "<none>"

    return [
        md.get("name", ""),
        ",".join(status),
        ",".join(sorted(roles)) or "<none>",
        since(md.get("creationTimestamp"), now),
        info.get("kubeletVersion", ""),
        address("InternalIP"),
        address("ExternalIP"),
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


RESOURCE = Resource("nodes", "", "v1", "Node", False, "/registry/minions/", ("no",), "node", ("status",),
                    NodeStrategy(), BY_KIND["Node"],
                    selectable_fields=COMMON_FIELDS + ("spec.unschedulable",),
                    indexed_fields=("metadata.name",), printer=Printer(NODE_COLUMNS, node_row))
