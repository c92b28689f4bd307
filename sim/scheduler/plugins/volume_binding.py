"""VolumeBinding (plugins/volumebinding, over pkg/scheduler/framework/plugins/volumebinding/
binder.go): a pod's PersistentVolumeClaims decide where it may run.

PreFilter: a claim that does not exist or is being deleted makes the pod unschedulable, and so
does an unbound claim whose class binds Immediate ("pod has unbound immediate
PersistentVolumeClaims": the persistentvolume binder binds those first).  A pod without claims
skips the plugin.
Filter: a bound claim's volume must be reachable from the node (its nodeAffinity, "node(s) had
volume node affinity conflict"); an unbound WaitForFirstConsumer claim needs an Available volume
that fits it and the node, or a class whose provisioner can make one ("node(s) didn't find
available persistent volumes to bind").
PreBind: the choice is written - a static volume gets the claim in its claimRef (the binder
finishes the binding), a claim to provision gets volume.kubernetes.io/selected-node, which the
driver's external-provisioner waits for - and the pod is bound to the node only once its claims
are bound (at most bindTimeoutSeconds, 600 s; a failed write or a claim gone sends the pod back
to be scheduled again).
"""
from __future__ import annotations

from sim.api import storage as stg
from sim.api.meta import deep_copy
from sim.api.selectors import label_selector_as_selector, selector_matches
from sim.scheduler.framework.helper import NodeSelector
from sim.scheduler.framework.interface import (ADD, NODE, SKIP_STATUS, UNSCHEDULABLE, UNSCHEDULABLE_AND_UNRESOLVABLE,
                                               UPDATE, UPDATE_NODE_LABEL, UPDATE_NODE_TAINT, ClusterEvent,
                                               ClusterEventWithHint, EnqueueExtensions, FilterPlugin, PreBindPlugin,
                                               PreFilterPlugin, ReservePlugin, Status)

STATE_KEY = "PreFilterVolumeBinding"
ERR_UNBOUND_IMMEDIATE = "pod has unbound immediate PersistentVolumeClaims"
ERR_NODE_CONFLICT = "node(s) had volume node affinity conflict"
ERR_BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind"
NO_PROVISIONER = "kubernetes.io/no-provisioner"
BIND_TIMEOUT_SECONDS = 600.0   # VolumeBindingArgs.bindTimeoutSeconds
POLL_SECONDS = 1.0


class _State:
    def __init__(self, bound: list, unbound: list, volumes: list, classes: dict):
        self.bound = bound          # [(pvc, pv)]
        self.unbound = unbound      # [pvc] (delayed binding)
        self.volumes = volumes
        self.classes = classes
        self.decisions: dict[str, list] = {}   # node -> [("bind", pvc, pv) | ("provision", pvc)]

    def clone(self):
        return self


def _node_ok(pv: dict, node_info) -> bool:
    required = ((pv.get("spec") or {}).get("nodeAffinity") or {}).get("required")
    return required is None or NodeSelector(required).match(node_info.labels, node_info.name)


