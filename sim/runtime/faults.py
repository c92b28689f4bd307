"""Faults a lesson injects into a container's application (the simulator's control API:
POST /clusters/<c>/sim/v1/pods/<ns>/<pod>/fault), and the cgroup accounting they act on.

Mixed into the node's ContainerRuntime.  A fault belongs to the pod's container (pod UID and
container name), not to one process: like a bug in the application's code it survives restarts
- every new instance of the container has it - until `recover` clears it.  That is what turns a
crash into CrashLoopBackOff and a leak into repeated OOMKills, as on a real node.

    crash         the process exits at once with the given code (default 1), and every restart
                  exits again a moment after it started
    hang          the process stops answering: HTTP and exec probes time out (after the probe's
                  timeoutSeconds); a TCP connect still succeeds (the kernel accepts it)
    fail-health   every HTTP GET answers 500 (a liveness httpGet fails, then kills it)
    unready       readiness probes fail (HTTP 503, exec exit 1, TCP refused); others pass
    leak-memory   the working set grows by `rate` a second (default 10Mi) until memory.max:
                  OOMKilled (exit 137), or, without a limit, until the node's eviction manager
                  evicts the pod
    burn-cpu      the process wants `cpu` cores (default 1), which CFS caps at its limit
    recover       clears the container's faults; a running process frees what it leaked
"""
from __future__ import annotations

from sim.api.quantity import QuantityError, parse_quantity
from sim.runtime import cgroups
from sim.runtime.process import SIGKILL_EXIT, Write

FAULTS = ("crash", "hang", "fail-health", "unready", "leak-memory", "burn-cpu", "recover")
DEFAULT_LEAK_RATE = 10 * cgroups.MI
DEFAULT_BURN_CORES = 1.0
# How long a restarted instance of a crashing application runs before it crashes again.
CRASH_AFTER_START = 0.5
OOM_KILLED = "OOMKilled"
# CPU seconds one HTTP request costs, by image repository.
REQUEST_CPU_SECONDS = {"registry.k8s.io/hpa-example": 0.1}
# ... and what a request of the load generator (sim/loadgenerator.py) costs a program not listed
# there: a small static page served by nginx or httpd takes about half a millisecond of CPU
# with its connection.  The kubelet's probes (two a container every ten seconds) are counted
# as free for such programs: too rare to show in a CPU figure.
LOAD_REQUEST_CPU_SECONDS = 0.0005


class FaultError(ValueError):
    """Bad fault input: the control API answers it as a 400."""


def parse_fault(body: dict) -> dict:
    """Validate a fault request body: {"fault", "exitCode"?, "rate"?, "cpu"?}."""
    fault = body.get("fault")
    if fault not in FAULTS:
        raise FaultError(f'unknown fault {fault!r}: must be one of {", ".join(FAULTS)}')
    out: dict = {"fault": fault}
    if fault == "crash":
        code = body.get("exitCode", 1)
        if not isinstance(code, int) or isinstance(code, bool) or not 1 <= code <= 255:
            raise FaultError("exitCode must be an integer from 1 to 255")
        out["exitCode"] = code
    for key, default, fault_name in (("rate", DEFAULT_LEAK_RATE, "leak-memory"), ("cpu", DEFAULT_BURN_CORES, "burn-cpu")):
        if fault != fault_name:
            continue
        raw = body.get(key)
        try:
            amount = float(parse_quantity(str(raw))) if raw is not None else default
        except (QuantityError, ValueError) as e:
            raise FaultError(f"invalid {key} {raw!r}: {e}") from None
        if amount <= 0:
            raise FaultError(f"{key} must be greater than 0")
        out[key] = amount
    return out


