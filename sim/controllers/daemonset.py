"""The DaemonSet controller (pkg/controller/daemon: daemon_controller.go, update.go,
util/daemonset_util.go).

One pod per eligible node.  A node is eligible (NodeShouldRunDaemonPod) when the pod the
DaemonSet would put there fits it: the template's nodeName (if any), its nodeSelector and
required node affinity, and the node's NoSchedule/NoExecute taints against the template's
tolerations plus the ones the controller adds to every daemon pod (not-ready and unreachable
NoExecute with no tolerationSeconds; disk-, memory- and pid-pressure and unschedulable
NoSchedule; network-unavailable NoSchedule when the pod uses the host network).  A node that
no longer fits keeps its pod only while no NoExecute taint is untolerated
(shouldContinueRunning).

The pods are scheduled by the default scheduler, as upstream does today: the controller does
not set nodeName; it pins each pod to its node with a required node affinity term
`matchFields metadata.name In [<node>]` (ReplaceDaemonSetPodNodeNameNodeAffinity).  Until it
is bound, a pod counts for the node its affinity names (GetTargetNodeName).

reconcile(key), syncDaemonSet:
  1. constructHistory: claim the DaemonSet's ControllerRevisions; the one whose data is the
     current template's patch is the current revision (created, numbered one past the others,
     when there is none; a rollback to an old template renumbers that revision); its
     `controller-revision-hash` label is the hash every up-to-date pod carries;
  2. manage: create the pods missing on eligible nodes and delete those on nodes that no longer
     fit, failed pods (with a per-node backoff of 1 s doubling to 15 min, FailedDaemonPod) and
     extra pods (slow-start batches of creates, at most 250 per sync, expectations as the
     ReplicaSet controller keeps them);
  3. when nothing is in flight: the RollingUpdate (maxUnavailable old pods deleted at a time,
     or with maxSurge new pods started beside old ones), nothing for OnDelete;
  4. cleanupHistory: old revisions beyond revisionHistoryLimit that no pod uses are deleted;
  5. status: desiredNumberScheduled, currentNumberScheduled, numberMisscheduled, numberReady,
     updatedNumberScheduled, numberAvailable, numberUnavailable, observedGeneration.

A node removed from the cluster takes its daemon pod with it through the pod garbage collector
(orphaned pods), as upstream; the controller then no longer counts that node.
"""
from __future__ import annotations

from sim.api.meta import deep_copy
from sim.api.podutil import controller_ref, is_deleting, is_pod_available, is_pod_ready, is_terminal
from sim.api.selectors import labels_match, selector_from_label_selector
from sim.controllers.controllerref import ControllerRefManager, OwnedIndex, owner_reference
from sim.controllers.expectations import ControllerExpectations
from sim.controllers.history import History, max_revision
from sim.controllers.podtemplate import compute_hash, pod_from_template
from sim.kubelet.backoff import Backoff
from sim.registry.apps.daemonsets import (DAEMONSET_TEMPLATE_GENERATION_KEY, DEFAULT_DAEMONSET_UNIQUE_LABEL_KEY,
                                          ROLLING_UPDATE, template_generation)
from sim.registry.policy.poddisruptionbudgets import IntOrPercentError, scaled_value
from sim.scheduler.framework.helper import OBJECT_NAME_FIELD, RequiredNodeAffinity, find_matching_untolerated_taint
from sim.workqueue import WorkQueue

BURST_REPLICAS = 250               # daemon.BurstReplicas
SLOW_START_INITIAL_BATCH_SIZE = 1  # controller.SlowStartInitialBatchSize
BACKOFF_GC_INTERVAL = 60.0         # BackoffGCInterval
# kube-controller-manager's failedPodsBackoff: flowcontrol.NewBackOff(1*time.Second, 15*time.Minute)
FAILED_PODS_BACKOFF_INITIAL, FAILED_PODS_BACKOFF_MAX = 1.0, 900.0

API_VERSION, KIND = "apps/v1", "DaemonSet"

# Event reasons (daemon_controller.go, controller_utils.go)
SELECTING_ALL = "SelectingAll"
FAILED_DAEMON_POD = "FailedDaemonPod"
SUCCEEDED_DAEMON_POD = "SucceededDaemonPod"

# The tolerations every daemon pod gets (util.AddOrUpdateDaemonPodTolerations).
DAEMON_POD_TOLERATIONS = (
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
)
NETWORK_UNAVAILABLE_TOLERATION = {"key": "node.kubernetes.io/network-unavailable", "operator": "Exists",
                                  "effect": "NoSchedule"}


# -- util/daemonset_util.go ---------------------------------------------------------------------
def _matches_toleration(a: dict, b: dict) -> bool:
    """Toleration.MatchToleration: the same key, operator, value and effect."""
    return all((a.get(f) or "") == (b.get(f) or "") for f in ("key", "operator", "value", "effect"))


def add_or_update_toleration(spec: dict, toleration: dict) -> None:
    """v1helper.AddOrUpdateTolerationInPodSpec: a matching toleration is replaced, else added."""
    out, updated = [], False
    for t in spec.get("tolerations") or []:
        if _matches_toleration(t, toleration):
            if t == toleration:
                return
            out.append(dict(toleration))
            updated = True
            continue
        out.append(t)
    if not updated:
        out.append(dict(toleration))
    spec["tolerations"] = out


