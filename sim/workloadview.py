"""The dashboard's Workloads view: what `Cluster.snapshot()["workloads"]` holds.

Built from the API server's watch cache and its OwnerCensus (sim/apiserver/ownercensus.py: every
controlled object filed under its controller's uid), over the objects' upstream shapes (apps/v1
Deployment, ReplicaSet, DaemonSet, StatefulSet; batch/v1 Job, CronJob; autoscaling/v2
HorizontalPodAutoscaler).  A kind the API server does not serve simply shows nothing.  The cost
is bounded whatever the cluster holds: at most WORKLOADS_SHOWN objects of each kind (the first
by namespace and name, with a total), and an owner's pods are drawn one chip each only while it
has at most CHIPS_MAX of them - beyond that, counts per state.

    {"deployments": [{"namespace", "name", "uid", "replicas", "paused", "strategy",
                      "maxSurge", "maxUnavailable" (resolved against replicas by the
                      Deployment controller's own max_surge / max_unavailable), "maxPods", "minAvailable", "minReadySeconds",
                      "revision", "generation", "observedGeneration", "images",
                      "status": {"replicas", "updated", "ready", "available", "unavailable"},
                      "conditions": [{"type", "status", "reason", "message"}],
                      "replicasets": [<rs>, newest revision first], "pods": {state: n}}],
     "replicasets": [<rs> of every ReplicaSet no controller owns],
     "replicationcontrollers": [<rs> of every ReplicationController],
     "daemonsets":   [{..., "desired", "current", "ready", "updated", "available",
                       "misscheduled", "strategy", "maxUnavailable", "maxSurge",
                       "revisions": [{"name", "revision"}] (its ControllerRevisions, newest first),
                       "pods", "chips"}],
     "statefulsets": [{..., "replicas", "ready", "current", "updated", "available",
                       "currentRevision", "updateRevision", "podManagementPolicy", "strategy",
                       "partition", "revisions", "pods", "chips" (by ordinal)}],
     "jobs":         [{..., "completions", "parallelism", "completionMode", "suspend", "active",
                       "succeeded", "failed", "ready", "owner", "state", "pods", "chips"}],
     "cronjobs":     [{..., "schedule", "timeZone", "suspend", "concurrencyPolicy",
                       "lastScheduleTime", "lastSuccessfulTime", "nextRun", "active",
                       "jobs": [{"name", "state", "succeeded", "failed", "active"}]}],
     "hpas":         [{..., "target": {"kind", "name"}, "min", "max", "current", "desired",
                       "metrics": [{"name", "type", "current", "target"}], "lastScaleTime",
                       "conditions", "series": [[t, currentReplicas, desiredReplicas, metric]]}],
     "totals": {"deployments": n, ...},
     (any workload the load generator drives has "load": {"requestsPerSecond", "pods", "sent",
      "answered", "failed"})
     "now": the cluster's clock on the API timestamp scale, for "in 40 s" and "12 s ago"}

  <rs>   {"namespace", "name", "uid", "revision", "hash", "images", "desired", "current",
          "ready", "available", "pods": {state: n}, "podTotal", "chips": [<chip>] | None}
  <chip> {"name", "state" (ownercensus.POD_STATES), "node", "ordinal"?, "revision"?,
          "reason"? (a container's waiting reason: ImagePullBackOff, CrashLoopBackOff ...)}

Times ("lastScheduleTime", "nextRun", series' t) are seconds on the API timestamp scale
(sim.api.meta.EPOCH + seconds), as Cluster.api_time() counts them.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sim.api.cronschedule import CronError, cronjob_schedule
from sim.api.meta import EPOCH, parse_timestamp
from sim.apiserver.ownercensus import controller_uid
from sim.controllers.deployment import max_surge, max_unavailable
from sim.framememo import FrameMemo

WORKLOADS_SHOWN = 40    # objects of each kind in a frame
CHIPS_MAX = 40          # an owner's pods drawn one by one up to this many
CRONJOB_JOBS_SHOWN = 10
SERIES_POINTS = 120     # an HPA's replica graph keeps this many changes

REVISION = "deployment.kubernetes.io/revision"
POD_TEMPLATE_HASH = "pod-template-hash"
CONTROLLER_REVISION_HASH = "controller-revision-hash"
STATEFULSET_POD_NAME = "statefulset.kubernetes.io/pod-name"

GR = {
    "deployments": "deployments.apps",
    "replicasets": "replicasets.apps",
    "replicationcontrollers": "replicationcontrollers",
    "daemonsets": "daemonsets.apps",
    "statefulsets": "statefulsets.apps",
    "jobs": "jobs.batch",
    "cronjobs": "cronjobs.batch",
    "hpas": "horizontalpodautoscalers.autoscaling",
}
CONTROLLER_REVISIONS = "controllerrevisions.apps"


def _images(template: Any) -> list[str]:
    spec = (template or {}).get("spec") or {} if isinstance(template, dict) else {}
    return [str(c.get("image", "")) for c in spec.get("containers") or () if isinstance(c, dict)]


def _waiting_reason(pod: dict) -> str | None:
    """Why a container is not running, as `kubectl get pods` prints it in STATUS
    (ImagePullBackOff, CrashLoopBackOff, ErrImagePull ...), or None."""
    status = pod.get("status") or {}
    for cs in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
        waiting = ((cs or {}).get("state") or {}).get("waiting") if isinstance(cs, dict) else None
        if isinstance(waiting, dict) and waiting.get("reason") not in (None, "ContainerCreating", "PodInitializing"):
            return str(waiting["reason"])
    return None


def _deployment_fields(d: dict) -> dict:
    """A Deployment's card, but for its ReplicaSets and pods: its status, conditions and the
    rollout's bounds."""
    md, spec, status = d.get("metadata") or {}, d.get("spec") or {}, d.get("status") or {}
    replicas = _int(spec.get("replicas"), 1)
    strategy = spec.get("strategy") or {}
    stype = strategy.get("type") or "RollingUpdate"
    out = {**_meta(d), "replicas": replicas, "paused": bool(spec.get("paused")), "strategy": stype,
           "minReadySeconds": _int(spec.get("minReadySeconds")),
           "revision": (md.get("annotations") or {}).get(REVISION),
           "observedGeneration": status.get("observedGeneration"), "images": _images(spec.get("template")),
           "status": {"replicas": _int(status.get("replicas")), "updated": _int(status.get("updatedReplicas")),
                      "ready": _int(status.get("readyReplicas")),
                      "available": _int(status.get("availableReplicas")),
                      "unavailable": _int(status.get("unavailableReplicas"))},
           "conditions": _conditions(status)}
    if stype == "RollingUpdate":  # the bounds as the controller resolves them (ResolveFenceposts)
        surge, unavailable = max_surge(d), max_unavailable(d)
        out.update(maxSurge=surge, maxUnavailable=unavailable, maxPods=replicas + surge,
                   minAvailable=max(0, replicas - unavailable))
    else:  # Recreate: every old pod goes before a new one comes
        out.update(maxSurge=0, maxUnavailable=replicas, maxPods=replicas, minAvailable=0)
    return out


