"""Pods (pkg/registry/core/pod): graceful deletion, a status of their own written by the
kubelet, the binding and eviction subresources, and the fields kubelets select and index on."""
from __future__ import annotations

from typing import Any

from sim.api import validation
from sim.api.defaults import default_pod, encode_pod_status
from sim.api.meta import deep_copy
from sim.api.schema import BY_KIND
from sim.apiserver.podstrategy import apply_match_label_keys_and_mismatch_label_keys
from sim.apiserver.watchcache import PodCensus
from sim.registry.core import podephemeral
from sim.registry.printers import AGE, NAME, Printer, col, human_duration, since
from sim.registry.resource import COMMON_FIELDS, Resource
from sim.registry.strategy import Strategy, bump_generation_on_deletion
from sim.api.meta import parse_timestamp


def alias_service_account(spec) -> None:
    """The v1 conversion of PodSpec: the deprecated `serviceAccount` names the ServiceAccount
    when `serviceAccountName` does not, and is written back equal to it."""
    if not isinstance(spec, dict):
        return
    if spec.get("serviceAccount") and not spec.get("serviceAccountName"):
        spec["serviceAccountName"] = spec["serviceAccount"]
    if spec.get("serviceAccountName"):
        spec["serviceAccount"] = spec["serviceAccountName"]


class PodStrategy(Strategy):
    default_copies = True  # its defaulter deep-copies first (sim.api.defaults)
    returns_deleted_object = True
    # KEP-5067 PodObservedGenerationTracking (GA in 1.35): generation 1 on create, bumped by a
    # spec change (and by deletion); the kubelet reports the one it acted on.
    tracks_generation = True

    def default(self, obj, ctx):
        # DefaultTolerationSeconds (an admission plugin upstream) runs with defaulting here.
        pod = default_pod(obj, ctx.toleration_seconds)
        alias_service_account(pod.get("spec"))
        return pod

    def prepare_for_create(self, res, obj, ctx):
        """podStrategy.PrepareForCreate: a new pod's status is reset to Pending, and
        matchLabelKeys are merged into its pod (anti-)affinity selectors."""
        obj["status"] = {"phase": "Pending", "qosClass": (obj.get("status") or {}).get("qosClass", "BestEffort")}
        obj["metadata"]["generation"] = 1
        apply_match_label_keys_and_mismatch_label_keys(obj)

    def validate(self, obj):
        return validation.validate_pod(obj)

    def validate_update(self, new, old):
        return validation.validate_pod_update(new, old)

    def validate_status_update(self, new, old):
        return validation.validate_pod_status_update(new, old)

    update_subresources = ("status", podephemeral.SUBRESOURCE)

    def prepare_for_subresource_update(self, res, sub, candidate, old, ctx):
        if sub == podephemeral.SUBRESOURCE:
            return podephemeral.prepare_for_update(candidate, old)
        return super().prepare_for_subresource_update(res, sub, candidate, old, ctx)

    def validate_subresource_update(self, sub, new, old):
        if sub == podephemeral.SUBRESOURCE:
            return podephemeral.validate_update(new, old)
        return super().validate_subresource_update(sub, new, old)

    def prepare_for_status_update(self, res, candidate, old, ctx):
        new = super().prepare_for_status_update(res, candidate, old, ctx)
        encode_pod_status(new["status"])
        return new

    def delete_action(self, res, cur, fins, grace, ctx):
        """Graceful deletion (podStrategy.CheckGracefulDelete, rest.BeforeDelete): a bound,
        running pod gets a deletionTimestamp `grace` seconds ahead and its kubelet finishes
        the deletion; an unscheduled or terminal pod goes at once."""
        md = cur["metadata"]
        fins_changed = fins != (md.get("finalizers") or [])
        grace = int(grace) if grace is not None else int(cur["spec"].get("terminationGracePeriodSeconds", 30))
        if not cur["spec"].get("nodeName") or cur["status"].get("phase") in ("Succeeded", "Failed"):
            grace = 0
        if grace <= 0 and not fins:
            return "delete", cur
        if md.get("deletionTimestamp") and md.get("deletionGracePeriodSeconds", 0) <= grace and not fins_changed:
            return "noop", cur
        new = deep_copy(cur)
        if fins_changed:
            new["metadata"]["finalizers"] = fins
        if not md.get("deletionTimestamp"):
            bump_generation_on_deletion(new)
        if not md.get("deletionTimestamp") or md.get("deletionGracePeriodSeconds", 0) > grace:
            new["metadata"]["deletionTimestamp"] = ctx.timestamp(ctx.now + max(grace, 0))
            new["metadata"]["deletionGracePeriodSeconds"] = max(grace, 0)
        return "update", new

    def deletes_on_update(self, new):
        # Only once its graceful deletion is over (the kubelet's delete with grace 0).
        return super().deletes_on_update(new) and new["metadata"].get("deletionGracePeriodSeconds") == 0


