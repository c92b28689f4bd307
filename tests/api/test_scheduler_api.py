"""kube-scheduler in the simulator control API, against a live server:

    GET  /clusters/<c>/sim/v1/scheduler                   the queue and the profiles
    GET  /clusters/<c>/sim/v1/scheduler/pods/<ns>/<name>  a pod's latest scheduling attempt
    POST /sim/v1/clusters {"schedulerConfiguration": ...}  a KubeSchedulerConfiguration per cluster

The pods are created through the Kubernetes API (requests), as any client would."""
from __future__ import annotations

import pytest
import requests

from tests.builders import MakePod
from tests.conftest import wait_nodes_ready, wait_until


# kube-scheduler's default profile (v1 defaults, pkg/scheduler/apis/config/v1/default_plugins.go):
# the Score plugins this engine has, with their default weights.
DEFAULT_SCORE_WEIGHTS = {"TaintToleration": 3, "NodeAffinity": 2, "NodeResourcesFit": 1,
                         "NodeResourcesBalancedAllocation": 1, "ImageLocality": 1}


class Api:
    """requests against one cluster: its Kubernetes API and its control API."""

    def __init__(self, server, cluster: str):
        self.base = server.base
        self.cluster = cluster
        self.kube = server.cluster_url(cluster)
        self.sim = f"{self.kube}/sim/v1"

    def create(self, body: dict) -> dict:
        r = requests.post(f"{self.kube}/api/v1/namespaces/default/pods", json=body, timeout=30)
        assert r.status_code == 201, r.text
        return r.json()

    def get_pod(self, name: str) -> dict:
        r = requests.get(f"{self.kube}/api/v1/namespaces/default/pods/{name}", timeout=30)
        assert r.status_code == 200, r.text
        return r.json()

    def explanation(self, name: str, namespace: str = "default") -> requests.Response:
        return requests.get(f"{self.sim}/scheduler/pods/{namespace}/{name}", timeout=30)

    def wait_explanation(self, name: str, result: str, timeout: float = 30) -> dict:
        def ready():
            r = self.explanation(name)
            return r.json() if r.status_code == 200 and r.json()["result"] == result else None
        return wait_until(ready, timeout=timeout, interval=0.1, message=f"a {result} attempt for {name}")

    def queue(self) -> dict:
        r = requests.get(f"{self.sim}/scheduler", timeout=30)
        assert r.status_code == 200, r.text
        return r.json()


def create_cluster(server, body: dict, speed: float = 20) -> Api:
    r = requests.post(f"{server.base}/sim/v1/clusters", json=body, timeout=60)
    assert r.status_code in (201, 409), r.text
    api = Api(server, body["name"])
    wait_until(lambda: requests.get(f"{api.kube}/api/v1/namespaces/default/serviceaccounts/default", timeout=10).status_code == 200,
               timeout=20, message=f"cluster {body['name']} bootstrapped")
    assert requests.post(f"{api.sim}/clock", json={"speed": speed}, timeout=10).status_code == 200
    return api


@pytest.fixture(scope="module")
def api(pilothouse_server, module_cluster) -> Api:
    a = Api(pilothouse_server, module_cluster("api-scheduler", speed=20))
    wait_nodes_ready(pilothouse_server, a.cluster)  # the tests explain where pods may go
    wait_until(lambda: a.queue()["leader"], timeout=30, interval=0.1, message="a leading kube-scheduler")
    return a


def assert_status(r: requests.Response, code: int, reason: str) -> dict:
    body = r.json()
    assert r.status_code == code, body
    assert body["kind"] == "Status" and body["apiVersion"] == "v1" and body["status"] == "Failure", body
    assert body["code"] == code and body["reason"] == reason and body["message"], body
    # The control API's own error object rides along.
    assert body["error"] == {"code": code, "reason": reason, "message": body["message"]}
    return body


def test_queue_and_profiles(api):
    q = api.queue()
    assert set(q) >= {"active", "backoff", "unschedulable", "leader", "profiles"}
    assert q["leader"].startswith("kube-scheduler@cp-")
    (profile,) = q["profiles"]
    assert profile["schedulerName"] == "default-scheduler"
    assert profile["queueSort"] == ["PrioritySort"] and profile["bind"] == ["DefaultBinder"]
    assert {"NodeUnschedulable", "NodeName", "TaintToleration", "NodeAffinity", "NodePorts",
            "NodeResourcesFit"} <= set(profile["filter"])
    assert {s["name"]: s["weight"] for s in profile["score"]}.items() >= DEFAULT_SCORE_WEIGHTS.items()