def _rs_fields(rs: dict) -> dict:
    """A ReplicaSet's (or ReplicationController's) row, but for its pods."""
    md, spec, status = rs.get("metadata") or {}, rs.get("spec") or {}, rs.get("status") or {}
    template = spec.get("template") or {}
    rev = (md.get("annotations") or {}).get(REVISION)
    return {**_meta(rs), "revision": int(rev) if isinstance(rev, str) and rev.isdigit() else None,
            "hash": (md.get("labels") or {}).get(POD_TEMPLATE_HASH)
            or ((template.get("metadata") or {}).get("labels") or {}).get(POD_TEMPLATE_HASH),
            "images": _images(template), "desired": _int(spec.get("replicas"), 1),
            "current": _int(status.get("replicas")), "ready": _int(status.get("readyReplicas")),
            "available": _int(status.get("availableReplicas"))}


def _chip(pod: dict) -> dict:
    """A pod's chip, but for its state (the census' count of it) and ordinal."""
    md, spec = pod.get("metadata") or {}, pod.get("spec") or {}
    chip = {"name": md.get("name"), "node": spec.get("nodeName")}
    reason = _waiting_reason(pod)
    if reason:
        chip["reason"] = reason
    labels = md.get("labels") or {}
    rev = labels.get(CONTROLLER_REVISION_HASH) or labels.get(POD_TEMPLATE_HASH)
    if rev:
        chip["revision"] = rev
    return chip


