"""The CronJob controller (pkg/controller/cronjob/cronjob_controllerv2.go and utils.go).

Each CronJob is a key in a delaying queue: a sync reconciles the CronJob's Jobs (status.active,
lastSuccessfulTime, the Events SawCompletedJob / MissingJob / UnexpectedJob), deletes finished
Jobs beyond the history limits, and then, unless the CronJob is suspended, being deleted or
has a bad schedule or zone, decides on the most recent schedule time that has come and gone:
too late (startingDeadlineSeconds: MissSchedule), already started, skipped (Forbid while a Job
is active: JobAlreadyActive), or started - after deleting the active Jobs first under Replace -
as the Job `<cronjob>-<scheduled time in minutes since the Unix epoch>`.  Every sync ends by
requeueing the key for the next schedule time plus upstream's 100 ms (nextScheduleDelta), so the
controller wakes exactly when a Job is due and never polls.

Schedules are robfig/cron's, evaluated by croniter (sim/api/cronschedule.py) on the cluster's
virtual clock: virtual second `t` is the instant EPOCH + epoch_offset + t, the same mapping every
API timestamp uses (sim.api.meta, Component.timestamp), so `*/1 * * * *` fires on the virtual
minute and `@daily` at virtual midnight in spec.timeZone.

The missed-schedules rule is upstream's (mostRecentScheduleTime): the number of missed start
times is estimated from the gap between two consecutive schedule times; only the most recent
one is ever started, and when more than 100 were missed the Warning TooManyMissedTimes says so.
The v2 controller (Kubernetes 1.21 on, the only one since 1.22) still starts that most recent
Job; the old controller refused to start any, which is what the CronJob documentation still
describes (docs/workloads/cronjobs.md says more).

Upstream's sync calls the API synchronously (GetCronJob, GetJob, CreateJob, DeleteJob,
UpdateStatus); here each call is a request whose answer resumes the sync, written as a
generator that yields requests (`_Sync`), and the key stays in processing until it is done, as
a worker blocked on its calls would hold it.
"""
from __future__ import annotations

import datetime as dt
from typing import Generator

from sim.api.cronschedule import UTC, CronError, Schedule, TimeZoneError, cronjob_schedule, load_location
from sim.api.meta import EPOCH, deep_copy, parse_timestamp
from sim.api.podutil import controller_ref
from sim.controllers.controllerref import owner_reference
from sim.registry.batch.jobs import COND_COMPLETE, COND_FAILED, job_condition
from sim.workqueue import WorkQueue

GROUP = "batch"
NEXT_SCHEDULE_DELTA = 0.1  # nextScheduleDelta: 100 ms past the schedule time, against clock skew
SCHEDULED_TIMESTAMP_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"
UNIX_EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)

# missedSchedulesType
NONE_MISSED, FEW_MISSED, MANY_MISSED = "none", "few", "many"

Request = dict
SyncResult = tuple  # (requeue after seconds or None, error: bool)


# -- utils.go ------------------------------------------------------------------------------------
def _time(value: str | None) -> dt.datetime | None:
    s = parse_timestamp(value)
    return None if s is None else EPOCH + dt.timedelta(seconds=s)


def metav1_time(t: dt.datetime) -> str:
    """metav1.Time's JSON: RFC 3339 in UTC, whole seconds."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339(t: dt.datetime) -> str:
    """Go's time.RFC3339 of a time in its location: "Z" for a zero offset, else ±hh:mm."""
    off = t.utcoffset() or dt.timedelta(0)
    if not off:
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")
    sign, off = ("-", -off) if off < dt.timedelta(0) else ("+", off)
    minutes = int(off.total_seconds()) // 60
    return t.strftime("%Y-%m-%dT%H:%M:%S") + f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def rfc1123z(t: dt.datetime) -> str:
    """time.RFC1123Z: "Mon, 02 Jan 2006 15:04:05 -0700"."""
    return t.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")


def in_active_list(cj: dict, uid: str) -> bool:
    return any(ref.get("uid") == uid for ref in (cj.get("status") or {}).get("active") or [])