class VolumeBinding(PreFilterPlugin, FilterPlugin, ReservePlugin, PreBindPlugin, EnqueueExtensions):
    name = "VolumeBinding"
    waits_in_pre_bind = True
    informers = ("persistentvolumeclaims", "persistentvolumes", "storageclasses")

    def pre_filter(self, state, pod, nodes):
        claims = stg.pod_claim_names(pod.pod)
        if not claims:
            return None, SKIP_STATUS
        pvcs = stg.claims_in(pod.namespace, claims, self.handle.lister("persistentvolumeclaims"))
        volumes = {v["metadata"]["name"]: v for v in self.handle.lister("persistentvolumes")}
        classes = {c["metadata"]["name"]: c for c in self.handle.lister("storageclasses")}
        bound, unbound = [], []
        for name in claims:
            pvc = pvcs.get(name)
            if pvc is None:
                return None, Status(UNSCHEDULABLE_AND_UNRESOLVABLE, (f'persistentvolumeclaim "{name}" not found',))
            if pvc["metadata"].get("deletionTimestamp"):
                return None, Status(UNSCHEDULABLE_AND_UNRESOLVABLE,
                                    (f'persistentvolumeclaim "{name}" is being deleted',))
            volume_name = (pvc.get("spec") or {}).get("volumeName")
            if volume_name:
                bound.append((pvc, volumes.get(volume_name)))
                continue
            sc = classes.get(stg.pvc_class(pvc))
            if sc is None or sc.get("volumeBindingMode") != stg.WAIT_FOR_FIRST_CONSUMER:
                return None, Status(UNSCHEDULABLE_AND_UNRESOLVABLE, (ERR_UNBOUND_IMMEDIATE,))
            unbound.append(pvc)
        state[STATE_KEY] = _State(bound, unbound, sorted(volumes.values(), key=lambda v: v["metadata"]["name"]),
                                  classes)
        return None, None

    def filter(self, state, pod, node_info):
        s: _State | None = state.get(STATE_KEY)
        if s is None:
            return None
        for _pvc, pv in s.bound:
            if pv is not None and not _node_ok(pv, node_info):
                return Status(UNSCHEDULABLE_AND_UNRESOLVABLE, (ERR_NODE_CONFLICT,))
        decisions, taken = [], set()
        for pvc in s.unbound:
            pv = self._find_volume(s, pvc, node_info, taken)
            if pv is not None:
                taken.add(pv["metadata"]["name"])
                decisions.append(("bind", pvc, pv))
                continue
            sc = s.classes.get(stg.pvc_class(pvc)) or {}
            if not sc.get("provisioner") or sc.get("provisioner") == NO_PROVISIONER or \
                    (pvc.get("spec") or {}).get("selector") is not None:
                return Status(UNSCHEDULABLE, (ERR_BIND_CONFLICT,))
            decisions.append(("provision", pvc, None))
        s.decisions[node_info.name] = decisions
        return None

    @staticmethod
    def _find_volume(s: _State, pvc: dict, node_info, taken: set) -> dict | None:
        """FindMatchingVolume for a node: the smallest Available volume that fits the claim
        and can be reached from the node."""
        best = None
        cspec = pvc.get("spec") or {}
        for pv in s.volumes:
            spec = pv.get("spec") or {}
            if pv["metadata"]["name"] in taken or spec.get("claimRef") or pv["metadata"].get("deletionTimestamp"):
                continue
            if stg.pv_class(pv) != stg.pvc_class(pvc) or stg.pv_capacity(pv) < stg.claim_request(pvc):
                continue
            if not set(cspec.get("accessModes") or []) <= set(spec.get("accessModes") or []):
                continue
            if (spec.get("volumeMode") or stg.FILESYSTEM) != (cspec.get("volumeMode") or stg.FILESYSTEM):
                continue
            sel = cspec.get("selector")
            if sel is not None and not selector_matches(label_selector_as_selector(sel),
                                                        pv["metadata"].get("labels") or {}):
                continue
            if not _node_ok(pv, node_info):
                continue
            if best is None or stg.pv_capacity(pv) < stg.pv_capacity(best):
                best = pv
        return best

    def events_to_register(self):
        """EventsToRegister: a claim, a volume or a class added or changed (bound, provisioned,
        created), or a node that may now match a volume's affinity."""
        return [ClusterEventWithHint(ClusterEvent("PersistentVolumeClaim", ADD | UPDATE)),
                ClusterEventWithHint(ClusterEvent("PersistentVolume", ADD | UPDATE)),
                ClusterEventWithHint(ClusterEvent("StorageClass", ADD | UPDATE)),
                ClusterEventWithHint(ClusterEvent(NODE, ADD | UPDATE_NODE_LABEL | UPDATE_NODE_TAINT))]

    def reserve(self, state, pod, node_name):
        return None

    def unreserve(self, state, pod, node_name):
        return None

    def pre_bind(self, state, pod, node_name, answer):
        """BindPodVolumes: write the decisions on this node (a static volume's claimRef, a
        claim's selected-node), then wait - polling the informers every second, for at most
        bindTimeoutSeconds - until every claim is bound (checkBindings), so that the pod is
        bound to the node only once its volumes are."""
        s: _State | None = state.get(STATE_KEY)
        decisions = s.decisions.get(node_name, []) if s is not None else []
        client = getattr(self.handle.services, "client", None)
        update, after = getattr(client, "update_object", None), getattr(client, "after", None)
        if not decisions or update is None or after is None:
            return answer(None)  # nothing to bind (or a test client that writes nothing)
        pending, failed = [len(decisions)], []

        def written(status) -> None:
            if status is not None and not status.is_success():
                failed.append(status)
            pending[0] -= 1
            if pending[0] == 0:
                if failed:
                    return answer(Status(UNSCHEDULABLE, (f"binding volumes: {failed[0].message()}",)))
                deadline = self.handle.now() + BIND_TIMEOUT_SECONDS
                after(POLL_SECONDS, lambda: self._check_bindings(decisions, deadline, after, answer))

        for kind, pvc, pv in decisions:
            md = pvc["metadata"]
            if kind == "bind":
                new = deep_copy(pv)
                new["spec"]["claimRef"] = {"kind": "PersistentVolumeClaim", "namespace": md["namespace"],
                                           "name": md["name"], "uid": md.get("uid"), "apiVersion": "v1",
                                           "resourceVersion": md.get("resourceVersion")}
                new["metadata"].setdefault("annotations", {})[stg.ANN_BOUND_BY_CONTROLLER] = "yes"
                update("persistentvolumes", new, written)
            else:
                new = deep_copy(pvc)
                new["metadata"].setdefault("annotations", {})[stg.ANN_SELECTED_NODE] = node_name
                update("persistentvolumeclaims", new, written)

    def _check_bindings(self, decisions, deadline: float, after, answer) -> None:
        """checkBindings: done when every claim is bound; an error when a claim is gone or its
        selected node was reset (the provisioner gave up on the node: reschedule)."""
        claims = {(c["metadata"].get("namespace"), c["metadata"]["name"]): c
                  for c in self.handle.lister("persistentvolumeclaims")}
        for kind, pvc, _pv in decisions:
            key = (pvc["metadata"].get("namespace"), pvc["metadata"]["name"])
            cur = claims.get(key)
            if cur is None or cur["metadata"].get("uid") != pvc["metadata"].get("uid"):
                return answer(Status(UNSCHEDULABLE, (f'binding volumes: PVC "{key[0]}/{key[1]}" was deleted',)))
            ann = cur["metadata"].get("annotations") or {}
            if kind == "provision" and not cur["spec"].get("volumeName") and stg.ANN_SELECTED_NODE not in ann:
                return answer(Status(UNSCHEDULABLE, (f"binding volumes: selectedNode annotation reset for PVC "
                                                     f'"{key[1]}"',)))
            if not (cur["spec"].get("volumeName") and ann.get(stg.ANN_BIND_COMPLETED) == "yes"):
                if self.handle.now() >= deadline:
                    return answer(Status(UNSCHEDULABLE, ("binding volumes: context deadline exceeded",)))
                return after(POLL_SECONDS, lambda: self._check_bindings(decisions, deadline, after, answer))
        answer(None)