def _conditions(status: dict) -> list[dict]:
    return [{"type": c.get("type"), "status": c.get("status"), "reason": c.get("reason"),
             "message": c.get("message")} for c in status.get("conditions") or () if isinstance(c, dict)]


def _meta(obj: dict) -> dict:
    md = obj.get("metadata") or {}
    return {"namespace": md.get("namespace"), "name": md.get("name"), "uid": md.get("uid"),
            "generation": md.get("generation"), "deleting": bool(md.get("deletionTimestamp"))}


def _int(v: Any, default: int = 0) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) else default


class WorkloadView:
    """Builds the "workloads" part of a snapshot.  Holds the HPAs' replica series between
    snapshots (sampled when a snapshot sees an HPA's status change), and nothing else."""

    def __init__(self) -> None:
        self.series: dict[str, list[list]] = {}  # HPA uid -> [[t, current, desired, metric]]
        self.memo = FrameMemo()  # a frame remakes only what changed since the last

    def _memo(self, what: str, obj: dict, fn) -> dict:
        """fn(obj), remade only when the object's resourceVersion changed (a copy: callers add
        to it)."""
        return dict(self.memo.made(what, obj, fn))

    # -- pods --------------------------------------------------------------------------
    def _chips(self, cache, census, uid: str, ordinals: bool = False) -> tuple[dict, int, list | None]:
        owned = census.owned(uid, "pods")
        counts = dict(census.counted(uid, "pods"))
        total = len(owned)
        if total > CHIPS_MAX:
            return counts, total, None
        pods = cache.objects("pods")
        chips = []
        for key in sorted(owned):
            chip = self._memo("pod", pods.get(key) or {"metadata": {"name": key[1]}}, _chip)
            chip["state"] = owned[key]
            if ordinals:
                _, _, tail = key[1].rpartition("-")
                chip["ordinal"] = int(tail) if tail.isdigit() else None
            chips.append(chip)
        if ordinals:
            chips.sort(key=lambda c: (c.get("ordinal") is None, c.get("ordinal") or 0, c["name"]))
        return counts, total, chips

    def _rs(self, cache, census, rs: dict) -> dict:
        counts, total, chips = self._chips(cache, census, (rs.get("metadata") or {}).get("uid"))
        return dict(self._memo("rs", rs, _rs_fields), pods=counts, podTotal=total, chips=chips)

    # -- kinds -------------------------------------------------------------------------
    def _deployment(self, cache, census, d: dict) -> dict:
        rsobjs = cache.objects(GR["replicasets"])
        rss = [self._rs(cache, census, rsobjs[k])
               for k in census.owned((d.get("metadata") or {}).get("uid"), GR["replicasets"]) if k in rsobjs]
        rss.sort(key=lambda r: (-(r["revision"] or 0), r["name"]))
        pods: dict[str, int] = {}
        for r in rss:
            for state, n in r["pods"].items():
                pods[state] = pods.get(state, 0) + n
        return dict(self._memo("deployment", d, _deployment_fields), replicasets=rss, pods=pods)

    def _daemonset(self, cache, census, ds: dict) -> dict:
        spec, status = ds.get("spec") or {}, ds.get("status") or {}
        strategy = spec.get("updateStrategy") or {}
        counts, total, chips = self._chips(cache, census, (ds.get("metadata") or {}).get("uid"))
        if chips is not None:
            chips.sort(key=lambda c: (c.get("node") or "\uffff", c["name"]))
        ru = strategy.get("rollingUpdate") or {}
        return {**_meta(ds), "images": _images(spec.get("template")),
                "strategy": strategy.get("type") or "RollingUpdate",
                "maxUnavailable": ru.get("maxUnavailable"), "maxSurge": ru.get("maxSurge"),
                "desired": _int(status.get("desiredNumberScheduled")),
                "current": _int(status.get("currentNumberScheduled")),
                "ready": _int(status.get("numberReady")), "updated": _int(status.get("updatedNumberScheduled")),
                "available": _int(status.get("numberAvailable")),
                "misscheduled": _int(status.get("numberMisscheduled")),
                "revisions": self._revisions(cache, census, ds),
                "pods": counts, "podTotal": total, "chips": chips}

    def _statefulset(self, cache, census, ss: dict) -> dict:
        spec, status = ss.get("spec") or {}, ss.get("status") or {}
        strategy = spec.get("updateStrategy") or {}
        counts, total, chips = self._chips(cache, census, (ss.get("metadata") or {}).get("uid"), ordinals=True)
        return {**_meta(ss), "images": _images(spec.get("template")), "replicas": _int(spec.get("replicas"), 1),
                "ready": _int(status.get("readyReplicas")), "current": _int(status.get("currentReplicas")),
                "updated": _int(status.get("updatedReplicas")), "available": _int(status.get("availableReplicas")),
                "currentRevision": status.get("currentRevision"), "updateRevision": status.get("updateRevision"),
                "podManagementPolicy": spec.get("podManagementPolicy") or "OrderedReady",
                "strategy": strategy.get("type") or "RollingUpdate",
                "partition": _int((strategy.get("rollingUpdate") or {}).get("partition")),
                "serviceName": spec.get("serviceName"),
                "revisions": self._revisions(cache, census, ss),
                "pods": counts, "podTotal": total, "chips": chips}

    @staticmethod
    def _revisions(cache, census, obj: dict) -> list[dict]:
        """The ControllerRevisions a DaemonSet or StatefulSet controls, newest first: what
        `kubectl rollout undo --to-revision` can go back to."""
        crs = cache.objects(CONTROLLER_REVISIONS)
        out = [{"name": k[1], "revision": (crs[k] or {}).get("revision")}
               for k in census.owned((obj.get("metadata") or {}).get("uid"), CONTROLLER_REVISIONS) if k in crs]
        return sorted(out, key=lambda r: -(r["revision"] if isinstance(r["revision"], int) else 0))

    @staticmethod
    def _job_state(job: dict) -> str:
        """Complete / Failed (their conditions True), Suspended, or Running."""
        status = job.get("status") or {}
        for c in status.get("conditions") or ():
            if isinstance(c, dict) and c.get("status") == "True" and c.get("type") in ("Complete", "Failed"):
                return str(c["type"])
        if (job.get("spec") or {}).get("suspend"):
            return "Suspended"
        return "Running"

    def _job(self, cache, census, job: dict) -> dict:
        md, spec, status = job.get("metadata") or {}, job.get("spec") or {}, job.get("status") or {}
        counts, total, chips = self._chips(cache, census, md.get("uid"))
        owner = next((f"{r.get('kind')}/{r.get('name')}" for r in md.get("ownerReferences") or ()
                      if isinstance(r, dict) and r.get("controller")), None)
        return {**_meta(job), "images": _images(spec.get("template")),
                "completions": spec.get("completions"), "parallelism": _int(spec.get("parallelism"), 1),
                "completionMode": spec.get("completionMode") or "NonIndexed",
                "backoffLimit": spec.get("backoffLimit"), "suspend": bool(spec.get("suspend")),
                "active": _int(status.get("active")), "succeeded": _int(status.get("succeeded")),
                "failed": _int(status.get("failed")), "ready": _int(status.get("ready")),
                "startTime": parse_timestamp(status.get("startTime")),
                "completionTime": parse_timestamp(status.get("completionTime")),
                "conditions": _conditions(status), "state": self._job_state(job), "owner": owner,
                "pods": counts, "podTotal": total, "chips": chips}

    def _cronjob(self, cache, census, cj: dict, now: float) -> dict:
        md, spec, status = cj.get("metadata") or {}, cj.get("spec") or {}, cj.get("status") or {}
        jobs = cache.objects(GR["jobs"])
        owned = [jobs[k] for k in census.owned(md.get("uid"), GR["jobs"]) if k in jobs]
        owned.sort(key=lambda j: (parse_timestamp((j.get("metadata") or {}).get("creationTimestamp")) or 0,
                                  (j.get("metadata") or {}).get("name")), reverse=True)
        schedule = spec.get("schedule")
        return {**_meta(cj), "schedule": schedule, "timeZone": spec.get("timeZone"),
                "suspend": bool(spec.get("suspend")),
                "concurrencyPolicy": spec.get("concurrencyPolicy") or "Allow",
                "lastScheduleTime": parse_timestamp(status.get("lastScheduleTime")),
                "lastSuccessfulTime": parse_timestamp(status.get("lastSuccessfulTime")),
                "nextRun": None if spec.get("suspend") else next_run(schedule, spec.get("timeZone"), now),
                "active": [a.get("name") for a in status.get("active") or () if isinstance(a, dict)],
                "jobsTotal": len(owned),
                "jobs": [{"name": (j.get("metadata") or {}).get("name"), "state": self._job_state(j),
                          "succeeded": _int((j.get("status") or {}).get("succeeded")),
                          "failed": _int((j.get("status") or {}).get("failed")),
                          "active": _int((j.get("status") or {}).get("active"))}
                         for j in owned[:CRONJOB_JOBS_SHOWN]]}

    def _hpa(self, hpa: dict, now: float) -> dict:
        md, spec, status = hpa.get("metadata") or {}, hpa.get("spec") or {}, hpa.get("status") or {}
        ref = spec.get("scaleTargetRef") or {}
        metrics = hpa_metrics(spec, status)
        current, desired = _int(status.get("currentReplicas")), _int(status.get("desiredReplicas"))
        first = metrics[0]["current"] if metrics else None
        uid = md.get("uid") or ""
        series = self.series.setdefault(uid, []) if uid else None
        if series is not None:
            point = [round(now, 3), current, desired, first]
            if not series or series[-1][1:] != point[1:]:
                series.append(point)
                del series[:-SERIES_POINTS]
        return {**_meta(hpa), "target": {"kind": ref.get("kind"), "name": ref.get("name"),
                                         "apiVersion": ref.get("apiVersion")},
                "min": _int(spec.get("minReplicas"), 1), "max": _int(spec.get("maxReplicas")),
                "current": current, "desired": desired, "metrics": metrics,
                "lastScaleTime": parse_timestamp(status.get("lastScaleTime")),
                "conditions": _conditions(status), "series": list(series or ())}

    # -- the whole view ----------------------------------------------------------------
    def frame(self, cache, now: float, loads: dict | None = None) -> dict:
        """`loads`: the load generator's loads, (namespace, group, resource, name) -> its
        description ({"requestsPerSecond", "pods", "sent", "answered", "failed"}), shown on
        the workload they drive."""
        census = cache.owners
        self.memo.next_frame()
        out: dict[str, Any] = {"now": round(now, 3), "totals": {}}

        def first(kind: str, keep=None) -> list[dict]:
            objs = cache.objects(GR[kind])
            keys = cache.sorted_keys(GR[kind])
            if keep is None:
                out["totals"][kind] = len(keys)
                return [objs[k] for k in keys[:WORKLOADS_SHOWN] if k in objs]
            shown, count = [], 0
            for k in keys:
                obj = objs.get(k)
                if obj is None or not keep(obj):
                    continue
                count += 1
                if len(shown) < WORKLOADS_SHOWN:
                    shown.append(obj)
            out["totals"][kind] = count
            return shown

        def build(fn, objs: list[dict]) -> list[dict]:
            built = []
            for obj in objs:
                try:
                    built.append(fn(obj))
                except Exception:  # noqa: BLE001 - an object of an unforeseen shape is left out
                    continue
            return built

        out["deployments"] = build(lambda d: self._deployment(cache, census, d), first("deployments"))
        out["replicasets"] = build(lambda r: self._rs(cache, census, r),
                                   first("replicasets", lambda rs: controller_uid(rs) is None))
        out["replicationcontrollers"] = build(lambda r: self._rs(cache, census, r), first("replicationcontrollers"))
        out["daemonsets"] = build(lambda d: self._daemonset(cache, census, d), first("daemonsets"))
        out["statefulsets"] = build(lambda s: self._statefulset(cache, census, s), first("statefulsets"))
        out["jobs"] = build(lambda j: self._job(cache, census, j), first("jobs"))
        out["cronjobs"] = build(lambda c: self._cronjob(cache, census, c, now), first("cronjobs"))
        for kind, gr in GR.items():
            if not loads or kind == "hpas":
                continue
            resource, _, group = gr.partition(".")
            for entry in out.get(kind) or ():
                load = loads.get((entry["namespace"], group, resource, entry["name"]))
                if load:
                    entry["load"] = load
        hpas = first("hpas")
        out["hpas"] = build(lambda h: self._hpa(h, now), hpas)
        # Graphs are kept for the HPAs shown: one that leaves the frame (deleted) loses its own.
        shown = {(h.get("metadata") or {}).get("uid") for h in hpas}
        for uid in [u for u in self.series if u not in shown]:
            del self.series[uid]
        return out


