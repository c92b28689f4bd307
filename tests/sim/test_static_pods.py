"""kube-system as kubeadm leaves it: the control plane runs as static pods from each
control-plane kubelet's /etc/kubernetes/manifests, mirrored into the API; the node's identity
(machineID, systemUUID, bootID, kubeletVersion) and the images its runtime holds."""
import yaml

from sim.cluster import Cluster, ClusterConfig, NodeSpec
from sim.kubelet.staticpods import CONFIG_HASH, CONFIG_MIRROR, CONFIG_SOURCE
from tests.sim.conftest import ok
from tests.sim.test_containers import advance_until, run_pod, status_of

COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")


def system_pods(c) -> dict[str, dict]:
    """kube-system's static (mirror) pods: not kubeadm's addons, CoreDNS (a Deployment) and
    kube-proxy (a DaemonSet)."""
    items = ok(c.request({"verb": "list", "resource": "pods", "namespace": "kube-system"}))["items"]
    return {p["metadata"]["name"]: p for p in items if CONFIG_MIRROR in (p["metadata"].get("annotations") or {})}


def system_pod(c, name) -> dict:
    return ok(c.request({"verb": "get", "resource": "pods", "namespace": "kube-system", "name": name}))


def node(c, name) -> dict:
    return ok(c.request({"verb": "get", "resource": "nodes", "name": name}))


def restarts(pod) -> int:
    return (pod["status"].get("containerStatuses") or [{}])[0].get("restartCount", 0)


def test_the_control_plane_runs_as_mirrored_static_pods(cluster):
    pods = system_pods(cluster)
    assert sorted(pods) == [f"{c}-cp-1" for c in COMPONENTS]
    cp = node(cluster, "cp-1")
    ip = next(a["address"] for a in cp["status"]["addresses"] if a["type"] == "InternalIP")
    for component in COMPONENTS:
        pod = pods[f"{component}-cp-1"]
        md, spec, status = pod["metadata"], pod["spec"], pod["status"]
        assert md["labels"] == {"component": component, "tier": "control-plane"}
        ann = md["annotations"]
        assert ann[CONFIG_SOURCE] == "file" and ann[CONFIG_MIRROR] == ann[CONFIG_HASH] and len(ann[CONFIG_HASH]) == 32
        assert md["ownerReferences"] == [{"apiVersion": "v1", "kind": "Node", "name": "cp-1",
                                          "uid": cp["metadata"]["uid"], "controller": True}]
        assert spec["nodeName"] == "cp-1" and spec["hostNetwork"] is True
        assert spec["priorityClassName"] == "system-node-critical" and spec["priority"] == 2000001000
        assert {"operator": "Exists", "effect": "NoExecute"} in spec["tolerations"]
        assert spec["containers"][0]["command"][0] == component
        assert status["phase"] == "Running" and status["podIP"] == ip and status["hostIP"] == ip
        cs = status["containerStatuses"][0]
        assert "running" in cs["state"] and cs["ready"] and cs["image"].startswith("registry.k8s.io/")
    api = pods["kube-apiserver-cp-1"]["spec"]["containers"][0]["command"]
    assert "--etcd-servers=https://127.0.0.1:2379" in api and f"--advertise-address={ip}" in api
    # The kubelet's manifest directory holds what kubeadm wrote.
    manifests = cluster.node_components["cp-1"][1].manifests
    assert sorted(manifests) == [f"{c}.yaml" for c in COMPONENTS]
    assert yaml.safe_load(manifests["etcd.yaml"])["metadata"]["name"] == "etcd"
    # Workers run no static pods.
    assert not cluster.node_components["worker-1"][1].manifests


def test_external_etcd_members_are_no_static_pods():
    c = Cluster("ext", ClusterConfig(seed=2, nodes=[NodeSpec("cp-1", "control-plane"), NodeSpec("worker-1")],
                                     etcd_members=3, etcd_topology="external"))
    c.advance(15)
    pods = system_pods(c)
    assert sorted(pods) == ["kube-apiserver-cp-1", "kube-controller-manager-cp-1", "kube-scheduler-cp-1"]
    command = pods["kube-apiserver-cp-1"]["spec"]["containers"][0]["command"]
    assert "--etcd-servers=https://etcd-1:2379,https://etcd-2:2379,https://etcd-3:2379" in command