def test_a_scheduled_pod_is_explained(api):
    api.create(MakePod().name("explained").labels({"app": "explained"})
               .container("nginx:1.27", name="main", cpu="100m", memory="64Mi").manifest())
    rec = api.wait_explanation("explained", "Scheduled")
    node = wait_until(lambda: api.get_pod("explained")["spec"].get("nodeName"), timeout=20, message="bound")
    assert rec["pod"] == "default/explained" and rec["node"] == node and rec["profile"] == "default-scheduler"
    assert rec["message"] == f"Successfully assigned default/explained to {node}"
    assert rec["why"].startswith(f"{node} ") and rec["attempt"] >= 1
    # Every node has a row: the control-plane nodes rejected by their taint, the workers scored.
    rows = {n["name"]: n for n in rec["nodes"]}
    assert len(rows) == rec["numAllNodes"] == rec["numEvaluated"] and rec["truncated"] is False
    assert [n for n, r in rows.items() if r["chosen"]] == [node]
    for name, row in rows.items():
        if name.startswith("cp-"):
            assert row["filter"]["plugin"] == "TaintToleration", row
            assert row["filter"]["reasons"] == [
                "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"], row
            assert row["scores"] == {} and row["total"] is None
            continue
        assert row["filter"] is None
        weights = {p["name"]: p["weight"] for p in rec["scorePlugins"]}
        assert set(row["scores"]) == set(weights)
        for plugin, s in row["scores"].items():
            assert s["weighted"] == s["normalized"] * weights[plugin], (plugin, s)
            assert 0 <= s["normalized"] <= 100
        assert row["total"] == sum(s["weighted"] for s in row["scores"].values())
    assert rows[node]["total"] == max(r["total"] for r in rows.values() if r["total"] is not None)
    assert rec["numFeasible"] == sum(1 for r in rows.values() if r["filter"] is None)


def test_a_pending_pod_is_explained_and_queued(api):
    api.create(MakePod().name("too-big").labels({"app": "too-big"})
               .container("nginx:1.27", name="main", cpu="64", memory="64Mi").manifest())
    rec = api.wait_explanation("too-big", "Unschedulable")
    n = rec["numAllNodes"]
    assert rec["node"] is None and rec["numFeasible"] == 0
    assert rec["message"].startswith(f"0/{n} nodes are available: ")
    assert "Insufficient cpu" in rec["message"] and "preemption: " in rec["message"]
    assert rec["why"].startswith("no node passed the filters: ") and "Insufficient cpu (NodeResourcesFit)" in rec["why"]
    workers = [r for r in rec["nodes"] if not r["name"].startswith("cp-")]
    assert workers and all(r["filter"] == {"plugin": "NodeResourcesFit", "code": "Unschedulable",
                                           "reasons": ["Insufficient cpu"]} for r in workers)
    # The same words reach Kubernetes API users: the PodScheduled condition.
    def condition():
        conds = api.get_pod("too-big")["status"].get("conditions") or []
        return next((c for c in conds if c["type"] == "PodScheduled"), None)
    cond = wait_until(condition, timeout=20, message="a PodScheduled condition")
    assert cond["status"] == "False" and cond["reason"] == "Unschedulable" and "Insufficient cpu" in cond["message"]
    # It waits in the queue: backing off, then unschedulable with the reason.
    def queued():
        q = api.queue()
        return next((e for k in ("backoff", "unschedulable") for e in q[k] if e["pod"] == "default/too-big"), None)
    entry = wait_until(queued, timeout=20, message="too-big in the queue")
    assert entry["attempts"] >= 1 and entry["priority"] == 0
    entry = wait_until(lambda: next((e for e in api.queue()["unschedulable"] if e["pod"] == "default/too-big"), None),
                       timeout=30, message="too-big among the unschedulable pods")
    assert "Insufficient cpu" in entry["message"] and entry["since"] > 0


def test_no_attempt_is_a_404_status(api):
    body = assert_status(api.explanation("never-created"), 404, "NotFound")
    assert body["details"] == {"name": "never-created", "kind": "pods"}
    assert "default/never-created" in body["message"]


def test_unknown_cluster_and_wrong_method(pilothouse_server, api):
    r = requests.get(f"{pilothouse_server.base}/clusters/nope/sim/v1/scheduler", timeout=10)
    assert 'cluster "nope" not found' in assert_status(r, 404, "NotFound")["message"]
    r = requests.get(f"{pilothouse_server.base}/clusters/nope/sim/v1/scheduler/pods/default/x", timeout=10)
    assert_status(r, 404, "NotFound")
    r = requests.post(f"{api.sim}/scheduler", json={}, timeout=10)
    assert r.status_code == 405 and r.headers["Allow"] == "GET"