def hpa_metrics(spec: dict, status: dict) -> list[dict]:
    """[{"name", "type", "current", "target"}] of an HPA: autoscaling/v2's metrics and
    currentMetrics (Resource and ContainerResource metrics by resource name, the others by
    type), or autoscaling/v1's CPU utilization fields."""
    if "targetCPUUtilizationPercentage" in spec or "currentCPUUtilizationPercentage" in status:
        return [{"name": "cpu", "type": "Utilization", "target": spec.get("targetCPUUtilizationPercentage"),
                 "current": status.get("currentCPUUtilizationPercentage")}]

    def ident(m: dict) -> tuple[str, str, dict, str]:
        mtype = m.get("type") or ""
        body = m.get({"Resource": "resource", "ContainerResource": "containerResource", "Pods": "pods",
                      "Object": "object", "External": "external"}.get(mtype, "")) or {}
        name = body.get("name") or (body.get("metric") or {}).get("name") or mtype
        return mtype, str(name), body, ""

    current = {}
    for m in status.get("currentMetrics") or ():
        if isinstance(m, dict):
            mtype, name, body, _ = ident(m)
            cur = body.get("current") or {}
            current[(mtype, name)] = cur
    out = []
    for m in spec.get("metrics") or ():
        if not isinstance(m, dict):
            continue
        mtype, name, body, _ = ident(m)
        target = body.get("target") or {}
        ttype = target.get("type") or "Utilization"
        field = {"Utilization": "averageUtilization", "AverageValue": "averageValue", "Value": "value"}.get(ttype)
        cur = current.get((mtype, name)) or {}
        out.append({"name": name, "type": ttype, "target": target.get(field) if field else None,
                    "current": cur.get(field) if field else None})
    return out


def next_run(schedule: Any, time_zone: Any, now: float) -> float | None:
    """When a CronJob's schedule next fires after `now` (API timestamp seconds), in its
    timeZone (UTC when unset, as kube-controller-manager runs in UTC here), read as the CronJob
    controller reads it (sim/api/cronschedule.py); None when the schedule does not parse or
    never fires."""
    if not isinstance(schedule, str) or not schedule.strip():
        return None
    try:
        nxt = cronjob_schedule(schedule, time_zone if isinstance(time_zone, str) else None) \
            .next(EPOCH + dt.timedelta(seconds=now))
    except CronError:
        return None
    return None if nxt is None else round((nxt - EPOCH).total_seconds(), 3)
