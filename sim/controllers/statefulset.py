"""The StatefulSet controller (pkg/controller/statefulset: stateful_set.go, the informers and
sync; stateful_set_control.go, UpdateStatefulSet; stateful_pod_control.go, pods and claims;
stateful_set_utils.go, identity, storage, revisions and retention).

A StatefulSet's pods have stable identities: pod `<set>-<ordinal>` for every ordinal from
`spec.ordinals.start` on, labelled `statefulset.kubernetes.io/pod-name` and
`apps.kubernetes.io/pod-index`, with hostname `<set>-<ordinal>` and subdomain `spec.serviceName`,
and for each volume claim template the claim `<template>-<set>-<ordinal>`, made before the pod
and never made again while it exists, so a pod made again gets its predecessor's storage.

One sync (UpdateStatefulSet):
1. revisions: the template as a ControllerRevision (the shared sim/controllers/history.py); the
   set's current and update revisions, a rollback renumbering the old revision;
2. the replicas: the ordinals in range in order, the others ("condemned") highest first.  With
   OrderedReady ("monotonic") the first replica that is missing is made and the sync ends; one
   that is not Running and Ready (and available for minReadySeconds) or is terminating ends it
   too: nothing happens past an unhealthy pod.  Scale-down takes the highest condemned pod only
   once every other pod is healthy, and waits for it to be gone.  Parallel ("burst") does all of
   it at once (slowStartBatch);
3. RollingUpdate: the highest-ordinal pod not at the update revision, down to `partition`, is
   deleted (and made again at the new revision) once at most maxUnavailable (default 1) pods
   are unavailable (MaxUnavailableStatefulSet, beta and on in v1.36); OnDelete: only pods a
   user deletes come back at the new revision;
4. status (replicas, readyReplicas, availableReplicas, currentReplicas, updatedReplicas, the
   revisions, collisionCount, observedGeneration), then the revision history is truncated to
   revisionHistoryLimit.

The "at most one" guarantee falls out of step 2: a pod on an unreachable node is marked for
deletion (taint eviction) but stays in the API as long as its kubelet cannot confirm it stopped;
the controller waits on a terminating pod and never makes a second `web-1` while the first
exists.  Only its removal (a force delete, or its node coming back) lets it make the pod again.

persistentVolumeClaimRetentionPolicy (StatefulSetAutoDeletePVC, GA) is ownerReferences on the
claims, as upstream writes them: whenDeleted Delete makes the set a controller owner of its
claims (the garbage collector deletes them with the set), whenScaled Delete makes a condemned
pod the owner of its claims (deleted with the pod).

Requests are asynchronous in the engine, so a sync is a generator that yields the requests it
makes (a list, answered together: slowStartBatch's batches) and is resumed with the answers;
the work queue holds the key until it ends, as upstream's worker blocks in its sync.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Generator

from sim.api.meta import deep_copy
from sim.api.patch import strategic_merge_patch
from sim.api.podutil import controller_ref, is_deleting, is_pod_available, is_pod_ready
from sim.api.selectors import SelectorError, labels_match, selector_from_label_selector
from sim.controllers import history as hist
from sim.controllers.controllerref import ControllerRefManager, OwnedIndex, owner_reference
from sim.controllers.podtemplate import pod_from_template
from sim.registry.apps.statefulsets import DELETE, ON_DELETE, PARALLEL, RETAIN, ROLLING_UPDATE
from sim.registry.policy.poddisruptionbudgets import scaled_value
from sim.workqueue import WorkQueue

API_VERSION, KIND = "apps/v1", "StatefulSet"   # controllerKind
MAX_BATCH_SIZE = 500                             # MaxBatchSize: in-flight requests in Parallel mode
# apps/v1 labels
STATEFULSET_POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"   # StatefulSetPodNameLabel
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"                    # PodIndexLabel (GA in v1.32)
STATEFULSET_REVISION_LABEL = hist.CONTROLLER_REVISION_HASH_LABEL_KEY  # "controller-revision-hash"

_STATEFUL_POD = re.compile(r"^(.*)-([0-9]+)$")   # statefulPodRegex
Request = Callable[[Callable[[Any], None]], None]   # sends one request; calls back with its answer


class SyncError(Exception):
    """A sync that failed: its key goes back with the queue's backoff."""


# -- stateful_set_utils.go ------------------------------------------------------------------------
def parent_name_and_ordinal(pod: dict) -> tuple[str, int]:
    """getParentNameAndOrdinal: ("", -1) for a name that is not "<parent>-<int32>"."""
    m = _STATEFUL_POD.match(pod["metadata"]["name"])
    if not m:
        return "", -1
    n = int(m.group(2))
    return m.group(1), (n if n < (1 << 31) else -1)


def get_ordinal(pod: dict) -> int:
    return parent_name_and_ordinal(pod)[1]


def start_ordinal(sts: dict) -> int:
    """getStartOrdinal: spec.ordinals.start, or 0."""
    return int(((sts["spec"].get("ordinals") or {}).get("start")) or 0)


def end_ordinal(sts: dict) -> int:
    """getEndOrdinal (inclusive)."""
    return start_ordinal(sts) + replicas_of(sts) - 1


def replicas_of(sts: dict) -> int:
    r = sts["spec"].get("replicas")
    return 1 if r is None else int(r)


def pod_in_ordinal_range(pod: dict, sts: dict) -> bool:
    o = get_ordinal(pod)
    return start_ordinal(sts) <= o <= end_ordinal(sts)


def pod_name(sts: dict, ordinal: int) -> str:
    return f"{sts['metadata']['name']}-{ordinal}"


def claim_name(sts: dict, template: dict, ordinal: int) -> str:
    """getPersistentVolumeClaimName: "<template>-<set>-<ordinal>"."""
    return f"{template['metadata']['name']}-{sts['metadata']['name']}-{ordinal}"


def is_member_of(sts: dict, pod: dict) -> bool:
    return parent_name_and_ordinal(pod)[0] == sts["metadata"]["name"]


