"""The Job controller (pkg/controller/job: job_controller.go, backoff_utils.go,
indexed_job_utils.go, pod_failure_policy.go, success_policy.go, tracking_utils.go), as 1.31+
runs it (JobPodReplacementPolicy and JobSuccessPolicy on: terminal conditions are delayed).

syncJob(key), level-triggered:
- claim the pods (adopting an orphan adds the `batch.kubernetes.io/job-tracking` finalizer,
  which every pod the controller creates carries from the start);
- count: a pod that finished and still has the finalizer is new; it goes into
  `status.uncountedTerminatedPods` first, then its finalizer is removed, then it moves into
  `succeeded` / `failed` (so a pod is counted exactly once, even if it is deleted meanwhile);
- decide whether the Job has finished: a podFailurePolicy FailJob rule matched (FailureTarget,
  reason PodFailurePolicy), more failures than `backoffLimit` (BackoffLimitExceeded), past
  `activeDeadlineSeconds` (DeadlineExceeded), for Indexed Jobs more failed indexes than
  `maxFailedIndexes` or every index settled with some failed (backoffLimitPerIndex), a
  `successPolicy` rule met (SuccessCriteriaMet, reason SuccessPolicy), or the completions
  reached (SuccessCriteriaMet, reason CompletionsReached).  The interim FailureTarget /
  SuccessCriteriaMet condition is written first; the active pods are deleted; Failed / Complete
  follows once no pod is uncounted or terminating;
- otherwise manage the pods: delete extras (suspend deletes them all), create the missing ones
  in slow-start batches (1, 2, 4 ...), waiting out the pod failure back-off first: 10 s after the
  first failure since the last success, doubling per further failure, at most 6 minutes,
  measured from the last failed pod's finish time (its containers' finishedAt);
- Indexed Jobs: each pod has an index (annotation and label batch.kubernetes.io/
  job-completion-index, env JOB_COMPLETION_INDEX from that annotation, hostname
  `<job>-<index>`, generateName `<job>-<index>-`); `status.completedIndexes` lists the
  succeeded ones as intervals ("0-2,5").

A sync that has requests in flight holds its key (WorkQueue.defer) until the last answer, as
upstream's syncJob blocks its worker; an error requeues the key with the rate limiter.
"""
from __future__ import annotations

from typing import Callable

from sim.api.meta import deep_copy, parse_timestamp
from sim.api.podutil import controller_ref, is_deleting, is_pod_ready, is_terminal
from sim.api.selectors import labels_match, selector_from_label_selector
from sim.controllers.controllerref import ControllerRefManager, OwnedIndex
from sim.controllers.expectations import ControllerExpectations
from sim.controllers.podtemplate import pod_from_template
from sim.controllers.replicaset import ReplicaSetController
from sim.registry.batch.jobs import (
    ACTION_COUNT, ACTION_FAIL_INDEX, ACTION_FAIL_JOB, ACTION_IGNORE, COND_COMPLETE, COND_FAILED,
    COND_FAILURE_TARGET, COND_SUCCESS_CRITERIA_MET, COND_SUSPENDED, FAILED_ONLY, INDEXED,
    JOB_COMPLETION_INDEX_ANNOTATION, JOB_INDEX_FAILURE_COUNT_ANNOTATION,
    JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION, JOB_INDEX_LABEL, JOB_TRACKING_FINALIZER, NON_INDEXED, OP_IN,
    format_indexes, indexes_of, is_finished, is_indexed)
from sim.workqueue import WorkQueue

# job_controller.go
SYNC_JOB_BATCH_PERIOD = 1.0            # syncJobBatchPeriod: pod events are batched this long
DEFAULT_JOB_POD_FAILURE_BACKOFF = 10.0  # DefaultJobPodFailureBackOff
MAX_JOB_POD_FAILURE_BACKOFF = 360.0     # MaxJobPodFailureBackOff: 6 minutes
MAX_UNCOUNTED_PODS = 500                # MaxUncountedPods
MAX_POD_CREATE_DELETE_PER_SYNC = 500    # MaxPodCreateDeletePerSync
SLOW_START_INITIAL_BATCH_SIZE = 1       # controller.SlowStartInitialBatchSize
COMPLETION_INDEX_ENV_NAME = "JOB_COMPLETION_INDEX"
MAX_GENERATED_NAME_LENGTH = 58          # names.MaxGeneratedNameLength (63 - 5 random characters)

# batch/v1 JobConditionReasons
REASON_POD_FAILURE_POLICY = "PodFailurePolicy"
REASON_BACKOFF_LIMIT_EXCEEDED = "BackoffLimitExceeded"
REASON_DEADLINE_EXCEEDED = "DeadlineExceeded"
REASON_MAX_FAILED_INDEXES_EXCEEDED = "MaxFailedIndexesExceeded"
REASON_FAILED_INDEXES = "FailedIndexes"
REASON_SUCCESS_POLICY = "SuccessPolicy"
REASON_COMPLETIONS_REACHED = "CompletionsReached"


# -- pod helpers ---------------------------------------------------------------------------
def has_tracking_finalizer(pod: dict) -> bool:
    return JOB_TRACKING_FINALIZER in (pod["metadata"].get("finalizers") or [])


def completion_index(pod: dict) -> int | None:
    """getCompletionIndex: the annotation's index, None when absent or not a number."""
    text = (pod["metadata"].get("annotations") or {}).get(JOB_COMPLETION_INDEX_ANNOTATION)
    if text is None or not text.isdigit():
        return None
    return int(text)


def is_pod_terminating(pod: dict) -> bool:
    """controller.IsPodTerminating: deleting and not yet terminal."""
    return is_deleting(pod) and not is_terminal(pod)


def only_replace_failed_pods(job: dict) -> bool:
    """onlyReplaceFailedPods: podReplacementPolicy Failed (always so with a podFailurePolicy)."""
    spec = job["spec"]
    return spec.get("podReplacementPolicy") == FAILED_ONLY or spec.get("podFailurePolicy") is not None


def is_pod_failed(pod: dict, job: dict) -> bool:
    """isPodFailed: Failed; or, unless only failed pods are replaced, deleted before it
    succeeded (an orphan that never reaches the Failed phase)."""
    phase = (pod.get("status") or {}).get("phase")
    if phase == "Failed":
        return True
    if only_replace_failed_pods(job):
        return False
    return is_deleting(pod) and phase != "Succeeded"


def _container_finish_time(pod: dict) -> float | None:
    """getFinishTimeFromContainers: the latest finishedAt, if every container terminated."""
    latest = None
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        term = (cs.get("state") or {}).get("terminated")
        t = parse_timestamp((term or {}).get("finishedAt"))
        if t is None:
            return None
        latest = t if latest is None or t > latest else latest
    return latest


def finished_time(pod: dict) -> float:
    """getFinishedTime (backoff_utils.go): the containers' latest finish; else Ready=False's
    transition; else deletionTimestamp - grace period; else the creation time.  On the API's
    clock (parse_timestamp's seconds; Component.api_now), as the back-off store keeps it."""
    t = _container_finish_time(pod)
    if t is not None:
        return t
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready" and c.get("status") == "False" and c.get("lastTransitionTime"):
            return parse_timestamp(c["lastTransitionTime"])
    md = pod["metadata"]
    if md.get("deletionTimestamp"):
        return parse_timestamp(md["deletionTimestamp"]) - (md.get("deletionGracePeriodSeconds") or 0)
    return parse_timestamp(md.get("creationTimestamp")) or 0.0