def add_daemon_pod_tolerations(spec: dict) -> None:
    """AddOrUpdateDaemonPodTolerations: daemon pods survive node problems and cordons."""
    for t in DAEMON_POD_TOLERATIONS:
        add_or_update_toleration(spec, t)
    if spec.get("hostNetwork"):
        add_or_update_toleration(spec, NETWORK_UNAVAILABLE_TOLERATION)


def create_pod_template(template: dict, generation: int | None, hash_: str) -> dict:
    """CreatePodTemplate: the template with the daemon tolerations, the template-generation
    label (for backward compatibility) and the revision hash label."""
    t = deep_copy(template)
    t.setdefault("spec", {})
    add_daemon_pod_tolerations(t["spec"])
    labels = t.setdefault("metadata", {}).setdefault("labels", {})
    if generation is not None:
        labels[DAEMONSET_TEMPLATE_GENERATION_KEY] = str(generation)
    if hash_:
        labels[DEFAULT_DAEMONSET_UNIQUE_LABEL_KEY] = hash_
    return t


def replace_node_name_node_affinity(spec: dict, node_name: str) -> None:
    """ReplaceDaemonSetPodNodeNameNodeAffinity: the required node affinity becomes the one term
    `matchFields metadata.name In [node]` (preferred terms and pod affinities stay)."""
    selector = {"nodeSelectorTerms": [{"matchFields": [{"key": OBJECT_NAME_FIELD, "operator": "In",
                                                         "values": [node_name]}]}]}
    affinity = spec.get("affinity") or {}
    node_affinity = affinity.get("nodeAffinity") or {}
    node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = selector
    affinity["nodeAffinity"] = node_affinity
    spec["affinity"] = affinity


def target_node_name(pod: dict) -> str | None:
    """GetTargetNodeName: its nodeName, or (not yet bound) the node its affinity pins it to."""
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return spec["nodeName"]
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution") or {}
    for term in required.get("nodeSelectorTerms") or []:
        for exp in term.get("matchFields") or []:
            if exp.get("key") == OBJECT_NAME_FIELD and exp.get("operator") == "In":
                values = exp.get("values") or []
                return values[0] if len(values) == 1 else None
    return None


def is_pod_updated(pod: dict, hash_: str, generation: int | None) -> bool:
    """IsPodUpdated: the pod carries the current revision's hash (or, for pods made before
    hashes, the current template generation)."""
    labels = pod["metadata"].get("labels") or {}
    template_matches = generation is not None and labels.get(DAEMONSET_TEMPLATE_GENERATION_KEY) == str(generation)
    hash_matches = bool(hash_) and labels.get(DEFAULT_DAEMONSET_UNIQUE_LABEL_KEY) == hash_
    return hash_matches or template_matches


def _rolling_update(ds: dict) -> dict | None:
    strategy = ds["spec"].get("updateStrategy") or {}
    if strategy.get("type") != ROLLING_UPDATE:
        return None
    return strategy.get("rollingUpdate")


def surge_count(ds: dict, number_to_schedule: int) -> int:
    """SurgeCount: maxSurge scaled to the number of nodes (rounding up); 0 when not rolling."""
    ru = _rolling_update(ds)
    if not ru or ru.get("maxSurge") is None:
        return 0
    return scaled_value(ru["maxSurge"], number_to_schedule, True)


def unavailable_count(ds: dict, number_to_schedule: int) -> int:
    """UnavailableCount: maxUnavailable scaled to the number of nodes (rounding up)."""
    ru = _rolling_update(ds)
    if not ru:
        return 0
    return scaled_value(ru.get("maxUnavailable", 0), number_to_schedule, True)


def allows_surge(ds: dict) -> bool:
    """AllowsSurge: more than one pod may run on a node (during a surge rollout)."""
    try:
        return surge_count(ds, 1) > 0
    except IntOrPercentError:
        return False


def get_patch(ds: dict) -> dict:
    """getPatch: the strategic merge patch that puts this template back (`$patch: replace`):
    what a revision records and what `kubectl rollout undo` applies."""
    template = deep_copy(ds["spec"].get("template") or {})
    template["$patch"] = "replace"
    return {"spec": {"template": template}}


def _pod_order(pod: dict):
    """podByCreationTimestampAndPhase: scheduled pods first, then the oldest, then by name."""
    return (0 if pod["spec"].get("nodeName") else 1, pod["metadata"].get("creationTimestamp") or "",
            pod["metadata"]["name"])


class NodePredicates:
    """NodeShouldRunDaemonPod for one DaemonSet, with its would-be pod worked out once (NewPod:
    the template with the daemon tolerations)."""

    def __init__(self, ds: dict):
        tspec = (ds["spec"].get("template") or {}).get("spec") or {}
        spec = deep_copy(tspec)
        add_daemon_pod_tolerations(spec)
        self.node_name = tspec.get("nodeName") or ""
        self.tolerations = spec.get("tolerations") or []
        self.affinity = RequiredNodeAffinity({"spec": spec})

    def should_run(self, node: dict) -> tuple[bool, bool]:
        """(shouldRun, shouldContinueRunning)."""
        md = node["metadata"]
        if self.node_name and self.node_name != md["name"]:
            return False, False
        if not self.affinity.match(md.get("labels") or {}, md["name"]):
            return False, False
        taints = (node.get("spec") or {}).get("taints") or []
        if find_matching_untolerated_taint(taints, self.tolerations) is not None:
            no_execute = find_matching_untolerated_taint(taints, self.tolerations,
                                                         keep=lambda t: t.get("effect") == "NoExecute")
            return False, no_execute is None
        return True, True