def identity_matches(sts: dict, pod: dict) -> bool:
    parent, ordinal = parent_name_and_ordinal(pod)
    md = pod["metadata"]
    return (ordinal >= 0 and parent == sts["metadata"]["name"] and md["name"] == pod_name(sts, ordinal)
            and md.get("namespace") == sts["metadata"].get("namespace")
            and (md.get("labels") or {}).get(STATEFULSET_POD_NAME_LABEL) == md["name"])


def volume_claim_templates(sts: dict) -> list[dict]:
    return [t for t in sts["spec"].get("volumeClaimTemplates") or [] if (t.get("metadata") or {}).get("name")]


def storage_matches(sts: dict, pod: dict) -> bool:
    ordinal = get_ordinal(pod)
    if ordinal < 0:
        return False
    volumes = {v.get("name"): v for v in pod["spec"].get("volumes") or []}
    for t in volume_claim_templates(sts):
        vol = volumes.get(t["metadata"]["name"])
        if not vol or (vol.get("persistentVolumeClaim") or {}).get("claimName") != claim_name(sts, t, ordinal):
            return False
    return True


def retention_policy(sts: dict) -> tuple[str, str]:
    """getPersistentVolumeClaimRetentionPolicy: (whenDeleted, whenScaled), Retain by default."""
    p = sts["spec"].get("persistentVolumeClaimRetentionPolicy") or {}
    return p.get("whenDeleted") or RETAIN, p.get("whenScaled") or RETAIN


def persistent_volume_claims(sts: dict, pod: dict) -> dict[str, dict]:
    """getPersistentVolumeClaims: the pod's claims by template name, labelled with the set's
    matchLabels on top of the template's."""
    ordinal = get_ordinal(pod)
    match_labels = (sts["spec"].get("selector") or {}).get("matchLabels") or {}
    out = {}
    for t in volume_claim_templates(sts):
        claim = deep_copy(t)
        md = claim.setdefault("metadata", {})
        md["name"] = claim_name(sts, t, ordinal)
        md["namespace"] = sts["metadata"]["namespace"]
        md["labels"] = {**(md.get("labels") or {}), **match_labels}
        claim.pop("status", None)
        claim["apiVersion"], claim["kind"] = "v1", "PersistentVolumeClaim"
        out[t["metadata"]["name"]] = claim
    return out


def update_storage(sts: dict, pod: dict) -> None:
    """updateStorage: one persistentVolumeClaim volume per template (replacing a volume of that
    name), the pod's other volumes after them."""
    claims = persistent_volume_claims(sts, pod)
    volumes = [{"name": name, "persistentVolumeClaim": {"claimName": c["metadata"]["name"]}}
               for name, c in claims.items()]
    volumes += [v for v in pod["spec"].get("volumes") or [] if v.get("name") not in claims]
    pod["spec"]["volumes"] = volumes


def update_identity(sts: dict, pod: dict) -> None:
    """updateIdentity: name, namespace, and the pod-name and pod-index labels."""
    ordinal = get_ordinal(pod)
    md = pod["metadata"]
    md["name"] = pod_name(sts, ordinal)
    md["namespace"] = sts["metadata"]["namespace"]
    labels = md.setdefault("labels", {})
    labels[STATEFULSET_POD_NAME_LABEL] = md["name"]
    labels[POD_INDEX_LABEL] = str(ordinal)


def init_identity(sts: dict, pod: dict) -> None:
    """initIdentity: updateIdentity, and the hostname and subdomain a pod keeps for life."""
    update_identity(sts, pod)
    pod["spec"]["hostname"] = pod["metadata"]["name"]
    if sts["spec"].get("serviceName"):
        pod["spec"]["subdomain"] = sts["spec"]["serviceName"]


def phase(pod: dict) -> str:
    return (pod.get("status") or {}).get("phase") or ""


def is_created(pod: dict) -> bool:
    """isCreated: it has a phase, so the API server has it (a pod this sync only plans has none)."""
    return phase(pod) != ""


def is_running_and_ready(pod: dict) -> bool:
    return phase(pod) == "Running" and is_pod_ready(pod)


def pod_revision(pod: dict) -> str:
    return (pod["metadata"].get("labels") or {}).get(STATEFULSET_REVISION_LABEL, "")


def allows_burst(sts: dict) -> bool:
    return sts["spec"].get("podManagementPolicy") == PARALLEL


def new_statefulset_pod(sts: dict, ordinal: int) -> dict:
    """newStatefulSetPod: GetPodFromTemplate (generateName "<set>-", as upstream leaves it),
    named by its ordinal, with its identity and storage."""
    pod = pod_from_template(sts["spec"].get("template") or {}, sts["metadata"]["namespace"], sts, API_VERSION, KIND,
                            f"{sts['metadata']['name']}-")
    pod["metadata"]["name"] = pod_name(sts, ordinal)
    init_identity(sts, pod)
    update_storage(sts, pod)
    pod["status"] = {}   # not created: isCreated is false until the API server has it
    return pod


def new_versioned_pod(current_set: dict, update_set: dict, current_revision: str, update_revision: str,
                      ordinal: int) -> dict:
    """newVersionedStatefulSetPod: below the partition (or, without a rollingUpdate, below the
    current replicas) a pod is made at the current revision, otherwise at the update revision.
    (Go's precedence kept: `RollingUpdate && no rollingUpdate && ... || rollingUpdate && ...`.)"""
    strategy = current_set["spec"].get("updateStrategy") or {}
    rolling = strategy.get("rollingUpdate")
    start = start_ordinal(current_set)
    if (strategy.get("type") == ROLLING_UPDATE and rolling is None
            and ordinal < start + int((current_set.get("status") or {}).get("currentReplicas") or 0)) \
            or (rolling is not None and ordinal < start + int(rolling.get("partition") or 0)):
        pod = new_statefulset_pod(current_set, ordinal)
        pod["metadata"]["labels"][STATEFULSET_REVISION_LABEL] = current_revision
        return pod
    pod = new_statefulset_pod(update_set, ordinal)
    pod["metadata"]["labels"][STATEFULSET_REVISION_LABEL] = update_revision
    return pod


