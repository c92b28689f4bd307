"""Defaulting (pkg/apis/core/v1/defaults.go, pkg/apis/scheduling/v1/defaults.go) and the
DefaultTolerationSeconds admission plugin, which always runs.  Functions return new objects.

spec.priority and spec.preemptionPolicy are not defaults: the Priority admission plugin
(sim/apiserver/admission/priority.py) sets them when a pod is created, so pod templates never
carry them."""
from __future__ import annotations

from sim.api.meta import deep_copy
from sim.api.scheduling import GROUP as SCHEDULING_GROUP, PREEMPT_LOWER_PRIORITY

# DefaultTolerationSeconds admission plugin: 300 s for not-ready and unreachable NoExecute taints.
DEFAULT_TOLERATION_SECONDS = 300
TAINT_NOT_READY = "node.kubernetes.io/not-ready"
TAINT_UNREACHABLE = "node.kubernetes.io/unreachable"
TAINT_MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure"
TAINT_UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
TAINT_CONTROL_PLANE = "node-role.kubernetes.io/control-plane"


def _image_pull_policy(image: str) -> str:
    # An image without a tag or with :latest is pulled Always (defaults.go SetDefaults_Container).
    name = image.rsplit("/", 1)[-1]
    if "@" in name:
        return "IfNotPresent"
    if ":" not in name or name.endswith(":latest"):
        return "Always"
    return "IfNotPresent"


def default_pod_spec(spec: dict, toleration_seconds: int = DEFAULT_TOLERATION_SECONDS) -> dict:
    spec = deep_copy(spec)
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("enableServiceLinks", True)
    for c in spec.get("containers") or []:
        c.setdefault("imagePullPolicy", _image_pull_policy(str(c.get("image", ""))))
        c.setdefault("terminationMessagePath", "/dev/termination-log")
        c.setdefault("terminationMessagePolicy", "File")
        res = c.setdefault("resources", {})
        # Requests default to limits when only limits are set.
        if res.get("limits"):
            req = res.setdefault("requests", {})
            for k, v in res["limits"].items():
                req.setdefault(k, v)
        for p in c.get("ports") or []:
            p.setdefault("protocol", "TCP")
    tolerations = spec.setdefault("tolerations", [])
    for key in (TAINT_NOT_READY, TAINT_UNREACHABLE):
        if not any(t.get("key") == key and t.get("effect") in ("NoExecute", None, "") for t in tolerations) \
                and not any(t.get("operator") == "Exists" and not t.get("key") for t in tolerations):
            tolerations.append({"key": key, "operator": "Exists", "effect": "NoExecute",
                                "tolerationSeconds": toleration_seconds})
    return spec


def qos_class(spec: dict) -> str:
    """The pod's QoS class (pkg/apis/core/helper/qos)."""
    requests_any, guaranteed = False, True
    for c in spec.get("containers") or []:
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        if req or lim:
            requests_any = True
        for r in ("cpu", "memory"):
            if r not in lim or req.get(r, lim.get(r)) != lim.get(r):
                guaranteed = False
    if not requests_any:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def default_pod(pod: dict, toleration_seconds: int = DEFAULT_TOLERATION_SECONDS) -> dict:
    pod = deep_copy(pod)
    pod["apiVersion"], pod["kind"] = "v1", "Pod"
    pod["spec"] = default_pod_spec(pod.get("spec") or {}, toleration_seconds)
    status = pod.setdefault("status", {})
    status.setdefault("phase", "Pending")
    status["qosClass"] = qos_class(pod["spec"])
    return pod


def encode_pod_status(status: dict) -> dict:
    """A pod status as the API server stores it after Go's round trip: a PodCondition's
    lastProbeTime and lastTransitionTime are metav1.Time structs, not pointers, so a zero one is
    encoded as null rather than left out (and a patch's nulls, discarded on merge, come back)."""
    for c in status.get("conditions") or []:
        if isinstance(c, dict):
            c.setdefault("lastProbeTime", None)
            c.setdefault("lastTransitionTime", None)
    return status


def default_replicaset(rs: dict) -> dict:
    rs = deep_copy(rs)
    rs["apiVersion"], rs["kind"] = "apps/v1", "ReplicaSet"
    spec = rs.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("minReadySeconds", 0)
    template = spec.setdefault("template", {})
    template.setdefault("metadata", {})
    # Pod template tolerations are not defaulted: the admission plugin runs on pod creation.
    tspec = default_pod_spec(template.get("spec") or {})
    tspec["tolerations"] = [t for t in tspec["tolerations"]
                            if t.get("key") not in (TAINT_NOT_READY, TAINT_UNREACHABLE)
                            or t in ((template.get("spec") or {}).get("tolerations") or [])]
    if not tspec["tolerations"]:
        del tspec["tolerations"]
    template["spec"] = tspec
    rs.setdefault("status", {"replicas": 0})
    return rs


def default_namespace(ns: dict) -> dict:
    ns = deep_copy(ns)
    ns["apiVersion"], ns["kind"] = "v1", "Namespace"
    # namespace strategy PrepareForCreate: a new namespace is Active with the `kubernetes`
    # finalizer.  kubectl sends `"spec": {}, "status": {}`, so fill empty ones too; a finalizer
    # list the namespace controller has emptied (the key present) stays empty on update.
    ns.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    ns.setdefault("status", {}).setdefault("phase", "Active")
    # SetDefaults_Namespace: "we can't SetDefaults for nameless namespaces (generateName)".
    if ns["metadata"].get("name"):
        labels = ns["metadata"].setdefault("labels", {})
        labels["kubernetes.io/metadata.name"] = ns["metadata"]["name"]
    return ns


def default_node(node: dict) -> dict:
    node = deep_copy(node)
    node["apiVersion"], node["kind"] = "v1", "Node"
    node.setdefault("spec", {})
    node.setdefault("status", {})
    return node


def default_event(ev: dict) -> dict:
    ev = deep_copy(ev)
    ev["apiVersion"], ev["kind"] = "v1", "Event"
    ev.setdefault("type", "Normal")
    ev.setdefault("count", 1)
    return ev


def default_lease(lease: dict) -> dict:
    lease = deep_copy(lease)
    lease["apiVersion"], lease["kind"] = "coordination.k8s.io/v1", "Lease"
    lease.setdefault("spec", {})
    return lease


def default_priority_class(pc: dict) -> dict:
    """SetDefaults_PriorityClass: preemptionPolicy defaults to PreemptLowerPriority.  value is
    always present (an int32 without omitempty); globalDefault and description are dropped when
    false / empty, as their omitempty JSON tags drop them from every response."""
    pc = deep_copy(pc)
    pc["apiVersion"], pc["kind"] = f"{SCHEDULING_GROUP}/v1", "PriorityClass"
    pc.setdefault("value", 0)
    if pc.get("preemptionPolicy") is None:
        pc["preemptionPolicy"] = PREEMPT_LOWER_PRIORITY
    for key in ("globalDefault", "description"):
        if key in pc and not pc[key]:
            del pc[key]
    return pc