class FaultInjection:
    """Mixed into ContainerRuntime: needs self.containers, self.now, self.call_later,
    self.cancel_timer, self._exit and self._write."""

    def init_faults(self) -> None:
        self.faults: dict[tuple[str, str], dict] = {}   # (pod uid, container name) -> faults
        # Told the pod's uid whenever its faults change: the node's kubelet, whose prober must
        # ask again the probes it stopped asking (sim/kubelet/prober.py, dormant probes).
        self.on_faults_changed = None
        # Counts every change to which containers run and to any of their cgroups (a cgroup
        # made, advanced or changed; a container stopped or removed: ContainerRuntime._cancel),
        # so that a reader of the running containers' figures (the eviction manager, the
        # kubelet's /metrics/resource) can tell at once that nothing changed since it last read.
        self.cgroup_changes = 0

    def container_faults(self, c) -> dict:
        return self.faults.get((c.pod_uid, c.name)) or {}

    def inject_fault(self, pod_uid: str, name: str, fault: dict) -> None:
        key = (pod_uid, name)
        if fault["fault"] == "recover":
            self.faults.pop(key, None)
        else:
            current = self.faults.setdefault(key, {})
            current[fault["fault"]] = fault.get("exitCode") or fault.get("rate") or fault.get("cpu") or True
        for c in list(self.containers.values()):
            if c.pod_uid == pod_uid and c.name == name and c.state == "running":
                if fault["fault"] == "recover" and c.cgroup is not None:
                    c.cgroup.release(self.now)
                self._apply_faults(c, at_start=False)
        if self.on_faults_changed is not None:
            self.on_faults_changed(pod_uid)

    # -- at start, and whenever they change ---------------------------------------------
    def start_cgroup(self, c) -> None:
        base_cpu, base_mem = cgroups.baseline(c.argv)
        cpu_limit, mem_limit = cgroups.limits_of(c.resources)
        c.cgroup = cgroups.Cgroup(self.now, base_cpu, base_mem, cpu_limit, mem_limit, owner=self)
        self.cgroup_changes += 1
        self._apply_faults(c, at_start=True)

    def _apply_faults(self, c, at_start: bool) -> None:
        faults = self.container_faults(c)
        g = c.cgroup
        if g is not None:
            g.set_burn(self.now, float(faults.get("burn-cpu") or 0.0))
            g.set_leak(self.now, float(faults.get("leak-memory") or 0.0))
            self._schedule_oom(c)
        if "crash" in faults:
            code = int(faults["crash"])

            def crash() -> None:
                if c.state == "running" and "crash" in self.container_faults(c):
                    self._write(c, f"fatal: the application crashed (fault injected), exit code {code}\n", "stderr")
                    self._exit(c, code)
            self.call_later(CRASH_AFTER_START if at_start else 0.0, crash)

    def _schedule_oom(self, c) -> None:
        if getattr(c, "oom_timer", None) is not None:
            self.cancel_timer(c.oom_timer)
            c.oom_timer = None
        due = c.cgroup.seconds_to_oom(self.now) if c.cgroup is not None else None
        if due is None:
            return

        def oom() -> None:
            c.oom_timer = None
            if c.state == "running":
                # The kernel's OOM killer: SIGKILL, which the runtime reports as OOMKilled.
                self._exit(c, SIGKILL_EXIT, reason=OOM_KILLED)
        c.oom_timer = self.call_later(max(due, 0.0), oom)

    # -- probes and connections ---------------------------------------------------------
    def probe_fault(self, c, msg: dict) -> dict | None:
        """What a fault makes of a probe of this container: a reply body and its delay, or
        None (the program answers as it would).  msg["probe"] names the probe's kind."""
        faults = self.container_faults(c)
        timeout = float(msg.get("timeout") or 1.0)
        kind = msg.get("type")
        if "hang" in faults and kind in ("probe.http", "cri.ExecSync"):
            if kind == "cri.ExecSync":
                return {"delay": timeout, "timed_out": True}
            return {"delay": timeout, "error": f'Get "{msg.get("url", "")}": context deadline exceeded '
                                              f'(Client.Timeout exceeded while awaiting headers)'}
        if "unready" in faults and msg.get("probe") == "readiness":
            if kind == "probe.http":
                return {"delay": 0.002, "status": 503, "body": "not ready"}
            if kind == "probe.tcp":
                return {"delay": 0.001, "error": f"dial tcp {msg.get('where', '')}: connect: connection refused"}
            return {"delay": 0.005, "exit_code": 1, "output": ""}
        if "fail-health" in faults and kind == "probe.http":
            return {"delay": 0.002, "status": 500, "body": "Internal Server Error"}
        return None

    # -- work a request costs -------------------------------------------------------------
    def served_request(self, c, count: int = 1, default_cost: float = 0.0) -> None:
        """`count` requests the program answered: registry.k8s.io/hpa-example's index.php
        computes a million square roots per request (REQUEST_CPU_SECONDS of CPU), which is what
        makes the HorizontalPodAutoscaler walkthrough's load generator raise its CPU use; a
        program not listed costs `default_cost` a request."""
        cost = REQUEST_CPU_SECONDS.get(c.image.name, default_cost) * count
        if not cost or c.cgroup is None:
            return
        due = c.cgroup.add_work(self.now, cost)
        if due is not None:
            # When the backlog is served the busy worker goes idle: settle the accounting then.
            self.call_later(due + 1e-6, lambda: c.cgroup.advance(self.now) if c.cgroup is not None else None)

    def running_containers(self) -> list:
        """The running containers, each with its cgroup, in the runtime's order: whose figures
        the kubelet's /metrics/resource (every 15 s for metrics-server) and its eviction manager
        (every 10 s) read.  The cgroups' rates only change when a cgroup is changed (which
        accounts up to then), except while a request backlog drains: a reader advances such a
        cgroup first.  While `cgroup_changes` stays the same, so do this list and every field of
        these cgroups."""
        return [c for c in self.containers.values() if c.state == "running" and c.cgroup is not None]

    # -- what cadvisor reads (CRI ListContainerStats) ------------------------------------
    def container_stats(self) -> list[dict]:
        out = []
        for c in self.containers.values():
            if c.state == "running" and c.cgroup is not None:
                out.append({"id": c.id, "pod_uid": c.pod_uid, "name": c.name, **c.cgroup.stat(self.now)})
        return out