def revision_data(sts: dict) -> dict:
    """getPatch: the patch that puts the pod template back - {"spec": {"template": {...,
    "$patch": "replace"}}} - which is all a StatefulSet revision records."""
    template = deep_copy(sts["spec"].get("template") or {})
    template["$patch"] = "replace"
    return {"spec": {"template": template}}


def new_revision(sts: dict, revision: int, collision_count: int) -> dict:
    """newRevision: labelled as the template, carrying the set's annotations (so `kubectl
    rollout history` shows the set's kubernetes.io/change-cause)."""
    cr = hist.new_controller_revision(sts, API_VERSION, KIND, (sts["spec"].get("template") or {}).get("metadata", {})
                                      .get("labels"), revision_data(sts), revision, collision_count)
    if sts["metadata"].get("annotations"):
        cr["metadata"]["annotations"] = dict(sts["metadata"]["annotations"])
    return cr


def apply_revision(sts: dict, revision: dict) -> dict:
    """ApplyRevision: the set with the revision's template (a strategic merge patch)."""
    return strategic_merge_patch(deep_copy(sts), deep_copy(revision.get("data") or {}))


def next_revision(revisions: list[dict]) -> int:
    return (revisions[-1].get("revision") or 0) + 1 if revisions else 1


def max_unavailable(sts: dict, replicas: int) -> int:
    """getStatefulSetMaxUnavailable: maxUnavailable (default 1) scaled down, at least 1."""
    rolling = (sts["spec"].get("updateStrategy") or {}).get("rollingUpdate") or {}
    mu = rolling.get("maxUnavailable")
    n = scaled_value(1 if mu is None else mu, replicas, False)
    return max(n, 1)


# -- PVC ownerReferences for the retention policy (stateful_set_utils.go) ------------------------
def _matches_ref(ref: dict, obj: dict, api_version: str, kind: str) -> bool:
    return ref.get("apiVersion") == api_version and ref.get("kind") == kind and ref.get("name") == obj["metadata"]["name"]


def has_owner_ref(target: dict, owner: dict) -> bool:
    uid = owner["metadata"].get("uid")
    return any(r.get("uid") == uid for r in target["metadata"].get("ownerReferences") or [])


def has_stale_owner_ref(target: dict, obj: dict, api_version: str, kind: str) -> bool:
    for r in target["metadata"].get("ownerReferences") or []:
        if _matches_ref(r, obj, api_version, kind):
            return r.get("uid") != obj["metadata"].get("uid")
    return False


def has_unexpected_controller(claim: dict, sts: dict, pod: dict) -> bool:
    if retention_policy(sts) == (RETAIN, RETAIN):
        return False   # on a retain policy another controller managing the claims is no problem
    for r in claim["metadata"].get("ownerReferences") or []:
        if _matches_ref(r, sts, API_VERSION, KIND):
            if r.get("uid") != sts["metadata"].get("uid"):
                return True
            continue
        if _matches_ref(r, pod, "v1", "Pod"):
            if r.get("uid") != pod["metadata"].get("uid"):
                return True
            continue
        if r.get("controller"):
            return True
    return False


def has_non_controller_owner(claim: dict, sts: dict, pod: dict) -> bool:
    uids = {sts["metadata"].get("uid"), pod["metadata"].get("uid")}
    return any(r.get("uid") in uids and not r.get("controller") for r in claim["metadata"].get("ownerReferences") or [])


def is_claim_owner_up_to_date(claim: dict, sts: dict, pod: dict) -> bool:
    """isClaimOwnerUpToDate: Retain/Retain no reference; whenDeleted Delete the set's;
    whenScaled Delete the pod's once it is condemned (scaled down)."""
    if has_stale_owner_ref(claim, sts, API_VERSION, KIND) or has_stale_owner_ref(claim, pod, "v1", "Pod"):
        return True   # owned by an earlier set or pod of that name: not ours to touch
    if has_unexpected_controller(claim, sts, pod):
        return not (has_owner_ref(claim, sts) or has_owner_ref(claim, pod))
    if has_non_controller_owner(claim, sts, pod):
        return False
    when_deleted, when_scaled = retention_policy(sts)
    scaled_down = not pod_in_ordinal_range(pod, sts)
    if when_scaled == DELETE and when_deleted == DELETE:
        return scaled_down != has_owner_ref(claim, sts) and scaled_down == has_owner_ref(claim, pod)
    if when_scaled == DELETE:
        return not has_owner_ref(claim, sts) and scaled_down == has_owner_ref(claim, pod)
    if when_deleted == DELETE:
        return has_owner_ref(claim, sts) and not has_owner_ref(claim, pod)
    return not (has_owner_ref(claim, sts) or has_owner_ref(claim, pod))


def update_claim_owner_refs(claim: dict, sts: dict, pod: dict) -> None:
    """updateClaimOwnerRefForSetAndPod, in place on a copy."""
    unexpected = has_unexpected_controller(claim, sts, pod)
    refs = [r for r in claim["metadata"].get("ownerReferences") or []
            if not (_matches_ref(r, sts, API_VERSION, KIND) or _matches_ref(r, pod, "v1", "Pod"))]
    if not unexpected:
        when_deleted, when_scaled = retention_policy(sts)
        scaled_down = not pod_in_ordinal_range(pod, sts)

        def add(owner: dict, api_version: str, kind: str) -> None:
            if not any(r.get("uid") == owner["metadata"].get("uid") for r in refs):
                refs.append(owner_reference(owner, api_version, kind))

        if when_scaled == RETAIN and when_deleted == DELETE:
            add(sts, API_VERSION, KIND)
        elif when_scaled == DELETE and scaled_down:
            add(pod, "v1", "Pod")
        elif when_scaled == DELETE and when_deleted == DELETE:
            add(sts, API_VERSION, KIND)
    claim["metadata"]["ownerReferences"] = refs or None


