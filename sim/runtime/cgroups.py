"""A container's cgroup: how much CPU and memory its program uses, and the limits the runtime
set on it from the container's `resources.limits` (CRI LinuxContainerResources: cpu_quota over
cpu_period 100 ms, memory_limit_in_bytes), as the kernel's cgroup v2 controllers account them.

The model is small and analytic, so no timer ticks while nothing changes:
- every program has a baseline its image defines (nginx idle ~2m CPU / ~3Mi, redis ~3m / ~4Mi,
  mysql ~8m / ~380Mi, pause ~0 / ~0.3Mi); a fault can add a CPU burn (cores demanded) and a
  memory leak (bytes a second);
- CPU use is the demand capped at the limit (CFS bandwidth control: a container that wants more
  than its quota runs its quota each 100 ms period and is throttled for the rest; `nr_periods`,
  `nr_throttled` and `throttled_usec` count it as cpu.stat does);
- memory use (the working set) is baseline + what leaked; once it reaches memory.max the kernel's
  OOM killer kills the process (the runtime reports `OOMKilled`, exit code 137).
Contention between containers for the node's cores is not modelled: each container gets what it
asks for, up to its own limit.
"""
from __future__ import annotations

import posixpath

from sim.api.quantity import QuantityError, parse_quantity
from sim.runtime.programs import ENTRYPOINT_SCRIPTS

CFS_PERIOD = 0.1  # cpu.cfs_period_us = 100000 (the kubelet's default cpuCFSQuotaPeriod)
MI = 1024 * 1024
PAGE = 4096

# Idle use by program (argv[0]'s basename once the image's entrypoint script exec'd it):
# (CPU in cores, memory in bytes), roughly what `kubectl top` shows for the official images.
BASELINES: dict[str, tuple[float, int]] = {
    "pause": (0.0, 300 * 1024),
    "nginx": (0.002, 3 * MI),
    "httpd-foreground": (0.001, 8 * MI),
    "apache2-foreground": (0.001, 10 * MI),   # php:apache, the hpa-example image
    "redis-server": (0.003, 4 * MI),
    "mysqld": (0.008, 380 * MI),
    "postgres": (0.002, 30 * MI),
    "agnhost": (0.001, 10 * MI),
    "/agnhost": (0.001, 10 * MI),
    "server": (0.0, 6 * MI),                  # registry.k8s.io/liveness
    "/server": (0.0, 6 * MI),
    "goproxy": (0.0, 5 * MI),
    "/goproxy": (0.0, 5 * MI),
    "python": (0.001, 10 * MI),
    "python3": (0.001, 10 * MI),
    "perl": (0.0, 4 * MI),
    # kubeadm's control plane at rest on a small cluster (`kubectl top pods -n kube-system`)
    "kube-apiserver": (0.045, 280 * MI),
    "etcd": (0.025, 60 * MI),
    "kube-controller-manager": (0.015, 55 * MI),
    "kube-scheduler": (0.004, 22 * MI),
    "stress": (0.0, 700 * 1024),
}
# A shell, sleep and the other utilities: a busybox process at rest.
DEFAULT_BASELINE = (0.0, 512 * 1024)


def baseline(argv: list[str]) -> tuple[float, int]:
    """The idle use of the program argv runs (past the image's entrypoint script)."""
    args = list(argv)
    while args and posixpath.basename(args[0]) in ENTRYPOINT_SCRIPTS:
        args = args[1:]
    if not args:
        return DEFAULT_BASELINE
    if posixpath.basename(args[0]) == "stress":
        return stress_demand(args)
    return BASELINES.get(args[0]) or BASELINES.get(posixpath.basename(args[0])) or DEFAULT_BASELINE


def _stress_bytes(text: str) -> int:
    """stress's size argument: B, K, M, G suffixes, powers of 1024 (stress.c atoll_b); vish/stress's
    a Kubernetes quantity."""
    text = text.strip()
    units = {"b": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}
    try:
        if text and text[-1].lower() in units and text[:-1].isdigit():
            return int(text[:-1]) * units[text[-1].lower()]
        return int(parse_quantity(text))
    except (QuantityError, ValueError):
        return 0


def stress_demand(argv: list[str]) -> tuple[float, int]:
    """What the docs' load generators demand: polinux/stress (`--cpu N`, `--vm N --vm-bytes B
    --vm-hang S`: each vm worker holds B bytes) and vish/stress (`-cpus N`, `-mem-total Q`)."""
    opts: dict[str, str] = {}
    for i, a in enumerate(argv[1:], 1):
        if a.startswith("-"):
            key, _, value = a.lstrip("-").partition("=")
            opts[key] = value if value else (argv[i + 1] if i + 1 < len(argv) and not argv[i + 1].startswith("-") else "")

    def number(key: str) -> float:
        try:
            return max(0.0, min(float(opts.get(key) or 0), 1024.0))
        except ValueError:
            return 0.0
    cores = number("cpu") or number("cpus") or number("c")
    vm = number("vm") or number("m")
    memory = int(vm * (_stress_bytes(opts.get("vm-bytes", "256M")) if vm else 0))
    memory += _stress_bytes(opts.get("mem-total", "0"))
    return cores, min(memory, 1 << 50) + 700 * 1024


