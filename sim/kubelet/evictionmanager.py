"""The kubelet's eviction manager (pkg/kubelet/eviction/eviction_manager.go), for memory.

Every evictionMonitoringPeriod (10 s) it observes the node's memory (memory.available =
capacity - the working set of the pods' containers, as the summary API gives it) against the
hard threshold `memory.available<100Mi`.  While the threshold is met, and for
evictionPressureTransitionPeriod (5 min) after it last was, the node reports the
`MemoryPressure` condition True (the node lifecycle controller then taints it
`node.kubernetes.io/memory-pressure:NoSchedule`).  While it is met, each pass evicts one pod,
chosen as rankMemoryPressure orders them (helpers.go): pods whose usage exceeds their memory
requests first, then by priority (lowest first), then by how far usage exceeds the request -
so BestEffort before Burstable before Guaranteed.  The evicted pod's containers are killed at
once (a hard threshold grants no grace period); it stays Failed with reason `Evicted`, the
upstream message, the DisruptionTarget condition (TerminationByKubelet) and an `Evicted` event.

Ephemeral storage and PIDs are not observed (the node reports no DiskPressure or PIDPressure).
"""
from __future__ import annotations

from operator import is_

from sim.kubelet import localstorage
from sim.kubelet.resourcemetrics import system_usage

from sim.api.quantity import format_memory, value

MONITORING_PERIOD = 10.0            # evictionMonitoringPeriod
PRESSURE_TRANSITION_PERIOD = 300.0  # evictionPressureTransitionPeriod
THRESHOLD = 100 * 1024 * 1024       # evictionHard memory.available<100Mi
THRESHOLD_TEXT = "100Mi"
# After an eviction the manager waits for the pod's cleanup before judging again
# (podCleanupTimeout is 30 s; the pod here is gone as soon as its containers are killed).
REASON = "Evicted"


def _ki(n: int) -> str:
    """resource.NewQuantity(bytes, BinarySI).String(): whole pages print in Ki (or Mi, Gi)."""
    return format_memory(int(n))


def eviction_message(pod: dict, usage: dict[str, int], available: int) -> str:
    """helpers.go evictionMessage: the node's shortfall, then each container using more than it
    requested (the text ends with a space, as upstream's)."""
    message = (f"The node was low on resource: memory. Threshold quantity: {THRESHOLD_TEXT}, "
               f"available: {_ki(available)}. ")
    for c in (pod.get("spec") or {}).get("containers") or []:
        used = usage.get(c.get("name"))
        if used is None:
            continue
        req = ((c.get("resources") or {}).get("requests") or {}).get("memory")
        request = value(req) if req is not None else 0
        if used > request:
            message += (f"Container {c['name']} was using {_ki(used)}, request is "
                        f"{format_memory(request) if request else '0'}, has larger consumption of memory. ")
    return message