class _Sync:
    """One syncDaemonSet whose writes are answered later: the key stays in processing until the
    last answer (upstream's worker waits for them), then is forgotten, or requeued with the
    queue's backoff if anything failed."""

    def __init__(self, queue: WorkQueue, key):
        self.queue, self.key = queue, key
        self.pending, self.failed = 1, False
        self.done = queue.defer(key)

    def hold(self) -> None:
        self.pending += 1

    def release(self, failed: bool = False) -> None:
        self.failed = self.failed or failed
        self.pending -= 1
        if self.pending == 0:
            self.done()
            if self.failed:
                self.queue.add_rate_limited(self.key)
            else:
                self.queue.forget(self.key)


class DaemonSetController:
    name = "daemonset-controller"

    def __init__(self, cm):
        self.cm = cm
        self.api = cm.api.client_for(self.name)  # each controller its own clientset
        self.queue = WorkQueue(cm, self.reconcile)
        self.expectations = ControllerExpectations(lambda: cm.now)
        self.daemonsets = cm.shared_informer("daemonsets", group="apps")
        self.revisions = cm.shared_informer("controllerrevisions", group="apps")
        self.history = History(cm, self.api, self.revisions)
        self.pods = OwnedIndex()  # the pod informer's pods by controlling owner, and orphans
        self.failed_pods_backoff = Backoff(FAILED_PODS_BACKOFF_INITIAL, FAILED_PODS_BACKOFF_MAX)

    def start(self) -> None:
        self.daemonsets.handlers(add=self._ds_added, update=self._ds_updated, delete=self._ds_deleted)
        self.revisions.handlers(add=self._history_added, update=self._history_updated, delete=self._history_deleted)
        self.cm.pods.handlers(add=self._pod_added, update=self._pod_updated, delete=self._pod_deleted)
        self.cm.nodes.handlers(add=self._node_added, update=self._node_updated)
        self.cm.call_later(BACKOFF_GC_INTERVAL, self._gc_backoff)

    def _gc_backoff(self) -> None:
        self.failed_pods_backoff.gc(self.cm.now)
        self.cm.call_later(BACKOFF_GC_INTERVAL, self._gc_backoff)

    @staticmethod
    def _key(obj: dict) -> tuple[str, str]:
        return obj["metadata"]["namespace"], obj["metadata"]["name"]

    # -- event handlers -----------------------------------------------------------------
    def _ds_added(self, ds: dict) -> None:
        self.queue.add(self._key(ds))

    def _ds_updated(self, old: dict, new: dict) -> None:
        if old["metadata"].get("uid") != new["metadata"].get("uid"):
            self.expectations.delete(self._key(old))  # deleted and recreated under the same name
        self.queue.add(self._key(new))

    def _ds_deleted(self, ds: dict) -> None:
        self.expectations.delete(self._key(ds))
        self.queue.add(self._key(ds))

    def _resolve(self, namespace: str, ref: dict | None) -> tuple[str, str] | None:
        """resolveControllerRef: the DaemonSet a controller reference names, if it still exists."""
        if not ref or ref.get("kind") != KIND:
            return None
        ds = self.daemonsets.get(namespace, ref.get("name"))
        if ds is None or ds["metadata"]["uid"] != ref.get("uid"):
            return None
        return self._key(ds)

    def _selecting(self, obj: dict) -> list[tuple[str, str]]:
        """GetPodDaemonSets / GetHistoryDaemonSets: the DaemonSets of the namespace whose
        (non-empty) selector matches the object's labels."""
        ns, labels = obj["metadata"].get("namespace"), obj["metadata"].get("labels") or {}
        out = []
        for ds in self.daemonsets.list():
            if ds["metadata"].get("namespace") != ns:
                continue
            reqs = selector_from_label_selector(ds["spec"].get("selector"))
            if reqs and labels_match(reqs, labels):
                out.append(self._key(ds))
        return sorted(out)

    def _pod_added(self, pod: dict) -> None:
        self.pods.set(pod)
        if is_deleting(pod):
            # A controller-manager restart can show a pod already being deleted.
            return self._deletion_seen(pod)
        key = self._resolve(pod["metadata"]["namespace"], controller_ref(pod))
        if key:
            self.expectations.creation_observed(key)
            self.queue.add(key)
        elif not controller_ref(pod):
            for k in self._selecting(pod):
                self.queue.add(k)

    def _pod_updated(self, old: dict, new: dict) -> None:
        self.pods.set(new)
        if new["metadata"].get("resourceVersion") == old["metadata"].get("resourceVersion"):
            return
        ns = new["metadata"]["namespace"]
        if is_deleting(new) and not is_deleting(old):
            # The pod is going: expect it gone now, not when the kubelet has finished with it.
            return self._deletion_seen(new)
        old_ref, new_ref = controller_ref(old), controller_ref(new)
        if old_ref != new_ref and old_ref:
            k = self._resolve(ns, old_ref)
            if k:
                self.queue.add(k)
        if new_ref:
            key = self._resolve(ns, new_ref)
            if key is None:
                return
            self.queue.add(key)
            ds = self.daemonsets.get(*key)
            min_ready = ds["spec"].get("minReadySeconds") or 0
            if min_ready > 0 and not is_pod_ready(old) and is_pod_ready(new):
                # Check again once it has been ready long enough (a second of skew allowed).
                self.queue.add_after(key, min_ready + 1)
            return
        if (old["metadata"].get("labels") != new["metadata"].get("labels")) or old_ref != new_ref:
            for k in self._selecting(new):
                self.queue.add(k)

    def _pod_deleted(self, pod: dict) -> None:
        self.pods.set(pod, remove=True)
        if not is_deleting(pod):
            self._deletion_seen(pod)
        else:
            key = self._resolve(pod["metadata"]["namespace"], controller_ref(pod))
            if key:
                self.queue.add(key)

    def _deletion_seen(self, pod: dict) -> None:
        key = self._resolve(pod["metadata"]["namespace"], controller_ref(pod))
        if key:
            self.expectations.deletion_observed(key)
            self.queue.add(key)

    def _node_added(self, node: dict) -> None:
        for ds in self.daemonsets.list():
            if NodePredicates(ds).should_run(node)[0]:
                self.queue.add(self._key(ds))

    def _node_updated(self, old: dict, new: dict) -> None:
        # shouldIgnoreNodeUpdate: only labels and taints bear on NodeShouldRunDaemonPod.
        if old["metadata"].get("labels") == new["metadata"].get("labels") and \
                (old.get("spec") or {}).get("taints") == (new.get("spec") or {}).get("taints"):
            return
        for ds in self.daemonsets.list():
            p = NodePredicates(ds)
            if p.should_run(old) != p.should_run(new):
                self.queue.add(self._key(ds))

    def _history_added(self, history: dict) -> None:
        if is_deleting(history):
            return self._history_deleted(history)
        if controller_ref(history) is not None:
            return  # an owned revision: its DaemonSet wrote it and needs no wake-up
        for k in self._selecting(history):
            self.queue.add(k)

    def _history_updated(self, old: dict, new: dict) -> None:
        if old["metadata"].get("resourceVersion") == new["metadata"].get("resourceVersion"):
            return
        ns = new["metadata"]["namespace"]
        old_ref, new_ref = controller_ref(old), controller_ref(new)
        if old_ref != new_ref and old_ref:
            k = self._resolve(ns, old_ref)
            if k:
                self.queue.add(k)
        if new_ref:
            k = self._resolve(ns, new_ref)
            if k:
                self.queue.add(k)
            return
        if old["metadata"].get("labels") != new["metadata"].get("labels") or old_ref != new_ref:
            for k in self._selecting(new):
                self.queue.add(k)

    def _history_deleted(self, history: dict) -> None:
        k = self._resolve(history["metadata"]["namespace"], controller_ref(history))
        if k:
            self.queue.add(k)

    # -- syncDaemonSet ------------------------------------------------------------------
    def reconcile(self, key) -> None:
        if not all(inf.informer.synced for inf in (self.daemonsets, self.revisions, self.cm.pods, self.cm.nodes)):
            # WaitForNamedCacheSync: a sync on a cache still filling would make duplicate pods.
            self.queue.add_after(key, 1.0)
            return
        ds = self.daemonsets.get(*key)
        if ds is None:
            self.expectations.delete(key)
            return
        nodes = sorted(self.cm.nodes.list(), key=lambda n: n["metadata"]["name"])
        sel = ds["spec"].get("selector")
        if isinstance(sel, dict) and not (sel.get("matchLabels") or sel.get("matchExpressions")):
            self.api.event(ds, SELECTING_ALL, "This daemon set is selecting all pods. A non-empty selector is required.",
                           self.name, type_="Warning")
            return
        if is_deleting(ds):
            # Its revisions and pods may be going or orphaned: no status can be trusted.
            return
        sync = _Sync(self.queue, key)
        self.construct_history(ds, sync, lambda cur, old: self._sync_with_history(ds, key, nodes, cur, old, sync))
        sync.release()

    def _sync_with_history(self, ds: dict, key, nodes: list[dict], cur: dict, old: list[dict], sync: _Sync) -> None:
        hash_ = (cur["metadata"].get("labels") or {}).get(DEFAULT_DAEMONSET_UNIQUE_LABEL_KEY, "")
        claimed = self._claim_pods(ds)
        predicates = NodePredicates(ds)
        if not self.expectations.satisfied(key):
            # Only the status; observedGeneration stays, as this generation was not acted on.
            return self.update_status(ds, key, nodes, claimed, predicates, hash_, False, sync)
        try:
            self.manage(ds, key, nodes, claimed, predicates, hash_, sync)
            if self.expectations.satisfied(key) and _rolling_update(ds) is not None:
                self.rolling_update(ds, key, nodes, claimed, predicates, hash_, sync)
        except IntOrPercentError:
            sync.failed = True  # an invalid maxSurge/maxUnavailable: retried with backoff
        self.cleanup_history(ds, old, claimed, sync)
        self.update_status(ds, key, nodes, claimed, predicates, hash_, True, sync)

    def _claim_pods(self, ds: dict) -> list[dict]:
        """getDaemonPods: adopt matching orphans, release owned pods that stopped matching."""
        reqs = selector_from_label_selector(ds["spec"].get("selector")) or []
        refs = ControllerRefManager(ds, API_VERSION, KIND, reqs, self._patch_pod)
        return refs.claim(self.pods.candidates(ds))

    def _patch_pod(self, pod: dict, patch: dict) -> None:
        md = pod["metadata"]
        self.api.patch("pods", md["namespace"], md["name"], patch)

    @staticmethod
    def nodes_to_daemon_pods(claimed: list[dict], include_deleted_terminal: bool = False) -> dict[str, list[dict]]:
        """getNodesToDaemonPods: the claimed pods by their target node (a terminal pod already
        being deleted is left out unless asked for)."""
        out: dict[str, list[dict]] = {}
        for pod in claimed:
            if not include_deleted_terminal and is_terminal(pod) and is_deleting(pod):
                continue
            node = target_node_name(pod)
            if node is None:
                continue
            out.setdefault(node, []).append(pod)
        return out

    # -- manage (daemon_controller.go) ---------------------------------------------------
    def manage(self, ds: dict, key, nodes: list[dict], claimed: list[dict], predicates: NodePredicates,
               hash_: str, sync: _Sync) -> None:
        node_pods = self.nodes_to_daemon_pods(claimed)
        needing, to_delete = [], []
        for node in nodes:
            n, d = self.pods_should_be_on_node(ds, key, node, node_pods, predicates, hash_)
            needing += n
            to_delete += d
        # Unbound pods pinned to nodes that no longer exist: nothing else deletes them.
        names = {n["metadata"]["name"] for n in nodes}
        for node_name in sorted(node_pods):
            if node_name not in names:
                to_delete += [p["metadata"]["name"] for p in node_pods[node_name] if not p["spec"].get("nodeName")]
        self.sync_nodes(ds, key, to_delete, needing, hash_, sync)

    def pods_should_be_on_node(self, ds: dict, key, node: dict, node_pods: dict, predicates: NodePredicates,
                               hash_: str) -> tuple[list[str], list[str]]:
        """podsShouldBeOnNode: (nodes needing a daemon pod, pods to delete) for one node."""
        name = node["metadata"]["name"]
        should_run, should_continue = predicates.should_run(node)
        pods = node_pods.get(name)
        needing: list[str] = []
        to_delete: list[str] = []
        if should_run and pods is None:
            return [name], []
        if should_continue:
            running = []
            for pod in pods or []:
                if is_deleting(pod):
                    continue
                phase = (pod.get("status") or {}).get("phase")
                pname = f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"
                if phase == "Failed":
                    # The controller often fights a kubelet that rejects its pods: back off.
                    backoff_key = f"{ds['metadata']['uid']}/{(ds.get('status') or {}).get('observedGeneration', 0)}/{name}"
                    now = self.cm.now
                    if self.failed_pods_backoff.in_backoff_since_update(backoff_key, now):
                        self.queue.add_after(key, self.failed_pods_backoff.get(backoff_key))
                        continue
                    self.failed_pods_backoff.next(backoff_key, now)
                    self.api.event(ds, FAILED_DAEMON_POD,
                                   f"Found failed daemon pod {pname} on node {name}, will try to kill it",
                                   self.name, type_="Warning")
                    to_delete.append(pod["metadata"]["name"])
                elif phase == "Succeeded":
                    self.api.event(ds, SUCCEEDED_DAEMON_POD,
                                   f"Found succeeded daemon pod {pname} on node {name}, will try to delete it", self.name)
                    to_delete.append(pod["metadata"]["name"])
                else:
                    running.append(pod)
            running.sort(key=_pod_order)
            if not allows_surge(ds):
                # Without surge one pod per node: all but the oldest go.
                to_delete += [p["metadata"]["name"] for p in running[1:]]
                return needing, to_delete
            if len(running) <= 1:
                if not running and should_run:
                    needing.append(name)  # surging: at least one pod not being deleted
                return needing, to_delete
            # With surge: two pods only while the oldest new one is not ready and the oldest
            # old one is; everything else goes.
            oldest_new = oldest_old = None
            for pod in running:
                if (pod["metadata"].get("labels") or {}).get(DEFAULT_DAEMONSET_UNIQUE_LABEL_KEY) == hash_:
                    if oldest_new is None:
                        oldest_new = pod
                        continue
                elif oldest_old is None:
                    oldest_old = pod
                    continue
                to_delete.append(pod["metadata"]["name"])
            if oldest_new is not None and oldest_old is not None:
                if not is_pod_ready(oldest_old) or \
                        is_pod_available(oldest_new, ds["spec"].get("minReadySeconds") or 0, self.cm.api_now):
                    to_delete.append(oldest_old["metadata"]["name"])
            return needing, to_delete
        if pods:
            # Not to run here any more (an untolerated NoExecute taint, a selector that no
            # longer matches): every daemon pod on the node goes.
            to_delete += [p["metadata"]["name"] for p in pods if not is_deleting(p)]
        return needing, to_delete

    def sync_nodes(self, ds: dict, key, to_delete: list[str], needing: list[str], hash_: str, sync: _Sync) -> None:
        """syncNodes: expectations first; creates in slow-start batches (a batch with an error
        ends it and the creates never tried are no longer expected); deletes all at once."""
        creates, deletes = min(len(needing), BURST_REPLICAS), min(len(to_delete), BURST_REPLICAS)
        self.expectations.set_expectations(key, creates, deletes)
        template = create_pod_template(ds["spec"].get("template") or {}, template_generation(ds), hash_)
        ns = key[0]
        if creates:
            self._slow_start(ds, key, template, needing[:creates], sync)
        for pod_name in to_delete[:deletes]:
            sync.hold()
            self.api.delete("pods", ns, pod_name,
                            lambda resp, pod_name=pod_name: self._deleted(ds, key, pod_name, resp, sync))

    def _slow_start(self, ds: dict, key, template: dict, nodes: list[str], sync: _Sync) -> None:
        sync.hold()
        state = {"pos": 0}

        def batch(size: int) -> None:
            self.cm.emit("slow-start", component=self.cm.address, daemonset=f"{key[0]}/{key[1]}", batch=size)
            answered = {"n": 0, "errors": 0}
            start = state["pos"]

            def created(resp: dict) -> None:
                answered["n"] += 1
                if not self._created(ds, key, resp):
                    answered["errors"] += 1
                if answered["n"] < size:
                    return
                state["pos"] = start + size
                remaining = len(nodes) - state["pos"]
                if answered["errors"]:
                    if remaining > 0:
                        self.expectations.lower(key, remaining, 0)  # never tried: never seen
                    return sync.release(True)
                if remaining <= 0:
                    return sync.release()
                batch(min(2 * size, remaining))

            for node_name in nodes[start:start + size]:
                spec_template = deep_copy(template)
                replace_node_name_node_affinity(spec_template["spec"], node_name)
                pod = pod_from_template(spec_template, key[0], ds, API_VERSION, KIND, f"{ds['metadata']['name']}-")
                self.api.create("pods", pod, created)

        batch(min(len(nodes), SLOW_START_INITIAL_BATCH_SIZE))

    def _created(self, ds: dict, key, resp: dict) -> bool:
        """A create answered: its event (RealPodControl), and whether it succeeded; a failed
        create will never be seen."""
        if resp["code"] >= 400:
            body = resp.get("body") or {}
            causes = ((body.get("details") or {}).get("causes") or [])
            self.expectations.creation_observed(key)
            if any(c.get("type") == "NamespaceTerminating" for c in causes):
                return True  # the namespace is going: every create will fail, nothing to retry
            self.api.event(ds, "FailedCreate", f"Error creating: {body.get('message')}", self.name, type_="Warning")
            return False
        pod = resp["body"]
        self.cm.action(f"daemonset-controller created pod {key[0]}/{pod['metadata']['name']}")
        self.api.event(ds, "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}", self.name)
        return True

    def _deleted(self, ds: dict, key, pod_name: str, resp: dict, sync: _Sync) -> None:
        if resp["code"] >= 400:
            self.expectations.deletion_observed(key)
            if resp["code"] != 404:
                self.api.event(ds, "FailedDelete", f"Error deleting: {(resp.get('body') or {}).get('message')}",
                               self.name, type_="Warning")
                return sync.release(True)
            return sync.release()
        self.cm.action(f"daemonset-controller deleted pod {key[0]}/{pod_name}")
        self.api.event(ds, "SuccessfulDelete", f"Deleted pod: {pod_name}", self.name)
        sync.release()

    # -- rollingUpdate (update.go) ---------------------------------------------------------
    def updated_desired_node_counts(self, ds: dict, nodes: list[dict], node_pods: dict,
                                    predicates: NodePredicates) -> tuple[int, int, int]:
        """updatedDesiredNodeCounts: (maxSurge, maxUnavailable, desiredNumberScheduled); every
        node that wants a pod gets an entry in node_pods."""
        desired = 0
        for node in nodes:
            if not predicates.should_run(node)[0]:
                continue
            desired += 1
            node_pods.setdefault(node["metadata"]["name"], [])
        max_unavailable = unavailable_count(ds, desired)
        max_surge = surge_count(ds, desired)
        if desired > 0 and max_unavailable == 0 and max_surge == 0:
            max_unavailable = 1  # an impossible configuration: accept unavailability
        return max_surge, max_unavailable, desired

    @staticmethod
    def find_updated_pods_on_node(pods: list[dict], hash_: str, generation: int | None):
        """findUpdatedPodsOnNode: (new pod, old pod, ok): ok is False when a node has more than
        one of either (the manage loop prunes them first)."""
        new = old = None
        for pod in pods:
            if is_deleting(pod):
                continue
            if is_pod_updated(pod, hash_, generation):
                if new is not None:
                    return None, None, False
                new = pod
            else:
                if old is not None:
                    return None, None, False
                old = pod
        return new, old, True

    def rolling_update(self, ds: dict, key, nodes: list[dict], claimed: list[dict], predicates: NodePredicates,
                       hash_: str, sync: _Sync) -> None:
        node_pods = self.nodes_to_daemon_pods(claimed)
        max_surge, max_unavailable, desired = self.updated_desired_node_counts(ds, nodes, node_pods, predicates)
        now, min_ready = self.cm.api_now, ds["spec"].get("minReadySeconds") or 0   # is_pod_available's clock
        generation = template_generation(ds)
        nodes_by_name = {n["metadata"]["name"]: n for n in nodes}

        def available(pod: dict) -> bool:
            return is_pod_available(pod, min_ready, now)

        if max_surge == 0:
            # Delete just enough old pods to stay within maxUnavailable; manage() then creates
            # their replacements.  A new pod not yet available counts as unavailable.
            num_unavailable = 0
            allowed, candidates = [], []
            for node_name in sorted(node_pods):
                new, old, ok = self.find_updated_pods_on_node(node_pods[node_name], hash_, generation)
                if not ok:
                    num_unavailable += 1
                    continue
                if (old is None and new is None) or (old is not None and new is not None):
                    num_unavailable += 1
                elif new is not None:
                    if not available(new):
                        num_unavailable += 1
                elif not available(old):
                    allowed.append(old["metadata"]["name"])  # not available anyway: replace it
                    num_unavailable += 1
                elif num_unavailable >= max_unavailable:
                    continue
                else:
                    candidates.append(old["metadata"]["name"])
            remaining = min(max(max_unavailable - num_unavailable, 0), len(candidates))
            return self.sync_nodes(ds, key, allowed + candidates[:remaining], [], hash_, sync)

        # Surge: start a new pod beside each old one (at most maxSurge at a time), delete the
        # old one when the new one is available.
        old_to_delete, should_not_run, candidate_new, allowed_new = [], [], [], []
        num_surge = num_available = 0
        for node_name in sorted(node_pods):
            new, old, ok = self.find_updated_pods_on_node(node_pods[node_name], hash_, generation)
            if not ok:
                num_surge += 1
                continue
            if old is not None:
                num_available += available(old)
            elif new is not None:
                num_available += available(new)
            if old is None:
                continue
            node = nodes_by_name.get(node_name)
            if new is None:
                wants = node is not None and predicates.should_run(node)[0]
                if not available(old):
                    if not wants:
                        old_to_delete.append(old["metadata"]["name"])
                        continue
                    allowed_new.append(node_name)
                else:
                    if not wants:
                        should_not_run.append(old["metadata"]["name"])
                        continue
                    if num_surge >= max_surge:
                        continue
                    candidate_new.append(node_name)
            else:
                if not available(new):
                    num_surge += 1
                    continue
                old_to_delete.append(old["metadata"]["name"])
        remaining_surge = max_surge - num_surge
        # Full availability: a pod on a node that no longer fits goes only once another is
        # available elsewhere.
        deletable = num_available - desired
        if deletable > 0:
            old_to_delete += should_not_run[:min(deletable, len(should_not_run))]
        remaining_surge = min(max(remaining_surge, 0), len(candidate_new))
        self.sync_nodes(ds, key, old_to_delete, allowed_new + candidate_new[:remaining_surge], hash_, sync)

    # -- history (update.go) -----------------------------------------------------------------
    def construct_history(self, ds: dict, sync: _Sync, cont) -> None:
        """constructHistory: the current revision (made if missing) and the old ones, handed to
        cont(cur, old)."""
        reqs = selector_from_label_selector(ds["spec"].get("selector")) or []
        histories = self.history.claim_controller_revisions(ds, API_VERSION, KIND, reqs)
        patch = get_patch(ds)
        current, old = [], []
        for h in sorted(histories, key=lambda r: r["metadata"]["name"]):
            if DEFAULT_DAEMONSET_UNIQUE_LABEL_KEY not in (h["metadata"].get("labels") or {}):
                # Revisions from before the label: labelled with their name (no hash collision).
                h = deep_copy(h)
                h["metadata"].setdefault("labels", {})[DEFAULT_DAEMONSET_UNIQUE_LABEL_KEY] = h["metadata"]["name"]
                sync.hold()
                self.api.update("controllerrevisions", deep_copy(h), lambda resp: sync.release(resp["code"] >= 400),
                                group="apps")
            (current if h.get("data") == patch else old).append(h)
        curr_revision = max_revision(old) + 1
        if not current:
            return self.snapshot(ds, curr_revision, patch, sync, lambda cur: cont(cur, old))
        cur = self.dedup_current(ds, current)
        if (cur.get("revision") or 0) < curr_revision:
            # A rollback to an old template: that revision is the newest again.
            sync.hold()
            self.history.update_controller_revision(cur, curr_revision,
                                                    lambda rev, err: sync.release(err is not None))
        cont(cur, old)

    def dedup_current(self, ds: dict, current: list[dict]) -> dict:
        """dedupCurHistories: several revisions of the current template: keep the newest,
        relabel the pods, delete the others."""
        if len(current) == 1:
            return current[0]
        keep = current[0]
        for h in current:
            if (h.get("revision") or 0) >= (keep.get("revision") or 0):
                keep = h
        keep_hash = keep["metadata"]["labels"].get(DEFAULT_DAEMONSET_UNIQUE_LABEL_KEY)
        for pod in self._claim_pods(ds):
            if (pod["metadata"].get("labels") or {}).get(DEFAULT_DAEMONSET_UNIQUE_LABEL_KEY) != keep_hash:
                self._patch_pod(pod, {"metadata": {"labels": {DEFAULT_DAEMONSET_UNIQUE_LABEL_KEY: keep_hash}}})
        for h in current:
            if h["metadata"]["name"] != keep["metadata"]["name"]:
                self.history.delete_controller_revision(h)
        return keep

    def snapshot(self, ds: dict, revision: int, patch: dict, sync: _Sync, cont) -> None:
        """snapshot: record the current template as a revision named by its hash; a name taken
        by another template is a hash collision, resolved by bumping status.collisionCount."""
        md = ds["metadata"]
        collision_count = (ds.get("status") or {}).get("collisionCount")
        hash_ = compute_hash(ds["spec"].get("template") or {}, collision_count)
        name = f"{md['name']}-{hash_}"
        labels = dict(((ds["spec"].get("template") or {}).get("metadata") or {}).get("labels") or {})
        labels[DEFAULT_DAEMONSET_UNIQUE_LABEL_KEY] = hash_
        history = {"apiVersion": "apps/v1", "kind": "ControllerRevision",
                   "metadata": {"name": name, "namespace": md["namespace"], "labels": labels,
                                **({"annotations": dict(md["annotations"])} if md.get("annotations") else {}),
                                "ownerReferences": [owner_reference(ds, API_VERSION, KIND)]},
                   "data": patch, "revision": revision}
        sync.hold()

        def created(resp: dict) -> None:
            if resp["code"] < 400:
                cont(resp["body"])
                return sync.release()
            if resp["code"] == 409 and (resp.get("body") or {}).get("reason") == "AlreadyExists":
                return self.api.request({"verb": "get", "group": "apps", "resource": "controllerrevisions",
                                         "namespace": md["namespace"], "name": name}, got)
            sync.release(True)

        def got(resp: dict) -> None:
            if resp["code"] >= 400:
                return sync.release(True)
            if resp["body"].get("data") == patch:
                cont(resp["body"])  # ours already
                return sync.release()
            # A collision: bump the collision count on the freshest DaemonSet and try again.
            self.api.request({"verb": "get", "group": "apps", "resource": "daemonsets",
                              "namespace": md["namespace"], "name": md["name"]}, got_ds)

        def got_ds(resp: dict) -> None:
            if resp["code"] >= 400:
                return sync.release(True)
            current = deep_copy(resp["body"])
            if (current.get("status") or {}).get("collisionCount") != collision_count:
                return sync.release(True)  # a stale count: retry with the new one
            current.setdefault("status", {})["collisionCount"] = (collision_count or 0) + 1
            self.cm.action(f"daemonset-controller found a hash collision for {md['namespace']}/{md['name']}: "
                           f"collisionCount {current['status']['collisionCount']}")
            self.api.update("daemonsets", current, lambda r: sync.release(True), group="apps", subresource="status")

        self.api.create("controllerrevisions", history, created, group="apps")

    def cleanup_history(self, ds: dict, old: list[dict], claimed: list[dict], sync: _Sync) -> None:
        """cleanupHistory: the oldest revisions beyond revisionHistoryLimit go, unless a pod
        (even a terminated one) still carries their hash."""
        to_kill = len(old) - int(ds["spec"].get("revisionHistoryLimit", 10) or 0)
        if to_kill <= 0:
            return
        live = {(p["metadata"].get("labels") or {}).get(DEFAULT_DAEMONSET_UNIQUE_LABEL_KEY)
                for pods in self.nodes_to_daemon_pods(claimed, True).values() for p in pods}
        for h in sorted(old, key=lambda r: r.get("revision") or 0):
            if to_kill <= 0:
                break
            if h["metadata"]["labels"].get(DEFAULT_DAEMONSET_UNIQUE_LABEL_KEY) in live:
                continue
            sync.hold()
            self.history.delete_controller_revision(h, lambda rev, err: sync.release(err is not None))
            to_kill -= 1

    # -- status ------------------------------------------------------------------------------
    def update_status(self, ds: dict, key, nodes: list[dict], claimed: list[dict], predicates: NodePredicates,
                      hash_: str, update_observed_gen: bool, sync: _Sync) -> None:
        """updateDaemonSetStatus and storeDaemonSetStatus."""
        node_pods = self.nodes_to_daemon_pods(claimed)
        desired = current = misscheduled = ready = updated = available = 0
        now, min_ready = self.cm.api_now, ds["spec"].get("minReadySeconds") or 0   # is_pod_available's clock
        generation = template_generation(ds)
        for node in nodes:
            should_run, _ = predicates.should_run(node)
            pods = node_pods.get(node["metadata"]["name"]) or []
            if should_run:
                desired += 1
                if not pods:
                    continue
                current += 1
                pod = sorted(pods, key=_pod_order)[0]
                if is_pod_ready(pod):
                    ready += 1
                    if is_pod_available(pod, min_ready, now):
                        available += 1
                if is_pod_updated(pod, hash_, generation):
                    updated += 1
            elif pods:
                misscheduled += 1
        status = {"desiredNumberScheduled": desired, "currentNumberScheduled": current,
                  "numberMisscheduled": misscheduled, "numberReady": ready, "updatedNumberScheduled": updated,
                  "numberAvailable": available, "numberUnavailable": desired - available}
        old = ds.get("status") or {}
        generation_seen = ds["metadata"].get("generation", 1)
        if min_ready > 0 and ready != available:
            self.queue.add_after(key, min_ready)  # availability comes with time alone
        if all((old.get(k) or 0) == val for k, val in status.items()) and \
                (old.get("observedGeneration") or 0) >= generation_seen:
            return
        if update_observed_gen:
            status["observedGeneration"] = generation_seen
        elif all((old.get(k) or 0) == val for k, val in status.items()):
            return  # the write would change nothing
        # updatedNumberScheduled, numberAvailable and numberUnavailable are omitempty: a zero
        # is not written (the merge patch's null removes a stale one).
        for k in ("updatedNumberScheduled", "numberAvailable", "numberUnavailable"):
            if status[k] == 0:
                status[k] = None
        sync.hold()
        self.api.patch("daemonsets", key[0], key[1], {"status": status},
                       lambda resp: sync.release(resp["code"] >= 400), group="apps", subresource="status")