def test_a_killed_component_is_restarted_by_the_kubelet(cluster):
    scheduler = cluster.schedulers[0]
    cluster.kill_component("cp-1", "kube-scheduler")
    assert not scheduler.running
    advance_until(cluster, lambda: scheduler.running and restarts(system_pod(cluster, "kube-scheduler-cp-1")) == 1
                  and "running" in system_pod(cluster, "kube-scheduler-cp-1")["status"]["containerStatuses"][0]["state"],
                  15)
    cs = system_pod(cluster, "kube-scheduler-cp-1")["status"]["containerStatuses"][0]
    assert cs["lastState"]["terminated"]["exitCode"] == 137
    events = ok(cluster.request({"verb": "list", "resource": "events", "namespace": "kube-system",
                                 "query": {"fieldSelector": "involvedObject.name=kube-scheduler-cp-1"}}))["items"]
    assert {"Pulled", "Created", "Started"} <= {e["reason"] for e in events}
    # It schedules again: it wins back its Lease once the old one expired.
    run_pod(cluster, "after", node="worker-2")
    advance_until(cluster, lambda: status_of(cluster, "after").get("phase") == "Running", 60)


def test_a_killed_apiserver_comes_back_and_serves(cluster):
    api = cluster.apiservers[0]
    cluster.kill_component("cp-1", "kube-apiserver")
    assert cluster.request({"verb": "list", "resource": "pods", "namespace": "kube-system"})["code"] == 503
    advance_until(cluster, lambda: api.running and api.synced, 15)
    advance_until(cluster, lambda: restarts(system_pod(cluster, "kube-apiserver-cp-1")) == 1, 15)


def test_deleting_a_mirror_pod_makes_the_kubelet_create_it_again(cluster):
    old = system_pod(cluster, "kube-controller-manager-cp-1")["metadata"]["uid"]
    ok(cluster.request({"verb": "delete", "resource": "pods", "namespace": "kube-system",
                        "name": "kube-controller-manager-cp-1"}))

    def recreated():
        pod = system_pods(cluster).get("kube-controller-manager-cp-1")
        return pod is not None and pod["metadata"]["uid"] != old and not pod["metadata"].get("deletionTimestamp") \
            and pod["status"].get("phase") == "Running"
    advance_until(cluster, recreated, 10)
    # The component itself never stopped.
    assert cluster.controller_managers[0].running


def test_stopping_a_stacked_etcd_member_removes_its_static_pod_until_restarted():
    c = Cluster("ha", ClusterConfig(seed=4, nodes=[NodeSpec(f"cp-{i}", "control-plane") for i in (1, 2, 3)]
                                    + [NodeSpec("worker-1")], etcd_members=3))
    c.advance(20)
    assert {f"etcd-cp-{i}" for i in (1, 2, 3)} <= set(system_pods(c))
    c.kill_etcd_member("etcd-3")
    advance_until(c, lambda: "etcd-cp-3" not in system_pods(c), 10)
    assert not c._member("etcd-3").running  # the kubelet does not bring it back: its manifest is gone
    c.advance(15)
    assert not c._member("etcd-3").running
    c.restore_etcd_member("etcd-3")
    advance_until(c, lambda: c._member("etcd-3").running and "etcd-cp-3" in system_pods(c), 10)


def test_node_identity_and_a_new_boot_id_after_a_restart(cluster):
    info = node(cluster, "worker-1")["status"]["nodeInfo"]
    assert len(info["machineID"]) == 32 and len(info["systemUUID"]) == 36 and len(info["bootID"]) == 36
    assert info["kubeProxyVersion"] == "" and info["kubeletVersion"] == "v1.36.4"
    assert node(cluster, "worker-2")["status"]["nodeInfo"]["machineID"] != info["machineID"]
    cluster.kill_node("worker-1")
    cluster.advance(5)
    cluster.restore_node("worker-1")
    advance_until(cluster, lambda: node(cluster, "worker-1")["status"]["nodeInfo"]["bootID"] != info["bootID"], 30)
    after = node(cluster, "worker-1")["status"]["nodeInfo"]
    assert (after["machineID"], after["systemUUID"]) == (info["machineID"], info["systemUUID"])