def in_active_list_by_name(cj: dict, namespace: str, name: str) -> bool:
    return any(ref.get("name") == name and ref.get("namespace") == namespace
               for ref in (cj.get("status") or {}).get("active") or [])


def delete_from_active_list(cj: dict, uid: str) -> None:
    status = cj.setdefault("status", {})
    status["active"] = [ref for ref in status.get("active") or [] if ref.get("uid") != uid]


def finished_condition(job: dict) -> str | None:
    """jobutil.FinishedCondition: "Complete" or "Failed" when that condition is True."""
    for ctype in (COND_COMPLETE, COND_FAILED):
        if job_condition(job, ctype) is not None:
            return ctype
    return None


def most_recent_schedule_time(cj: dict, now: dt.datetime, sched: Schedule, include_starting_deadline: bool):
    """mostRecentScheduleTime: (earliest time considered, the most recent schedule time not
    after now or None, how many were missed, an error text or None)."""
    md, spec, status = cj["metadata"], cj.get("spec") or {}, cj.get("status") or {}
    earliest = _time(md.get("creationTimestamp")) or now
    missed = NONE_MISSED
    if status.get("lastScheduleTime"):
        earliest = _time(status["lastScheduleTime"]) or earliest
    if include_starting_deadline and spec.get("startingDeadlineSeconds") is not None:
        # the controller is not going to schedule anything before this point
        deadline = now - dt.timedelta(seconds=spec["startingDeadlineSeconds"])
        if deadline > earliest:
            earliest = deadline
    t1 = sched.next(earliest)
    t2 = sched.next(t1) if t1 is not None else None
    if t1 is not None and now < t1:
        return earliest, None, missed, None
    if t2 is not None and now < t2:
        return earliest, t1, missed, None
    # A schedule that parses but never comes ("59 23 31 2 *"): robfig's Next answers the zero
    # time, and the two schedules are less than a second apart.
    between = int((t2 - t1).total_seconds() + 0.5) if t1 is not None and t2 is not None else 0
    if between < 1:
        return earliest, None, missed, "time difference between two schedules is less than 1 second"
    # Count the missed schedules roughly, as the number of gaps t1..t2 that fit before now,
    # then find the most recent one from just before the estimate.
    elapsed = int((now - t1).total_seconds())
    number_missed = elapsed // between + 1
    most_recent = None
    t = sched.next(t1 + dt.timedelta(seconds=(number_missed - 2) * between))
    while t is not None and t <= now:
        most_recent = t
        t = sched.next(t)
    if number_missed > 100:
        missed = MANY_MISSED
    elif number_missed > 0:
        missed = FEW_MISSED
    return earliest, most_recent, missed, None


def next_schedule_time_duration(cj: dict, now: dt.datetime, sched: Schedule) -> float:
    """nextScheduleTimeDuration: seconds until the next schedule time after the most recent
    one (or after now, when some were missed), plus nextScheduleDelta."""
    earliest, most_recent, missed, err = most_recent_schedule_time(cj, now, sched, False)
    if err is not None:
        most_recent = now
    elif most_recent is None:
        most_recent = earliest if missed == NONE_MISSED else now
    nxt = sched.next(most_recent)
    if nxt is None:  # the zero time: long past, so at once
        return 0.0
    return max(0.0, (nxt - now).total_seconds() + NEXT_SCHEDULE_DELTA)


def job_name(cj: dict, scheduled: dt.datetime) -> str:
    """getJobName: the scheduled time in minutes since the Unix epoch (getTimeHashInMinutes)."""
    return f"{cj['metadata']['name']}-{int((scheduled - UNIX_EPOCH).total_seconds()) // 60}"


def job_from_template(cj: dict, scheduled: dt.datetime) -> dict:
    """getJobFromTemplate2."""
    template = (cj.get("spec") or {}).get("jobTemplate") or {}
    tmd = template.get("metadata") or {}
    labels = dict(tmd.get("labels") or {})
    annotations = dict(tmd.get("annotations") or {})
    # CronJobsScheduledAnnotation (on by default since 1.28): the scheduled time, in the zone.
    zone = load_location((cj.get("spec") or {}).get("timeZone") or "")
    annotations[SCHEDULED_TIMESTAMP_ANNOTATION] = rfc3339(scheduled.astimezone(zone))
    md = {"name": job_name(cj, scheduled), "namespace": cj["metadata"]["namespace"],
          "creationTimestamp": metav1_time(scheduled),
          "ownerReferences": [owner_reference(cj, f"{GROUP}/v1", "CronJob")]}
    if labels:
        md["labels"] = labels
    if annotations:
        md["annotations"] = annotations
    return {"apiVersion": f"{GROUP}/v1", "kind": "Job", "metadata": md,
            "spec": deep_copy(template.get("spec") or {})}


