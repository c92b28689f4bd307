"""Server-side printing: the meta.k8s.io/v1 Table that kubectl asks for with
`Accept: application/json;as=Table;v=v1;g=meta.k8s.io,application/json`.

Columns and cells follow pkg/printers/internalversion/printers.go upstream (the server always
prints the wide set; kubectl hides columns with priority > 0 unless `-o wide`), so `kubectl get`
prints what it prints against a real cluster.  Ages are measured against the cluster's VIRTUAL
clock, not the wall clock: a pod created 5 simulated minutes ago is "5m" old even at 50x speed.
Resources without a printer here fall back to the plain object (kubectl then prints NAME/AGE).
"""
from __future__ import annotations

from typing import Any, Callable

from sim.api.meta import parse_timestamp
from sim.api.selectors import SelectorError, format_label_selector

TABLE_API_VERSION = "meta.k8s.io/v1"


def wants_table(accept: str) -> str | None:
    """The meta.k8s.io apiVersion of the Table the client accepts ("meta.k8s.io/v1", or
    "meta.k8s.io/v1beta1" for old clients), or None when it did not ask for a Table."""
    offered = set()
    for part in accept.split(","):
        params = {p.strip() for p in part.split(";")[1:]}
        if "as=Table" in params and "g=meta.k8s.io" in params:
            offered |= {p[2:] for p in params if p.startswith("v=")}
    if "v1" in offered:
        return "meta.k8s.io/v1"
    if "v1beta1" in offered:
        return "meta.k8s.io/v1beta1"
    return None


# -- k8s.io/apimachinery/pkg/util/duration.HumanDuration -----------------------------------
def human_duration(seconds: float) -> str:
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if dy == 0 else f"{hours // 24 // 365}y{dy}d"
    return f"{hours // 24 // 365}y"


def since(timestamp: str | None, now: float) -> str:
    """translateTimestampSince: "<unknown>" for a missing timestamp."""
    t = parse_timestamp(timestamp)
    return "<unknown>" if t is None else human_duration(now - t)


def _col(name: str, typ: str = "string", priority: int = 0, fmt: str = "", description: str = "") -> dict:
    return {"name": name, "type": typ, "format": fmt, "description": description, "priority": priority}


_NAME = _col("Name", fmt="name", description="Name must be unique within a namespace.")
_AGE = _col("Age", description="CreationTimestamp is a timestamp representing the server time when this object was created.")


# -- pods ------------------------------------------------------------------------------------
POD_COLUMNS = [
    _NAME,
    _col("Ready", description="The aggregate readiness state of this pod for accepting traffic."),
    _col("Status", description="The aggregate status of the containers in this pod."),
    _col("Restarts", description="The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
    _AGE,
    _col("IP", priority=1, description="IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated."),
    _col("Node", priority=1, description="NodeName is a request to schedule this pod onto a specific node."),
    _col("Nominated Node", priority=1, description="nominatedNodeName is set when this pod preempts other pods on the node."),
    _col("Readiness Gates", priority=1, description="If specified, all readiness gates will be evaluated for pod readiness."),
]


def pod_row(pod: dict, now: float) -> list[Any]:
    spec, st, md = pod.get("spec", {}), pod.get("status", {}), pod.get("metadata", {})
    total = len(spec.get("containers", []))
    ready = restarts = 0
    last_restart: float | None = None
    reason = st.get("reason") or st.get("phase") or ""
    for cond in st.get("conditions", []):
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"
    has_running = False
    for cs in reversed(st.get("containerStatuses", [])):
        restarts += int(cs.get("restartCount", 0))
        finished = (cs.get("lastState", {}).get("terminated") or {}).get("finishedAt")
        ft = parse_timestamp(finished)
        if ft is not None and (last_restart is None or ft > last_restart):
            last_restart = ft
        state = cs.get("state", {})
        waiting, terminated = state.get("waiting"), state.get("terminated")
        if waiting and waiting.get("reason"):
            reason = waiting["reason"]
        elif terminated and terminated.get("reason"):
            reason = terminated["reason"]
        elif terminated:
            reason = f"Signal:{terminated['signal']}" if terminated.get("signal") else f"ExitCode:{terminated.get('exitCode', 0)}"
        elif cs.get("ready") and state.get("running") is not None:
            has_running = True
            ready += 1
    if reason == "Completed" and has_running:
        pod_ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in st.get("conditions", []))
        reason = "Running" if pod_ready else "NotReady"
    if md.get("deletionTimestamp") and st.get("reason") == "NodeLost":
        reason = "Unknown"
    elif md.get("deletionTimestamp"):
        reason = "Terminating"
    restarts_cell = str(restarts)
    if last_restart is not None and restarts:
        restarts_cell = f"{restarts} ({human_duration(now - last_restart)} ago)"
    gates = spec.get("readinessGates") or []
    if gates:
        true_conds = {c.get("type") for c in st.get("conditions", []) if c.get("status") == "True"}
        gates_cell = f"{sum(1 for g in gates if g.get('conditionType') in true_conds)}/{len(gates)}"
    else:
        gates_cell = "<none>"
    return [
        md.get("name", ""),
        f"{ready}/{total}",
        reason,
        restarts_cell,
        since(md.get("creationTimestamp"), now),
        st.get("podIP") or "<none>",
        spec.get("nodeName") or "<none>",
        st.get("nominatedNodeName") or "<none>",
        gates_cell,
    ]


