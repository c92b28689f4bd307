"""The Deployment controller (kubernetes/kubernetes pkg/controller/deployment:
deployment_controller.go, sync.go, rolling.go, recreate.go, progress.go, util/deployment_util.go).

A Deployment owns ReplicaSets, one per pod template it has had: the "new" one, whose template
equals the Deployment's (ignoring the `pod-template-hash` label), and the "old" ones.  Each sync
(level-triggered, one key at a time):

1. claims its ReplicaSets (ControllerRefManager: adopt matching orphans, release the ones that
   stopped matching);
2. a paused Deployment, or a scaling event (the Deployment's replicas differ from the
   `deployment.kubernetes.io/desired-replicas` annotation of an active ReplicaSet), is only
   scaled - proportionally over old and new ReplicaSets (sync.go scale);
3. otherwise it rolls out: RollingUpdate scales the new ReplicaSet up within replicas+maxSurge
   and the old ones down keeping replicas-maxUnavailable available (rolling.go); Recreate scales
   every old one to 0, waits until none of their pods is running, then scales the new one up
   (recreate.go);
4. writes the status: counts summed over the ReplicaSets' statuses, the Available condition,
   the Progressing condition (progress.go, with ProgressDeadlineExceeded once nothing moved
   for progressDeadlineSeconds, re-checked by requeueing at the deadline) and ReplicaFailure.

Revisions: a new ReplicaSet gets `deployment.kubernetes.io/revision` = max(old revisions)+1;
a rollback (kubectl rollout undo copies an old ReplicaSet's template into the Deployment) makes
that old ReplicaSet the new one again, and it gets the next number too, its previous one
appended to `deployment.kubernetes.io/revision-history`.  Old ReplicaSets beyond
revisionHistoryLimit are deleted once scaled to zero.

minReadySeconds is copied onto the ReplicaSets, whose controller counts a pod available only
after it has been ready that long (and requeues itself for that moment).

Upstream's sync blocks on each API call; here `_sync` is a generator that yields each request
and is resumed with its answer (`_advance`), its key held in the queue until it ends, so the
code reads in upstream's order.  Two small differences, both to avoid upstream's self-inflicted
409s within one sync: a ReplicaSet or Deployment written during a sync is replaced by what the
server answered before the next write of the same object.
"""
from __future__ import annotations

import math
from typing import Callable, Iterator

from sim.api.meta import deep_copy
from sim.api.podutil import controller_ref, is_deleting
from sim.api.selectors import labels_match, selector_from_label_selector
from sim.controllers.controllerref import ControllerRefManager, OwnedIndex, owner_reference
from sim.controllers.podtemplate import compute_hash   # controller.ComputeHash, shared with the DaemonSet
from sim.registry.policy.poddisruptionbudgets import scaled_value   # intstr.GetScaledValueFromIntOrPercent
from sim.workqueue import WorkQueue

# k8s.io/api/apps/v1 and pkg/controller/deployment/util/deployment_util.go
POD_TEMPLATE_HASH = "pod-template-hash"                    # apps.DefaultDeploymentUniqueLabelKey
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
DEPRECATED_ROLLBACK_TO = "deprecated.deployment.rollback.to"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
ANNOTATIONS_TO_SKIP = frozenset({LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS,
                                 DEPRECATED_ROLLBACK_TO})
MAX_REV_HISTORY_LENGTH_IN_CHARS = 2000                     # sync.go maxRevHistoryLengthInChars
MAX_INT32 = (1 << 31) - 1

# Condition types and reasons (deployment_util.go)
AVAILABLE, PROGRESSING, REPLICA_FAILURE = "Available", "Progressing", "ReplicaFailure"
REPLICA_SET_UPDATED = "ReplicaSetUpdated"
FAILED_RS_CREATE = "ReplicaSetCreateError"
NEW_RS = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
TIMED_OUT = "ProgressDeadlineExceeded"
PAUSED = "DeploymentPaused"
RESUMED = "DeploymentResumed"
MINIMUM_REPLICAS_AVAILABLE = "MinimumReplicasAvailable"
MINIMUM_REPLICAS_UNAVAILABLE = "MinimumReplicasUnavailable"


# -- deployment_util.go helpers -----------------------------------------------------------------
def _semantic(obj):
    """apiequality.Semantic.DeepEqual's view of an object: nil and empty are the same."""
    if isinstance(obj, dict):
        out = {k: _semantic(v) for k, v in obj.items()}
        return {k: v for k, v in out.items() if v not in (None, {}, [], "")}
    if isinstance(obj, list):
        return [_semantic(v) for v in obj]
    return obj


def _without_hash(template: dict | None) -> dict:
    """The template as Semantic.DeepEqual sees it, without the pod-template-hash label (a new
    structure: _semantic copies as it goes)."""
    t = _semantic(template or {})
    labels = (t.get("metadata") or {}).get("labels")
    if labels and POD_TEMPLATE_HASH in labels:
        del labels[POD_TEMPLATE_HASH]
        if not labels:
            del t["metadata"]["labels"]
            if not t["metadata"]:
                del t["metadata"]
    return t


def _stripped(rs: dict, cache: dict | None) -> dict:
    """_without_hash of a ReplicaSet's template, memoized in `cache` by (uid, resourceVersion):
    a stored object's template does not change without its resourceVersion, and every sync
    compares the Deployment's template with each ReplicaSet's.  (One cache per controller: uids
    are unique within a cluster only.)"""
    md = rs.get("metadata") or {}
    key = (md.get("uid"), md.get("resourceVersion"))
    if cache is None or key[0] is None or key[1] is None:
        return _without_hash(rs["spec"].get("template"))
    hit = cache.get(key)
    if hit is None:
        if len(cache) > 4096:
            cache.clear()
        hit = cache[key] = _without_hash(rs["spec"].get("template"))
    return hit


def equal_ignore_hash(t1: dict, t2: dict) -> bool:
    """EqualIgnoreHash: the templates equal once the pod-template-hash label is dropped."""
    return _without_hash(t1) == _without_hash(t2)


def replicas(rs: dict | None) -> int:
    spec = (rs or {}).get("spec") or {}
    return 1 if spec.get("replicas") is None else int(spec["replicas"])


def _status(rs: dict, field: str) -> int:
    return int(((rs.get("status") or {}).get(field)) or 0)


def revision(rs: dict) -> int:
    """deploymentutil.Revision (0 when absent or not a number)."""
    try:
        return int(((rs["metadata"].get("annotations") or {}).get(REVISION)) or 0)
    except ValueError:
        return 0