def limits_of(resources: dict | None) -> tuple[float | None, int | None]:
    """(CPU cores, memory bytes) from a container's resources.limits; None: unlimited."""
    limits = (resources or {}).get("limits") or {} if isinstance(resources, dict) else {}
    out: list = []
    for name in ("cpu", "memory"):
        try:
            out.append(float(parse_quantity(str(limits[name]))) if name in limits else None)
        except (QuantityError, ValueError, TypeError):
            out.append(None)
    cpu, mem = out
    return (cpu if cpu and cpu > 0 else None), (int(mem) if mem and mem > 0 else None)


class Cgroup:
    """One container's accounting, advanced lazily to the time it is read or changed."""

    def __init__(self, now: float, base_cpu: float, base_memory: int, cpu_limit: float | None = None,
                 memory_limit: int | None = None, owner=None):
        # The runtime whose `cgroup_changes` counts this cgroup's changes (sim/runtime/faults.py).
        self.owner = owner
        self.base_cpu, self.base_memory = base_cpu, base_memory
        self.cpu_limit, self.memory_limit = cpu_limit, memory_limit
        self.burn = 0.0          # extra cores demanded (a fault)
        self.backlog = 0.0       # CPU seconds of requests still to serve (hpa-example)
        self.leak_rate = 0.0     # bytes a second
        self.leaked = 0.0        # bytes leaked up to `mark`
        self.cpu_seconds = 0.0   # usage_usec / 1e6 up to `mark`
        self.nr_periods = 0.0
        self.nr_throttled = 0.0
        self.throttled_seconds = 0.0
        self.mark = now

    # -- what the program wants and gets ---------------------------------------------------
    def demand(self) -> float:
        # A request being served keeps one worker busy: one core, on top of the rest.
        return self.base_cpu + self.burn + (1.0 if self.backlog > 0 else 0.0)

    def _work_rate(self) -> float:
        """Cores the backlog gets: what the cap leaves after the baseline and a burn."""
        return max(0.0, min(1.0, self.cpu_rate() - self.base_cpu - self.burn)) if self.backlog > 0 else 0.0

    def add_work(self, now: float, cpu_seconds: float) -> float | None:
        """A request that costs `cpu_seconds` of CPU: queued behind the others; the seconds
        until the backlog is served (None: it never will be, the cap leaves it nothing)."""
        self.advance(now)
        self.backlog += max(0.0, cpu_seconds)
        rate = self._work_rate()
        return self.backlog / rate if rate > 0 else None

    def cpu_rate(self) -> float:
        """Cores used now: the demand, capped at the CFS quota."""
        d = self.demand()
        return min(d, self.cpu_limit) if self.cpu_limit is not None else d

    def throttled(self) -> bool:
        return self.cpu_limit is not None and self.demand() > self.cpu_limit

    def advance(self, now: float) -> None:
        # Every change to the accounting starts here (add_work, set_burn, set_leak and release
        # advance first): the owner's readers then know the figures' inputs moved.
        if self.owner is not None:
            self.owner.cgroup_changes += 1
        dt = max(0.0, now - self.mark)
        if dt:
            self.cpu_seconds += self.cpu_rate() * dt
            if self.cpu_rate() > 0:
                self.nr_periods += dt / CFS_PERIOD
            if self.throttled():
                self.nr_throttled += dt / CFS_PERIOD
                self.throttled_seconds += (self.demand() - self.cpu_limit) * dt
            self.leaked += self.leak_rate * dt
            self.backlog = max(0.0, self.backlog - self._work_rate() * dt)
            if self.backlog < 1e-9:
                self.backlog = 0.0
        self.mark = now

    # -- changes ---------------------------------------------------------------------------
    def set_burn(self, now: float, cores: float) -> None:
        self.advance(now)
        self.burn = max(0.0, cores)

    def set_leak(self, now: float, rate: float) -> None:
        self.advance(now)
        self.leak_rate = max(0.0, rate)

    def release(self, now: float) -> None:
        """The program freed what it leaked (and stopped leaking and burning)."""
        self.advance(now)
        self.burn, self.leak_rate, self.leaked, self.backlog = 0.0, 0.0, 0.0, 0.0

    # -- what cpu.stat and memory.current say ---------------------------------------------
    def memory(self, now: float) -> int:
        # The kernel charges whole pages: memory.current is a multiple of 4 KiB.
        if not self.leak_rate:
            # Nothing leaking (every container at rest): the same figure as below, whose last
            # term is then 0.0, without the arithmetic (metrics-server and the eviction manager
            # read every container's every 15 s and 10 s).
            return int(self.base_memory + self.leaked) // PAGE * PAGE
        used = int(self.base_memory + self.leaked + self.leak_rate * max(0.0, now - self.mark))
        return used // PAGE * PAGE

    def cpu_usage(self, now: float) -> float:
        """Cumulative CPU seconds (cpu.stat usage_usec / 1e6)."""
        return self.cpu_seconds + self.cpu_rate() * max(0.0, now - self.mark)

    def stat(self, now: float) -> dict:
        self.advance(now)
        return {"usage_seconds": self.cpu_seconds, "nr_periods": int(self.nr_periods),
                "nr_throttled": int(self.nr_throttled), "throttled_seconds": self.throttled_seconds,
                "cpu_rate": self.cpu_rate(), "memory": self.memory(now),
                "cpu_limit": self.cpu_limit, "memory_limit": self.memory_limit}

    def seconds_to_oom(self, now: float) -> float | None:
        """When memory.current reaches memory.max at the current leak rate; None: never."""
        if self.memory_limit is None:
            return None
        left = self.memory_limit - self.memory(now)
        if left <= 0:
            return 0.0
        if self.leak_rate <= 0:
            return None
        return left / self.leak_rate
