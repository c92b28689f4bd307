"""The programs of kubeadm's control-plane images: kube-apiserver, kube-controller-manager,
kube-scheduler and etcd, as the static pods' containers run them.

Each runs until stopped (all four shut down on SIGTERM) and answers the health endpoints
kubeadm's probes ask for: kube-apiserver's /livez and /readyz on 6443, kube-controller-manager's
/healthz on 10257, kube-scheduler's /livez and /readyz on 10259, etcd's /livez, /readyz and
/health on its metrics listener 2381 (--listen-metrics-urls).  What the process *does* is the
simulated component the node's runtime binds to the container (ContainerRuntime.host_processes,
sim/kubelet/staticpods.py): the program itself only keeps the container alive.
"""
from __future__ import annotations

from typing import Callable

from sim.runtime.process import Program, ProcessContext, ProgramGen, Sleep
from sim.runtime.programs import FOREVER, register

# (binary, ports it listens on, health paths answered "ok")
COMPONENTS = {
    "kube-apiserver": ((6443,), ("/livez", "/readyz", "/healthz")),
    "kube-controller-manager": ((10257,), ("/healthz",)),
    "kube-scheduler": ((10259,), ("/livez", "/readyz", "/healthz")),
    "etcd": ((2379, 2380, 2381), ("/livez", "/readyz", "/health")),
}


def _run(ctx: ProcessContext) -> ProgramGen:
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
    register(Program(_name, _run, on_sigterm=0, ports=lambda ctx, p=frozenset(_ports): p, http=_health(_paths)))
