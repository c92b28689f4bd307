"""The dashboard's forms refuse what the API refuses, with the API's own message and code, and
nothing changes (issue 8: replicas 99999999999 in "Create a ReplicaSet" hung the server)."""
from __future__ import annotations

import pytest
from django.test import AsyncClient

from cluster import services

pytestmark = pytest.mark.asyncio

BASE = "/clusters/demo/dashboard"


async def _replicasets() -> list[str]:
    resp = await services.cluster_api("demo", {"verb": "list", "group": "apps", "version": "v1",
                                               "resource": "replicasets", "namespace": "default"})
    return [rs["metadata"]["name"] for rs in resp["body"]["items"]]


@pytest.mark.parametrize("replicas", ["99999999999", "2147483648"])
async def test_replicas_beyond_int32_get_the_apis_decoding_error(worker, replicas):
    r = await AsyncClient().post(f"{BASE}/replicasets", {"name": "huge", "replicas": replicas, "image": "nginx"})
    assert r.status_code == 400
    assert (f"json: cannot unmarshal number {replicas} into Go struct field ReplicaSetSpec.spec.replicas "
            "of type int32").encode() in r.content
    assert "huge" not in await _replicasets()


async def test_negative_replicas_get_the_apis_validation_error(worker):
    r = await AsyncClient().post(f"{BASE}/replicasets", {"name": "neg", "replicas": "-1", "image": "nginx"})
    assert r.status_code == 422 and b"spec.replicas: Invalid value: -1: must be greater than or equal to 0" in r.content
    assert "neg" not in await _replicasets()


async def test_a_quantity_the_api_cannot_parse_is_its_400(worker):
    r = await AsyncClient().post(f"{BASE}/pods", {"name": "q", "image": "nginx", "cpu": "1 m"})
    assert r.status_code == 400 and b"quantities must match the regular expression" in r.content


async def test_a_taint_value_that_is_no_label_value_is_the_apis_422(worker):
    r = await AsyncClient().post(f"{BASE}/nodes/edit", {"node": "worker-1", "labels": "",
                                                        "taints": "dedicated=<b>bold</b>:NoSchedule"})
    assert r.status_code == 422 and b"spec.taints[0].value" in r.content
    node = await services.cluster_api("demo", {"verb": "get", "group": "", "version": "v1", "resource": "nodes",
                                               "name": "worker-1"})
    # Nothing of the refused taint was written (the node may still carry the not-ready taint
    # the kubelet registers it with, until the node lifecycle controller sees it Ready).
    assert [t for t in (node["body"].get("spec") or {}).get("taints") or [] if t["key"] == "dedicated"] == []


async def test_a_node_capacity_out_of_bounds_is_refused(worker):
    r = await AsyncClient().post(f"{BASE}/nodes", {"name": "worker-9", "cpu": "1e309"})
    assert r.status_code == 400 and b"cpu" in r.content
