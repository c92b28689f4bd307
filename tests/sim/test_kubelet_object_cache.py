"""The kubelet's watch-based ConfigMap and Secret managers (sim/kubelet/objectcache.py): a node
at rest reads what its pods mount from its own watches, not the API server, and a change still
reaches the mounted files within the sync period."""
from __future__ import annotations

import copy

from sim.kubelet.kubelet import Kubelet
from tests.sim.conftest import ok
from tests.sim.test_containers import _exec, advance_until, status_of
from tests.sim.test_metrics import families, total

GET_CONFIGMAP = {"verb": "GET", "resource": "configmaps", "scope": "resource"}


def kubelet_of(cluster, host: str) -> Kubelet:
    return next(c for c in cluster.kernel.components.values() if isinstance(c, Kubelet) and c.host == host)


def test_mounted_config_maps_are_watched_not_read_every_minute(cluster):
    ok(cluster.request({"verb": "create", "resource": "configmaps", "namespace": "default", "body": {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "game"}, "data": {"level": "easy"}}}), 201)
    ok(cluster.request({"verb": "create", "resource": "pods", "namespace": "default", "body": {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "cfg", "namespace": "default"},
        "spec": {"nodeName": "worker-2", "containers": [{
            "name": "app", "image": "busybox:1.36", "command": ["sleep", "36000"],
            "volumeMounts": [{"name": "config", "mountPath": "/etc/config"}]}],
            "volumes": [{"name": "config", "configMap": {"name": "game"}}]}}}), 201)
    advance_until(cluster, lambda: status_of(cluster, "cfg")["phase"] == "Running", 60)
    kubelet = kubelet_of(cluster, "worker-2")
    # The first minute's refresh starts a reflector for each object the pod mounts (its
    # configMap, and kube-root-ca.crt of its service account's projected volume).
    # (The node's kube-flannel pod mounts its own, in kube-flannel: only default's are this pod's.)
    def mine():
        return {key[2] for key in kubelet.object_cache.items if key[1] == "default"}
    advance_until(cluster, lambda: len(mine()) == 2, 90)
    assert mine() == {"game", "kube-root-ca.crt"}
    cluster.advance(5)
    gets = total(families(cluster), "apiserver_request", **GET_CONFIGMAP)
    cluster.advance(300)  # five refreshes
    assert total(families(cluster), "apiserver_request", **GET_CONFIGMAP) == gets
    # An update reaches the files through the watch, within the sync period.
    # (a copy: the engine's answer is the watch cache's own object, never to be changed in place)
    cm = copy.deepcopy(ok(cluster.request({"verb": "get", "resource": "configmaps", "namespace": "default",
                                           "name": "game"})))
    cm["data"]["level"] = "hard"
    ok(cluster.request({"verb": "update", "resource": "configmaps", "namespace": "default", "name": "game", "body": cm}))
    took = advance_until(cluster, lambda: _exec(cluster, "cfg", "app", ["cat", "/etc/config/level"])[1] == "hard", 70, 1)
    assert took <= 61
    assert total(families(cluster), "apiserver_request", **GET_CONFIGMAP) == gets + 1  # the test's own GET
    # The pod gone, the node stops watching.
    ok(cluster.request({"verb": "delete", "resource": "pods", "namespace": "default", "name": "cfg",
                        "query": {"gracePeriodSeconds": "0"}}))
    advance_until(cluster, lambda: not mine(), 30)


def _refresh_twin(dormant: bool) -> list:
    """A pod mounting a ConfigMap and its labels; the ConfigMap changed and the pod relabelled
    at odd times: when each change reached the files."""
    from sim.cluster import Cluster, ClusterConfig
    c = Cluster("t", ClusterConfig.default(seed=5))
    for k in c.kernel.components.values():
        if isinstance(k, Kubelet):
            k.dormant_refresh_enabled = dormant
    c.advance(20)
    ok(c.request({"verb": "create", "resource": "configmaps", "namespace": "default", "body": {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "game"}, "data": {"level": "easy"}}}), 201)
    ok(c.request({"verb": "create", "resource": "pods", "namespace": "default", "body": {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "cfg", "namespace": "default", "labels": {"v": "1"}},
        "spec": {"nodeName": "worker-1", "containers": [{
            "name": "app", "image": "busybox:1.36", "command": ["sleep", "36000"],
            "volumeMounts": [{"name": "config", "mountPath": "/etc/config"},
                             {"name": "info", "mountPath": "/etc/podinfo"}]}],
            "volumes": [{"name": "config", "configMap": {"name": "game"}},
                        {"name": "info", "downwardAPI": {"items": [
                            {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}}]}}}), 201)
    c.advance(200.3)
    slept = bool(kubelet_of(c, "worker-1").dormant_refreshes)
    seen = [slept]
    cm = copy.deepcopy(ok(c.request({"verb": "get", "resource": "configmaps", "namespace": "default", "name": "game"})))
    cm["data"]["level"] = "hard"
    ok(c.request({"verb": "update", "resource": "configmaps", "namespace": "default", "name": "game", "body": cm}))
    seen.append(advance_until(c, lambda: _exec(c, "cfg", "app", ["cat", "/etc/config/level"])[1] == "hard", 70, 0.25))
    c.advance(95.6)
    ok(c.request({"verb": "patch", "resource": "pods", "namespace": "default", "name": "cfg",
                  "body": {"metadata": {"labels": {"v": "2"}}}}))
    seen.append(advance_until(c, lambda: _exec(c, "cfg", "app", ["cat", "/etc/podinfo/labels"])[1] == 'v="2"', 70, 0.25))
    return seen


def test_a_sleeping_refresh_brings_changes_at_the_same_moments_as_one_every_minute():
    every_minute, sleeping = _refresh_twin(False), _refresh_twin(True)
    assert sleeping[0] and not every_minute[0]  # at rest the refresh slept
    assert every_minute[1:] == sleeping[1:]
    assert all(0 < t <= 60.25 for t in sleeping[1:])