# -- nodes -----------------------------------------------------------------------------------
NODE_COLUMNS = [
    _NAME,
    _col("Status", description="The status of the node"),
    _col("Roles", description="The roles of the node"),
    _AGE,
    _col("Version", description="Kubelet Version reported by the node."),
    _col("Internal-IP", priority=1, description="List of addresses reachable to the node."),
    _col("External-IP", priority=1, description="List of addresses reachable to the node."),
    _col("OS-Image", priority=1, description="OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy))."),
    _col("Kernel-Version", priority=1, description="Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."),
    _col("Container-Runtime", priority=1, description="ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2)."),
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


# -- namespaces ------------------------------------------------------------------------------
NAMESPACE_COLUMNS = [
    _NAME,
    _col("Status", description="The status of the namespace"),
    _AGE,
]


def namespace_row(ns: dict, now: float) -> list[Any]:
    md = ns.get("metadata", {})
    return [md.get("name", ""), ns.get("status", {}).get("phase", ""), since(md.get("creationTimestamp"), now)]


# -- events ----------------------------------------------------------------------------------
EVENT_COLUMNS = [
    _col("Last Seen", description="The time at which the most recent occurrence of this event was recorded."),
    _col("Type", description="Type of this event (Normal, Warning), new types could be added in the future"),
    _col("Reason", description="This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
    _col("Object", description="The object that this event is about."),
    _col("Subobject", priority=1, description="If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go-field access statement."),
    _col("Source", priority=1, description="The component reporting this event. Should be a short machine understandable string."),
    _col("Message", description="A human-readable description of the status of this operation."),
    _col("First Seen", priority=1, description="The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)"),
    _col("Count", priority=1, description="The number of times this event has occurred."),
    _col("Name", priority=1, fmt="name", description="Name must be unique within a namespace."),
]


def _event_source(ev: dict) -> str:
    src = ev.get("source") or {}
    component = src.get("component") or ev.get("reportingComponent") or ""
    host = src.get("host") or ev.get("reportingInstance") or ""
    if host:
        return f"{component}, {host}"
    return component


def event_row(ev: dict, now: float) -> list[Any]:
    first = since(ev.get("firstTimestamp"), now)
    if not ev.get("firstTimestamp"):
        first = since(ev.get("eventTime"), now)
    last = since(ev.get("lastTimestamp"), now) if ev.get("lastTimestamp") else first
    count = ev.get("count") or 0
    series = ev.get("series")
    if series:
        last = since(series.get("lastObservedTime"), now)
        count = series.get("count", count)
    elif count == 0:
        count = 1
    inv = ev.get("involvedObject") or {}
    kind = (inv.get("kind") or "").lower()
    target = f"{kind}/{inv['name']}" if inv.get("name") else kind
    return [
        last,
        ev.get("type", ""),
        ev.get("reason", ""),
        target,
        inv.get("fieldPath", ""),
        _event_source(ev),
        (ev.get("message") or "").strip(),
        first,
        int(count),
        ev.get("metadata", {}).get("name", ""),
    ]


# -- replicasets -----------------------------------------------------------------------------
REPLICASET_COLUMNS = [
    _NAME,
    _col("Desired", "integer", description="Replicas is the number of desired pods."),
    _col("Current", "integer", description="Replicas is the most recently observed number of replicas."),
    _col("Ready", "integer", description="The number of ready replicas for this replica set."),
    _AGE,
    _col("Containers", priority=1, description="Names of each container in the template."),
    _col("Images", priority=1, description="Images referenced by each container in the template."),
    _col("Selector", priority=1, description="Selector is a label query over pods that should match the replica count."),
]


def _selector_string(selector: dict | None) -> str:
    """metav1.FormatLabelSelector, as `kubectl get rs -o wide` prints it."""
    if not selector:
        return "<none>"
    try:
        return format_label_selector(selector)
    except SelectorError:
        return "<error>"


def replicaset_row(rs: dict, now: float) -> list[Any]:
    md, spec, st = rs.get("metadata", {}), rs.get("spec", {}), rs.get("status", {})
    containers = spec.get("template", {}).get("spec", {}).get("containers", [])
    return [
        md.get("name", ""),
        int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1),
        int(st.get("replicas", 0)),
        int(st.get("readyReplicas", 0)),
        since(md.get("creationTimestamp"), now),
        ",".join(c.get("name", "") for c in containers),
        ",".join(c.get("image", "") for c in containers),
        _selector_string(spec.get("selector")),
    ]


# -- leases ----------------------------------------------------------------------------------
LEASE_COLUMNS = [
    _NAME,
    _col("Holder", description="The holder of the lease"),
    _AGE,
]


def lease_row(lease: dict, now: float) -> list[Any]:
    md = lease.get("metadata", {})
    return [md.get("name", ""), lease.get("spec", {}).get("holderIdentity") or "<none>", since(md.get("creationTimestamp"), now)]


# -- priorityclasses -------------------------------------------------------------------------
PRIORITYCLASS_COLUMNS = [
    _NAME,
    _col("Value", "integer", description="value represents the integer value of this priority class. This is the actual priority that pods receive when they have the name of this class in their pod spec."),
    _col("Global-Default", "boolean", description="globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class. Only one PriorityClass can be marked as `globalDefault`. However, if more than one PriorityClasses exists with their `globalDefault` field set to true, the smallest value of such global default PriorityClasses will be used as the default priority."),
    _AGE,
    _col("PreemptionPolicy", description="preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, PreemptLowerPriority. Defaults to PreemptLowerPriority if unset."),
]


def priorityclass_row(pc: dict, now: float) -> list[Any]:
    md = pc.get("metadata", {})
    return [md.get("name", ""), int(pc.get("value") or 0), bool(pc.get("globalDefault", False)),
            since(md.get("creationTimestamp"), now), pc.get("preemptionPolicy") or ""]


PRINTERS: dict[tuple[str, str], tuple[list[dict], Callable[[dict, float], list[Any]]]] = {
    ("", "pods"): (POD_COLUMNS, pod_row),
    ("", "nodes"): (NODE_COLUMNS, node_row),
    ("", "namespaces"): (NAMESPACE_COLUMNS, namespace_row),
    ("", "events"): (EVENT_COLUMNS, event_row),
    ("apps", "replicasets"): (REPLICASET_COLUMNS, replicaset_row),
    ("coordination.k8s.io", "leases"): (LEASE_COLUMNS, lease_row),
    ("scheduling.k8s.io", "priorityclasses"): (PRIORITYCLASS_COLUMNS, priorityclass_row),
}


def _row_object(obj: dict, kind: str, api_version: str, include_object: str) -> dict | None:
    if include_object == "None":
        return None
    if include_object == "Object":
        return {"kind": kind, "apiVersion": api_version, **obj}
    return {"kind": "PartialObjectMetadata", "apiVersion": TABLE_API_VERSION, "metadata": obj.get("metadata", {})}


def to_table(rr, body: dict, now: float, include_object: str = "Metadata",
             api_version: str = TABLE_API_VERSION) -> dict | None:
    """The Table for a get (one object) or list response body; None when no printer exists."""
    printer = PRINTERS.get((rr.group, rr.resource))
    if printer is None or rr.subresource is not None:
        return None
    columns, row_fn = printer
    if rr.verb == "list":
        items = body.get("items", [])
        metadata = {k: v for k, v in (body.get("metadata") or {}).items() if k in ("resourceVersion", "continue", "remainingItemCount")}
    else:
        items = [body]
        metadata = {"resourceVersion": body.get("metadata", {}).get("resourceVersion", "")}
    rows = []
    for obj in items:
        row = {"cells": row_fn(obj, now)}
        ro = _row_object(obj, rr.kind, rr.api_version, include_object)
        if ro is not None:
            row["object"] = ro
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": api_version,
        "metadata": metadata,
        "columnDefinitions": columns,
        "rows": rows,
    }
