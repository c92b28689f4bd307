"""The TTL-after-finished controller (pkg/controller/ttlafterfinished/
ttlafterfinished_controller.go): a Job with `spec.ttlSecondsAfterFinished` is deleted that many
seconds after it finished (the lastTransitionTime of its Complete or Failed condition).

When the cached Job's time is up, the controller reads the Job afresh from the API server (the
TTL may have changed since the cache saw it) and judges again; only then it deletes it, with
propagationPolicy Foreground (its pods go first, the garbage collector holding the Job by the
foregroundDeletion finalizer until they are gone) and a UID precondition (a new Job of the same
name is never taken for the old one).  A Job whose time is not yet up is requeued for then.
"""
from __future__ import annotations

from sim.api.meta import deep_copy
from sim.api.podutil import is_deleting
from sim.registry.batch.jobs import finish_time, is_finished
from sim.workqueue import WorkQueue


def needs_cleanup(job: dict) -> bool:
    return job["spec"].get("ttlSecondsAfterFinished") is not None and is_finished(job)


class TTLAfterFinishedController:
    name = "ttl-after-finished-controller"

    def __init__(self, cm):
        self.cm = cm
        self.api = cm.api.client_for(self.name)
        self.queue = WorkQueue(cm, self.reconcile)
        self.jobs = cm.shared_informer("jobs", group="batch")

    def start(self) -> None:
        self.jobs.handlers(add=self._changed, update=lambda old, new: self._changed(new))

    @staticmethod
    def _key(job: dict) -> tuple[str, str]:
        return job["metadata"]["namespace"], job["metadata"]["name"]

    def _changed(self, job: dict) -> None:
        if not is_deleting(job) and needs_cleanup(job):
            self.queue.add(self._key(job))

    def _expired(self, job: dict) -> bool:
        """processTTL: True when the TTL is up; otherwise the key comes back when it will be."""
        if is_deleting(job) or not needs_cleanup(job):
            return False
        finished = finish_time(job)
        if finished is None:
            return False   # "unable to find the time when the Job ... finished"
        left = finished + job["spec"]["ttlSecondsAfterFinished"] - self.cm.api_now   # finish_time parses an API timestamp
        if left <= 0:
            return True
        self.queue.add_after(self._key(job), left)
        return False

    def reconcile(self, key) -> None:
        job = self.jobs.get(*key)
        if job is None or not self._expired(job):
            return
        done = self.queue.defer(key)

        def fresh_read(resp: dict) -> None:
            if resp["code"] == 404:
                return done()
            if resp["code"] >= 400:
                done()
                return self.queue.add_rate_limited(key)
            fresh = deep_copy(resp["body"])
            if not self._expired(fresh):
                return done()
            md = fresh["metadata"]
            self.cm.action(f"ttl-after-finished-controller deletes job {md['namespace']}/{md['name']}")
            self.api.request({"verb": "delete", "group": "batch", "resource": "jobs", "namespace": md["namespace"],
                              "name": md["name"], "query": {},
                              "body": {"propagationPolicy": "Foreground", "preconditions": {"uid": md["uid"]}}},
                             deleted)

        def deleted(resp: dict) -> None:
            done()
            if resp["code"] >= 400 and resp["code"] not in (404, 409):
                self.queue.add_rate_limited(key)
            else:
                self.queue.forget(key)

        self.api.request({"verb": "get", "group": "batch", "resource": "jobs", "namespace": key[0], "name": key[1]},
                         fresh_read)
