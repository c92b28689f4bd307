"""The control plane's /metrics in the engine (sim/metrics.py): kube-apiserver's request
counters and latency histograms (k8s.io/apiserver/pkg/endpoints/metrics/metrics.go) and etcd's
server gauges, in Prometheus' text format, parsed by the official client's parser."""
from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from sim import metrics
from sim.cluster import Cluster, ClusterConfig
from tests.sim.conftest import create_pod, ok


def families(c) -> dict:
    return {f.name: f for f in text_string_to_metric_families(metrics.render(c))}


def samples(fams: dict, family: str, name: str | None = None, **labels) -> list:
    return [s for s in fams[family].samples
            if (s.name == name if name else s.name in (family, family + "_total")) and all(s.labels.get(k) == v for k, v in labels.items())]


def total(fams: dict, family: str, name: str | None = None, **labels) -> float:
    return sum(s.value for s in samples(fams, family, name, **labels))


POD_CREATED = {"verb": "POST", "resource": "pods", "code": "201", "scope": "resource", "component": "apiserver"}


def test_a_created_pod_counts_once_in_apiserver_request_total(cluster):
    before = total(families(cluster), "apiserver_request", **POD_CREATED)
    ok(create_pod(cluster, "web"), 201)
    after = families(cluster)
    assert total(after, "apiserver_request", **POD_CREATED) == before + 1
    # ... and a 409 for the same name counts under its own code.
    conflicts = total(after, "apiserver_request", **{**POD_CREATED, "code": "409"})
    assert create_pod(cluster, "web")["code"] == 409
    assert total(families(cluster), "apiserver_request", **{**POD_CREATED, "code": "409"}) == conflicts + 1


def test_histograms_are_cumulative_and_count_what_the_counter_counts(cluster):
    for i in range(3):
        ok(create_pod(cluster, f"p{i}"), 201)
    cluster.advance(5)
    text = metrics.render(cluster)
    assert "# TYPE apiserver_request_duration_seconds histogram" in text
    fams = families(cluster)
    hist = fams["apiserver_request_duration_seconds"]
    series: dict = {}
    for s in hist.samples:
        key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
        series.setdefault(key, {"buckets": []})
        if s.name.endswith("_bucket"):
            series[key]["buckets"].append((float(s.labels["le"]), s.value))
        else:
            series[key][s.name.rsplit("_", 1)[1]] = s.value
    assert series
    counter = fams["apiserver_request"]
    for key, h in series.items():
        les = [le for le, _ in h["buckets"]]
        assert les == [*map(float, metrics.REQUEST_DURATION_BUCKETS), float("inf")]
        counts = [n for _, n in h["buckets"]]
        assert counts == sorted(counts), key  # cumulative
        assert counts[-1] == h["count"]
        labels = dict(key)
        assert h["count"] == sum(s.value for s in counter.samples
                                 if {k: v for k, v in s.labels.items() if k != "code"} == labels)
        assert h["sum"] >= 0
    # The pod creates went through etcd: a non-zero virtual duration each, all within 1 s here.
    [created] = [h for key, h in series.items()
                 if dict(key).get("verb") == "POST" and dict(key).get("resource") == "pods"
                 and dict(key).get("subresource") == ""]
    assert created["count"] >= 3 and created["sum"] > 0


def test_scope_and_verb_follow_upstreams_clean_scope_and_clean_verb():
    assert metrics.request_labels({"verb": "list", "resource": "pods", "namespace": "default", "version": "v1"}) == \
        ("LIST", "", "", "v1", "pods", "", "namespace", "apiserver")
    assert metrics.request_labels({"verb": "list", "resource": "pods"})[6] == "cluster"
    assert metrics.request_labels({"verb": "get", "resource": "nodes", "name": "n"})[6] == "resource"
    assert metrics.request_labels({"verb": "patch", "name": "x", "resource": "pods",
                                   "patch_type": "application/apply-patch+yaml",
                                   "query": {"dryRun": "All"}})[:2] == ("APPLY", "All")
    assert metrics.request_labels({"verb": "deletecollection", "resource": "pods"})[0] == "DELETECOLLECTION"


