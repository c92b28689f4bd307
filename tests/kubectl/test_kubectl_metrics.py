"""GET /clusters/<name>/metrics over HTTP and through `kubectl get --raw`: Prometheus' text
format (parsed by the official client's parser) with kube-apiserver's request counters and
latency histograms and etcd's server gauges under upstream's names (sim/metrics.py).

Up to kubectl 1.33, `--raw` takes an absolute path (client-go's RequestURI replaced the server
URL's path), so with a kubeconfig whose server is http://host:port/clusters/<name>, `kubectl get
--raw /metrics` asks for http://host:port/metrics and `--raw /clusters/<name>/metrics` is the
path that reaches the cluster.  From 1.34 (kubernetes/kubernetes#131165, "kubectl
create|delete|get|replace --raw commands now honor server root paths specified in the kubeconfig
file") the path is under the server URL's: `--raw /metrics` reaches the cluster."""
from __future__ import annotations

import requests
from prometheus_client.parser import text_string_to_metric_families

import pytest
from tests.builders import MakePod


NAME = "kubectl-metrics"
POD_CREATED = {"verb": "POST", "resource": "pods", "code": "201", "subresource": "", "version": "v1",
               "group": "", "scope": "resource", "component": "apiserver", "dry_run": ""}


@pytest.fixture(scope="module")
def cluster(kube_cluster):
    assert kube_cluster == NAME  # the module's own cluster (tests/kubectl/conftest.py)
    return kube_cluster


def parse(text: str) -> dict:
    return {f.name: f for f in text_string_to_metric_families(text)}


def count(fams: dict, family: str, **labels) -> float:
    return sum(s.value for s in fams[family].samples
               if s.name in (family, family + "_total") and all(s.labels.get(k) == v for k, v in labels.items()))


def test_metrics_over_http(pilothouse_server, cluster):
    url = pilothouse_server.cluster_url(cluster)
    r = requests.get(f"{url}/metrics", timeout=30)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    before = parse(r.text)
    created = requests.post(f"{url}/api/v1/namespaces/default/pods", json=MakePod().name("metrics-web").container("nginx:1.27", name="app").manifest(), timeout=30)
    assert created.status_code == 201, created.text
    after = parse(requests.get(f"{url}/metrics", timeout=30).text)
    assert count(after, "apiserver_request", **POD_CREATED) == count(before, "apiserver_request", **POD_CREATED) + 1
    # Every histogram series: cumulative buckets ending in +Inf = _count = the counter's total.
    hist = after["apiserver_request_duration_seconds"]
    by_series: dict = {}
    for s in hist.samples:
        key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
        by_series.setdefault(key, []).append(s)
    for key, ss in by_series.items():
        buckets = [s.value for s in ss if s.name.endswith("_bucket")]
        [n] = [s.value for s in ss if s.name.endswith("_count")]
        assert buckets == sorted(buckets) and buckets[-1] == n and len(buckets) == 24
        assert n == sum(s.value for s in after["apiserver_request"].samples
                        if {k: v for k, v in s.labels.items() if k != "code"} == dict(key))
    leaders = [s for s in after["etcd_server_is_leader"].samples if s.value == 1]
    assert len(leaders) == 1 and leaders[0].labels["member"].startswith("etcd-")
    assert count(after, "apiserver_storage_objects", resource="pods") >= 1
    assert count(after, "etcd_requests", operation="create", resource="pods") >= 1
    # An unknown cluster: a 404, as /version answers.
    assert requests.get(pilothouse_server.cluster_url("no-such-cluster") + "/metrics", timeout=30).status_code == 404


def raw_path_is_relative(kubectl) -> bool:
    """kubectl 1.34+ puts a --raw path under the kubeconfig server's; the dispatcher runs 1.32."""
    return kubectl.minor is not None and int(kubectl.minor.split(".")[1]) >= 34


def test_kubectl_get_raw_metrics(kubectl, cluster):
    path = "/metrics" if raw_path_is_relative(kubectl) else f"/clusters/{cluster}/metrics"
    text = kubectl("get", "--raw", path).stdout
    fams = parse(text)
    assert {"apiserver_request", "apiserver_request_duration_seconds", "apiserver_storage_objects",
            "etcd_server_has_leader", "etcd_server_is_leader", "etcd_server_leader_changes_seen",
            "etcd_server_proposals_committed_total", "etcd_mvcc_db_total_size_in_bytes",
            "etcd_debugging_mvcc_keys_total", "etcd_requests", "etcd_request_errors",
            "etcd_request_duration_seconds"} <= set(fams)
    # kubectl's own discovery and GETs were counted.
    assert count(fams, "apiserver_request", verb="GET") + count(fams, "apiserver_request", verb="LIST") > 0
    if raw_path_is_relative(kubectl):
        # The path is under the server's /clusters/<name>: the absolute one is asked for twice over.
        assert kubectl("get", "--raw", f"/clusters/{cluster}/metrics", check=False).returncode != 0
    else:
        # `--raw /metrics` drops the kubeconfig server's path: it reaches the server's root, not the cluster.
        assert kubectl("get", "--raw", "/metrics", check=False).returncode != 0
