"""The Workloads view's services (cluster/workloads.py) against a running cluster, in process:
rollback as `kubectl rollout undo` does it, restart / pause / scale / delete with a cascade, and
drain through the eviction API, which a PodDisruptionBudget can refuse."""
from __future__ import annotations

import pytest

from cluster import services, workloads
from cluster.dashboard import workloadforms
from sim.api.meta import timestamp

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

C = "demo"
DEP = {"name": "deployments", "group": "apps", "version": "v1", "kind": "Deployment", "namespaced": True}


async def _advance(seconds: str) -> None:
    await services.set_clock(C, paused=True)
    await services.set_clock(C, advance=seconds)


async def _get(res: dict, name: str, ns: str | None = "default") -> dict:
    resp = await services.cluster_api(C, workloads.request("get", res, ns, name))
    assert resp["code"] == 200, resp
    return resp["body"]


async def test_rollback_restart_pause_scale_and_delete(worker):
    _, manifest = workloadforms.workload_from({"kind": "Deployment", "name": "web", "image": "nginx:1.26",
                                               "replicas": "2", "cpu": "10m", "memory": "16Mi"})
    assert (await workloads.create(C, manifest)).ok
    await _advance("20s")
    out = await workloads.set_image(C, "deployment", "default", "web", "", "nginx:1.27")
    assert out.ok and out.message == "deployment.apps/web image updated: nginx=nginx:1.27", out
    await _advance("40s")
    assert (await _get(DEP, "web"))["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"

    # kubectl's refusals, in its words, before anything is sent.
    missing = await workloads.rollback_deployment(C, "default", "web", 7)
    assert not missing.ok and missing.message == "unable to find specified revision 7 in history"
    assert (await workloads.set_paused(C, "Deployment", "default", "web", True)).ok
    refused = await workloads.rollback_deployment(C, "default", "web", 0)
    assert not refused.ok and refused.message.startswith("you cannot rollback a paused deployment")
    again = await workloads.set_paused(C, "Deployment", "default", "web", True)
    assert not again.ok and again.message == 'deployments.apps "web" is already paused'
    assert (await workloads.set_paused(C, "Deployment", "default", "web", False)).ok

    # Undo: the previous template comes back under a new revision number.
    out = await workloads.rollback_deployment(C, "default", "web", 0)
    assert out.ok and out.message == "deployment.apps/web rolled back", out
    await _advance("40s")
    dep = await _get(DEP, "web")
    assert dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.26"
    assert "pod-template-hash" not in dep["spec"]["template"]["metadata"]["labels"]
    skipped = await workloads.rollback_deployment(C, "default", "web", 3)
    assert skipped.ok and "skipped rollback (current template already matches revision 3)" in skipped.message

    # Restart: the template's restartedAt annotation, at the cluster's clock.
    got = await services.cluster_api(C, workloads.request("get", DEP, "default", "web"))
    out = await workloads.restart(C, "Deployment", "default", "web")
    assert out.ok, out
    stamp = (await _get(DEP, "web"))["spec"]["template"]["metadata"]["annotations"][workloads.RESTARTED_AT]
    assert stamp >= timestamp(got["now"])

    # Scale through /scale; a value the API refuses comes back with its Status and causes.
    assert (await workloads.scale(C, "deploy", "default", "web", 3)).ok
    assert (await _get(DEP, "web"))["spec"]["replicas"] == 3
    bad = await workloads.scale(C, "deploy", "default", "web", -1)
    assert not bad.ok and bad.code == 422 and "spec.replicas" in bad.message

    # Delete, orphaning: the ReplicaSets stay, their ownerReferences gone.
    out = await workloads.delete(C, "Deployment", "default", "web", "orphan")
    assert out.ok and "cascade Orphan" in out.message
    await _advance("5s")
    rss = await services.cluster_api(C, workloads.request("list", workloads.REPLICASETS, "default",
                                                          query={"labelSelector": "app=web"}))
    assert rss["body"]["items"] and all(not rs["metadata"].get("ownerReferences") for rs in rss["body"]["items"])
    unknown = await workloads.scale(C, "widgets", "default", "x", 1)
    assert not unknown.ok and unknown.code == 404 and 'resource type "widgets"' in unknown.message


async def test_a_daemonset_rolls_back_through_its_controller_revisions(worker):
    DS = {"name": "daemonsets", "group": "apps", "version": "v1", "kind": "DaemonSet", "namespaced": True}
    _, manifest = workloadforms.workload_from({"kind": "DaemonSet", "name": "agent", "image": "nginx:1.26",
                                               "cpu": "10m", "memory": "16Mi"})
    assert (await workloads.create(C, manifest)).ok
    await _advance("20s")
    none = await workloads.rollback(C, "ds", "default", "agent", 0)
    assert not none.ok and none.message == "no last revision to roll back to"
    assert (await workloads.set_image(C, "daemonset", "default", "agent", "", "nginx:1.27")).ok
    await _advance("60s")
    out = await workloads.rollback(C, "daemonset", "default", "agent", 0)
    assert out.ok and out.message == "daemonset.apps/agent rolled back", out
    await _advance("60s")
    assert (await _get(DS, "agent"))["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.26"
    crs = await services.cluster_api(C, workloads.request("list", workloads.CONTROLLER_REVISIONS, "default",
                                                          query={"labelSelector": "app=agent"}))
    assert sorted(r["revision"] for r in crs["body"]["items"]) == [2, 3]   # revision 1 came back as 3
    skipped = await workloads.rollback(C, "daemonset", "default", "agent", 3)
    assert skipped.ok and "skipped rollback (current template already matches revision 3)" in skipped.message
    missing = await workloads.rollback(C, "daemonset", "default", "agent", 1)
    assert not missing.ok and missing.message == "unable to find specified revision 1 in history"


async def test_drain_evicts_through_the_eviction_api_and_a_budget_holds_it(worker):
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "guarded", "namespace": "default"},
          "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "guarded"}},
                   "template": {"metadata": {"labels": {"app": "guarded"}},
                                "spec": {"containers": [{"name": "c", "image": "nginx", "resources": {
                                    "requests": {"cpu": "10m", "memory": "16Mi"}}}]}}}}
    pdb = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "guarded", "namespace": "default"},
           "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "guarded"}}}}
    for obj in (rs, pdb):
        assert (await workloads.create(C, obj)).ok
    await _advance("30s")
    pods = await services.cluster_api(C, workloads.request("list", workloads.PODS, "default",
                                                           query={"labelSelector": "app=guarded"}))
    victim = pods["body"]["items"][0]
    node = victim["spec"]["nodeName"]

    held = await workloads.drain(C, node)
    assert not held.ok and held.code == 429, held
    lines = held.message.split("\n")
    assert lines[0] == f"node/{node} cordoned"
    assert f"evicting pod default/{victim['metadata']['name']}" in lines
    assert "disruption budget" in held.message and "press Drain again" in lines[-1]
    assert (await _get(workloads.NODES, node, None))["spec"]["unschedulable"] is True
    assert (await workloads.cordon(C, node, True)).message == f"node/{node} already cordoned"

    # The budget gone, the same drain goes through.
    await services.cluster_api(C, workloads.request("delete", {"name": "poddisruptionbudgets", "group": "policy",
                                                               "version": "v1", "namespaced": True}, "default", "guarded"))
    drained = await workloads.drain(C, node)
    assert drained.ok and drained.message.endswith(f"node/{node} drained"), drained
    assert f"pod/{victim['metadata']['name']} evicted" in drained.message
    assert (await workloads.cordon(C, node, False)).message == f"node/{node} uncordoned"
    assert not (await _get(workloads.NODES, node, None))["spec"].get("unschedulable")
