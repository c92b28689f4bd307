"""The kubelet: registration, leases, running a pod through the runtime, termination."""
from sim.api.meta import parse_timestamp
from tests.sim.conftest import create_pod, get_pod, ok


def test_nodes_register_with_capacity_allocatable_and_ready(cluster):
    nodes = ok(cluster.request({"verb": "list", "resource": "nodes"}))["items"]
    assert [n["metadata"]["name"] for n in nodes] == ["cp-1", "worker-1", "worker-2", "worker-3"]
    w = nodes[1]
    assert w["status"]["capacity"] == {"cpu": "4", "memory": "8Gi", "pods": "110", "ephemeral-storage": "100Gi"}
    assert w["status"]["allocatable"]["memory"] == "8092Mi"  # 8Gi less the 100Mi eviction threshold
    ready = next(c for c in w["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "True" and ready["reason"] == "KubeletReady"
    assert nodes[0]["spec"]["taints"] == [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]


def test_node_lease_is_renewed_every_ten_seconds(cluster):
    def renew():
        lease = ok(cluster.request({"verb": "get", "group": "coordination.k8s.io", "resource": "leases",
                                    "namespace": "kube-node-lease", "name": "worker-1"}))
        assert lease["spec"]["leaseDurationSeconds"] == 40 and lease["spec"]["holderIdentity"] == "worker-1"
        return parse_timestamp(lease["spec"]["renewTime"])

    first = renew()
    cluster.advance(10)
    assert abs(renew() - first - 10) < 0.1


def test_pod_goes_from_container_creating_to_running_with_events(cluster):
    ok(create_pod(cluster, "web", image="redis:7"))
    cluster.advance(0.2)
    p = ok(get_pod(cluster, "web"))
    assert p["status"]["phase"] == "Pending"
    assert p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "ContainerCreating"
    cluster.advance(10)
    p = ok(get_pod(cluster, "web"))
    st = p["status"]
    assert st["phase"] == "Running" and st["podIP"].startswith("10.244.")
    assert st["containerStatuses"][0]["ready"] and "running" in st["containerStatuses"][0]["state"]
    assert {c["type"]: c["status"] for c in st["conditions"]} == {
        "PodReadyToStartContainers": "True", "Initialized": "True", "Ready": "True",
        "ContainersReady": "True", "PodScheduled": "True"}
    events = ok(cluster.request({"verb": "list", "resource": "events", "namespace": "default",
                                 "query": {"fieldSelector": "involvedObject.name=web"}}))["items"]
    reasons = [e["reason"] for e in sorted(events, key=lambda e: int(e["metadata"]["resourceVersion"]))]
    assert reasons == ["Scheduled", "Pulling", "Pulled", "Created", "Started"]


def test_second_pod_with_the_same_image_finds_it_present(cluster):
    ok(create_pod(cluster, "a", image="redis:7", nodeSelector={"kubernetes.io/hostname": "worker-1"}))
    cluster.advance(10)
    ok(create_pod(cluster, "b", image="redis:7", nodeSelector={"kubernetes.io/hostname": "worker-1"}))
    cluster.advance(3)
    events = ok(cluster.request({"verb": "list", "resource": "events", "namespace": "default",
                                 "query": {"fieldSelector": "involvedObject.name=b,reason=Pulled"}}))["items"]
    assert events[0]["message"] == 'Container image "redis:7" already present on machine'


def test_killed_node_keeps_terminating_pod_until_it_returns(cluster):
    ok(create_pod(cluster, "web", nodeSelector={"kubernetes.io/hostname": "worker-2"}))
    cluster.advance(10)
    cluster.kill_node("worker-2")
    ok(cluster.request({"verb": "delete", "resource": "pods", "namespace": "default", "name": "web"}))
    cluster.advance(120)
    assert ok(get_pod(cluster, "web"))["metadata"]["deletionTimestamp"]  # nobody confirms the kill
    cluster.restore_node("worker-2")
    cluster.advance(10)
    assert get_pod(cluster, "web")["code"] == 404


def test_the_node_status_loop_reads_the_node_from_the_kubelet_s_informer(cluster):
    """tryUpdateNodeStatus's first try reads the Node from the kubelet's node lister, not the
    API server: a cluster at rest makes no GET of its nodes, yet still reports their status
    every nodeStatusReportFrequency (5 minutes)."""
    from tests.sim.test_metrics import families, total
    get_node = {"verb": "GET", "resource": "nodes", "scope": "resource"}
    patch_status = {"verb": "PATCH", "resource": "nodes", "subresource": "status"}
    gets, patches = (total(families(cluster), "apiserver_request", **get_node),
                     total(families(cluster), "apiserver_request", **patch_status))
    cluster.advance(301)
    assert total(families(cluster), "apiserver_request", **get_node) == gets
    assert total(families(cluster), "apiserver_request", **patch_status) >= patches + 4  # each node once
