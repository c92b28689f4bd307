"""Fixtures for the API tests (module_cluster and make_cluster live in tests/conftest.py)."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def kube_client(pilothouse_server, module_cluster, request):
    """(CoreV1Api, AppsV1Api, cluster name) for a fresh cluster running at 50x."""
    from kubernetes import client

    name = module_cluster(f"api-{request.module.__name__.rsplit('.', 1)[-1].replace('_', '-')[:40]}", speed=20)
    cfg = client.Configuration()
    cfg.host = pilothouse_server.cluster_url(name)
    api_client = client.ApiClient(cfg)
    yield client.CoreV1Api(api_client), client.AppsV1Api(api_client), name
    api_client.close()
