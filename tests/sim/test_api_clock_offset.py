"""Controllers on a cluster whose API clock does not start at sim.api.meta.EPOCH, as every
cluster `make demo` and the server make does (ClusterConfig.start_unix_time: the wall-clock
moment it was created).  API timestamps then count from EPOCH + kernel.epoch_offset while the
kernel's `now` counts from 0, so a controller that compares a parsed timestamp with its `now`
must add the offset (or use Component.parse_time).  The rest of the engine's tests run with
the offset 0, where mixing the two clocks goes unseen: these run the same lessons with a real
start date, where it does not (a Job whose pod failed waited ~340 days for its back-off)."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from sim.cluster import Cluster, ClusterConfig
from tests.sim.conftest import advance_until, ok
from tests.sim.test_daemonset import create as create_ds, daemonset, get as get_ds
from tests.sim.test_job import conditions, create_job, finished, get_job, job_manifest, job_pods

# The moment this file's demo cluster was created: 339 days after EPOCH.
DEMO_START = dt.datetime(2026, 12, 6, 23, 21, 38, tzinfo=dt.timezone.utc).timestamp()


@pytest.fixture
def cluster():
    c = Cluster("t", dataclasses.replace(ClusterConfig.default(seed=3), start_unix_time=DEMO_START))
    assert c.kernel.epoch_offset > 300 * 86400
    c.advance(20)
    return c


def test_a_failing_job_pod_is_retried_after_its_back_off(cluster):
    create_job(cluster, job_manifest("fail", ["sh", "-c", "exit 1"], backoffLimit=2))
    advance_until(cluster, lambda: finished(cluster, "fail"), 120)
    job = get_job(cluster, "fail")
    assert len(job_pods(cluster, "fail")) == 3 and job["status"]["failed"] == 3
    assert conditions(job)[-1] == ("Failed", "True", "BackoffLimitExceeded")


def test_active_deadline_seconds(cluster):
    create_job(cluster, job_manifest("slow", ["sh", "-c", "sleep 300"], activeDeadlineSeconds=15))
    advance_until(cluster, lambda: finished(cluster, "slow"), 90)
    assert conditions(get_job(cluster, "slow"))[-1] == ("Failed", "True", "DeadlineExceeded")


def test_ttl_after_finished(cluster):
    create_job(cluster, job_manifest("brief", ["sh", "-c", "exit 0"], ttlSecondsAfterFinished=10))
    advance_until(cluster, lambda: finished(cluster, "brief"), 30)
    advance_until(cluster, lambda: cluster.request({"verb": "get", "group": "batch", "resource": "jobs",
                                                    "namespace": "default", "name": "brief"})["code"] == 404, 30)


def test_daemonset_pods_become_available_after_min_ready_seconds(cluster):
    create_ds(cluster, daemonset(minReadySeconds=5))
    advance_until(cluster, lambda: (get_ds(cluster).get("status") or {}).get("numberReady") == 3, 30)
    advance_until(cluster, lambda: get_ds(cluster)["status"].get("numberAvailable") == 3, 15)


def test_replicaset_pods_become_available_after_min_ready_seconds(cluster):
    body = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web"},
            "spec": {"replicas": 2, "minReadySeconds": 5, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}}
    ok(cluster.request({"verb": "create", "group": "apps", "resource": "replicasets", "namespace": "default",
                        "body": body}), 201)

    def status():
        return ok(cluster.request({"verb": "get", "group": "apps", "resource": "replicasets",
                                   "namespace": "default", "name": "web"})).get("status") or {}
    advance_until(cluster, lambda: status().get("readyReplicas") == 2, 30)
    advance_until(cluster, lambda: status().get("availableReplicas") == 2, 15)