def remaining_backoff(now: float, failures: int, last_failure: float | None) -> float:
    """getRemainingTimeForFailuresCount: 10 s doubled per failure after the first, capped at
    6 minutes, less the time since the last failure.  `now` and `last_failure` on the API's
    clock (finished_time's)."""
    if failures == 0 or last_failure is None:
        return 0.0
    backoff = DEFAULT_JOB_POD_FAILURE_BACKOFF
    for _ in range(1, failures):
        backoff *= 2
        if backoff >= MAX_JOB_POD_FAILURE_BACKOFF:
            backoff = MAX_JOB_POD_FAILURE_BACKOFF
            break
    elapsed = now - last_failure
    return 0.0 if backoff < elapsed else backoff - elapsed


# -- pod_failure_policy.go -----------------------------------------------------------------
def _matching_exit_code_container(pod: dict, req: dict) -> dict | None:
    status = pod.get("status") or {}
    values = req.get("values") or []
    for statuses in (status.get("containerStatuses") or [], status.get("initContainerStatuses") or []):
        for cs in statuses:
            if req.get("containerName") is not None and req["containerName"] != cs.get("name"):
                continue
            term = (cs.get("state") or {}).get("terminated")
            if term is None:
                continue   # still terminating: no exit code to match
            code = term.get("exitCode", 0)
            if code != 0 and ((code in values) == (req.get("operator") == OP_IN)):
                return cs
    return None


def match_pod_failure_policy(policy: dict | None, pod: dict) -> tuple[str | None, bool, str | None]:
    """matchPodFailurePolicy: (the job failure message of a FailJob rule, whether the failure
    counts against backoffLimit, the action of the first matching rule)."""
    if policy is None:
        return None, True, None
    md = pod["metadata"]
    for index, rule in enumerate(policy.get("rules") or []):
        action = rule.get("action")
        if rule.get("onExitCodes") is not None:
            cs = _matching_exit_code_container(pod, rule["onExitCodes"])
            if cs is None:
                continue
            if action == ACTION_FAIL_JOB:
                code = cs["state"]["terminated"].get("exitCode")
                return (f"Container {cs.get('name')} for pod {md['namespace']}/{md['name']} failed with exit code "
                        f"{code} matching {action} rule at index {index}"), True, action
        elif rule.get("onPodConditions"):
            matched = None
            for cond in (pod.get("status") or {}).get("conditions") or []:
                if any(cond.get("type") == p.get("type") and cond.get("status") == p.get("status", "True")
                       for p in rule["onPodConditions"]):
                    matched = cond
                    break
            if matched is None:
                continue
            if action == ACTION_FAIL_JOB:
                return (f"Pod {md['namespace']}/{md['name']} has condition {matched.get('type')} matching "
                        f"{action} rule at index {index}"), True, action
        else:
            continue
        if action == ACTION_IGNORE:
            return None, False, action
        if action in (ACTION_COUNT, ACTION_FAIL_INDEX):
            return None, True, action
    return None, True, None


# -- success_policy.go ---------------------------------------------------------------------
def match_success_policy(policy: dict | None, completions: int, succeeded: set[int]) -> str | None:
    """matchSuccessPolicy: the condition message of the first rule met, or None."""
    if policy is None or not succeeded:
        return None
    for index, rule in enumerate(policy.get("rules") or []):
        if rule.get("succeededIndexes") is not None:
            required = indexes_of(rule["succeededIndexes"], completions)
            if not required:
                continue
            contains = len(required & succeeded)
            count = rule.get("succeededCount")
            if (count is None and contains == len(required)) or (count is not None and contains >= count):
                return f"Matched rules at index {index}"
        elif rule.get("succeededCount") is not None and len(succeeded) >= rule["succeededCount"]:
            return f"Matched rules at index {index}"
    return None


# controller.ActivePods ordering (the first are deleted first), the ReplicaSet controller's.
_deletion_rank = ReplicaSetController._deletion_rank


def new_condition(ctype: str, status: str, reason: str, message: str, ts: str) -> dict:
    c = {"type": ctype, "status": status, "lastProbeTime": ts, "lastTransitionTime": ts}
    if reason:
        c["reason"] = reason
    if message:
        c["message"] = message
    return c


def ensure_condition(conds: list[dict], ctype: str, status: str, reason: str, message: str, ts: str) -> bool:
    """ensureJobConditionStatus: update one in place or append it (never append a False one)."""
    for i, c in enumerate(conds):
        if c.get("type") == ctype:
            if c.get("status") != status or c.get("reason", "") != reason or c.get("message", "") != message:
                conds[i] = new_condition(ctype, status, reason, message, ts)
                return True
            return False
    if status != "False":
        conds.append(new_condition(ctype, status, reason, message, ts))
        return True
    return False


def _has_true(conds: list[dict], ctype: str) -> dict | None:
    return next((c for c in conds if c.get("type") == ctype and c.get("status") == "True"), None)


def _all_done(calls: list[Callable[[Callable[[dict], None]], None]], then: Callable[[list[dict]], None]) -> None:
    """Send every request at once; `then(responses)` once the last is answered."""
    if not calls:
        return then([])
    answers: list = [None] * len(calls)
    left = [len(calls)]

    def one(i: int) -> Callable[[dict], None]:
        def cb(resp: dict) -> None:
            answers[i] = resp
            left[0] -= 1
            if left[0] == 0:
                then(answers)
        return cb

    for i, call in enumerate(calls):
        call(one(i))


class _JobPodRefManager(ControllerRefManager):
    """PodControllerRefManager with the tracking finalizer: adopting a pod adds it, releasing
    one removes it (controller_ref_manager.go with finalizers)."""

    def adopt(self, obj: dict) -> None:
        md = obj["metadata"]
        fins = list(md.get("finalizers") or [])
        if JOB_TRACKING_FINALIZER not in fins:
            fins.append(JOB_TRACKING_FINALIZER)
        self.patch(obj, {"metadata": {"ownerReferences": list(md.get("ownerReferences") or []) + [self.ref],
                                      "finalizers": fins, "uid": md["uid"]}})

    def release(self, obj: dict) -> None:
        md = obj["metadata"]
        refs = [r for r in md.get("ownerReferences") or [] if r.get("uid") != self.ref["uid"]]
        fins = [f for f in md.get("finalizers") or [] if f != JOB_TRACKING_FINALIZER]
        self.patch(obj, {"metadata": {"ownerReferences": refs or None, "finalizers": fins or None}})


