"""The programs of kubeadm's control-plane images: kube-apiserver, kube-controller-manager,
kube-scheduler and etcd, as the static pods' containers run them.

Each runs until stopped (all four shut down on SIGTERM) and answers the health endpoints
kubeadm's probes ask for: kube-apiserver's /livez and /readyz on 6443, kube-controller-manager's
/healthz on 10257, kube-scheduler's /livez and /readyz on 10259, etcd's /livez, /readyz and
/health on its metrics listener 2381 (--listen-metrics-urls).  What the process *does* is the
simulated component the node's runtime binds to the container (ContainerRuntime.host_processes,
sim/kubelet/staticpods.py): the program itself logs a few of the real start-up lines (klog's
format for the Kubernetes components, etcd's JSON) and keeps the container alive.
"""
from __future__ import annotations

import json
import time as _time
from typing import Callable

from sim.runtime.process import Program, ProcessContext, ProgramGen, Sleep, Write
from sim.runtime.programs import FOREVER, register

# (binary, ports it listens on, health paths answered "ok")
COMPONENTS = {
    "kube-apiserver": ((6443,), ("/livez", "/readyz", "/healthz")),
    "kube-controller-manager": ((10257,), ("/healthz",)),
    "kube-scheduler": ((10259,), ("/livez", "/readyz", "/healthz")),
    "etcd": ((2379, 2380, 2381), ("/livez", "/readyz", "/health")),
}


def _flag(ctx: ProcessContext, name: str, default: str = "") -> str:
    for arg in ctx.argv:
        if arg.startswith(f"--{name}="):
            return arg.split("=", 1)[1]
    return default


def _klog(ctx: ProcessContext, where: str, message: str) -> Write:
    """A klog header line: Lmmdd hh:mm:ss.uuuuuu threadid file:line] msg (to stderr)."""
    now = ctx.clock()
    stamp = _time.strftime("%m%d %H:%M:%S", _time.gmtime(now)) + f".{int(now * 1e6) % 1_000_000:06d}"
    return Write(f"I{stamp}       1 {where}] {message}\n", "stderr")


def _startup(ctx: ProcessContext) -> list[Write]:
    binary = ctx.argv[0].rsplit("/", 1)[-1] if ctx.argv else ""
    if binary == "kube-apiserver":
        return [_klog(ctx, "options.go:249", f"external host was not specified, using {_flag(ctx, 'advertise-address')}"),
                _klog(ctx, "secure_serving.go:213", f"Serving securely on [::]:{_flag(ctx, 'secure-port', '6443')}")]
    if binary in ("kube-scheduler", "kube-controller-manager"):
        lease = f"kube-system/{binary}"
        return [_klog(ctx, "serving.go:386", "Generated self-signed cert in-memory"),
                _klog(ctx, "leaderelection.go:257", f"attempting to acquire leader lease {lease}...")]
    if binary == "etcd":
        ts = _time.strftime("%Y-%m-%dT%H:%M:%S", _time.gmtime(ctx.clock())) + "Z"
        lines = [{"level": "info", "ts": ts, "caller": "embed/etcd.go:140", "msg": "configuring peer listeners",
                  "listen-peer-urls": [_flag(ctx, "listen-peer-urls")]},
                 {"level": "info", "ts": ts, "caller": "embed/etcd.go:148", "msg": "configuring client listeners",
                  "listen-client-urls": _flag(ctx, "listen-client-urls").split(",")},
                 {"level": "info", "ts": ts, "caller": "embed/serve.go:275", "msg": "serving client traffic securely",
                  "traffic": "grpc+http", "address": _flag(ctx, "advertise-client-urls").removeprefix("https://")}]
        return [Write(json.dumps(line, separators=(",", ":")) + "\n", "stderr") for line in lines]
    return []


def _run(ctx: ProcessContext) -> ProgramGen:
    for line in _startup(ctx):
        yield line
    while True:
        yield Sleep(FOREVER)


def _health(paths: tuple[str, ...]) -> Callable[[ProcessContext, str, float], tuple[int, str]]:
    def http(ctx: ProcessContext, path: str, elapsed: float) -> tuple[int, str]:
        path = path.split("?", 1)[0]
        if path in paths:
            return 200, '{"health":"true","reason":""}' if path == "/health" else "ok"
        return 404, "404 page not found\n"
    return http


for _name, (_ports, _paths) in COMPONENTS.items():
    # etcd serves grpc.health.v1 on its client port (the docs' gRPC liveness probe example).
    register(Program(_name, _run, on_sigterm=0, ports=lambda ctx, p=frozenset(_ports): p, http=_health(_paths),
                     grpc_health=(lambda ctx, service: "SERVING" if service == "" else None) if _name == "etcd" else None))
