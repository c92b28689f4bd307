"""What every real-kubectl test module shares: the binaries to run (the dispatcher and each
of 1.27..1.33), a kubeconfig + private HOME for a cluster, and a runner that asserts success.

Fixtures: `kube_cluster` (a cluster of the test module's own, named after it: test_kubectl_drain
gets `kubectl-drain`, running at 50x), `kube_env` (a kubeconfig for it and a private HOME) and
`kubectl` (a runner, parametrized over every binary)."""
from __future__ import annotations

import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.conftest import kubectl_binaries, require_service

BINARIES = kubectl_binaries()


def binary_id(path: str | None) -> str:
    return "missing" if path is None else Path(path).name


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
    its own per kubectl version, so one cluster serves all versions) come with it."""
    require_service("kubectl", binary is not None and Path(binary).exists(),
                    "no kubectl binaries (/usr/bin/kubectl, /usr/lib/google-cloud-sdk/bin/kubectl.1.*)")

    def run(*args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        proc = subprocess.run([binary, *args], env=env, capture_output=True, text=True, timeout=timeout)
        if check:
            assert proc.returncode == 0, f"kubectl {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}"
        return proc

    run.binary, run.env, run.suffix = binary, env, uuid.uuid4().hex[:6]
    return run


@pytest.fixture(scope="module")
def kube_cluster(module_cluster, request) -> str:
    module = request.module.__name__.rsplit(".", 1)[-1]
    return module_cluster(module.removeprefix("test_").replace("_", "-")[:50], speed=50)


@pytest.fixture(scope="module")
def kube_env(pilothouse_server, kube_cluster, tmp_path_factory) -> dict:
    return kube_env_for(pilothouse_server, kube_cluster, tmp_path_factory.mktemp(f"{kube_cluster}-home"))


@pytest.fixture(params=BINARIES or [None], ids=binary_id)
def kubectl(request, kube_env):
    return kubectl_runner(request.param, kube_env)