class _Sync:
    """syncJobCtx: what one sync of one Job has learned and decided."""

    def __init__(self, job: dict, pods: list[dict]):
        self.job = job
        self.pods = pods
        self.active_pods = [p for p in pods if not is_terminal(p) and not is_deleting(p)]
        self.ready = sum(1 for p in self.active_pods if is_pod_ready(p))
        self.terminating = sum(1 for p in pods if is_pod_terminating(p))
        unc = job["status"].get("uncountedTerminatedPods") or {}
        self.uncounted_succeeded = set(unc.get("succeeded") or [])
        self.uncounted_failed = set(unc.get("failed") or [])
        self.expected_rm_finalizers: set[str] = set()
        self.succeeded = 0
        self.failed = 0
        self.finished: dict | None = None
        self.new_backoff: tuple[int, float | None] = (0, None)
        self.prev_succeeded_indexes: set[int] = set()
        self.succeeded_indexes: set[int] = set()
        self.failed_indexes: set[int] | None = None
        self.delayed_deletion_per_index: dict[int, dict] = {}


class JobController:
    name = "job-controller"

    def __init__(self, cm):
        self.cm = cm
        self.api = cm.api.client_for(self.name)
        self.queue = WorkQueue(cm, self.reconcile)
        self.orphan_queue = WorkQueue(cm, self.sync_orphan_pod)
        self.expectations = ControllerExpectations(lambda: cm.now)
        # uidTrackingExpectations: the pods whose finalizer removal was asked and not yet seen.
        self.finalizer_expectations: dict[tuple[str, str], set[str]] = {}
        # backoffStore: per Job, (failures since the last success, the last failure's time).
        self.backoff: dict[tuple[str, str], tuple[int, float | None]] = {}
        self.pods = OwnedIndex()
        self.jobs = cm.shared_informer("jobs", group="batch")
        # The syncs waiting for answers: key -> release (WorkQueue.defer's `done`).
        self._inflight: dict[tuple[str, str], Callable[[], None]] = {}

    def start(self) -> None:
        self.jobs.handlers(add=self._job_added, update=self._job_updated, delete=self._job_deleted)
        self.cm.pods.handlers(add=self._pod_added, update=self._pod_updated, delete=self._pod_deleted)

    @staticmethod
    def _key(obj: dict) -> tuple[str, str]:
        return obj["metadata"]["namespace"], obj["metadata"]["name"]

    def _enqueue(self, key, delay: float = 0.0) -> None:
        if delay <= 0:
            self.queue.add(key)
        else:
            self.queue.add_after(key, delay)

    # -- Job events --------------------------------------------------------------------
    def _job_added(self, job: dict) -> None:
        self._enqueue(self._key(job))

    def _job_updated(self, old: dict, cur: dict) -> None:
        key = self._key(cur)
        # A status update (no new generation) is batched like pod events; a spec change is not.
        same = cur["metadata"].get("generation") == old["metadata"].get("generation")
        self._enqueue(key, SYNC_JOB_BATCH_PERIOD if same else 0.0)
        if is_finished(cur):
            self._cleanup_pod_finalizers(cur)
        start = self.cm.parse_time((cur.get("status") or {}).get("startTime"))
        ads = cur["spec"].get("activeDeadlineSeconds")
        if start is not None and ads is not None and old["spec"].get("activeDeadlineSeconds") != ads:
            self._enqueue(key, max(0.0, ads - (self.cm.now - start)))

    def _job_deleted(self, job: dict) -> None:
        self._enqueue(self._key(job))
        self._cleanup_pod_finalizers(job)

    def _cleanup_pod_finalizers(self, job: dict) -> None:
        """cleanupPodFinalizers: the Job's pods that still carry the finalizer go to the
        orphan worker, which removes it."""
        for pod in list(self.pods.by_owner.get(job["metadata"]["uid"], {}).values()):
            if has_tracking_finalizer(pod):
                self.orphan_queue.add(self._key(pod))

    # -- Pod events --------------------------------------------------------------------
    def _resolve(self, pod: dict) -> dict | None:
        ref = controller_ref(pod)
        if not ref or ref.get("kind") != "Job":
            return None
        job = self.jobs.get(pod["metadata"]["namespace"], ref["name"])
        if job is None or job["metadata"]["uid"] != ref.get("uid"):
            return None
        return job

    def _matching_jobs(self, pod: dict) -> list[dict]:
        ns, out = pod["metadata"]["namespace"], []
        for job in self.jobs.list():
            if job["metadata"]["namespace"] != ns:
                continue
            reqs = selector_from_label_selector(job["spec"].get("selector"))
            if reqs and labels_match(reqs, pod["metadata"].get("labels")):
                out.append(job)
        return out

    def _pod_added(self, pod: dict) -> None:
        self.pods.set(pod)
        if is_deleting(pod):
            # on a restart of the controller manager, a pod may be seen already deleting
            return self._pod_deleting(pod, final=False)
        if controller_ref(pod):
            job = self._resolve(pod)
            if job is None:
                return
            key = self._key(job)
            self.expectations.creation_observed(key)
            self._enqueue(key, SYNC_JOB_BATCH_PERIOD)
            return
        if has_tracking_finalizer(pod):
            self.orphan_queue.add(self._key(pod))
        for job in self._matching_jobs(pod):
            self._enqueue(self._key(job), SYNC_JOB_BATCH_PERIOD)

    def _pod_updated(self, old: dict, cur: dict) -> None:
        self.pods.set(cur)
        if cur["metadata"].get("resourceVersion") == old["metadata"].get("resourceVersion"):
            return
        if is_deleting(cur):
            # A graceful deletion: the Job may create a replacement now, not once it is gone.
            self._pod_deleting(cur, final=False)
            return
        # Not "had it and lost it": during an ownership transfer several updates may collapse
        # into one event; the latest state is what counts (updatePod).
        finalizer_removed = not has_tracking_finalizer(cur)
        cur_ref, old_ref = controller_ref(cur), controller_ref(old)
        if cur_ref != old_ref and old_ref:
            job = self._resolve(old)
            if job is not None:
                if finalizer_removed:
                    self._finalizer_removal_observed(self._key(job), cur["metadata"]["uid"])
                self._enqueue(self._key(job), SYNC_JOB_BATCH_PERIOD)
        if cur_ref:
            job = self._resolve(cur)
            if job is None:
                return
            if finalizer_removed:
                self._finalizer_removal_observed(self._key(job), cur["metadata"]["uid"])
            self._enqueue(self._key(job), SYNC_JOB_BATCH_PERIOD)
            return
        if has_tracking_finalizer(cur):
            self.orphan_queue.add(self._key(cur))
        if cur["metadata"].get("labels") != old["metadata"].get("labels") or cur_ref != old_ref:
            for job in self._matching_jobs(cur):
                self._enqueue(self._key(job), SYNC_JOB_BATCH_PERIOD)

    def _pod_deleted(self, pod: dict) -> None:
        self.pods.set(pod, remove=True)
        self._pod_deleting(pod, final=True)

    def _pod_deleting(self, pod: dict, final: bool) -> None:
        """deletePod: the owner's deletion expectation is met; a final delete (or one without
        the finalizer) also meets its finalizer expectation."""
        has_fin = has_tracking_finalizer(pod)
        if not controller_ref(pod):
            if has_fin and not final:
                self.orphan_queue.add(self._key(pod))
            return
        job = self._resolve(pod)
        if job is None or is_finished(job):
            if has_fin and not final:
                self.orphan_queue.add(self._key(pod))
            return
        key = self._key(job)
        self.expectations.deletion_observed(key)
        if final or not has_fin:
            self._finalizer_removal_observed(key, pod["metadata"]["uid"])
        self._enqueue(key, SYNC_JOB_BATCH_PERIOD)

    def _finalizer_removal_observed(self, key, uid: str) -> None:
        uids = self.finalizer_expectations.get(key)
        if uids is not None:
            uids.discard(uid)

    # -- orphan pods -------------------------------------------------------------------
    def sync_orphan_pod(self, key) -> None:
        """syncOrphanPod: a pod with the finalizer whose Job is gone or finished (or that is no
        longer a Job's) loses the finalizer."""
        pod = self.cm.pods.get(*key)
        if pod is None or not has_tracking_finalizer(pod):
            return
        ref = controller_ref(pod)
        if ref is not None:
            if ref.get("kind") != "Job" or ref.get("apiVersion") != "batch/v1":
                return
            job = self._resolve(pod)
            if job is not None and not is_finished(job):
                return   # adopted meanwhile
        self._remove_finalizer(pod, lambda resp: None)

    def _remove_finalizer(self, pod: dict, cb, key=None) -> None:
        md = pod["metadata"]
        self.api.patch("pods", md["namespace"], md["name"],
                       {"metadata": {"$deleteFromPrimitiveList/finalizers": [JOB_TRACKING_FINALIZER]}},
                       self._guard(key, cb), patch_type="application/strategic-merge-patch+json")

    def _guard(self, key, fn: Callable):
        """An answer's handler for the sync of `key`: should it raise, the sync is over (its key
        released and requeued with the rate limiter) and the crash is recorded, as a panic in a
        worker is - a Job never stays held by a sync that will not finish."""
        if key is None:
            return fn

        def run(*args):
            try:
                return fn(*args)
            except Exception as e:  # noqa: BLE001 - recovered like utilruntime.HandleCrash
                release = self._inflight.pop(key, None)
                if release is not None:
                    release()
                    self.queue.add_rate_limited(key)
                self.cm.kernel.handle_crash(e, self.cm.address)
        return run

    # -- syncJob -----------------------------------------------------------------------
    def reconcile(self, key) -> None:
        shared = self.jobs.get(*key)
        if shared is None:
            self.expectations.delete(key)
            self.finalizer_expectations.pop(key, None)
            self.backoff.pop(key, None)
            return
        if (shared["spec"].get("managedBy") or "kubernetes.io/job-controller") != "kubernetes.io/job-controller":
            return   # managed by an external controller
        job = deep_copy(shared)
        if is_finished(job):
            self.backoff.pop(key, None)
            return
        mode = job["spec"].get("completionMode") or NON_INDEXED
        if mode not in (NON_INDEXED, INDEXED):
            self.api.event(job, "UnknownCompletionMode", "Skipped Job sync because completion mode is unknown",
                           self.name, type_="Warning")
            return
        status = job.setdefault("status", {})
        status.setdefault("uncountedTerminatedPods", {})
        satisfied = self.expectations.satisfied(key)
        pods = self._pods_for_job(job)
        ctx = _Sync(job, pods)
        ctx.expected_rm_finalizers = set(self.finalizer_expectations.get(key, set()))
        spec = job["spec"]
        new_succeeded, new_failed = self._new_finished_pods(ctx)
        ctx.succeeded = (status.get("succeeded") or 0) + len(new_succeeded) + len(ctx.uncounted_succeeded)
        ctx.failed = (status.get("failed") or 0) + self._non_ignored_count(job, new_failed) + len(ctx.uncounted_failed)
        now, ts = self.cm.now, self.cm.timestamp()
        if not status.get("startTime") and not spec.get("suspend"):
            status["startTime"] = ts
        ctx.new_backoff = self._new_backoff_record(key, new_succeeded, new_failed)

        conds = status.setdefault("conditions", [])
        ctx.finished = _has_true(conds, COND_SUCCESS_CRITERIA_MET)
        if ctx.finished is None:
            target = _has_true(conds, COND_FAILURE_TARGET)
            if target is not None:
                ctx.finished = new_condition(COND_FAILED, "True", target.get("reason", ""), target.get("message", ""), ts)
            else:
                message = self._fail_job_message(job, pods)
                if message is not None:
                    ctx.finished = new_condition(COND_FAILURE_TARGET, "True", REASON_POD_FAILURE_POLICY, message, ts)
        if ctx.finished is None:
            if ctx.failed > spec.get("backoffLimit", 6) or self._past_backoff_limit_on_failure(job, pods):
                ctx.finished = new_condition(COND_FAILURE_TARGET, "True", REASON_BACKOFF_LIMIT_EXCEEDED,
                                             "Job has reached the specified backoff limit", ts)
            elif self._past_active_deadline(job):
                ctx.finished = new_condition(COND_FAILURE_TARGET, "True", REASON_DEADLINE_EXCEEDED,
                                             "Job was active longer than specified deadline", ts)
            elif spec.get("activeDeadlineSeconds") is not None and not spec.get("suspend"):
                start = self.cm.parse_time(status["startTime"])
                self._enqueue(key, spec["activeDeadlineSeconds"] - (now - start))

        if is_indexed(job):
            completions = spec["completions"]
            ctx.prev_succeeded_indexes = indexes_of(status.get("completedIndexes"), completions)
            ctx.succeeded_indexes = ctx.prev_succeeded_indexes | {
                ix for p in pods
                if (p.get("status") or {}).get("phase") == "Succeeded" and has_tracking_finalizer(p)
                and (ix := completion_index(p)) is not None and ix < completions}
            ctx.succeeded = len(ctx.succeeded_indexes)
            if spec.get("backoffLimitPerIndex") is not None:
                ctx.failed_indexes = self._failed_indexes(job, pods)
                if ctx.finished is None:
                    mfi = spec.get("maxFailedIndexes")
                    if mfi is not None and len(ctx.failed_indexes) > mfi:
                        ctx.finished = new_condition(COND_FAILURE_TARGET, "True", REASON_MAX_FAILED_INDEXES_EXCEEDED,
                                                     "Job has exceeded the specified maximal number of failed indexes", ts)
                    elif ctx.failed_indexes and len(ctx.failed_indexes) + len(ctx.succeeded_indexes) >= completions:
                        ctx.finished = new_condition(COND_FAILURE_TARGET, "True", REASON_FAILED_INDEXES,
                                                     "Job has failed indexes", ts)
                ctx.delayed_deletion_per_index = self._pods_with_delayed_deletion_per_index(ctx)
            if ctx.finished is None:
                msg = match_success_policy(spec.get("successPolicy"), completions, ctx.succeeded_indexes)
                if msg is not None:
                    ctx.finished = new_condition(COND_SUCCESS_CRITERIA_MET, "True", REASON_SUCCESS_POLICY, msg, ts)

        self._inflight[key] = self.queue.defer(key)
        state = {"err": False, "active": len(ctx.active_pods), "suspend_changed": False}

        def finish(err: bool) -> None:
            release = self._inflight.pop(key, None)
            if release is None:
                return   # already released by a crashed handler
            release()
            if err or state["err"]:
                self.queue.add_rate_limited(key)
            else:
                self.queue.forget(key)

        def after_pods() -> None:
            active = state["active"]
            needs_update = state["suspend_changed"] or active != (status.get("active") or 0) \
                or ctx.ready != status.get("ready") or ctx.terminating != status.get("terminating")
            status["active"] = active
            status["ready"] = ctx.ready
            status["terminating"] = ctx.terminating
            self._track_status_and_remove_finalizers(key, ctx, needs_update, finish)

        if ctx.finished is not None:
            active = state["active"]

            def deleted(n_deleted: int, n_ready: int, err: bool) -> None:
                if n_deleted != active or not satisfied:
                    # pods not yet gone from the cache, or finalizers to remove: not finished yet
                    ctx.finished = None
                state["active"] = active - n_deleted
                ctx.terminating += n_deleted
                ctx.ready -= n_ready
                state["err"] = state["err"] or err
                after_pods()

            self._delete_pods(job, key, ctx.active_pods, deleted, remove_finalizer=False)
            return

        def managed(active: int, called: bool, err: bool) -> None:
            state["active"] = active
            state["err"] = state["err"] or err
            if spec.get("completions") is None:
                complete = ctx.succeeded > 0 and active == 0
            else:
                complete = ctx.succeeded >= spec["completions"] and active == 0
            if complete:
                ctx.finished = new_condition(COND_SUCCESS_CRITERIA_MET, "True", REASON_COMPLETIONS_REACHED,
                                             "Reached expected number of succeeded pods", ts)
            elif called:
                if spec.get("suspend"):
                    if ensure_condition(conds, COND_SUSPENDED, "True", "JobSuspended", "Job suspended", ts):
                        state["suspend_changed"] = True
                        self.api.event(job, "Suspended", "Job suspended", self.name)
                elif ensure_condition(conds, COND_SUSPENDED, "False", "JobResumed", "Job resumed", ts):
                    state["suspend_changed"] = True
                    self.api.event(job, "Resumed", "Job resumed", self.name)
                    # ActiveDeadlineSeconds counts the time a Job is continuously active.
                    status["startTime"] = ts
            after_pods()

        if satisfied and not is_deleting(job):
            self._manage_job(job, key, ctx, managed)
        else:
            managed(state["active"], False, False)

    def _pods_for_job(self, job: dict) -> list[dict]:
        """getPodsForJob: claim (adopting adds the finalizer; the adopted pods count with it)."""
        reqs = selector_from_label_selector(job["spec"].get("selector")) or []
        claims = _JobPodRefManager(job, "batch/v1", "Job", reqs, self._patch_pod)
        pods = claims.claim(self.pods.candidates(job))
        out = []
        for p in pods:
            if not any(r.get("uid") == job["metadata"]["uid"] for r in p["metadata"].get("ownerReferences") or []) \
                    and not has_tracking_finalizer(p):
                p = deep_copy(p)
                p["metadata"]["finalizers"] = list(p["metadata"].get("finalizers") or []) + [JOB_TRACKING_FINALIZER]
            out.append(p)
        return sorted(out, key=lambda p: (p["metadata"].get("creationTimestamp") or "", p["metadata"]["name"]))

    def _patch_pod(self, pod: dict, patch: dict) -> None:
        md = pod["metadata"]
        self.api.patch("pods", md["namespace"], md["name"], patch)

    def _valid_pods(self, ctx: _Sync, uncounted: set[str], pred) -> list[dict]:
        """getValidPodsWithFilter: pods with the finalizer, not already uncounted nor expected
        to lose the finalizer, with a valid index for Indexed Jobs."""
        out = []
        for p in ctx.pods:
            uid = p["metadata"]["uid"]
            if not has_tracking_finalizer(p) or uid in uncounted or uid in ctx.expected_rm_finalizers:
                continue
            if is_indexed(ctx.job):
                ix = completion_index(p)
                if ix is None or ix >= ctx.job["spec"]["completions"]:
                    continue
            if pred(p):
                out.append(p)
        return out

    def _new_finished_pods(self, ctx: _Sync) -> tuple[list[dict], list[dict]]:
        succeeded = self._valid_pods(ctx, ctx.uncounted_succeeded,
                                     lambda p: (p.get("status") or {}).get("phase") == "Succeeded")
        failed = self._valid_pods(ctx, ctx.uncounted_failed, lambda p: is_pod_failed(p, ctx.job))
        return succeeded, failed

    @staticmethod
    def _non_ignored_count(job: dict, failed: list[dict]) -> int:
        policy = job["spec"].get("podFailurePolicy")
        if policy is None:
            return len(failed)
        return sum(1 for p in failed if match_pod_failure_policy(policy, p)[1])

    @staticmethod
    def _fail_job_message(job: dict, pods: list[dict]) -> str | None:
        policy = job["spec"].get("podFailurePolicy")
        if policy is None:
            return None
        for p in pods:
            if is_pod_failed(p, job):
                message = match_pod_failure_policy(policy, p)[0]
                if message is not None:
                    return message
        return None

    def _new_backoff_record(self, key, new_succeeded: list[dict], new_failed: list[dict]) -> tuple[int, float | None]:
        """backoffStore.newBackoffRecord: failures since the last success and the last one's time."""
        failures, last = self.backoff.get(key, (0, None))
        succ_times = sorted(finished_time(p) for p in new_succeeded)
        fail_times = sorted(finished_time(p) for p in new_failed)
        if not succ_times:
            if not fail_times:
                return failures, last
            return failures + len(fail_times), fail_times[-1]
        failures, last = 0, None
        for t in reversed(fail_times):
            if not t > succ_times[-1]:
                break
            if last is None:
                last = t
            failures += 1
        return failures, last

    @staticmethod
    def _past_backoff_limit_on_failure(job: dict, pods: list[dict]) -> bool:
        """pastBackoffLimitOnFailure: with restartPolicy OnFailure, the restarts of the running
        and pending pods' containers count against backoffLimit."""
        if job["spec"]["template"]["spec"].get("restartPolicy") != "OnFailure":
            return False
        restarts = 0
        for p in pods:
            st = p.get("status") or {}
            if st.get("phase") in ("Running", "Pending"):
                for cs in (st.get("initContainerStatuses") or []) + (st.get("containerStatuses") or []):
                    restarts += cs.get("restartCount", 0)
        limit = job["spec"].get("backoffLimit", 6)
        return restarts > 0 if limit == 0 else restarts >= limit

    def _past_active_deadline(self, job: dict) -> bool:
        spec, start = job["spec"], self.cm.parse_time((job.get("status") or {}).get("startTime"))
        if spec.get("activeDeadlineSeconds") is None or start is None or spec.get("suspend"):
            return False
        return self.cm.now - start >= spec["activeDeadlineSeconds"]

    # -- backoffLimitPerIndex ----------------------------------------------------------
    @staticmethod
    def _index_failure_count(pod: dict) -> int:
        text = (pod["metadata"].get("annotations") or {}).get(JOB_INDEX_FAILURE_COUNT_ANNOTATION, "0")
        return int(text) if text.isdigit() else 0

    def _failed_indexes(self, job: dict, pods: list[dict]) -> set[int]:
        """calculateFailedIndexes: the indexes already failed, and those whose newly failed pod
        exhausted backoffLimitPerIndex or matched a FailIndex rule."""
        completions = job["spec"]["completions"]
        failed = indexes_of(job["status"].get("failedIndexes"), completions)
        policy = job["spec"].get("podFailurePolicy")
        for p in pods:
            ix = completion_index(p)
            if ix is None or ix >= completions or not has_tracking_finalizer(p) or not is_pod_failed(p, job):
                continue
            _, counts, action = match_pod_failure_policy(policy, p) if policy else (None, True, None)
            if action == ACTION_FAIL_INDEX or (counts and self._index_failure_count(p) + 1 > job["spec"]["backoffLimitPerIndex"]):
                failed.add(ix)
        return failed

    @staticmethod
    def _pods_with_delayed_deletion_per_index(ctx: _Sync) -> dict[int, dict]:
        """getPodsWithDelayedDeletionPerIndex: per index not yet failed nor succeeded, its last
        failed pod that still has the finalizer: its failure count passes to the replacement."""
        out: dict[int, dict] = {}
        completions = ctx.job["spec"]["completions"]
        for p in ctx.pods:
            ix = completion_index(p)
            if ix is None or ix >= completions or ix in ctx.succeeded_indexes or ix in (ctx.failed_indexes or set()):
                continue
            if has_tracking_finalizer(p) and is_pod_failed(p, ctx.job):
                prev = out.get(ix)
                if prev is None or finished_time(p) >= finished_time(prev):
                    out[ix] = p
        return out

    # -- manageJob ---------------------------------------------------------------------
    def _manage_job(self, job: dict, key, ctx: _Sync, then: Callable[[int, bool, bool], None]) -> None:
        """manageJob: delete extras (all when suspended), or create what is missing once the
        back-off has passed, in slow-start batches."""
        spec = job["spec"]
        active = len(ctx.active_pods)
        parallelism = spec.get("parallelism", 1)
        if spec.get("suspend"):
            victims = self._pods_for_removal(job, ctx.active_pods, active)
            self.expectations.expect_deletions(key, len(victims))

            def deleted_all(n: int, n_ready: int, err: bool) -> None:
                ctx.terminating += n
                ctx.ready -= n_ready
                then(active - n, True, err)
            return self._delete_pods(job, key, victims, deleted_all, remove_finalizer=True)
        if spec.get("completions") is None:
            want = active if ctx.succeeded > 0 else parallelism
        else:
            want = max(0, min(spec["completions"] - ctx.succeeded, parallelism))
        victims = self._pods_for_removal(job, ctx.active_pods, max(0, active - want))[:MAX_POD_CREATE_DELETE_PER_SYNC]
        if victims:
            self.expectations.expect_deletions(key, len(victims))

            def deleted(n: int, n_ready: int, err: bool) -> None:
                ctx.terminating += n
                ctx.ready -= n_ready
                then(active - n, True, err)
            return self._delete_pods(job, key, victims, deleted, remove_finalizer=True)
        terminating = ctx.terminating if only_replace_failed_pods(job) else 0
        diff = want - terminating - active
        if diff <= 0:
            return then(active, True, False)
        if spec.get("backoffLimitPerIndex") is None:
            remaining = remaining_backoff(self.cm.api_now, *ctx.new_backoff)   # finished_time's clock
            if remaining > 0:
                self._enqueue(key, max(remaining, SYNC_JOB_BATCH_PERIOD))
                return then(active, True, False)
        diff = min(diff, MAX_POD_CREATE_DELETE_PER_SYNC)
        indexes: list[int | None] = [None] * diff
        if is_indexed(job):
            indexes = self._first_pending_indexes(ctx, diff)
            if spec.get("backoffLimitPerIndex") is not None:
                now_ready, wait = [], None
                for ix in indexes:
                    last = ctx.delayed_deletion_per_index.get(ix)
                    r = 0.0 if last is None else remaining_backoff(
                        self.cm.api_now, self._index_failure_count(last) + 1, finished_time(last))
                    if r == 0:
                        now_ready.append(ix)
                    elif wait is None or r < wait:
                        wait = r
                if not now_ready and wait:
                    self._enqueue(key, max(wait, SYNC_JOB_BATCH_PERIOD))
                    return then(active, True, False)
                indexes = now_ready
            diff = len(indexes)
            if diff == 0:
                return then(active, True, False)
        self.expectations.expect_creations(key, diff)
        template = deep_copy(spec["template"])
        if is_indexed(job):
            for c in (template["spec"].get("initContainers") or []) + template["spec"].get("containers", []):
                env = c.setdefault("env", [])
                if not any(e.get("name") == COMPLETION_INDEX_ENV_NAME for e in env):
                    env.append({"name": COMPLETION_INDEX_ENV_NAME, "valueFrom": {"fieldRef": {
                        "fieldPath": f"metadata.annotations['{JOB_COMPLETION_INDEX_ANNOTATION}']"}}})
        tmd = template.setdefault("metadata", {})
        if JOB_TRACKING_FINALIZER not in (tmd.get("finalizers") or []):
            tmd["finalizers"] = list(tmd.get("finalizers") or []) + [JOB_TRACKING_FINALIZER]
        state = {"active": active + diff, "err": False}
        queue = list(indexes)

        def pod_for(ix: int | None) -> dict:
            generate = f"{job['metadata']['name']}-"
            t = template
            if ix is not None:
                t = deep_copy(template)
                md = t["metadata"]
                md.setdefault("annotations", {})[JOB_COMPLETION_INDEX_ANNOTATION] = str(ix)
                md.setdefault("labels", {})[JOB_INDEX_LABEL] = str(ix)
                t["spec"]["hostname"] = f"{job['metadata']['name']}-{ix}"
                generate = self._generate_name_with_index(job["metadata"]["name"], ix)
                if spec.get("backoffLimitPerIndex") is not None:
                    self._add_index_failure_count(t, job, ctx.delayed_deletion_per_index.get(ix))
            return pod_from_template(t, key[0], job, "batch/v1", "Job", generate)

        def batch(size: int) -> None:
            results = []

            def created(resp: dict) -> None:
                results.append(resp)
                if resp["code"] >= 400:
                    ns_terminating = any(c.get("type") == "NamespaceTerminating"
                                         for c in ((resp.get("body") or {}).get("details") or {}).get("causes") or [])
                    if not ns_terminating:
                        self.expectations.creation_observed(key)
                        state["active"] -= 1
                        state["err"] = True
                        self.api.event(job, "FailedCreate", f"Error creating: {(resp.get('body') or {}).get('message')}",
                                       self.name, type_="Warning")
                else:
                    pod = resp["body"]
                    self.cm.action(f"job-controller created pod {key[0]}/{pod['metadata']['name']}")
                    self.api.event(job, "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}", self.name)
                if len(results) < size:
                    return
                failed_batch = any(r["code"] >= 400 for r in results)
                if failed_batch and queue:
                    # slow-start failure: the creates never attempted are not expected
                    skipped = len(queue)
                    state["active"] -= skipped
                    self.expectations.lower(key, skipped, 0)
                    queue.clear()
                if not queue:
                    return then(state["active"], True, state["err"])
                batch(min(2 * size, len(queue)))

            for _ in range(size):
                ix = queue.pop(0)
                self.api.create("pods", pod_for(ix), self._guard(key, created))

        batch(min(len(queue), SLOW_START_INITIAL_BATCH_SIZE))

    @staticmethod
    def _generate_name_with_index(name: str, index: int) -> str:
        """podGenerateNameWithIndex."""
        suffix = f"-{index}-"
        prefix = name + suffix
        if len(prefix) > MAX_GENERATED_NAME_LENGTH:
            prefix = name[:MAX_GENERATED_NAME_LENGTH - len(suffix)] + suffix
        return prefix

    def _add_index_failure_count(self, template: dict, job: dict, last_failed: dict | None) -> None:
        """addIndexFailureCountAnnotation: the failures of the index so far (ignored ones apart)."""
        count, ignored = 0, 0
        if last_failed is not None:
            count = self._index_failure_count(last_failed)
            text = (last_failed["metadata"].get("annotations") or {}).get(JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION, "0")
            ignored = int(text) if text.isdigit() else 0
            policy = job["spec"].get("podFailurePolicy")
            if policy is not None and not match_pod_failure_policy(policy, last_failed)[1]:
                ignored += 1
            else:
                count += 1
        ann = template["metadata"].setdefault("annotations", {})
        ann[JOB_INDEX_FAILURE_COUNT_ANNOTATION] = str(count)
        if ignored:
            ann[JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION] = str(ignored)

    @staticmethod
    def _first_pending_indexes(ctx: _Sync, count: int) -> list[int]:
        """firstPendingIndexes: the lowest indexes neither succeeded, failed, nor with an active
        (or, when only failed pods are replaced, terminating) pod."""
        completions = ctx.job["spec"]["completions"]
        taken = set(ctx.succeeded_indexes) | (ctx.failed_indexes or set())
        taken |= {ix for p in ctx.active_pods if (ix := completion_index(p)) is not None}
        if only_replace_failed_pods(ctx.job):
            taken |= {ix for p in ctx.pods if is_pod_terminating(p) and (ix := completion_index(p)) is not None}
        out = []
        for ix in range(completions):
            if len(out) >= count:
                break
            if ix not in taken:
                out.append(ix)
        return out

    @staticmethod
    def _pods_for_removal(job: dict, pods: list[dict], at_least: int) -> list[dict]:
        """activePodsForRemoval: for Indexed Jobs first the pods with a duplicated, missing or
        out-of-range index; then by controller.ActivePods order."""
        rm, left = [], list(pods)
        if is_indexed(job):
            completions = job["spec"]["completions"]
            by_index: dict[int, list[dict]] = {}
            left = []
            for p in pods:
                ix = completion_index(p)
                if ix is None or ix >= completions:
                    rm.append(p)
                else:
                    by_index.setdefault(ix, []).append(p)
            for ix in sorted(by_index):
                group = sorted(by_index[ix], key=_deletion_rank)
                rm.extend(group[:-1])
                left.append(group[-1])
        if len(rm) < at_least:
            left.sort(key=_deletion_rank)
            rm.extend(left[:at_least - len(rm)])
        return rm

    def _delete_pods(self, job: dict, key, pods: list[dict], then: Callable[[int, int, bool], None],
                     remove_finalizer: bool) -> None:
        """deleteJobPods (remove_finalizer: the finalizer goes first, the pod is not counted) /
        deleteActivePods (the finalizer stays until the pod is counted)."""
        results = {"deleted": len(pods), "ready": 0, "err": False}

        def one(pod: dict) -> Callable[[Callable[[dict], None]], None]:
            md = pod["metadata"]

            def failed(resp: dict) -> None:
                if remove_finalizer:
                    self.expectations.deletion_observed(key)
                if resp.get("code") != 404:
                    results["deleted"] -= 1
                    results["err"] = True

            def delete(cb) -> None:
                def answered(resp: dict) -> None:
                    if resp["code"] >= 400:
                        failed(resp)
                    else:
                        self.cm.action(f"job-controller deleted pod {md['namespace']}/{md['name']}")
                        self.api.event(job, "SuccessfulDelete", f"Deleted pod: {md['name']}", self.name)
                    if is_pod_ready(pod):
                        results["ready"] += 1
                    cb(resp)
                self.api.delete("pods", md["namespace"], md["name"], self._guard(key, answered))

            def call(cb) -> None:
                if remove_finalizer and has_tracking_finalizer(pod):
                    def unfinalized(resp: dict) -> None:
                        if resp["code"] >= 400:
                            failed(resp)
                            return cb(resp)
                        delete(cb)
                    return self._remove_finalizer(pod, unfinalized, key)
                delete(cb)
            return call

        _all_done([one(p) for p in pods], lambda _: then(results["deleted"], results["ready"], results["err"]))

    # -- trackJobStatusAndRemoveFinalizers ---------------------------------------------
    def _track_status_and_remove_finalizers(self, key, ctx: _Sync, needs_flush: bool,
                                            finish: Callable[[bool], None]) -> None:
        """Finished pods go into uncountedTerminatedPods (flushed), lose their finalizer, then
        move into the counters; the terminal condition follows once nothing is uncounted or
        terminating."""
        job, status = ctx.job, ctx.job["status"]
        spec = job["spec"]
        indexed = is_indexed(job)
        unc = status["uncountedTerminatedPods"]
        unc.setdefault("succeeded", [])
        unc.setdefault("failed", [])
        pods = sorted(ctx.pods, key=lambda p: (completion_index(p) if completion_index(p) is not None else 1 << 40)) \
            if indexed else ctx.pods
        with_finalizer = {p["metadata"]["uid"] for p in pods
                          if has_tracking_finalizer(p) and p["metadata"]["uid"] not in ctx.expected_rm_finalizers}
        if self._clean_uncounted(status, with_finalizer):
            needs_flush = True
        to_remove: list[dict] = []
        new_succeeded_indexes: list[int] = []
        reached_max = False
        finished = ctx.finished
        for pod in pods:
            uid = pod["metadata"]["uid"]
            if not has_tracking_finalizer(pod) or uid in ctx.expected_rm_finalizers:
                continue   # processed in a previous sync
            failed = is_pod_failed(pod, job)
            if not self._can_remove_finalizer(ctx, pod, failed):
                continue
            to_remove.append(pod)
            phase = (pod.get("status") or {}).get("phase")
            if phase == "Succeeded" and uid not in ctx.uncounted_failed:
                if indexed:
                    ix = completion_index(pod)
                    if ix is not None and ix < spec["completions"] and ix not in ctx.prev_succeeded_indexes:
                        new_succeeded_indexes.append(ix)
                        needs_flush = True
                elif uid not in ctx.uncounted_succeeded:
                    needs_flush = True
                    unc["succeeded"].append(uid)
            elif failed or (finished is not None and finished["type"] != COND_SUCCESS_CRITERIA_MET):
                # once the Job is finished (failing), every pod not succeeded counts as failed
                ix = completion_index(pod)
                if uid not in ctx.uncounted_failed and (not indexed or (ix is not None and ix < spec["completions"])):
                    policy = spec.get("podFailurePolicy")
                    if policy is None or match_pod_failure_policy(policy, pod)[1]:
                        needs_flush = True
                        unc["failed"].append(uid)
            if len(new_succeeded_indexes) + len(unc["succeeded"]) + len(unc["failed"]) >= MAX_UNCOUNTED_PODS:
                reached_max = True
                break
        if indexed:
            ctx.succeeded_indexes |= set(new_succeeded_indexes)
            text = format_indexes(ctx.succeeded_indexes)
            if text != (status.get("completedIndexes") or ""):
                needs_flush = True
            status["succeeded"] = len(ctx.succeeded_indexes)
            status["completedIndexes"] = text
            if ctx.failed_indexes is not None:
                failed_text = format_indexes(ctx.failed_indexes)
                if status.get("failedIndexes") != failed_text:
                    status["failedIndexes"] = failed_text
                    needs_flush = True
        conds = status["conditions"]
        if finished is not None and finished["type"] == COND_FAILURE_TARGET:
            conds.append(finished)
            needs_flush = True
            ctx.finished = new_condition(COND_FAILED, "True", finished.get("reason", ""), finished.get("message", ""),
                                         self.cm.timestamp())
        elif finished is not None and finished["type"] == COND_SUCCESS_CRITERIA_MET:
            if _has_true(conds, COND_SUCCESS_CRITERIA_MET) is None:
                conds.append(finished)
                needs_flush = True
            ctx.finished = new_condition(COND_COMPLETE, "True", finished.get("reason", ""), finished.get("message", ""),
                                         self.cm.timestamp())

        def flushed(ok: bool) -> None:
            if not ok:
                return finish(True)
            self.backoff[key] = ctx.new_backoff
            remove_finalizers()

        def remove_finalizers() -> None:
            if not to_remove:
                return after_removal([], False)
            self.finalizer_expectations.setdefault(key, set()).update(p["metadata"]["uid"] for p in to_remove)

            def call(pod: dict):
                def c(cb):
                    self._remove_finalizer(pod, cb, key)
                return c

            def answered(resps: list[dict]) -> None:
                removed, err = [], False
                for pod, resp in zip(to_remove, resps):
                    if resp["code"] >= 400:
                        self._finalizer_removal_observed(key, pod["metadata"]["uid"])
                        if resp["code"] != 404:
                            err = True
                            continue
                    removed.append(pod["metadata"]["uid"])
                after_removal(removed, err)
            _all_done([call(p) for p in to_remove], answered)

        def after_removal(removed: list[str], err: bool) -> None:
            nonlocal needs_flush
            remaining = with_finalizer - set(removed)
            if self._clean_uncounted(status, remaining):
                needs_flush = True
            if err and needs_flush:
                return self._update_status(ctx, lambda ok: finish(True))
            if err:
                return finish(True)
            job_finished = not reached_max and self._enact_job_finished(ctx)
            if job_finished:
                needs_flush = True
            if not needs_flush:
                return finish(False)

            def final(ok: bool) -> None:
                if ok and job_finished:
                    self._record_job_finished(ctx.job, ctx.finished)
                finish(not ok)
            self._update_status(ctx, final)

        if needs_flush:
            self._update_status(ctx, flushed)
            needs_flush = False
        else:
            remove_finalizers()

    def _can_remove_finalizer(self, ctx: _Sync, pod: dict, failed: bool) -> bool:
        job = ctx.job
        if is_deleting(job) or ctx.finished is not None or (pod.get("status") or {}).get("phase") == "Succeeded":
            return True
        if not failed:
            return False
        if job["spec"].get("backoffLimitPerIndex") is not None:
            ix = completion_index(pod)
            if ix is not None:
                delayed = ctx.delayed_deletion_per_index.get(ix)
                if delayed is not None and delayed["metadata"]["uid"] == pod["metadata"]["uid"]:
                    return False   # its failure count passes to the replacement first
        return True

    @staticmethod
    def _clean_uncounted(status: dict, with_finalizer: set[str]) -> bool:
        """cleanUncountedPodsWithoutFinalizers: the uncounted pods that lost their finalizer
        move into the counters."""
        unc = status["uncountedTerminatedPods"]
        updated = False
        for name in ("succeeded", "failed"):
            uids = unc.get(name) or []
            kept = [u for u in uids if u in with_finalizer]
            if len(kept) != len(uids):
                updated = True
                status[name] = (status.get(name) or 0) + len(uids) - len(kept)
                unc[name] = kept
        return updated

    def _enact_job_finished(self, ctx: _Sync) -> bool:
        """enactJobFinished: Complete / Failed once no pod is uncounted or terminating."""
        finished = ctx.finished
        if finished is None:
            return False
        unc = ctx.job["status"].get("uncountedTerminatedPods") or {}
        if unc.get("succeeded") or unc.get("failed"):
            return False
        if ctx.terminating > 0:
            return False
        ensure_condition(ctx.job["status"]["conditions"], finished["type"], finished["status"],
                         finished.get("reason", ""), finished.get("message", ""), self.cm.timestamp())
        if finished["type"] == COND_COMPLETE:
            ctx.job["status"]["completionTime"] = finished["lastTransitionTime"]
        return True

    def _record_job_finished(self, job: dict, finished: dict) -> None:
        if finished["type"] == COND_COMPLETE:
            completions = job["spec"].get("completions")
            if completions is not None and (job["status"].get("succeeded") or 0) > completions:
                self.api.event(job, "TooManySucceededPods",
                               "Too many succeeded pods running after completion count reached", self.name,
                               type_="Warning")
            self.api.event(job, "Completed", "Job completed", self.name)
        else:
            self.api.event(job, finished.get("reason", ""), finished.get("message", ""), self.name, type_="Warning")
        md = job["metadata"]
        self.cm.action(f"job-controller: job {md['namespace']}/{md['name']} {finished['type']}")

    def _update_status(self, ctx: _Sync, then: Callable[[bool], None]) -> None:
        """UpdateStatus (a PUT with the resourceVersion read: a conflict fails the sync)."""
        body = deep_copy(ctx.job)
        body["status"] = self._wire_status(body["status"])

        def answered(resp: dict) -> None:
            if resp["code"] >= 400:
                return then(False)
            fresh = resp["body"]
            ctx.job["metadata"] = fresh["metadata"]
            then(True)
        self.api.update("jobs", body, self._guard(self._key(ctx.job), answered), group="batch", subresource="status")

    @staticmethod
    def _wire_status(status: dict) -> dict:
        """JobStatus as encoding/json writes it: active, succeeded and failed are omitempty
        int32s; ready and terminating pointers (0 shows); empty strings and lists go."""
        out = {}
        for k, v in status.items():
            if k in ("active", "succeeded", "failed") and not v:
                continue
            if k in ("conditions", "completedIndexes") and not v:
                continue
            if k == "uncountedTerminatedPods":
                v = {name: uids for name, uids in (v or {}).items() if uids}
            out[k] = v
        return out