def _ctime_key(rs: dict):
    md = rs["metadata"]
    return (md.get("creationTimestamp") or "", md["name"])


def by_creation(rss: list[dict]) -> list[dict]:
    """controller.ReplicaSetsByCreationTimestamp: oldest first, then by name."""
    return sorted(rss, key=_ctime_key)


def by_size_older(rss: list[dict]) -> list[dict]:
    """ReplicaSetsBySizeOlder: larger first; of equal size, the older first."""
    return sorted(by_creation(rss), key=lambda rs: -replicas(rs))


def by_size_newer(rss: list[dict]) -> list[dict]:
    """ReplicaSetsBySizeNewer: larger first; of equal size, the newer first."""
    return sorted(list(reversed(by_creation(rss))), key=lambda rs: -replicas(rs))


def by_revision(rss: list[dict]) -> list[dict]:
    """ReplicaSetsByRevision: lowest revision first, then oldest."""
    return sorted(by_creation(rss), key=revision)


def active(rss: list) -> list[dict]:
    """FilterActiveReplicaSets: the ones with replicas wanted."""
    return [rs for rs in rss if rs is not None and replicas(rs) > 0]


def is_rolling_update(d: dict) -> bool:
    return ((d["spec"].get("strategy") or {}).get("type") or "RollingUpdate") == "RollingUpdate"