class EvictionManager:
    def __init__(self, kubelet):
        self.kubelet = kubelet
        self.last_met: float | None = None   # when the threshold was last observed met
        self.available: int | None = None
        # The runtime's running containers at the last pass, and of those the ones whose
        # working sets the pass adds up (see working_set).
        self.observed: list = []
        self.counted: list = []
        self.kept: tuple | None = None   # (runtime, its cgroup_changes, the sum then)

    def start(self) -> None:
        self.kubelet.call_later(MONITORING_PERIOD, self.synchronize)

    # -- what the node status reports ----------------------------------------------------
    def under_memory_pressure(self) -> bool:
        return self.last_met is not None and self.kubelet.now - self.last_met < PRESSURE_TRANSITION_PERIOD

    # -- one pass --------------------------------------------------------------------------
    def pod_usage(self) -> dict[str, dict[str, int]]:
        """pod uid -> container name -> working set bytes (the runtime's cgroups)."""
        runtime = self.kubelet.node_runtime
        out: dict[str, dict[str, int]] = {}
        now = self.kubelet.now
        for c in runtime.running_containers() if runtime is not None else ():
            out.setdefault(c.pod_uid, {})[c.name] = c.cgroup.memory(now)
        return out

    def working_set(self) -> int:
        """The pods' working set: the sum of pod_usage()'s figures, without building it (a pass
        at rest needs the sum only).  pod_usage keeps one figure per pod and container name (the
        runtime's last), so the same containers are counted here; which those are is worked out
        again only when the runtime's running containers changed.  While no counted container
        leaks, the sum only changes with the runtime's cgroup_changes: until then it is kept."""
        runtime = self.kubelet.node_runtime
        if runtime is None:
            return 0
        kept = self.kept
        if kept is not None and kept[0] is runtime and kept[1] == runtime.cgroup_changes:
            return kept[2]
        running = runtime.running_containers()
        observed = self.observed
        if len(running) != len(observed) or not all(map(is_, running, observed)):
            last = {(c.pod_uid, c.name): c for c in running}
            self.observed, self.counted = running, [c for c in running if last[(c.pod_uid, c.name)] is c]
        now = self.kubelet.now
        total = 0
        leaking = False
        for c in self.counted:
            g = c.cgroup
            total += g.memory(now)
            leaking = leaking or g.leak_rate > 0
        # A leaking container's working set grows with time alone: then it is read every pass.
        self.kept = None if leaking else (runtime, runtime.cgroup_changes, total)
        return total

    def synchronize(self) -> None:
        k = self.kubelet
        k.call_later(MONITORING_PERIOD, self.synchronize)
        if self.local_storage_eviction():
            return  # as upstream: a pass that evicted for local storage goes no further
        capacity = self.capacity()
        # memory.available = capacity - the node's working set: its pods' and its own daemons'.
        self.available = capacity - system_usage(k)[1] - self.working_set()
        if self.available >= THRESHOLD:
            return
        usage = self.pod_usage()
        was = self.under_memory_pressure()
        self.last_met = k.now
        if not was:
            k.action(f"kubelet on {k.host}: memory.available {_ki(self.available)} < {THRESHOLD_TEXT}: MemoryPressure")
            k.update_node_status_now()
        # evictPod refuses critical pods (kubelettypes.IsCriticalPod: static and mirror pods, and
        # a priority of system-cluster-critical's 2000000000 or more): the next one goes instead.
        candidates = [w for w in k.workers.values() if w["state"] == "running" and w["uid"] in usage
                      and not w.get("static") and ((w["pod"].get("spec") or {}).get("priority") or 0) < 2000000000]
        if not candidates:
            return
        victim = min(candidates, key=lambda w: self._rank(w, usage[w["uid"]]))
        self.evict(victim, eviction_message(victim["pod"], usage[victim["uid"]], self.available))

    def capacity(self) -> int:
        """The node's memory capacity in bytes (the kubelet's setting, parsed once)."""
        memory = self.kubelet.memory
        cached = getattr(self, "_capacity", None)
        if cached is None or cached[0] != memory:
            cached = self._capacity = (memory, value(memory))
        return cached[1]

    def local_storage_eviction(self) -> bool:
        """localStorageEviction: every pod over its emptyDir sizeLimit or its ephemeral-storage
        limits is evicted (sim/kubelet/localstorage.py).  True when one was."""
        k = self.kubelet
        runtime = k.node_runtime
        if runtime is None:
            return False
        evicted = False
        for w in list(k.workers.values()):
            if w["state"] != "running" or w.get("static"):
                continue
            # Most pods set no such limit: what localstorage.exceeded read of this pod object
            # says so without calling it.
            limited = w.get("storage_limited")
            if limited is not None and limited[0] is w["pod"] and not limited[1]:
                continue
            message = localstorage.exceeded(w, runtime)
            if message:
                self.evict(w, message)
                evicted = True
        return evicted

    @staticmethod
    def _rank(w: dict, usage: dict[str, int]) -> tuple:
        """rankMemoryPressure = orderedBy(exceedMemoryRequests, priority, memory)."""
        pod = w["pod"]
        request = 0
        for c in (pod.get("spec") or {}).get("containers") or []:
            req = ((c.get("resources") or {}).get("requests") or {}).get("memory")
            request += value(req) if req is not None else 0
        used = sum(usage.values())
        priority = (pod.get("spec") or {}).get("priority") or 0
        return (not used > request, priority, -(used - request))

    def evict(self, w: dict, message: str) -> None:
        """evictPod: status Failed/Evicted, the event, then the pod killed with no grace."""
        k = self.kubelet
        pod = w["pod"]
        md = pod["metadata"]
        k.action(f"kubelet on {k.host} evicting pod {md.get('namespace')}/{md.get('name')}: {message.strip()}")
        k.api.event(pod, REASON, message, "kubelet", k.host, type_="Warning")
        w["evicted"] = {"reason": REASON, "message": message}
        w["phase"], w["state"] = "Failed", "finished"
        running = [r for r in [*w["containers"].values(), *w["init"].values()] if r.state == "running" and r.container_id]

        def stopped(r: dict, rec) -> None:
            code = int(r.get("exit_code", 137) or 137)
            rec.state, rec.exit_code, rec.reason, rec.message = "terminated", code, "Error", ""
            rec.finished_at, rec.finished_virtual = k.timestamp(), k.now
            k.post_status(w)
        for rec in running:
            k.cri("cri.StopContainer", {"container_id": rec.container_id, "timeout": 0},
                  lambda r, rec=rec: stopped(r, rec))
        k.cri("cri.StopPodSandbox", {"pod_uid": w["uid"]}, lambda r: None)
        k.post_status(w)
