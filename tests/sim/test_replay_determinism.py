"""The engine is deterministic: a cluster built from the same configuration (seed, nodes, start
time) that is given the same commands at the same virtual times ends with the same etcd keyspace
and the same snapshot, byte for byte, in this process and in another one with a different string
hash seed.  This is what the timeline's replay (cluster/worker/timeline.py: fork, import) rests on."""
from __future__ import annotations

import functools
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from sim.cluster import Cluster, ClusterConfig, NodeSpec

ROOT = Path(__file__).resolve().parents[2]

DEPLOYMENT = {
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
    "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
             "template": {"metadata": {"labels": {"app": "web"}},
                          "spec": {"containers": [{"name": "web", "image": "nginx:1.27",
                                                   "resources": {"requests": {"cpu": "100m"}}}]}}},
}


def _request(verb: str, resource: str, group: str = "", body: dict | None = None, name: str | None = None) -> dict:
    return {"verb": verb, "group": group, "version": "v1", "resource": resource, "namespace": "default",
            "name": name, "subresource": None, "body": body, "patch_type": None, "query": {}}


def run(seed: int, name: str = "det") -> tuple[str, str, int]:
    """(etcd keyspace digest, snapshot digest, etcd revision) after a scripted run: a
    Deployment, a node killed and restored, a partition healed, an etcd put, a scale-down."""
    config = ClusterConfig(seed=seed, nodes=[NodeSpec("cp-1", "control-plane", "4", "8Gi"), NodeSpec("worker-1"),
                                             NodeSpec("worker-2")], start_unix_time=1_790_000_000.25)
    c = Cluster(name, config)
    c.run_until(15)
    assert c.request(_request("create", "deployments", "apps", DEPLOYMENT))["code"] == 201
    c.run_until(25)
    c.kill_node("worker-2")
    c.run_until(40)
    c.partition([["worker-1"], ["cp-1", "worker-2"]])
    c.run_until(45)
    c.heal()
    c.restore_node("worker-2")
    c.etcd_put("/lesson/marker", "here")
    c.run_until(55)
    scale = {"spec": {"replicas": 1}}
    patch = dict(_request("patch", "deployments", "apps", scale, name="web"),
                 patch_type="application/merge-patch+json")
    assert c.request(patch)["code"] == 200
    c.run_until(70)
    store = max((m.store for m in c.etcd_members), key=lambda s: s.revision)
    keyspace = json.dumps(sorted((k, kv.value, kv.create_revision, kv.mod_revision, kv.version)
                                 for k, kv in store.current.items()))
    snapshot = dict(c.snapshot(), cluster=None)  # the one field that names the cluster
    return (hashlib.sha256(keyspace.encode()).hexdigest(),
            hashlib.sha256(json.dumps(snapshot, sort_keys=True).encode()).hexdigest(), store.revision)


@functools.cache
def run_seven() -> tuple[str, str, int]:
    return run(7, "first")


def test_same_seed_and_commands_at_the_same_times_give_the_same_keyspace_and_snapshot():
    a, b = run_seven(), run(7, "second")
    assert a[2] > 300  # a real run: hundreds of writes
    assert a == b


def test_another_process_with_another_hash_seed_gets_the_same_bytes():
    """An export replayed elsewhere: a new interpreter, whose str hashes (and so set orders)
    differ, arrives at the same keyspace and snapshot."""
    code = ("import json, sys; sys.path.insert(0, %r); from tests.sim.test_replay_determinism import run; "
            "print(json.dumps(run(7)))" % str(ROOT))
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120, check=True)
    assert tuple(json.loads(out.stdout.strip().splitlines()[-1])) == run_seven()


def test_a_different_seed_gives_a_different_run():
    assert run_seven()[0] != run(8)[0]
