"""Fixtures for tests against a live server: each module gets its own simulated cluster on the
session's server, so what one module does (killing nodes, filling namespaces) does not leak."""
from __future__ import annotations

import pytest

from tests.conftest import wait_until


def make_cluster(server, name: str, speed: float | None = None) -> str:
    """Create cluster `name` on the live server; return once its `default` namespace exists."""
    status, body = server.request("POST", "/sim/v1/clusters", {"name": name})
    assert status in (201, 409), body
    wait_until(lambda: server.request("GET", f"/clusters/{name}/api/v1/namespaces/default")[0] == 200,
               timeout=20, interval=0.05, message=f"cluster {name} bootstrapped")
    if speed is not None:
        status, body = server.request("POST", f"/clusters/{name}/sim/v1/clock", {"speed": speed})
        assert status == 200, body
    return name


@pytest.fixture(scope="module")
def kube_client(pilothouse_server, request):
    """(CoreV1Api, AppsV1Api, cluster name) for a fresh cluster running at 50x."""
    from kubernetes import client

    name = make_cluster(pilothouse_server, f"api-{request.module.__name__.rsplit('.', 1)[-1].replace('_', '-')[:40]}", speed=50)
    cfg = client.Configuration()
    cfg.host = pilothouse_server.cluster_url(name)
    api_client = client.ApiClient(cfg)
    yield client.CoreV1Api(api_client), client.AppsV1Api(api_client), name
    api_client.close()