POD_COLUMNS = [
    NAME,
    col("Ready", description="The aggregate readiness state of this pod for accepting traffic."),
    col("Status", description="The aggregate status of the containers in this pod."),
    col("Restarts", description="The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
    AGE,
    col("IP", priority=1, description="IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated."),
    col("Node", priority=1, description="NodeName is a request to schedule this pod onto a specific node."),
    col("Nominated Node", priority=1, description="nominatedNodeName is set when this pod preempts other pods on the node."),
    col("Readiness Gates", priority=1, description="If specified, all readiness gates will be evaluated for pod readiness."),
]


def status_column(pod: dict) -> str:
    """The STATUS `kubectl get pods` prints for the pod (printPod's reason)."""
    return pod_row(pod, 0.0)[2]


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
    # Init containers first (printPod): a sidecar (restartPolicy Always) counts among the
    # containers; the first init container not done names the status (Init:1/2, Init:Error,
    # Init:CrashLoopBackOff), and then only sidecars' restarts count.
    init_specs = {c.get("name"): c for c in spec.get("initContainers") or []}
    sidecar = {n for n, c in init_specs.items() if c.get("restartPolicy") == "Always"}
    total += len(sidecar)
    initializing = False
    sidecar_restarts = 0
    for i, cs in enumerate(st.get("initContainerStatuses") or []):
        restarts += int(cs.get("restartCount", 0))
        if cs.get("name") in sidecar:
            sidecar_restarts += int(cs.get("restartCount", 0))
        state = cs.get("state", {})
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if cs.get("name") in sidecar and cs.get("started"):
            ready += 1 if cs.get("ready") else 0
            continue
        if terminated and terminated.get("exitCode") == 0:
            continue
        if terminated:
            reason = "Init:" + terminated["reason"] if terminated.get("reason") else (
                f"Init:Signal:{terminated['signal']}" if terminated.get("signal") else f"Init:ExitCode:{terminated.get('exitCode', 0)}")
        elif waiting and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break
    initialized = any(c.get("type") == "Initialized" and c.get("status") == "True" for c in st.get("conditions", []))
    if initializing and not initialized:
        return _row(md, spec, st, f"{ready}/{total}", reason, str(restarts), now)
    restarts = sidecar_restarts
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
    restarts_cell = str(restarts)
    if last_restart is not None and restarts:
        restarts_cell = f"{restarts} ({human_duration(now - last_restart)} ago)"
    return _row(md, spec, st, f"{ready}/{total}", reason, restarts_cell, now)


def _row(md: dict, spec: dict, st: dict, ready: str, reason: str, restarts: str, now: float) -> list[Any]:
    if md.get("deletionTimestamp") and st.get("reason") == "NodeLost":
        reason = "Unknown"
    elif md.get("deletionTimestamp"):
        reason = "Terminating"
    gates = spec.get("readinessGates") or []
    if gates:
        true_conds = {c.get("type") for c in st.get("conditions", []) if c.get("status") == "True"}
        gates_cell = f"{sum(1 for g in gates if g.get('conditionType') in true_conds)}/{len(gates)}"
    else:
        gates_cell = "<none>"
    return [
        md.get("name", ""),
        ready,
        reason,
        restarts,
        since(md.get("creationTimestamp"), now),
        st.get("podIP") or "<none>",
        spec.get("nodeName") or "<none>",
        st.get("nominatedNodeName") or "<none>",
        gates_cell,
    ]


RESOURCE = Resource(
    "pods", "", "v1", "Pod", True, "/registry/pods/", ("po",), "pod", ("status", "binding", "eviction", "log", "exec",
    "attach", "portforward", "ephemeralcontainers"),
    PodStrategy(), BY_KIND["Pod"], categories=("all",),
    # pod.ToSelectableFields
    selectable_fields=COMMON_FIELDS + ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                                       "spec.serviceAccountName", "spec.hostNetwork", "status.phase",
                                       "status.podIP", "status.nominatedNodeName"),
    indexed_fields=("spec.nodeName", "metadata.name"),
    cache_observer=PodCensus,
    printer=Printer(POD_COLUMNS, pod_row))