def test_an_added_node_reports_its_kubelet_version_and_labels(cluster):
    cluster.add_node("old-1", runtime="cri-o", kubelet_version="v1.34.1", labels={"disk": "ssd"})
    advance_until(cluster, lambda: cluster.request({"verb": "get", "resource": "nodes", "name": "old-1"})["code"] == 200,
                  10)
    n = node(cluster, "old-1")
    assert n["status"]["nodeInfo"]["kubeletVersion"] == "v1.34.1"
    assert n["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("cri-o://")
    assert n["metadata"]["labels"]["disk"] == "ssd"
    assert n["status"]["nodeInfo"]["kubeProxyVersion"] == ""  # DisableNodeKubeProxyVersion, on since 1.33
    # A kubelet older than 1.33 (but 1.30) still copies its version into kubeProxyVersion.
    cluster.add_node("older-1", kubelet_version="v1.32.3")
    advance_until(cluster, lambda: cluster.request({"verb": "get", "resource": "nodes", "name": "older-1"})["code"] == 200,
                  10)
    info = node(cluster, "older-1")["status"]["nodeInfo"]
    assert (info["kubeletVersion"], info["kubeProxyVersion"]) == ("v1.32.3", "v1.32.3")


def test_status_images_list_what_the_runtime_holds_largest_first(cluster):
    run_pod(cluster, "py", image="docker.io/library/python:3.13.1", command=["sleep", "3600"], node="worker-1")
    advance_until(cluster, lambda: any("docker.io/library/python:3.13.1" in i["names"]
                                       for i in node(cluster, "worker-1")["status"].get("images") or []), 60)
    images = node(cluster, "worker-1")["status"]["images"]
    sizes = [i["sizeBytes"] for i in images]
    assert sizes == sorted(sizes, reverse=True) and len(images) <= 50
    python = next(i for i in images if "docker.io/library/python:3.13.1" in i["names"])
    assert python["names"][0].startswith("docker.io/library/python@sha256:")
    cp = {n for i in node(cluster, "cp-1")["status"]["images"] for n in i["names"]}
    assert "registry.k8s.io/kube-apiserver:v1.36.4" in cp and "registry.k8s.io/etcd:3.6.5-0" in cp


def test_image_locality_prefers_the_node_that_pulled_the_image(cluster):
    image = "docker.io/library/python:3.13.1"  # big (381 MB): worth a score on one node of four
    run_pod(cluster, "first", image=image, command=["sleep", "3600"], node="worker-3")
    advance_until(cluster, lambda: any(image in i["names"] for i in node(cluster, "worker-3")["status"].get("images") or []),
                  60)
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "second", "namespace": "default"},
            "spec": {"containers": [{"name": "c", "image": image, "command": ["sleep", "3600"]}]}}
    ok(cluster.request({"verb": "create", "resource": "pods", "namespace": "default", "body": body}), 201)
    advance_until(cluster, lambda: status_of(cluster, "second").get("phase") is not None
                  and cluster.scheduling_explanation("default", "second") is not None, 10)
    why = cluster.scheduling_explanation("default", "second")
    assert why["node"] == "worker-3"
    scores = {n["name"]: n["scores"]["ImageLocality"]["raw"] for n in why["nodes"] if n.get("scores")}
    assert scores["worker-3"] > 0 and scores["worker-1"] == 0 and scores["worker-2"] == 0


def test_a_docker_node_reports_image_names_in_docker_s_familiar_form(cluster):
    cluster.add_node("docker-1", runtime="docker")
    advance_until(cluster, lambda: cluster.request({"verb": "get", "resource": "nodes", "name": "docker-1"})["code"] == 200,
                  10)
    run_pod(cluster, "web", image="nginx:1.27.3", node="docker-1")
    advance_until(cluster, lambda: any("nginx:1.27.3" in i["names"]
                                       for i in node(cluster, "docker-1")["status"].get("images") or []), 60)
    names = {n for i in node(cluster, "docker-1")["status"]["images"] for n in i["names"]}
    assert "docker.io/library/nginx:1.27.3" not in names


def test_restart_counts_survive_a_reboot_of_the_node_and_a_restart_of_pilothouse(cluster):
    cluster.kill_component("cp-1", "kube-scheduler")
    advance_until(cluster, lambda: restarts(system_pod(cluster, "kube-scheduler-cp-1")) == 1, 15)
    # A restart of Pilothouse (not of the node): the mirror pods keep their uid and counts.
    cluster.advance(2)
    r = Cluster.restore("r", cluster.topology(), cluster.committed_since(0), cluster.now, cluster.compacted_revision)
    r.advance(5)
    pods = system_pods(r)
    assert restarts(pods["kube-scheduler-cp-1"]) == 1 and restarts(pods["kube-apiserver-cp-1"]) == 0
    assert pods["kube-scheduler-cp-1"]["metadata"]["uid"] == system_pod(cluster, "kube-scheduler-cp-1")["metadata"]["uid"]
    # A reboot of the node: every container was started once more.
    r.kill_node("cp-1")
    r.advance(5)
    r.restore_node("cp-1")
    advance_until(r, lambda: restarts(system_pods(r).get("kube-scheduler-cp-1", {"status": {}})) == 2
                  and restarts(system_pod(r, "kube-apiserver-cp-1")) == 1, 30)


def test_a_mirror_pod_s_logs_are_its_static_pod_s(cluster):
    def log(name):
        return cluster.request({"verb": "get", "resource": "pods", "namespace": "kube-system", "name": name,
                                "subresource": "log", "query": {}})
    api = log("kube-apiserver-cp-1")
    assert api["code"] == 200 and "Serving securely on [::]:6443" in api["text"]
    etcd = log("etcd-cp-1")
    assert etcd["code"] == 200 and '"msg":"serving client traffic securely"' in etcd["text"]