# Bin packing: only NodeResourcesFit scores, with MostAllocated, weighted 5; and a second
# profile that pods pick with schedulerName.
BIN_PACKING = {
    "apiVersion": "kubescheduler.config.k8s.io/v1",
    "kind": "KubeSchedulerConfiguration",
    "percentageOfNodesToScore": 50,
    "profiles": [
        {"schedulerName": "default-scheduler",
         "plugins": {"score": {"disabled": [{"name": "*"}], "enabled": [{"name": "NodeResourcesFit", "weight": 5}]}},
         "pluginConfig": [{"name": "NodeResourcesFit", "args": {"scoringStrategy": {
             "type": "MostAllocated", "resources": [{"name": "cpu", "weight": 1}, {"name": "memory", "weight": 1}]}}}]},
        {"schedulerName": "spread-scheduler"},
    ],
}
SMALL_NODES = [{"name": "cp-1", "role": "control-plane"}, {"name": "worker-1"}, {"name": "worker-2"}]


def test_cluster_with_a_scheduler_configuration(pilothouse_server):
    api = create_cluster(pilothouse_server, {"name": "api-sched-config", "nodes": SMALL_NODES, "etcd": {"members": 1},
                                             "schedulerConfiguration": BIN_PACKING})
    q = wait_until(lambda: (lambda q: q if q["leader"] else None)(api.queue()), timeout=30, message="a leader")
    profiles = {p["schedulerName"]: p for p in q["profiles"]}
    assert set(profiles) == {"default-scheduler", "spread-scheduler"}
    assert profiles["default-scheduler"]["score"] == [{"name": "NodeResourcesFit", "weight": 5}]
    assert profiles["default-scheduler"]["percentageOfNodesToScore"] == 50
    assert {s["name"] for s in profiles["spread-scheduler"]["score"]} >= set(DEFAULT_SCORE_WEIGHTS)
    # MostAllocated packs: the second pod goes where the first one went.
    api.create(MakePod().name("first").labels({"app": "first"})
               .container("nginx:1.27", name="main", cpu="1", memory="64Mi").manifest())
    first = api.wait_explanation("first", "Scheduled")
    assert first["scorePlugins"] == [{"name": "NodeResourcesFit", "weight": 5}]
    api.create(MakePod().name("second").labels({"app": "second"})
               .container("nginx:1.27", name="main", cpu="1", memory="64Mi").manifest())
    second = api.wait_explanation("second", "Scheduled")
    assert second["node"] == first["node"], second["why"]
    chosen = next(n for n in second["nodes"] if n["chosen"])
    other = next(n for n in second["nodes"] if n["filter"] is None and not n["chosen"])
    assert chosen["scores"]["NodeResourcesFit"]["normalized"] > other["scores"]["NodeResourcesFit"]["normalized"]
    assert chosen["scores"]["NodeResourcesFit"]["weighted"] == 5 * chosen["scores"]["NodeResourcesFit"]["normalized"]
    # A pod names its profile with schedulerName.
    api.create(MakePod().name("spread").labels({"app": "spread"})
               .container("nginx:1.27", name="main", cpu="100m", memory="64Mi")
               .spec(schedulerName="spread-scheduler").manifest())
    spread = api.wait_explanation("spread", "Scheduled")
    assert spread["profile"] == "spread-scheduler"
    # ... with the default plugins (NodeAffinity's PreScore skips a pod without preferred terms).
    assert {p["name"]: p["weight"] for p in spread["scorePlugins"]}.items() >= {
        k: v for k, v in DEFAULT_SCORE_WEIGHTS.items() if k != "NodeAffinity"}.items()
    requests.post(f"{api.sim}/clock", json={"paused": True}, timeout=10)


@pytest.mark.parametrize("config, message", [
    ({"profiles": [{"schedulerName": "default-scheduler", "plugins": {"score": {"enabled": [{"name": "Nope"}]}}}]},
     'ScorePlugin "Nope" does not exist'),
    ({"percentageOfNodesToScore": 150}, "percentageOfNodesToScore: Invalid value: 150: not in valid range [0-100]"),
    ("MostAllocated", "schedulerConfiguration must be a KubeSchedulerConfiguration object"),
])
def test_a_bad_scheduler_configuration_is_a_400_status(pilothouse_server, config, message):
    name = "api-bad-sched-config"
    r = requests.post(f"{pilothouse_server.base}/sim/v1/clusters",
                      json={"name": name, "schedulerConfiguration": config}, timeout=30)
    body = assert_status(r, 400, "BadRequest")
    assert message in body["message"], body
    # Nothing was created.
    r = requests.get(f"{pilothouse_server.base}/sim/v1/clusters", timeout=10)
    assert name not in r.json()["clusters"]