def job_start_order(job: dict):
    """byJobStartTime: started Jobs by start time, then unstarted ones; names break ties."""
    start = (job.get("status") or {}).get("startTime")
    return (start is None, parse_timestamp(start) or 0.0, job["metadata"]["name"])


def object_reference(obj: dict) -> dict:
    """ref.GetReference."""
    md = obj["metadata"]
    return {"kind": obj.get("kind", "Job"), "namespace": md.get("namespace"), "name": md["name"],
            "uid": md.get("uid"), "apiVersion": obj.get("apiVersion", f"{GROUP}/v1"),
            "resourceVersion": md.get("resourceVersion")}


def _failed(resp: dict) -> bool:
    return resp.get("code", 500) >= 400


def _message(resp: dict) -> str:
    return (resp.get("body") or {}).get("message") or f"status {resp.get('code')}"


class CronJobController:
    name = "cronjob-controller"

    def __init__(self, cm):
        self.cm = cm
        self.api = cm.api.client_for(self.name)
        self.queue = WorkQueue(cm, self.reconcile)
        self.cronjobs = cm.shared_informer("cronjobs", group=GROUP)
        self.jobs = cm.shared_informer("jobs", group=GROUP)

    def start(self) -> None:
        self.cronjobs.handlers(add=self._enqueue, update=self._cronjob_updated, delete=self._enqueue)
        self.jobs.handlers(add=self._job_added, update=self._job_updated, delete=self._job_deleted)

    # -- clock -----------------------------------------------------------------------------
    def now(self) -> dt.datetime:
        """The wall-clock instant of the virtual now, as every API timestamp reckons it."""
        return EPOCH + dt.timedelta(seconds=self.cm.now + self.cm.kernel.epoch_offset)

    # -- event handlers ----------------------------------------------------------------------
    @staticmethod
    def _key(obj: dict) -> tuple[str, str]:
        return obj["metadata"]["namespace"], obj["metadata"]["name"]

    def _enqueue(self, cj: dict) -> None:
        self.queue.add(self._key(cj))

    def _cronjob_updated(self, old: dict, new: dict) -> None:
        """updateCronJob: a new schedule or zone requeues for the new next time (sooner ones
        win in the queue; a later one makes the queued sync a no-op); any other change now."""
        ospec, nspec = old.get("spec") or {}, new.get("spec") or {}
        if ospec.get("schedule") != nspec.get("schedule") or ospec.get("timeZone") != nspec.get("timeZone"):
            try:
                sched = self.schedule(new, record=False)
            except CronError:
                self.api.event(new, "UnParseableCronJobSchedule",
                               f"unparseable schedule for cronjob: {nspec.get('schedule')}", self.name,
                               type_="Warning")
                return
            self.queue.add_after(self._key(new), next_schedule_time_duration(new, self.now(), sched))
            return
        self._enqueue(new)

    def _resolve(self, namespace: str, ref: dict | None) -> dict | None:
        """resolveControllerRef."""
        if not ref or ref.get("kind") != "CronJob":
            return None
        cj = self.cronjobs.get(namespace, ref.get("name"))
        if cj is None or cj["metadata"].get("uid") != ref.get("uid"):
            return None
        return cj

    def _job_added(self, job: dict) -> None:
        if job["metadata"].get("deletionTimestamp"):
            return self._job_deleted(job)
        cj = self._resolve(job["metadata"]["namespace"], controller_ref(job))
        if cj is not None:
            self._enqueue(cj)

    def _job_updated(self, old: dict, new: dict) -> None:
        if old["metadata"].get("resourceVersion") == new["metadata"].get("resourceVersion"):
            return
        old_ref, new_ref = controller_ref(old), controller_ref(new)
        if old_ref != new_ref and old_ref is not None:
            cj = self._resolve(old["metadata"]["namespace"], old_ref)
            if cj is not None:
                self._enqueue(cj)
        if new_ref is not None:
            cj = self._resolve(new["metadata"]["namespace"], new_ref)
            if cj is not None:
                self._enqueue(cj)

    def _job_deleted(self, job: dict) -> None:
        cj = self._resolve(job["metadata"]["namespace"], controller_ref(job))
        if cj is not None:
            self._enqueue(cj)

    # -- the sync, driven request by request -------------------------------------------------
    def reconcile(self, key) -> None:
        done = self.queue.defer(key)
        gen = self.sync(key)
        first = True

        def step(resp: dict | None = None) -> None:
            try:
                req = gen.send(resp)
            except StopIteration as stop:
                done()
                self._finish(key, stop.value)
                return
            except Exception:
                if not first:  # in an answer's callback: give the key back, as the queue would
                    done()
                    self.queue.add_rate_limited(key)
                raise  # the queue (first step) or the kernel records the crash
            self.api.request(req, step)

        step()
        first = False

    def _finish(self, key, result: SyncResult | None) -> None:
        """processNextWorkItem: an error requeues with backoff; a requeue time resets it."""
        requeue_after, error = result or (None, False)
        if error:
            self.queue.add_rate_limited(key)
        elif requeue_after is not None:
            self.queue.forget(key)
            self.queue.add_after(key, requeue_after)

    def _jobs_to_be_reconciled(self, cj: dict) -> list[dict]:
        """getJobsToBeReconciled: every Job of the namespace whose controller ref names this
        CronJob (labels may have drifted from the template), in a stable order."""
        ns, name = self._key(cj)
        out = []
        for job in self.jobs.list():
            if job["metadata"]["namespace"] != ns:
                continue
            ref = controller_ref(job)
            if ref is not None and ref.get("name") == name:
                out.append(job)
        return sorted(out, key=lambda j: j["metadata"]["name"])

    def sync(self, key) -> Generator[Request, dict, SyncResult | None]:
        cj = self.cronjobs.get(*key)
        if cj is None:
            return None  # deleted: nothing to requeue
        jobs = self._jobs_to_be_reconciled(cj)
        # one copy gathers every change, for one status update at the end
        cj_copy = deep_copy(cj)
        update_after_cleanup = yield from self.cleanup_finished_jobs(cj_copy, jobs)
        requeue_after, update_after_sync, sync_error = yield from self.sync_cronjob(cj_copy, jobs)
        if update_after_cleanup or update_after_sync:
            resp = yield {"verb": "update", "group": GROUP, "resource": "cronjobs", "namespace": key[0],
                          "name": key[1], "subresource": "status", "body": cj_copy}
            if _failed(resp):
                return None, True
        if requeue_after is not None:
            return requeue_after, False
        return None, sync_error

    def _event(self, cj: dict, reason: str, message: str, warning: bool = False) -> None:
        self.api.event(cj, reason, message, self.name, type_="Warning" if warning else "Normal")

    def schedule(self, cj: dict, record: bool = True) -> Schedule:
        """formatSchedule and cron.ParseStandard (raising CronError): the zone applies as a TZ=
        prefix; a schedule with a TZ of its own is kept, with a Warning (record=False: none, as
        the update handler passes no recorder)."""
        spec = cj.get("spec") or {}
        schedule = spec.get("schedule") or ""
        if "TZ" in schedule and record:
            self._event(cj, "UnsupportedSchedule",
                        f'CRON_TZ or TZ used in schedule "{schedule}" is not officially supported, see '
                        "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details",
                        warning=True)
        return cronjob_schedule(schedule, spec.get("timeZone"))

    def sync_cronjob(self, cj: dict, jobs: list[dict]):
        """syncCronJob: (requeue after, status changed, error)."""
        now = self.now()
        update = False
        ns, name = self._key(cj)
        children = set()
        for job in jobs:
            uid = job["metadata"].get("uid")
            children.add(uid)
            found = in_active_list(cj, uid)
            finished = finished_condition(job)
            if not found and finished is None:
                resp = yield {"verb": "get", "group": GROUP, "resource": "cronjobs", "namespace": ns, "name": name}
                if _failed(resp):
                    return None, update, True
                fresh = resp["body"]
                if in_active_list(fresh, uid):
                    # our status update is newer than the informer's copy (upstream goes on
                    # with the fresh copy here, and the update of the stale one conflicts)
                    cj = fresh
                    continue
                self._event(cj, "UnexpectedJob",
                            f"Saw a job that the controller did not create or forgot: {job['metadata']['name']}",
                            warning=True)
            elif finished is not None:
                if found:
                    delete_from_active_list(cj, uid)
                    self._event(cj, "SawCompletedJob",
                                f"Saw completed job: {job['metadata']['name']}, condition: {finished}")
                    update = True
                if finished == COND_COMPLETE:
                    status = cj.setdefault("status", {})
                    completed = (job.get("status") or {}).get("completionTime")
                    if status.get("lastSuccessfulTime") is None and completed:
                        status["lastSuccessfulTime"] = completed
                        update = True
                    if completed and _time(completed) > _time(status["lastSuccessfulTime"]):
                        status["lastSuccessfulTime"] = completed
                        update = True

        # An active Job gone from the cache may only be late in the watch: ask the API server.
        for ref in list((cj.get("status") or {}).get("active") or []):
            if ref.get("uid") in children:
                continue
            resp = yield {"verb": "get", "group": GROUP, "resource": "jobs",
                          "namespace": ref.get("namespace") or ns, "name": ref.get("name")}
            if resp.get("code") == 404:
                self._event(cj, "MissingJob", f"Active job went missing: {ref.get('name')}")
                delete_from_active_list(cj, ref.get("uid"))
                update = True
            elif _failed(resp):
                return None, update, True

        spec = cj.get("spec") or {}
        if cj["metadata"].get("deletionTimestamp"):
            return None, update, False  # being deleted: only the status
        if spec.get("timeZone") is not None:
            try:
                load_location(spec["timeZone"])
            except TimeZoneError as e:
                self._event(cj, "UnknownTimeZone", f'invalid timeZone: "{spec["timeZone"]}": {e}', warning=True)
                return None, update, False
        if spec.get("suspend"):
            return None, update, False
        try:
            sched = self.schedule(cj)
        except CronError as e:
            self._event(cj, "UnparseableSchedule", f'unparseable schedule: "{spec.get("schedule")}" : {e}',
                        warning=True)
            return None, update, False

        scheduled, err = self.next_schedule_time(cj, now, sched)
        if err is not None:
            self._event(cj, "InvalidSchedule", f"invalid schedule: {spec.get('schedule')} : {err}", warning=True)
            return None, update, False
        if scheduled is None:
            # no unmet start time: only after a restart does a sync come before its time
            return next_schedule_time_duration(cj, now, sched), update, False

        deadline = spec.get("startingDeadlineSeconds")
        if deadline is not None and scheduled + dt.timedelta(seconds=deadline) < now:
            self._event(cj, "MissSchedule", f"Missed scheduled time to start a job: {rfc1123z(scheduled)}",
                        warning=True)
            return next_schedule_time_duration(cj, now, sched), update, False
        last = (cj.get("status") or {}).get("lastScheduleTime")
        if in_active_list_by_name(cj, ns, job_name(cj, scheduled)) or (last and _time(last) == scheduled):
            return next_schedule_time_duration(cj, now, sched), update, False  # already processed
        active = (cj.get("status") or {}).get("active") or []
        policy = spec.get("concurrencyPolicy")
        if policy == "Forbid" and active:
            # The active list may be a little behind (a Job just created, its status update not
            # seen yet), so Forbid can in theory overlap; runs far enough apart never do.
            self._event(cj, "JobAlreadyActive",
                        "Not starting job because prior execution is running and concurrency policy is Forbid")
            return next_schedule_time_duration(cj, now, sched), update, False
        if policy == "Replace":
            for ref in list(active):
                resp = yield {"verb": "get", "group": GROUP, "resource": "jobs",
                              "namespace": ref.get("namespace") or ns, "name": ref.get("name")}
                if _failed(resp):
                    self._event(cj, "FailedGet", f"Get job: {_message(resp)}", warning=True)
                    return None, update, True
                deleted = yield from self.delete_job(cj, resp["body"])
                if not deleted:
                    return None, update, True
                update = True

        job_req = job_from_template(cj, scheduled)
        resp = yield {"verb": "create", "group": GROUP, "resource": "jobs", "namespace": ns, "body": job_req}
        already_exists = False
        if _failed(resp):
            body = resp.get("body") or {}
            causes = (body.get("details") or {}).get("causes") or []
            if any(c.get("type") == "NamespaceTerminating" for c in causes):
                return None, update, True  # every create fails while the namespace terminates
            if body.get("reason") == "AlreadyExists":
                # Made by us before a status update was lost, or by someone else (then they
                # keep the status).
                already_exists = True
                got = yield {"verb": "get", "group": GROUP, "resource": "jobs", "namespace": ns,
                             "name": job_req["metadata"]["name"]}
                if _failed(got):
                    return None, update, True
                resp = got
                ref = controller_ref(got["body"])
                if ref is None or ref.get("uid") != cj["metadata"].get("uid"):
                    return None, update, False
                if in_active_list(cj, got["body"]["metadata"].get("uid")):
                    return None, update, False
            else:
                self._event(cj, "FailedCreate", f"Error creating job: {_message(resp)}", warning=True)
                return None, update, True
        job = resp["body"]
        if not already_exists:
            self.cm.action(f"cronjob-controller created job {ns}/{job['metadata']['name']}")
            self._event(cj, "SuccessfulCreate", f"Created job {job['metadata']['name']}")
        # The Job's name is the lock: should this status update be lost, the next sync finds
        # the Job by name rather than starting the scheduled time twice.
        status = cj.setdefault("status", {})
        status["active"] = list(status.get("active") or []) + [object_reference(job)]
        status["lastScheduleTime"] = metav1_time(scheduled)
        return next_schedule_time_duration(cj, now, sched), True, False

    def next_schedule_time(self, cj: dict, now: dt.datetime, sched: Schedule):
        """nextScheduleTime: the most recent unmet schedule time (None: none), and an error."""
        _, most_recent, missed, err = most_recent_schedule_time(cj, now, sched, True)
        if most_recent is None or most_recent > now:
            return None, err
        if missed == MANY_MISSED:
            self._event(cj, "TooManyMissedTimes",
                        "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew",
                        warning=True)
        return most_recent, err

    # -- cleanup -----------------------------------------------------------------------------
    def cleanup_finished_jobs(self, cj: dict, jobs: list[dict]):
        """cleanupFinishedJobs: the oldest finished Jobs beyond each history limit go."""
        spec = cj.get("spec") or {}
        if spec.get("failedJobsHistoryLimit") is None and spec.get("successfulJobsHistoryLimit") is None:
            return False
        succeeded = [j for j in jobs if finished_condition(j) == COND_COMPLETE]
        failed = [j for j in jobs if finished_condition(j) == COND_FAILED]
        update = False
        for finished, limit in ((succeeded, spec.get("successfulJobsHistoryLimit")),
                                (failed, spec.get("failedJobsHistoryLimit"))):
            if limit is None:
                continue
            excess = len(finished) - limit
            for job in sorted(finished, key=job_start_order)[:max(0, excess)]:
                if (yield from self.delete_job(cj, job)):
                    update = True
        return update

    def delete_job(self, cj: dict, job: dict):
        """deleteJob: the Job (its pods in the background) and its place in the active list."""
        md = job["metadata"]
        resp = yield {"verb": "delete", "group": GROUP, "resource": "jobs", "namespace": md["namespace"],
                      "name": md["name"], "query": {}, "body": {"propagationPolicy": "Background"}}
        if _failed(resp):
            self._event(cj, "FailedDelete", f"Deleted job: {_message(resp)}", warning=True)
            return False
        delete_from_active_list(cj, md.get("uid"))
        self.cm.action(f"cronjob-controller deleted job {md['namespace']}/{md['name']}")
        self._event(cj, "SuccessfulDelete", f"Deleted job {md['name']}")
        return True