def resolve_fenceposts(max_surge, max_unavailable, desired: int) -> tuple[int, int]:
    """ResolveFenceposts: surge rounds up, unavailable down; both 0 makes unavailable 1 (surge
    might not work, e.g. under quota)."""
    surge = scaled_value(0 if max_surge is None else max_surge, desired, True)
    unavailable = scaled_value(0 if max_unavailable is None else max_unavailable, desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def _rolling(d: dict) -> dict:
    return (d["spec"].get("strategy") or {}).get("rollingUpdate") or {}


def max_surge(d: dict) -> int:
    if not is_rolling_update(d):
        return 0
    ru = _rolling(d)
    return resolve_fenceposts(ru.get("maxSurge"), ru.get("maxUnavailable"), replicas(d))[0]


def max_unavailable(d: dict) -> int:
    if not is_rolling_update(d) or replicas(d) == 0:
        return 0
    ru = _rolling(d)
    return min(resolve_fenceposts(ru.get("maxSurge"), ru.get("maxUnavailable"), replicas(d))[1], replicas(d))


def has_progress_deadline(d: dict) -> bool:
    pds = d["spec"].get("progressDeadlineSeconds")
    return pds is not None and pds != MAX_INT32


def has_revision_history_limit(d: dict) -> bool:
    rhl = d["spec"].get("revisionHistoryLimit")
    return rhl is not None and rhl != MAX_INT32


def replica_count(rss: list) -> int:
    """GetReplicaCountForReplicaSets: the sum of spec.replicas."""
    return sum(replicas(rs) for rs in rss if rs is not None)


def actual_replica_count(rss: list) -> int:
    return sum(_status(rs, "replicas") for rs in rss if rs is not None)


def ready_replica_count(rss: list) -> int:
    return sum(_status(rs, "readyReplicas") for rs in rss if rs is not None)


def available_replica_count(rss: list) -> int:
    return sum(_status(rs, "availableReplicas") for rs in rss if rs is not None)


def terminating_replica_count(rss: list) -> int | None:
    """GetTerminatingReplicaCountForReplicaSets: None when no ReplicaSet reports it."""
    counts = [(rs.get("status") or {}).get("terminatingReplicas") for rs in rss if rs is not None]
    counts = [c for c in counts if c is not None]
    return sum(counts) if counts else None


def find_new_replica_set(d: dict, rss: list[dict], cache: dict | None = None) -> dict | None:
    """FindNewReplicaSet: the oldest ReplicaSet whose template is the Deployment's."""
    want = _without_hash(d["spec"].get("template"))
    for rs in by_creation(rss):
        if _stripped(rs, cache) == want:
            return rs
    return None


def find_old_replica_sets(d: dict, rss: list[dict], cache: dict | None = None) -> tuple[list[dict], list[dict]]:
    """FindOldReplicaSets: (the old ones with replicas, all the old ones)."""
    new = find_new_replica_set(d, rss, cache)
    old = [rs for rs in rss if new is None or rs["metadata"]["uid"] != new["metadata"]["uid"]]
    return [rs for rs in old if replicas(rs) != 0], old


def find_active_or_latest(new: dict | None, olds: list[dict]) -> dict | None:
    """FindActiveOrLatest: the one active ReplicaSet, or the newest when none is; None when
    several are active."""
    if new is None and not olds:
        return None
    olds = list(reversed(by_creation(olds)))
    act = active(olds + [new])
    if len(act) == 0:
        return new if new is not None else olds[0]
    if len(act) == 1:
        return act[0]
    return None


def _annotation_int(rs: dict, key: str) -> int | None:
    value = (rs["metadata"].get("annotations") or {}).get(key)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def is_saturated(d: dict, rs: dict | None) -> bool:
    """IsSaturated: the new ReplicaSet wants and has every replica, all available."""
    if rs is None:
        return False
    desired = _annotation_int(rs, DESIRED_REPLICAS)
    if desired is None:
        return False
    return replicas(rs) == replicas(d) and desired == replicas(d) and _status(rs, "availableReplicas") == replicas(d)


def round_half_away(x: float) -> int:
    """integer.RoundToInt32 (math.Round: halves away from zero)."""
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


def replica_set_fraction(rs: dict, d: dict) -> int:
    """getReplicaSetFraction: how many replicas `rs` gains or loses when the Deployment's
    max size moves from the max-replicas annotation to replicas+maxSurge."""
    if replicas(d) == 0:
        return -replicas(rs)
    deployment_max = replicas(d) + max_surge(d)
    before = _annotation_int(rs, MAX_REPLICAS)
    if not before:
        # No annotation (edited by hand): fall back to the Deployment's current size.
        before = int((d.get("status") or {}).get("replicas") or 0)
        if before == 0:
            return 0
    return round_half_away(replicas(rs) * deployment_max / before) - replicas(rs)


def get_proportion(rs: dict | None, d: dict, to_add: int, added: int) -> int:
    """GetProportion: the share of `to_add` for `rs`, never past what is left to add."""
    if rs is None or replicas(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    fraction = replica_set_fraction(rs, d)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


def new_rs_new_replicas(d: dict, all_rss: list, new_rs: dict) -> int:
    """NewRSNewReplicas: how far the new ReplicaSet may scale up now."""
    if is_rolling_update(d):
        surge = scaled_value(_rolling(d).get("maxSurge"), replicas(d), True)
        current = replica_count(all_rss)
        max_total = replicas(d) + surge
        if current >= max_total:
            return replicas(new_rs)
        return replicas(new_rs) + min(max_total - current, replicas(d) - replicas(new_rs))
    return replicas(d)


def replicas_annotations_need_update(rs: dict, desired: int, max_replicas: int) -> bool:
    ann = rs["metadata"].get("annotations") or {}
    return ann.get(DESIRED_REPLICAS) != str(desired) or ann.get(MAX_REPLICAS) != str(max_replicas)


def set_replicas_annotations(rs: dict, desired: int, max_replicas: int) -> bool:
    ann = rs["metadata"].setdefault("annotations", {})
    changed = False
    for key, value in ((DESIRED_REPLICAS, str(desired)), (MAX_REPLICAS, str(max_replicas))):
        if ann.get(key) != value:
            ann[key] = value
            changed = True
    return changed


def set_new_replica_set_annotations(d: dict, rs: dict, new_revision: str, exists: bool) -> bool:
    """SetNewReplicaSetAnnotations: copy the Deployment's annotations (but the skipped ones),
    raise the revision, keep the superseded revision in revision-history."""
    ann = rs["metadata"].setdefault("annotations", {})
    changed = False
    for k, val in sorted((d["metadata"].get("annotations") or {}).items()):   # copyDeploymentAnnotationsToReplicaSet
        if k in ANNOTATIONS_TO_SKIP or ann.get(k) == val:
            continue
        ann[k] = val
        changed = True
    old_revision = ann.get(REVISION)
    try:
        old_int = int(old_revision) if old_revision else 0
    except ValueError:
        return False
    new_int = int(new_revision)
    if old_int < new_int:
        ann[REVISION] = new_revision
        changed = True
    if old_revision is not None and old_int < new_int:
        history = ann.get(REVISION_HISTORY, "")
        olds = history.split(",")
        if not olds[0]:
            ann[REVISION_HISTORY] = old_revision
        else:
            total = len(history) + len(old_revision) + 1
            start = 0
            while total > MAX_REV_HISTORY_LENGTH_IN_CHARS and start < len(olds):
                total -= len(olds[start]) + 1
                start += 1
            if total <= MAX_REV_HISTORY_LENGTH_IN_CHARS:
                ann[REVISION_HISTORY] = ",".join(olds[start:] + [old_revision])
    if not exists and set_replicas_annotations(rs, replicas(d), replicas(d) + max_surge(d)):
        changed = True
    return changed


def get_condition(status: dict, ctype: str) -> dict | None:
    for c in status.get("conditions") or []:
        if c.get("type") == ctype:
            return c
    return None


def set_condition(status: dict, cond: dict) -> None:
    """SetDeploymentCondition: unchanged when status and reason are; lastTransitionTime kept
    when only the reason changes."""
    current = get_condition(status, cond["type"])
    if current is not None and current.get("status") == cond["status"] and current.get("reason") == cond["reason"]:
        return
    if current is not None and current.get("status") == cond["status"]:
        cond["lastTransitionTime"] = current.get("lastTransitionTime")
    remove_condition(status, cond["type"])
    status.setdefault("conditions", []).append(cond)


def remove_condition(status: dict, ctype: str) -> None:
    conds = [c for c in status.get("conditions") or [] if c.get("type") != ctype]
    if conds:
        status["conditions"] = conds
    else:
        status.pop("conditions", None)


def deployment_complete(d: dict, status: dict) -> bool:
    """DeploymentComplete."""
    n = replicas(d)
    return (status.get("updatedReplicas", 0) == n and status.get("replicas", 0) == n
            and status.get("availableReplicas", 0) == n
            and status.get("observedGeneration", 0) >= d["metadata"].get("generation", 0))


def deployment_progressing(d: dict, new: dict) -> bool:
    """DeploymentProgressing: more updated, fewer old, more ready or more available."""
    old = d.get("status") or {}
    old_old = old.get("replicas", 0) - old.get("updatedReplicas", 0)
    new_old = new.get("replicas", 0) - new.get("updatedReplicas", 0)
    return (new.get("updatedReplicas", 0) > old.get("updatedReplicas", 0) or new_old < old_old
            or new.get("readyReplicas", 0) > old.get("readyReplicas", 0)
            or new.get("availableReplicas", 0) > old.get("availableReplicas", 0))


class DeploymentController:
    name = "deployment-controller"

    def __init__(self, cm):
        self.cm = cm
        self.api = cm.api.client_for(self.name)
        self.queue = WorkQueue(cm, self.reconcile)
        self.deployments = cm.shared_informer("deployments", group="apps")
        self.rss = OwnedIndex()    # the ReplicaSet informer's, by controlling owner
        self.pods = OwnedIndex()   # the pod informer's, by controlling ReplicaSet (Recreate's podMap)
        self.syncs = 0             # syncDeployment calls (bench/rollout.py)
        self.templates: dict[tuple, dict] = {}   # ReplicaSet templates without the hash label

    def start(self) -> None:
        self.deployments.handlers(add=self._enqueue, update=lambda o, n: self._enqueue(n), delete=self._enqueue)
        self.cm.replicasets.handlers(add=self._rs_added, update=self._rs_updated, delete=self._rs_deleted)
        self.cm.pods.handlers(add=lambda p: self.pods.set(p), update=lambda o, n: self.pods.set(n),
                              delete=self._pod_deleted)

    # -- event handlers (deployment_controller.go) ---------------------------------------------
    @staticmethod
    def _key(obj: dict) -> tuple[str, str]:
        return obj["metadata"]["namespace"], obj["metadata"]["name"]

    def _enqueue(self, d: dict) -> None:
        self.queue.add(self._key(d))

    def _deployment_for_ref(self, namespace: str, ref: dict | None) -> dict | None:
        """resolveControllerRef: the Deployment a controller reference names, if it is that one."""
        if not ref or ref.get("kind") != "Deployment":
            return None
        d = self.deployments.get(namespace, ref["name"])
        return d if d is not None and d["metadata"]["uid"] == ref.get("uid") else None

    def _deployments_for_rs(self, rs: dict) -> list[dict]:
        """getDeploymentsForReplicaSet: the Deployments whose selector matches an orphan."""
        ns, out = rs["metadata"]["namespace"], []
        for d in self.deployments.list():
            if d["metadata"]["namespace"] != ns:
                continue
            reqs = selector_from_label_selector(d["spec"].get("selector"))
            if reqs and labels_match(reqs, rs["metadata"].get("labels")):
                out.append(d)
        return sorted(out, key=lambda d: d["metadata"]["name"])

    def _rs_added(self, rs: dict) -> None:
        self.rss.set(rs)
        ref = controller_ref(rs)
        if ref or is_deleting(rs):
            d = self._deployment_for_ref(rs["metadata"]["namespace"], ref)
            if d is not None:
                self._enqueue(d)
            return
        for d in self._deployments_for_rs(rs):
            self._enqueue(d)

    def _rs_updated(self, old: dict, new: dict) -> None:
        self.rss.set(new)
        if old["metadata"].get("resourceVersion") == new["metadata"].get("resourceVersion"):
            return
        ns = new["metadata"]["namespace"]
        old_ref, new_ref = controller_ref(old), controller_ref(new)
        if old_ref and old_ref != new_ref:
            d = self._deployment_for_ref(ns, old_ref)
            if d is not None:
                self._enqueue(d)
        if new_ref:
            d = self._deployment_for_ref(ns, new_ref)
            if d is not None:
                self._enqueue(d)
            return
        if old["metadata"].get("labels") != new["metadata"].get("labels") or old_ref != new_ref:
            for d in self._deployments_for_rs(new):
                self._enqueue(d)

    def _rs_deleted(self, rs: dict) -> None:
        self.rss.set(rs, remove=True)
        d = self._deployment_for_ref(rs["metadata"]["namespace"], controller_ref(rs))
        if d is not None:
            self._enqueue(d)

    def _pod_deleted(self, pod: dict) -> None:
        """deletePod: a Recreate Deployment waits for its old pods to be gone."""
        self.pods.set(pod, remove=True)
        ns = pod["metadata"]["namespace"]
        ref = controller_ref(pod)
        if not ref or ref.get("kind") != "ReplicaSet":
            return
        rs = self.cm.replicasets.get(ns, ref["name"])
        if rs is None or rs["metadata"]["uid"] != ref.get("uid"):
            return
        d = self._deployment_for_ref(ns, controller_ref(rs))
        if d is not None and not is_rolling_update(d):
            self._enqueue(d)

    # -- the sync driver ---------------------------------------------------------------------
    def reconcile(self, key) -> None:
        self.syncs += 1
        ctx = _SyncState()
        self._advance(key, self._sync(key, ctx), None, None, ctx)

    def _advance(self, key, gen: Iterator, resp, done: Callable[[], None] | None, ctx: "_SyncState") -> None:
        """Run the sync until its next request; send it; resume with its answer.  The key stays
        in processing (no second sync of it at once) until the sync returns.  Syncs of other
        keys run while one waits: `self.ctx` is this sync's state while its code runs."""
        self.ctx = ctx
        try:
            call = gen.send(resp)
        except StopIteration as stop:
            if done is not None:
                done()
            if stop.value:   # the sync returned an error: requeue with backoff
                self.queue.add_rate_limited(key)
            else:
                self.queue.forget(key)
            return
        except Exception:
            if done is not None:
                done()
            raise
        if done is None:
            done = self.queue.defer(key)
        call(lambda r: self._advance(key, gen, r, done, ctx))

    # Requests, as thunks the driver sends: each answers {"code", "body"}.
    def _update_rs(self, rs: dict):
        return lambda cb: self.api.update("replicasets", rs, cb, group="apps")

    def _create_rs(self, rs: dict):
        return lambda cb: self.api.create("replicasets", rs, cb, group="apps")

    def _update_status(self, d: dict):
        return lambda cb: self.api.update("deployments", d, cb, group="apps", subresource="status")

    def _delete_rs(self, rs: dict):
        md = rs["metadata"]
        return lambda cb: self.api.delete("replicasets", md["namespace"], md["name"], cb, group="apps")

    def _patch(self, obj: dict, patch: dict) -> None:
        md = obj["metadata"]
        self.api.patch("replicasets", md["namespace"], md["name"], patch, group="apps")

    def _event(self, d: dict, reason: str, message: str, warning: bool = False) -> None:
        self.api.event(d, reason, message, self.name, type_="Warning" if warning else "Normal")

    def _condition(self, ctype: str, status: str, reason: str, message: str) -> dict:
        """NewDeploymentCondition."""
        now = self.cm.timestamp()
        return {"type": ctype, "status": status, "lastUpdateTime": now, "lastTransitionTime": now,
                "reason": reason, "message": message}

    # -- syncDeployment ----------------------------------------------------------------------
    def _sync(self, key, ctx: "_SyncState"):
        cached = self.deployments.get(*key)
        if cached is None:
            return None
        d = deep_copy(cached)
        d["apiVersion"], d["kind"] = "apps/v1", "Deployment"
        sel = d["spec"].get("selector") or {}
        if not (sel.get("matchLabels") or sel.get("matchExpressions")):
            self._event(d, "SelectingAll", "This deployment is selecting all pods. A non-empty selector is required.",
                        warning=True)
            if (d.get("status") or {}).get("observedGeneration", 0) < d["metadata"].get("generation", 0):
                d.setdefault("status", {})["observedGeneration"] = d["metadata"].get("generation", 0)
                yield self._update_status(d)
            return None
        d.setdefault("status", {})
        ctx.rs_list = self._claim_replica_sets(d)
        if is_deleting(d):
            return (yield from self._sync_status_only(d))
        err = yield from self._check_paused_conditions(d)
        if err:
            return err
        if d["spec"].get("paused"):
            return (yield from self._sync_scale(d))
        scaling = yield from self._is_scaling_event(d)
        if scaling is None:
            return True
        if scaling:
            return (yield from self._sync_scale(d))
        if is_rolling_update(d):
            return (yield from self._rollout_rolling(d))
        return (yield from self._rollout_recreate(d))

    def _claim_replica_sets(self, d: dict) -> list[dict]:
        """getReplicaSetsForDeployment: adopt and release through ControllerRefManager."""
        reqs = selector_from_label_selector(d["spec"].get("selector")) or []
        claims = ControllerRefManager(d, "apps/v1", "Deployment", reqs, self._patch)
        ns = d["metadata"]["namespace"]
        candidates = [rs for rs in self.rss.candidates(d) if rs["metadata"]["namespace"] == ns]
        return [deep_copy(rs) for rs in by_creation(claims.claim(candidates))]

    def _pod_map(self, d: dict, rs_list: list[dict]) -> dict[str, list[dict]]:
        """getPodMapForDeployment: the Deployment's pods by their ReplicaSet's uid."""
        reqs = selector_from_label_selector(d["spec"].get("selector")) or []
        out = {}
        for rs in rs_list:
            uid = rs["metadata"]["uid"]
            out[uid] = [p for p in self.pods.by_owner.get(uid, {}).values()
                        if labels_match(reqs, p["metadata"].get("labels"))]
        return out

    # -- sync.go -----------------------------------------------------------------------------
    def _write_rs(self, rs: dict):
        """Update one ReplicaSet; on success the sync's copy becomes the server's answer."""
        resp = yield self._update_rs(rs)
        if resp["code"] < 400:
            self.ctx.replace(resp["body"])
        return resp

    def _write_status(self, d: dict):
        resp = yield self._update_status(d)
        if resp["code"] < 400:
            d["metadata"]["resourceVersion"] = resp["body"]["metadata"].get("resourceVersion")
        return resp

    def _sync_status_only(self, d: dict):
        new_rs, old_rss, err = yield from self._get_all_and_sync_revision(d, False)
        if err:
            return err
        return (yield from self._sync_deployment_status(old_rss + [new_rs], new_rs, d))

    def _sync_scale(self, d: dict):
        """sync: scale only (paused, or a scaling event); a paused Deployment is cleaned up too."""
        new_rs, old_rss, err = yield from self._get_all_and_sync_revision(d, False)
        if err:
            return err
        err = yield from self._scale(d, new_rs, old_rss)
        if err:
            return err
        if d["spec"].get("paused"):
            err = yield from self._cleanup(old_rss, d)
            if err:
                return err
        fresh = self.ctx.fresh
        return (yield from self._sync_deployment_status([fresh(rs) for rs in old_rss] + [fresh(new_rs)],
                                                        fresh(new_rs), d))

    def _check_paused_conditions(self, d: dict):
        if not has_progress_deadline(d):
            return None
        cond = get_condition(d["status"], PROGRESSING)
        if cond is not None and cond.get("reason") == TIMED_OUT:
            return None   # a reported lack of progress is not overwritten by a paused condition
        paused_exists = cond is not None and cond.get("reason") == PAUSED
        if d["spec"].get("paused") and not paused_exists:
            set_condition(d["status"], self._condition(PROGRESSING, "Unknown", PAUSED, "Deployment is paused"))
        elif not d["spec"].get("paused") and paused_exists:
            set_condition(d["status"], self._condition(PROGRESSING, "Unknown", RESUMED, "Deployment is resumed"))
        else:
            return None
        resp = yield from self._write_status(d)
        return resp if resp["code"] >= 400 else None

    def _get_all_and_sync_revision(self, d: dict, create: bool):
        """getAllReplicaSetsAndSyncRevision: (new or None, all old, error)."""
        _, all_old = find_old_replica_sets(d, self.ctx.rs_list, self.templates)
        new_rs, err = yield from self._get_new_replica_set(d, all_old, create)
        return new_rs, all_old, err

    def _get_new_replica_set(self, d: dict, old_rss: list[dict], create: bool):
        existing = find_new_replica_set(d, self.ctx.rs_list, self.templates)
        new_revision = str(max((revision(rs) for rs in old_rss), default=0) + 1)
        if existing is not None:
            rs_copy = deep_copy(existing)
            annotations_updated = set_new_replica_set_annotations(d, rs_copy, new_revision, True)
            min_ready = d["spec"].get("minReadySeconds") or 0
            if annotations_updated or (rs_copy["spec"].get("minReadySeconds") or 0) != min_ready:
                rs_copy["spec"]["minReadySeconds"] = min_ready
                resp = yield from self._write_rs(rs_copy)
                return (resp["body"], None) if resp["code"] < 400 else (None, resp)
            needs_update = self._set_deployment_revision(d, (rs_copy["metadata"].get("annotations") or {}).get(REVISION))
            if has_progress_deadline(d) and get_condition(d["status"], PROGRESSING) is None:
                set_condition(d["status"], self._condition(PROGRESSING, "True", FOUND_NEW_RS,
                                                           f'Found new replica set "{rs_copy["metadata"]["name"]}"'))
                needs_update = True
            if needs_update:
                resp = yield from self._write_status(d)
                if resp["code"] >= 400:
                    return None, resp
            return rs_copy, None
        if not create:
            return None, None
        # A new ReplicaSet, named by its template's hash.
        template = deep_copy(d["spec"]["template"])
        collision_count = d["status"].get("collisionCount")
        pod_hash = compute_hash(template, collision_count)
        md = template.setdefault("metadata", {})
        md["labels"] = {**(md.get("labels") or {}), POD_TEMPLATE_HASH: pod_hash}
        selector = deep_copy(d["spec"]["selector"])
        selector["matchLabels"] = {**(selector.get("matchLabels") or {}), POD_TEMPLATE_HASH: pod_hash}
        name = f"{d['metadata']['name']}-{pod_hash}"
        new_rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
                  "metadata": {"name": name, "namespace": d["metadata"]["namespace"],
                               "labels": dict(md["labels"]),
                               "ownerReferences": [owner_reference(d, "apps/v1", "Deployment")]},
                  "spec": {"replicas": 0, "minReadySeconds": d["spec"].get("minReadySeconds") or 0,
                           "selector": selector, "template": template}}
        new_rs["spec"]["replicas"] = new_rs_new_replicas(d, old_rss + [new_rs], new_rs)
        set_new_replica_set_annotations(d, new_rs, new_revision, False)
        resp = yield self._create_rs(new_rs)
        already_exists = False
        if resp["code"] == 409:
            already_exists = True
            current = self.cm.replicasets.get(d["metadata"]["namespace"], name)
            if current is None:
                return None, resp
            ref = controller_ref(current)
            if ref and ref.get("uid") == d["metadata"]["uid"] and equal_ignore_hash(
                    d["spec"]["template"], current["spec"].get("template")):
                created = deep_copy(current)
                self.ctx.replace(created)
            else:
                # A hash collision: bump collisionCount and requeue (the next hash differs).
                d["status"]["collisionCount"] = (collision_count or 0) + 1
                yield from self._write_status(d)
                return None, resp
        elif resp["code"] >= 400:
            msg = f'Failed to create new replica set "{name}": {(resp.get("body") or {}).get("message", "")}'
            if has_progress_deadline(d):
                set_condition(d["status"], self._condition(PROGRESSING, "False", FAILED_RS_CREATE, msg))
                yield from self._write_status(d)
            self._event(d, FAILED_RS_CREATE, msg, warning=True)
            return None, resp
        else:
            created = resp["body"]
            self.ctx.rs_list.append(created)
            self.cm.action(f"deployment-controller created replicaset {d['metadata']['namespace']}/{name}")
        if not already_exists and replicas(created) > 0:
            self._event(d, "ScalingReplicaSet", f"Scaled up replica set {name} from 0 to {replicas(created)}")
        needs_update = self._set_deployment_revision(d, new_revision)
        if not already_exists and has_progress_deadline(d):
            set_condition(d["status"], self._condition(PROGRESSING, "True", NEW_RS,
                                                       f'Created new replica set "{name}"'))
            needs_update = True
        if needs_update:
            resp = yield from self._write_status(d)
            if resp["code"] >= 400:
                return created, resp
        return created, None

    @staticmethod
    def _set_deployment_revision(d: dict, rev: str | None) -> bool:
        """SetDeploymentRevision."""
        ann = d["metadata"].setdefault("annotations", {})
        if ann.get(REVISION) != rev:
            ann[REVISION] = rev
            return True
        return False

    def _scale(self, d: dict, new_rs: dict | None, old_rss: list[dict]):
        """sync.go scale: one active ReplicaSet takes the whole count; a saturated new one
        scales the old ones to 0; otherwise the difference is spread proportionally, larger
        ReplicaSets first, leftovers to the largest."""
        target = find_active_or_latest(new_rs, old_rss)
        if target is not None:
            if replicas(target) == replicas(d):
                return None
            return (yield from self._scale_and_record(target, replicas(d), d))
        if is_saturated(d, new_rs):
            for old in active(old_rss):
                err = yield from self._scale_and_record(old, 0, d)
                if err:
                    return err
            return None
        if not is_rolling_update(d):
            return None
        all_rss = active(old_rss + [new_rs])
        allowed = replicas(d) + max_surge(d) if replicas(d) > 0 else 0
        to_add = allowed - replica_count(all_rss)
        operation = ""
        if to_add > 0:
            all_rss, operation = by_size_newer(all_rss), "up"
        elif to_add < 0:
            all_rss, operation = by_size_older(all_rss), "down"
        added, sizes = 0, {}
        for rs in all_rss:
            if to_add != 0:
                proportion = get_proportion(rs, d, to_add, added)
                sizes[rs["metadata"]["name"]] = replicas(rs) + proportion
                added += proportion
            else:
                sizes[rs["metadata"]["name"]] = replicas(rs)
        for i, rs in enumerate(all_rss):
            name = rs["metadata"]["name"]
            if i == 0 and to_add != 0:
                sizes[name] = max(sizes[name] + to_add - added, 0)
            _, err = yield from self._scale_replica_set(rs, sizes[name], d, operation)
            if err:
                return err
        return None

    def _scale_and_record(self, rs: dict, new_scale: int, d: dict):
        """scaleReplicaSetAndRecordEvent: returns an error or None."""
        if replicas(rs) == new_scale:
            return None
        _, err = yield from self._scale_replica_set(rs, new_scale, d, "up" if replicas(rs) < new_scale else "down")
        return err

    def _scale_replica_set(self, rs: dict, new_scale: int, d: dict, operation: str):
        """scaleReplicaSet: the size and the desired/max-replicas annotations, one update, and
        the ScalingReplicaSet event.  Returns (scaled, error)."""
        rs = self.ctx.fresh(rs)
        size_changed = replicas(rs) != new_scale
        max_replicas = replicas(d) + max_surge(d)
        if not (size_changed or replicas_annotations_need_update(rs, replicas(d), max_replicas)):
            return False, None
        old_scale = replicas(rs)
        rs_copy = deep_copy(rs)
        rs_copy["spec"]["replicas"] = new_scale
        set_replicas_annotations(rs_copy, replicas(d), max_replicas)
        resp = yield from self._write_rs(rs_copy)
        if resp["code"] >= 400:
            return False, resp
        if size_changed:
            self._event(d, "ScalingReplicaSet",
                        f"Scaled {operation} replica set {rs['metadata']['name']} from {old_scale} to {new_scale}")
            self.cm.action(f"deployment-controller scaled {operation} replicaset "
                           f"{rs['metadata']['namespace']}/{rs['metadata']['name']} from {old_scale} to {new_scale}")
            return True, None
        return False, None

    def _cleanup(self, old_rss: list[dict], d: dict):
        """cleanupDeployment: delete the oldest old ReplicaSets beyond revisionHistoryLimit, if
        scaled to zero and observed so."""
        if not has_revision_history_limit(d):
            return None
        cleanable = [self.ctx.fresh(rs) for rs in old_rss if rs is not None and not is_deleting(rs)]
        diff = len(cleanable) - d["spec"]["revisionHistoryLimit"]
        if diff <= 0:
            return None
        for rs in by_revision(cleanable)[:diff]:
            if (_status(rs, "replicas") != 0 or replicas(rs) != 0 or is_deleting(rs)
                    or rs["metadata"].get("generation", 0) > (rs.get("status") or {}).get("observedGeneration", 0)):
                continue
            resp = yield self._delete_rs(rs)
            if resp["code"] >= 400 and resp["code"] != 404:
                return resp
            self.cm.action(f"deployment-controller deleted old replicaset "
                           f"{rs['metadata']['namespace']}/{rs['metadata']['name']}")
        return None

    def calculate_status(self, all_rss: list, new_rs: dict | None, d: dict) -> dict:
        """calculateStatus: counts over the ReplicaSets, and the Available condition."""
        all_rss = [rs for rs in all_rss if rs is not None]
        available = available_replica_count(all_rss)
        status = {"observedGeneration": d["metadata"].get("generation", 0),
                  "replicas": actual_replica_count(all_rss),
                  "updatedReplicas": actual_replica_count([new_rs] if new_rs else []),
                  "readyReplicas": ready_replica_count(all_rss),
                  "availableReplicas": available,
                  "unavailableReplicas": max(replica_count(all_rss) - available, 0)}
        terminating = terminating_replica_count(all_rss)
        if terminating is not None:
            status["terminatingReplicas"] = terminating
        conditions = deep_copy(d["status"].get("conditions") or [])
        if conditions:
            status["conditions"] = conditions
        if d["status"].get("collisionCount") is not None:
            status["collisionCount"] = d["status"]["collisionCount"]
        if available >= replicas(d) - max_unavailable(d):
            set_condition(status, self._condition(AVAILABLE, "True", MINIMUM_REPLICAS_AVAILABLE,
                                                  "Deployment has minimum availability."))
        else:
            set_condition(status, self._condition(AVAILABLE, "False", MINIMUM_REPLICAS_UNAVAILABLE,
                                                  "Deployment does not have minimum availability."))
        return status

    @staticmethod
    def _omit_zero(status: dict) -> dict:
        """DeploymentStatus's fields are omitempty: compare and write them as stored."""
        return {k: v for k, v in status.items() if v not in (0, None, [])}

    def _sync_deployment_status(self, all_rss: list, new_rs: dict | None, d: dict):
        new_status = self._omit_zero(self.calculate_status(all_rss, new_rs, d))
        if new_status == self._omit_zero(d["status"]):
            return None
        d["status"] = new_status
        resp = yield from self._write_status(d)
        return resp if resp["code"] >= 400 else None

    def _is_scaling_event(self, d: dict):
        """isScalingEvent: an active ReplicaSet's desired-replicas annotation differs from the
        Deployment's replicas (None on error)."""
        new_rs, old_rss, err = yield from self._get_all_and_sync_revision(d, False)
        if err:
            return None
        for rs in active(old_rss + [new_rs]):
            desired = _annotation_int(rs, DESIRED_REPLICAS)
            if desired is not None and desired != replicas(d):
                return True
        return False

    # -- rolling.go --------------------------------------------------------------------------
    def _rollout_rolling(self, d: dict):
        new_rs, old_rss, err = yield from self._get_all_and_sync_revision(d, True)
        if err:
            return err
        all_rss = old_rss + [new_rs]
        scaled_up, err = yield from self._reconcile_new_replica_set(all_rss, new_rs, d)
        if err:
            return err
        fresh = self.ctx.fresh
        if scaled_up:
            return (yield from self._sync_rollout_status([fresh(rs) for rs in all_rss], fresh(new_rs), d))
        scaled_down, err = yield from self._reconcile_old_replica_sets(
            [fresh(rs) for rs in all_rss], active([fresh(rs) for rs in old_rss]), fresh(new_rs), d)
        if err:
            return err
        if scaled_down:
            return (yield from self._sync_rollout_status([fresh(rs) for rs in all_rss], fresh(new_rs), d))
        if deployment_complete(d, d["status"]):
            err = yield from self._cleanup(old_rss, d)
            if err:
                return err
        return (yield from self._sync_rollout_status([fresh(rs) for rs in all_rss], fresh(new_rs), d))

    def _reconcile_new_replica_set(self, all_rss: list, new_rs: dict, d: dict):
        if replicas(new_rs) == replicas(d):
            return False, None
        if replicas(new_rs) > replicas(d):
            return (yield from self._scale_replica_set(new_rs, replicas(d), d, "down"))
        count = new_rs_new_replicas(d, all_rss, new_rs)
        if count == replicas(new_rs):
            return False, None
        return (yield from self._scale_replica_set(new_rs, count, d, "up" if count > replicas(new_rs) else "down"))

    def _reconcile_old_replica_sets(self, all_rss: list, old_rss: list, new_rs: dict, d: dict):
        old_count = replica_count(old_rss)
        if old_count == 0:
            return False, None
        all_count = replica_count(all_rss)
        min_available = replicas(d) - max_unavailable(d)
        new_unavailable = replicas(new_rs) - _status(new_rs, "availableReplicas")
        max_scaled_down = all_count - min_available - new_unavailable
        if max_scaled_down <= 0:
            return False, None
        # Unhealthy old replicas first: removing them costs no availability (#16737).
        old_rss, cleaned, err = yield from self._cleanup_unhealthy_replicas(old_rss, d, max_scaled_down)
        if err:
            return False, None
        all_rss = old_rss + [new_rs]
        scaled, err = yield from self._scale_down_old_for_rolling_update(all_rss, old_rss, d)
        if err:
            return False, None
        return cleaned + scaled > 0, None

    def _cleanup_unhealthy_replicas(self, old_rss: list, d: dict, max_cleanup: int):
        old_rss = by_creation(old_rss)
        total = 0
        for i, rs in enumerate(old_rss):
            if total >= max_cleanup:
                break
            if replicas(rs) == 0 or replicas(rs) == _status(rs, "availableReplicas"):
                continue
            count = min(max_cleanup - total, replicas(rs) - _status(rs, "availableReplicas"))
            new_count = replicas(rs) - count
            if new_count > replicas(rs):
                return None, 0, True
            err = yield from self._scale_and_record(rs, new_count, d)
            if err:
                return None, total, err
            total += count
            old_rss[i] = self.ctx.fresh(rs)
        return old_rss, total, None

    def _scale_down_old_for_rolling_update(self, all_rss: list, old_rss: list, d: dict):
        min_available = replicas(d) - max_unavailable(d)
        available = available_replica_count(all_rss)
        if available <= min_available:
            return 0, None
        total, total_to_scale = 0, available - min_available
        for rs in by_creation(old_rss):
            if total >= total_to_scale:
                break
            if replicas(rs) == 0:
                continue
            count = min(replicas(rs), total_to_scale - total)
            err = yield from self._scale_and_record(rs, replicas(rs) - count, d)
            if err:
                return total, err
            total += count
        return total, None

    # -- recreate.go -------------------------------------------------------------------------
    def _rollout_recreate(self, d: dict):
        # No new ReplicaSet yet: it is made only once the old pods are gone.
        new_rs, old_rss, err = yield from self._get_all_and_sync_revision(d, False)
        if err:
            return err
        all_rss = old_rss + [new_rs]
        scaled_down = False
        for rs in active(old_rss):
            scaled, err = yield from self._scale_replica_set(rs, 0, d, "down")
            if err:
                return err
            scaled_down = scaled_down or scaled
        fresh = self.ctx.fresh
        if scaled_down:
            return (yield from self._sync_rollout_status([fresh(rs) for rs in all_rss], fresh(new_rs), d))
        if self._old_pods_running(new_rs, [fresh(rs) for rs in old_rss], self._pod_map(d, self.ctx.rs_list)):
            return (yield from self._sync_rollout_status([fresh(rs) for rs in all_rss], fresh(new_rs), d))
        if new_rs is None:
            new_rs, old_rss, err = yield from self._get_all_and_sync_revision(d, True)
            if err:
                return err
            all_rss = old_rss + [new_rs]
        err = yield from self._scale_and_record(fresh(new_rs), replicas(d), d)
        if err:
            return err
        if deployment_complete(d, d["status"]):
            err = yield from self._cleanup(old_rss, d)
            if err:
                return err
        return (yield from self._sync_rollout_status([fresh(rs) for rs in all_rss], fresh(new_rs), d))

    @staticmethod
    def _old_pods_running(new_rs: dict | None, old_rss: list, pod_map: dict) -> bool:
        """oldPodsRunning: an old ReplicaSet still reports pods, or one of its pods is not in a
        terminal phase (a terminating pod still runs)."""
        if actual_replica_count(old_rss) > 0:
            return True
        for uid, pods in pod_map.items():
            if new_rs is not None and new_rs["metadata"]["uid"] == uid:
                continue
            for pod in pods:
                if (pod.get("status") or {}).get("phase") not in ("Failed", "Succeeded"):
                    return True
        return False

    # -- progress.go -------------------------------------------------------------------------
    def _sync_rollout_status(self, all_rss: list, new_rs: dict | None, d: dict):
        new_status = self.calculate_status(all_rss, new_rs, d)
        if not has_progress_deadline(d):
            remove_condition(new_status, PROGRESSING)
        current = get_condition(d["status"], PROGRESSING)
        complete_before = (new_status["replicas"] == new_status["updatedReplicas"] and current is not None
                           and current.get("reason") == NEW_RS_AVAILABLE)
        if has_progress_deadline(d) and not complete_before:
            rs_name = new_rs["metadata"]["name"] if new_rs is not None else None
            if deployment_complete(d, new_status):
                msg = (f'ReplicaSet "{rs_name}" has successfully progressed.' if rs_name
                       else f'Deployment "{d["metadata"]["name"]}" has successfully progressed.')
                set_condition(new_status, self._condition(PROGRESSING, "True", NEW_RS_AVAILABLE, msg))
            elif deployment_progressing(d, new_status):
                msg = (f'ReplicaSet "{rs_name}" is progressing.' if rs_name
                       else f'Deployment "{d["metadata"]["name"]}" is progressing.')
                cond = self._condition(PROGRESSING, "True", REPLICA_SET_UPDATED, msg)
                # Progress moves lastUpdateTime even with the same reason; a True condition
                # keeps its lastTransitionTime.
                if current is not None:
                    if current.get("status") == "True":
                        cond["lastTransitionTime"] = current.get("lastTransitionTime")
                    remove_condition(new_status, PROGRESSING)
                set_condition(new_status, cond)
            elif self._timed_out(d, new_status):
                msg = (f'ReplicaSet "{rs_name}" has timed out progressing.' if rs_name
                       else f'Deployment "{d["metadata"]["name"]}" has timed out progressing.')
                set_condition(new_status, self._condition(PROGRESSING, "False", TIMED_OUT, msg))
        failures = self._replica_failures(all_rss, new_rs)
        if failures:
            set_condition(new_status, failures[0])
        else:
            remove_condition(new_status, REPLICA_FAILURE)
        new_status = self._omit_zero(new_status)
        if new_status == self._omit_zero(d["status"]):
            self._requeue_stuck(d, new_status)
            return None
        d["status"] = new_status
        resp = yield from self._write_status(d)
        return resp if resp["code"] >= 400 else None

    def _timed_out(self, d: dict, status: dict) -> bool:
        """DeploymentTimedOut: no progress recorded for progressDeadlineSeconds."""
        cond = get_condition(status, PROGRESSING)
        if cond is None or cond.get("reason") == NEW_RS_AVAILABLE:
            return False
        if cond.get("reason") == TIMED_OUT:
            return True
        last = self.cm.parse_time(cond.get("lastUpdateTime"))
        return last is not None and last + d["spec"]["progressDeadlineSeconds"] < self.cm.now

    @staticmethod
    def _replica_failures(all_rss: list, new_rs: dict | None) -> list[dict]:
        """getReplicaFailures: the new ReplicaSet's ReplicaFailure condition first, then any
        old one's (ReplicaSetToDeploymentCondition)."""
        def failures(rs):
            return [{"type": c["type"], "status": c.get("status"), "lastUpdateTime": c.get("lastTransitionTime"),
                     "lastTransitionTime": c.get("lastTransitionTime"), "reason": c.get("reason", ""),
                     "message": c.get("message", "")}
                    for c in (rs.get("status") or {}).get("conditions") or [] if c.get("type") == REPLICA_FAILURE]
        if new_rs is not None and (found := failures(new_rs)):
            return found
        return [c for rs in all_rss if rs is not None for c in failures(rs)]

    def _requeue_stuck(self, d: dict, new_status: dict) -> None:
        """requeueStuckDeployment: a rollout with no progress is looked at again when its
        deadline passes (lastUpdateTime + progressDeadlineSeconds, plus a second for skew)."""
        current = get_condition(d["status"], PROGRESSING)
        if not has_progress_deadline(d) or current is None:
            return
        if deployment_complete(d, new_status) or current.get("reason") == TIMED_OUT:
            return
        last = self.cm.parse_time(current.get("lastUpdateTime"))
        if last is None:
            return
        after = last + d["spec"]["progressDeadlineSeconds"] - self.cm.now
        key = self._key(d)
        if after < 1.0:
            self.queue.add_rate_limited(key)
        else:
            self.queue.add_after(key, after + 1.0)


class _SyncState:
    """One sync's ReplicaSets: its deep copies, each replaced by the server's answer to a write
    made during the sync (so a later step sees its own writes, as upstream's returned objects)."""

    def __init__(self):
        self.rs_list: list[dict] = []

    def replace(self, rs: dict) -> None:
        uid = rs["metadata"]["uid"]
        for i, cur in enumerate(self.rs_list):
            if cur["metadata"]["uid"] == uid:
                self.rs_list[i] = rs
                return
        self.rs_list.append(rs)

    def fresh(self, rs: dict | None) -> dict | None:
        if rs is None:
            return None
        uid = rs["metadata"].get("uid")
        for cur in self.rs_list:
            if cur["metadata"]["uid"] == uid:
                return cur
        return rs