def test_storage_objects_counts_the_watch_cache(cluster):
    before = total(families(cluster), "apiserver_storage_objects", resource="pods")
    ok(create_pod(cluster, "web"), 201)
    cluster.advance(1)
    assert total(families(cluster), "apiserver_storage_objects", resource="pods") == before + 1
    assert total(families(cluster), "apiserver_storage_objects", resource="nodes") == 4


def test_etcd_has_exactly_one_leader_and_counts_leader_changes():
    cfg = ClusterConfig.default(seed=5)
    cfg.etcd_members, cfg.etcd_topology = 3, "external"
    c = Cluster("m", cfg)
    c.advance(10)
    fams = families(c)
    is_leader = samples(fams, "etcd_server_is_leader")
    assert sorted(s.labels["member"] for s in is_leader) == ["etcd-1", "etcd-2", "etcd-3"]
    [leader] = [s for s in is_leader if s.value == 1]
    assert sum(s.value for s in is_leader) == 1
    assert all(s.value == 1 for s in samples(fams, "etcd_server_has_leader"))
    assert all(s.value >= 1 for s in samples(fams, "etcd_server_leader_changes_seen"))
    assert all(s.value > 0 for s in samples(fams, "etcd_debugging_mvcc_keys_total"))
    assert all(s.value > 0 for s in samples(fams, "etcd_mvcc_db_total_size_in_bytes"))
    committed = {s.labels["member"]: s.value for s in samples(fams, "etcd_server_proposals_committed_total")}
    assert len(committed) == 3 and min(committed.values()) > 0

    # Kill the leader: the survivors elect another and each sees one more leader change.
    changes = {s.labels["member"]: s.value for s in samples(fams, "etcd_server_leader_changes_seen")}
    c.kill_etcd_member(leader.labels["member"])
    c.advance(10)
    fams = families(c)
    is_leader = samples(fams, "etcd_server_is_leader")
    assert len(is_leader) == 2 and sum(s.value for s in is_leader) == 1  # the stopped member shows none
    assert [s.labels["member"] for s in is_leader if s.value == 1] != [leader.labels["member"]]
    for s in samples(fams, "etcd_server_leader_changes_seen"):
        assert s.value > changes[s.labels["member"]]


def test_the_same_commands_render_the_same_text():
    def run() -> str:
        c = Cluster("d", ClusterConfig.default(seed=7))
        c.advance(15)
        create_pod(c, "web")
        c.advance(5)
        return metrics.render(c)

    assert run() == run()


def test_the_apiservers_etcd_client_times_its_writes(cluster):
    """etcd_requests_total / etcd_request_duration_seconds {operation, group, resource}: a pod
    create is one etcd "create" for pods, a delete one "delete"; each through Raft's commit."""
    fams = families(cluster)
    before = total(fams, "etcd_requests", operation="create", group="", resource="pods")
    ok(create_pod(cluster, "web"), 201)
    fams = families(cluster)
    assert total(fams, "etcd_requests", operation="create", group="", resource="pods") == before + 1
    assert total(fams, "etcd_request_errors", operation="create", resource="pods") == 0
    count = total(fams, "etcd_request_duration_seconds", "etcd_request_duration_seconds_count",
                  operation="create", resource="pods")
    assert count == before + 1
    assert total(fams, "etcd_request_duration_seconds", "etcd_request_duration_seconds_sum",
                  operation="create", resource="pods") > 0
    updates = total(fams, "etcd_requests", operation="update", resource="pods")
    cluster.advance(10)  # the scheduler binds, the kubelet reports status: updates
    assert total(families(cluster), "etcd_requests", operation="update", resource="pods") > updates