# -- the controller ------------------------------------------------------------------------------
class StatefulSetController:
    name = "statefulset-controller"

    def __init__(self, cm):
        self.cm = cm
        self.api = cm.api.client_for(self.name)
        self.queue = WorkQueue(cm, self.reconcile)
        self.sets = cm.shared_informer("statefulsets", group="apps")
        self.revisions = cm.shared_informer("controllerrevisions", group="apps")
        self.claims = cm.shared_informer("persistentvolumeclaims")
        self.history = hist.History(cm, self.api, self.revisions)
        self.pods = OwnedIndex()   # the pod informer's pods by controlling owner, and orphans

    def start(self) -> None:
        self.sets.handlers(add=self._enqueue, update=self._set_updated, delete=self._enqueue)
        self.cm.pods.handlers(add=self._pod_added, update=self._pod_updated, delete=self._pod_deleted)

    def _now(self) -> float:
        """API time (what lastTransitionTime counts in), for minReadySeconds."""
        return self.cm.api_now

    @staticmethod
    def _key(obj: dict) -> tuple[str, str]:
        return obj["metadata"]["namespace"], obj["metadata"]["name"]

    def _enqueue(self, sts: dict) -> None:
        self.queue.add(self._key(sts))

    def _set_updated(self, old: dict, new: dict) -> None:
        self._enqueue(new)

    # -- pod handlers (stateful_set.go addPod / updatePod / deletePod) ---------------------
    def _resolve(self, pod: dict, ref: dict | None) -> dict | None:
        if not ref or ref.get("kind") != KIND:
            return None
        sts = self.sets.get(pod["metadata"]["namespace"], ref["name"])
        return sts if sts is not None and sts["metadata"]["uid"] == ref.get("uid") else None

    def _pod_statefulsets(self, pod: dict) -> list[dict]:
        """getPodStatefulSets: the sets of the pod's namespace whose selector matches it."""
        out = []
        for sts in self.sets.list():
            if sts["metadata"]["namespace"] != pod["metadata"]["namespace"]:
                continue
            try:
                reqs = selector_from_label_selector(sts["spec"].get("selector"))
            except SelectorError:
                continue
            if reqs and labels_match(reqs, pod["metadata"].get("labels")):
                out.append(sts)
        return out

    def _pod_added(self, pod: dict) -> None:
        self.pods.set(pod)
        ref = controller_ref(pod)
        if ref:
            sts = self._resolve(pod, ref)
            if sts is not None:
                self._enqueue(sts)
            return
        for sts in self._pod_statefulsets(pod):
            self._enqueue(sts)

    def _pod_updated(self, old: dict, new: dict) -> None:
        self.pods.set(new)
        if old["metadata"].get("resourceVersion") == new["metadata"].get("resourceVersion"):
            return
        old_ref, new_ref = controller_ref(old), controller_ref(new)
        ref_changed = old_ref != new_ref
        if ref_changed and old_ref:
            sts = self._resolve(old, old_ref)
            if sts is not None:
                self._enqueue(sts)
        if new_ref:
            sts = self._resolve(new, new_ref)
            if sts is None:
                return
            self._enqueue(sts)
            # A pod that just became ready is available minReadySeconds later: look again then.
            mrs = int(sts["spec"].get("minReadySeconds") or 0)
            if mrs > 0 and not is_pod_ready(old) and is_pod_ready(new):
                self.queue.add_after(self._key(sts), mrs)
            return
        if ref_changed or old["metadata"].get("labels") != new["metadata"].get("labels"):
            for sts in self._pod_statefulsets(new):
                self._enqueue(sts)

    def _pod_deleted(self, pod: dict) -> None:
        self.pods.set(pod, remove=True)
        sts = self._resolve(pod, controller_ref(pod))
        if sts is not None:
            self._enqueue(sts)

    # -- the sync, as a generator of requests ----------------------------------------------
    def reconcile(self, key) -> None:
        if not (self.sets.informer.synced and self.revisions.informer.synced and self.claims.informer.synced
                and self.cm.pods.informer.synced):
            self.queue.add_after(key, 1.0)   # WaitForCacheSync: never act on a cache still filling
            return
        sts = self.sets.get(*key)
        if sts is None:
            return
        self._drive(key, self.sync(sts))

    def _drive(self, key, gen: Generator) -> None:
        """Run a sync generator: each yield is a list of requests, sent together; the
        generator resumes with their answers in order.  The key stays in processing until the
        generator ends; a SyncError (or any failure) requeues it with backoff."""
        done = self.queue.defer(key)

        def step(answers) -> None:
            try:
                requests = gen.send(answers)
            except StopIteration:
                done()
                self.queue.forget(key)
                return
            except SyncError as e:
                done()
                self.cm.emit("statefulset-sync-error", component=self.cm.address, statefulset=f"{key[0]}/{key[1]}",
                             error=str(e))
                self.queue.add_rate_limited(key)
                return
            except Exception as e:  # noqa: BLE001 - as a panic in the worker: recorded, requeued
                done()
                self.queue.add_rate_limited(key)
                self.cm.kernel.handle_crash(e, self.cm.address)
                return
            if not requests:
                return step([])
            results: list = [None] * len(requests)
            pending = {"n": len(requests)}

            def answer(i: int, value) -> None:
                results[i] = value
                pending["n"] -= 1
                if pending["n"] == 0:
                    step(results)

            for i, send in enumerate(requests):
                send(lambda value, i=i: answer(i, value))

        step(None)

    # Requests, each a function of the callback that gets its answer (the response dict).
    def _req(self, req: dict) -> Request:
        return lambda cb: self.api.request(req, cb)

    def _create(self, resource: str, obj: dict) -> Request:
        return lambda cb: self.api.create(resource, obj, cb)

    def _update(self, resource: str, obj: dict) -> Request:
        return lambda cb: self.api.update(resource, obj, cb)

    def _delete_pod(self, pod: dict) -> Request:
        md = pod["metadata"]
        return lambda cb: self.api.delete("pods", md["namespace"], md["name"], cb)

    def sync(self, sts: dict):
        """StatefulSetController.sync: revisions adopted, pods claimed, then UpdateStatefulSet."""
        try:
            selector = selector_from_label_selector(sts["spec"].get("selector")) or []
        except SelectorError:
            return   # not transient: no retry
        # adoptOrphanRevisions
        revisions = self.history.list_controller_revisions(sts, selector)
        orphans = [r for r in revisions if controller_ref(r) is None]
        if orphans and not is_deleting(sts):
            answers = yield [lambda cb, r=r: self.history.adopt_controller_revision(
                sts, API_VERSION, KIND, r, lambda c, e: cb(e)) for r in orphans]
            if any(answers):
                raise SyncError(f"can't adopt ControllerRevisions: {answers}")
        # getPodsForStatefulSet: claim by selector and by name (isMemberOf)
        claims = ControllerRefManager(sts, API_VERSION, KIND, selector, self._patch_pod)
        pods = claims.claim(self.pods.candidates(sts), match=lambda p: is_member_of(sts, p))
        status = yield from self.update_statefulset(sts, pods)
        mrs = int(sts["spec"].get("minReadySeconds") or 0)
        if mrs > 0 and status is not None and status.get("availableReplicas", 0) != replicas_of(sts):
            self.queue.add_after(self._key(sts), mrs)

    def _patch_pod(self, pod: dict, patch: dict) -> None:
        md = pod["metadata"]
        self.api.patch("pods", md["namespace"], md["name"], patch)

    # -- stateful_set_control.go ------------------------------------------------------------
    def update_statefulset(self, sts: dict, pods: list[dict]):
        """UpdateStatefulSet: revisions, the pods, status, then the history truncated."""
        sts = deep_copy(sts)
        selector = selector_from_label_selector(sts["spec"].get("selector")) or []
        revisions = hist.sort_controller_revisions(self.history.list_controller_revisions(sts, selector))
        current, update, collision_count = yield from self.get_statefulset_revisions(sts, revisions)
        status = None
        error = None
        try:
            status = yield from self.update_pods(sts, current, update, collision_count, pods)
        except SyncError as e:
            error = e
            status = e.args[1] if len(e.args) > 1 else None
        if status is not None:
            yield from self.update_statefulset_status(sts, status)
        yield from self.truncate_history(sts, pods, revisions, current, update)
        if error is not None:
            raise SyncError(error.args[0])
        return status

    def get_statefulset_revisions(self, sts: dict, revisions: list[dict]):
        """getStatefulSetRevisions: the update revision is the template's (an equal existing
        revision: the latest one, or an older one renumbered - a rollback; none: a new one);
        the current one is status.currentRevision's, or the update revision at first."""
        collision_count = int((sts.get("status") or {}).get("collisionCount") or 0)
        update = new_revision(sts, next_revision(revisions), collision_count)
        equal = hist.find_equal_revisions(revisions, update)
        if equal and hist.equal_revision(revisions[-1], equal[-1]):
            update = revisions[-1]
        elif equal:
            (updated, err), = yield [lambda cb: self.history.update_controller_revision(
                equal[-1], update["revision"], lambda r, e: cb((r, e)))]
            if err:
                raise SyncError(f"updating ControllerRevision: {err.get('message')}")
            update = updated
        else:
            (created, err, collision_count), = yield [lambda cb: self.history.create_controller_revision(
                sts, update, collision_count, lambda r, e, n: cb((r, e, n)))]
            if err:
                raise SyncError(f"creating ControllerRevision: {err.get('message')}")
            update = created
        current_name = (sts.get("status") or {}).get("currentRevision")
        current = next((r for r in revisions if r["metadata"]["name"] == current_name), None) or update
        return current, update, collision_count

    def update_pods(self, sts: dict, current_rev: dict, update_rev: dict, collision_count: int, pods: list[dict]):
        """updateStatefulSet: the replicas in ordinal order, the condemned highest first, then
        the rolling update.  Returns the status to record."""
        now = self._now()
        mrs = int(sts["spec"].get("minReadySeconds") or 0)
        current_set, update_set = apply_revision(sts, current_rev), apply_revision(sts, update_rev)
        current_name, update_name = current_rev["metadata"]["name"], update_rev["metadata"]["name"]
        status = {"observedGeneration": sts["metadata"].get("generation", 0), "currentRevision": current_name,
                  "updateRevision": update_name, "collisionCount": collision_count}
        self._count(status, mrs, now, current_name, update_name, pods)

        count = replicas_of(sts)
        start, end = start_ordinal(sts), end_ordinal(sts)
        replicas: list[dict | None] = [None] * count
        condemned: list[dict] = []
        for pod in sorted(pods, key=lambda p: p["metadata"]["name"]):
            if pod_in_ordinal_range(pod, sts):
                replicas[get_ordinal(pod) - start] = pod
            elif get_ordinal(pod) >= 0:
                condemned.append(pod)
        for ordinal in range(start, end + 1):
            if replicas[ordinal - start] is None:
                replicas[ordinal - start] = new_versioned_pod(current_set, update_set, current_name, update_name, ordinal)
        condemned.sort(key=get_ordinal, reverse=True)

        def unavailable(pod: dict) -> bool:
            """isUnavailable: not created, terminating, or not available."""
            return not is_created(pod) or is_deleting(pod) or not is_pod_available(pod, mrs, now)

        first_unhealthy = next((p for p in replicas if unavailable(p)), None) or \
            next((p for p in reversed(condemned) if unavailable(p)), None)

        if is_deleting(sts):
            return status   # a set being deleted only has its status updated

        monotonic = not allows_burst(sts)
        everything = replicas + condemned

        def finish(error: str | None = None) -> dict:
            self._count(status, mrs, now, current_name, update_name, everything)
            if error:
                raise SyncError(error, status)
            return status

        # the replicas
        exit_, err = yield from self._run_for_all(
            replicas, lambda i: self.process_replica(sts, update_set, monotonic, replicas, i, mrs, now), monotonic)
        if exit_ or err:
            return finish(err)
        # the condemned pods' claims, per the retention policy
        exit_, err = yield from self._run_for_all(
            condemned, lambda i: self._fix_condemned_claims(update_set, condemned[i]), monotonic)
        if exit_ or err:
            return finish(err)
        # scale down: highest ordinal first, each waiting for the others to be healthy
        exit_, err = yield from self._run_for_all(
            condemned, lambda i: self.process_condemned(sts, first_unhealthy, monotonic, condemned, i, mrs, now),
            monotonic)
        if exit_ or err:
            return finish(err)
        finish()

        if (sts["spec"].get("updateStrategy") or {}).get("type") == ON_DELETE:
            return status
        return (yield from self._rolling_update(sts, replicas, update_name, status, mrs, now, unavailable))

    def _rolling_update(self, sts: dict, replicas: list[dict], update_name: str, status: dict, mrs: int, now: float,
                        unavailable):
        """updateStatefulSetAfterInvariantEstablished (MaxUnavailableStatefulSet): delete, from
        the highest ordinal down to the partition, up to maxUnavailable - unavailable pods not
        at the update revision."""
        rolling = (sts["spec"].get("updateStrategy") or {}).get("rollingUpdate")
        update_min, limit = 0, 1
        if rolling is not None:
            update_min = int(rolling.get("partition") or 0)
            limit = max_unavailable(sts, len(replicas))
        down = sum(1 for p in replicas if unavailable(p))
        if down > limit:
            return status
        victims = []
        for target in range(len(replicas) - 1, update_min - 1, -1):
            if len(victims) >= limit - down:
                break
            pod = replicas[target]
            if pod_revision(pod) != update_name and not is_deleting(pod):
                victims.append(pod)
        if victims:
            self.cm.action(f"statefulset-controller deleting {', '.join(p['metadata']['name'] for p in victims)} "
                           f"of {sts['metadata']['namespace']}/{sts['metadata']['name']} for update")
            answers = yield [self._delete_pod(p) for p in victims]
            for pod, resp in zip(victims, answers):
                self._record_pod_event("delete", sts, pod, resp)
                if resp["code"] >= 400 and resp["code"] != 404:
                    raise SyncError(f"deleting {pod['metadata']['name']}: {resp['body'].get('message')}", status)
                status["currentReplicas"] = status.get("currentReplicas", 0) - 1
        return status

    def _count(self, status: dict, mrs: int, now: float, current_name: str, update_name: str, pods) -> None:
        """updateStatus / computeReplicaStatus."""
        c = {"replicas": 0, "readyReplicas": 0, "availableReplicas": 0, "currentReplicas": 0, "updatedReplicas": 0}
        for pod in pods:
            if is_created(pod):
                c["replicas"] += 1
            if is_running_and_ready(pod):
                c["readyReplicas"] += 1
                if is_pod_available(pod, mrs, now):
                    c["availableReplicas"] += 1
            if is_created(pod) and not is_deleting(pod):
                rev = pod_revision(pod)
                if rev == current_name:
                    c["currentReplicas"] += 1
                if rev == update_name:
                    c["updatedReplicas"] += 1
        status.update(c)

    def _run_for_all(self, pods: list, fn, monotonic: bool):
        """runForAll: in order, stopping at the first that says so (monotonic); otherwise
        slowStartBatch: batches of 1, 2, 4, ... (at most 500) run together, stopping after the
        first batch with an error.  Each fn(i) is a generator answering (exit, error)."""
        if monotonic:
            for i in range(len(pods)):
                exit_, err = yield from fn(i)
                if exit_ or err:
                    return True, err
            return False, None
        i, size = 0, 1
        while i < len(pods):
            batch = list(range(i, min(i + size, len(pods))))
            outcomes = yield from self._together([fn(j) for j in batch])
            errors = [err for _exit, err in outcomes if err]
            if errors:
                return True, "; ".join(errors)
            i += len(batch)
            size = min(2 * size, MAX_BATCH_SIZE)
        return False, None

    def _together(self, gens: list):
        """Run several request generators concurrently: each round sends every live one's
        requests at once and resumes each with its own answers.  Returns their results."""
        results: list = [None] * len(gens)
        pending: dict[int, list] = {}
        for i, g in enumerate(gens):
            try:
                pending[i] = g.send(None)
            except StopIteration as stop:
                results[i] = stop.value
        while pending:
            order = sorted(pending)
            flat = [req for i in order for req in pending[i]]
            answers = yield flat
            at = 0
            nxt: dict[int, list] = {}
            for i in order:
                n = len(pending[i])
                mine, at = answers[at:at + n], at + n
                try:
                    nxt[i] = gens[i].send(mine)
                except StopIteration as stop:
                    results[i] = stop.value
            pending = nxt
        return results

    def process_replica(self, sts: dict, update_set: dict, monotonic: bool, replicas: list, i: int, mrs: int,
                        now: float):
        """processReplica: (exit, error).  A failed or succeeded pod is deleted and made again
        next time; a missing one made (in OrderedReady, that ends the sync); a pending one gets
        any claim it lacks; an unhealthy or terminating one blocks what follows (OrderedReady);
        a healthy one gets its identity, storage and claim owners right."""
        pod = replicas[i]
        if phase(pod) in ("Failed", "Succeeded"):
            if not is_deleting(pod):
                (resp,) = yield [self._delete_pod(pod)]
                self._record_pod_event("delete", sts, pod, resp)
                if resp["code"] >= 400:
                    return True, f"deleting {pod['metadata']['name']}: {resp['body'].get('message')}"
            return True, None   # made again once it is gone
        if not is_created(pod):
            if self._claim_is_stale(sts, pod):
                return True, None   # a claim of an earlier pod of that name, still being deleted
            err = yield from self.create_stateful_pod(sts, pod)
            if err:
                return True, err
            if monotonic:
                return True, None
        if phase(pod) == "Pending":
            err = yield from self.create_missing_claims(sts, pod)
            if err:
                return True, err
        if is_deleting(pod) and monotonic:
            return True, None   # wait for it to be gone (and never make a second one meanwhile)
        if not is_running_and_ready(pod) and monotonic:
            return True, None
        if not is_pod_available(pod, mrs, now) and monotonic:
            return True, None
        if not is_created(pod):
            return False, None   # made just now (Parallel): nothing more to check
        retention_ok = self._claims_match_retention_policy(update_set, pod)
        if identity_matches(sts, pod) and storage_matches(sts, pod) and retention_ok:
            return False, None
        err = yield from self.update_stateful_pod(update_set, deep_copy(pod))
        return (True, err) if err else (False, None)

    def _fix_condemned_claims(self, update_set: dict, pod: dict):
        if not self._claims_match_retention_policy(update_set, pod):
            err = yield from self.update_pod_claims_for_retention(update_set, pod)
            if err:
                return True, err
        return False, None

    def process_condemned(self, sts: dict, first_unhealthy: dict | None, monotonic: bool, condemned: list, i: int,
                          mrs: int, now: float):
        """processCondemned: a terminating one blocks (OrderedReady); so does an unhealthy one
        unless it is the first unhealthy pod; otherwise it is deleted."""
        pod = condemned[i]
        if is_deleting(pod):
            return (True, None) if monotonic else (False, None)
        if not is_running_and_ready(pod) and monotonic and pod is not first_unhealthy:
            return True, None
        if not is_pod_available(pod, mrs, now) and monotonic and pod is not first_unhealthy:
            return True, None
        self.cm.action(f"statefulset-controller deleting {sts['metadata']['namespace']}/{pod['metadata']['name']} "
                       f"for scale down")
        (resp,) = yield [self._delete_pod(pod)]
        self._record_pod_event("delete", sts, pod, resp)
        if resp["code"] >= 400:
            return True, f"deleting {pod['metadata']['name']}: {resp['body'].get('message')}"
        return True, None

    # -- stateful_pod_control.go -------------------------------------------------------------
    def create_stateful_pod(self, sts: dict, pod: dict):
        """CreateStatefulPod: its claims first, then the pod, then the claims' owners."""
        err = yield from self.create_claims(sts, pod)
        if err:
            self._record_pod_event("create", sts, pod, {"code": 500, "body": {"message": err}})
            return err
        body = deep_copy(pod)
        body.pop("status", None)
        (resp,) = yield [self._create("pods", body)]
        if resp["code"] == 409 and (resp["body"] or {}).get("reason") == "AlreadyExists":
            return f"creating {pod['metadata']['name']}: {resp['body'].get('message')}"   # sunk: no event
        if resp["code"] < 400:
            err = yield from self.update_pod_claims_for_retention(sts, pod)
            if err:
                self._record_pod_event("update", sts, pod, {"code": 500, "body": {"message": err}})
                return err
            self.cm.action(f"statefulset-controller created pod {sts['metadata']['namespace']}/{pod['metadata']['name']}")
        self._record_pod_event("create", sts, pod, resp)
        return None if resp["code"] < 400 else f"creating {pod['metadata']['name']}: {resp['body'].get('message')}"

    def update_stateful_pod(self, sts: dict, pod: dict):
        """UpdateStatefulPod: identity, storage (and missing claims) and the claims' owners made
        right, then the pod updated if any of it changed."""
        consistent = True
        if not identity_matches(sts, pod):
            update_identity(sts, pod)
            consistent = False
        if not storage_matches(sts, pod):
            update_storage(sts, pod)
            consistent = False
            err = yield from self.create_claims(sts, pod)
            if err:
                self._record_pod_event("update", sts, pod, {"code": 500, "body": {"message": err}})
                return err
        if not self._claims_match_retention_policy(sts, pod):
            err = yield from self.update_pod_claims_for_retention(sts, pod)
            if err:
                self._record_pod_event("update", sts, pod, {"code": 500, "body": {"message": err}})
                return err
            consistent = False
        if consistent:
            return None
        (resp,) = yield [self._update("pods", pod)]
        self._record_pod_event("update", sts, pod, resp)
        return None if resp["code"] < 400 else f"updating {pod['metadata']['name']}: {resp['body'].get('message')}"

    def _claim(self, namespace: str, name: str) -> dict | None:
        return self.claims.get(namespace, name)

    def _claims_match_retention_policy(self, sts: dict, pod: dict) -> bool:
        """ClaimsMatchRetentionPolicy (a claim not there yet is picked up next time)."""
        for claim in persistent_volume_claims(sts, pod).values():
            existing = self._claim(claim["metadata"]["namespace"], claim["metadata"]["name"])
            if existing is not None and not is_claim_owner_up_to_date(existing, sts, pod):
                return False
        return True

    def update_pod_claims_for_retention(self, sts: dict, pod: dict):
        """UpdatePodClaimForRetentionPolicy."""
        updates = []
        for claim in persistent_volume_claims(sts, pod).values():
            existing = self._claim(claim["metadata"]["namespace"], claim["metadata"]["name"])
            if existing is None:
                continue
            if has_unexpected_controller(existing, sts, pod):
                self.api.event(sts, "ConflictingController",
                               f"PersistentVolumeClaim {claim['metadata']['name']} has a conflicting OwnerReference "
                               f"that acts as a manging controller, the retention policy is ignored for this claim",
                               self.name, type_="Warning")
            if not is_claim_owner_up_to_date(existing, sts, pod):
                fixed = deep_copy(existing)
                update_claim_owner_refs(fixed, sts, pod)
                updates.append(fixed)
        if not updates:
            return None
        answers = yield [self._update("persistentvolumeclaims", c) for c in updates]
        for claim, resp in zip(updates, answers):
            if resp["code"] >= 400:
                return (f"could not update claim {claim['metadata']['name']} for delete policy ownerRefs: "
                        f"{resp['body'].get('message')}")
        return None

    def _claim_is_stale(self, sts: dict, pod: dict) -> bool:
        """PodClaimIsStale: with whenScaled Delete, a claim still owned by an earlier pod of
        this name (being deleted with it) must go before the pod is made again."""
        if retention_policy(sts)[1] == RETAIN:
            return False
        for claim in persistent_volume_claims(sts, pod).values():
            existing = self._claim(claim["metadata"]["namespace"], claim["metadata"]["name"])
            if existing is not None and has_stale_owner_ref(existing, pod, "v1", "Pod"):
                return True
        return False

    def create_missing_claims(self, sts: dict, pod: dict):
        """createMissingPersistentVolumeClaims."""
        err = yield from self.create_claims(sts, pod)
        if err:
            return err
        err = yield from self.update_pod_claims_for_retention(sts, pod)
        if err:
            self._record_pod_event("update", sts, pod, {"code": 500, "body": {"message": err}})
        return err

    def create_claims(self, sts: dict, pod: dict):
        """createPersistentVolumeClaims: each missing claim created (a claim being deleted is
        an error: the pod must wait for it to go and be made afresh)."""
        errors, todo = [], []
        for claim in persistent_volume_claims(sts, pod).values():
            existing = self._claim(claim["metadata"]["namespace"], claim["metadata"]["name"])
            if existing is None:
                todo.append(claim)
            elif is_deleting(existing):
                errors.append(f"pvc {claim['metadata']['name']} is being deleted")
        if todo:
            answers = yield [self._create("persistentvolumeclaims", c) for c in todo]
            for claim, resp in zip(todo, answers):
                if resp["code"] >= 400:
                    errors.append(f"failed to create PVC {claim['metadata']['name']}: {resp['body'].get('message')}")
                if resp["code"] < 400 or (resp["body"] or {}).get("reason") != "AlreadyExists":
                    self._record_claim_event("create", sts, pod, claim, resp)
        return "; ".join(errors) or None

    def _record_pod_event(self, verb: str, sts: dict, pod: dict, resp: dict) -> None:
        """recordPodEvent: "create Pod web-0 in StatefulSet web successful" (SuccessfulCreate),
        or Failed<Verb> with the error."""
        name, set_name = pod["metadata"]["name"], sts["metadata"]["name"]
        if resp["code"] < 400:
            self.api.event(sts, f"Successful{verb.title()}", f"{verb} Pod {name} in StatefulSet {set_name} successful",
                           self.name)
        else:
            self.api.event(sts, f"Failed{verb.title()}", f"{verb} Pod {name} in StatefulSet {set_name} failed error: "
                           f"{(resp.get('body') or {}).get('message')}", self.name, type_="Warning")

    def _record_claim_event(self, verb: str, sts: dict, pod: dict, claim: dict, resp: dict) -> None:
        name, set_name, cname = pod["metadata"]["name"], sts["metadata"]["name"], claim["metadata"]["name"]
        if resp["code"] < 400:
            self.api.event(sts, f"Successful{verb.title()}",
                           f"{verb} Claim {cname} Pod {name} in StatefulSet {set_name} success", self.name)
        else:
            self.api.event(sts, f"Failed{verb.title()}",
                           f"{verb} Claim {cname} for Pod {name} in StatefulSet {set_name} failed error: "
                           f"{(resp.get('body') or {}).get('message')}", self.name, type_="Warning")

    # -- status and history ------------------------------------------------------------------
    def update_statefulset_status(self, sts: dict, status: dict):
        """updateStatefulSetStatus: complete a finished rolling update (currentRevision becomes
        the update revision), and write the status when it differs (inconsistentStatus)."""
        replicas = replicas_of(sts)
        if ((sts["spec"].get("updateStrategy") or {}).get("type") == ROLLING_UPDATE
                and status["updatedReplicas"] == replicas and status["readyReplicas"] == replicas
                and status["replicas"] == replicas):
            status["currentReplicas"] = status["updatedReplicas"]
            status["currentRevision"] = status["updateRevision"]
        old = sts.get("status") or {}
        if not (status["observedGeneration"] > (old.get("observedGeneration") or 0)
                or any(status[k] != (old.get(k) or (0 if k.endswith("Replicas") or k == "replicas" else ""))
                       for k in ("replicas", "currentReplicas", "readyReplicas", "updatedReplicas", "currentRevision",
                                 "availableReplicas", "updateRevision"))
                or status["collisionCount"] != old.get("collisionCount")):
            return
        # StatefulSetStatus's omitempty fields: a zero is left out (null removes it in a merge patch).
        omitempty = ("observedGeneration", "readyReplicas", "currentReplicas", "updatedReplicas", "currentRevision",
                     "updateRevision")
        body = {k: (None if k in omitempty and not val else val) for k, val in status.items()}
        (resp,) = yield [lambda cb: self.api.patch("statefulsets", sts["metadata"]["namespace"],
                                                   sts["metadata"]["name"], {"status": body}, cb, group="apps",
                                                   subresource="status")]
        if resp["code"] >= 400 and resp["code"] != 404:
            raise SyncError(f"updating status: {resp['body'].get('message')}")

    def truncate_history(self, sts: dict, pods: list[dict], revisions: list[dict], current: dict, update: dict):
        """truncateHistory: the revisions no pod and neither status revision uses, oldest
        first, deleted beyond revisionHistoryLimit."""
        live = {current["metadata"]["name"], update["metadata"]["name"]} | {pod_revision(p) for p in pods}
        old = [r for r in revisions if r["metadata"]["name"] not in live]
        limit = sts["spec"].get("revisionHistoryLimit")
        limit = 10 if limit is None else int(limit)
        if limit < 0 or len(old) <= limit:
            return
        doomed = old[:len(old) - limit]
        answers = yield [lambda cb, r=r: self.history.delete_controller_revision(r, lambda _r, e: cb(e))
                         for r in doomed]
        if any(answers):
            raise SyncError(f"deleting ControllerRevisions: {answers}")
