"""kube-proxy as kubeadm installs it: the kube-proxy DaemonSet in kube-system
(cmd/kubeadm/app/phases/addons/proxy/manifests.go), whose pod on every node runs the node's
kube-proxy.  The rules are the kernel's: they outlive the pod, and nothing new is programmed on a
node while no kube-proxy runs there."""
from __future__ import annotations

import yaml

from sim.cluster import node_ip
from sim.kubeadm_proxy import IMAGE
from sim.kubeproxy_iptables import service_chain
from tests.sim.conftest import advance_until, ok

NODES = ("cp-1", "worker-1", "worker-2", "worker-3")


def proxy_pods(c) -> dict[str, dict]:
    """The kube-proxy pods by node (not terminating)."""
    pods = ok(c.request({"verb": "list", "resource": "pods", "namespace": "kube-system",
                         "query": {"labelSelector": "k8s-app=kube-proxy"}}))["items"]
    return {p["spec"]["nodeName"]: p for p in pods if not p["metadata"].get("deletionTimestamp")}


def running(c) -> bool:
    pods = proxy_pods(c)
    return set(pods) == set(NODES) and all(p["status"].get("phase") == "Running" for p in pods.values()) \
        and all(c.kube_proxy(n).running for n in NODES)


def web(c, name="web", ip_last=1):
    """A Service and a hand-made EndpointSlice (one endpoint on worker-2); its ClusterIP."""
    svc = ok(c.request({"verb": "create", "resource": "services", "namespace": "default", "body": {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
        "spec": {"ports": [{"port": 80, "targetPort": 8080}]}}}), 201)
    ok(c.request({"verb": "create", "resource": "endpointslices", "group": "discovery.k8s.io", "namespace": "default",
                  "body": {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
                           "metadata": {"name": f"{name}-abcde", "labels": {"kubernetes.io/service-name": name}},
                           "ports": [{"name": "", "port": 8080, "protocol": "TCP"}],
                           "endpoints": [{"addresses": [f"10.244.2.{ip_last}"], "conditions": {"ready": True},
                                          "nodeName": "worker-2"}]}}), 201)
    return svc["spec"]["clusterIP"]


def programmed(c, node, name="web") -> bool:
    return service_chain(f"default/{name}", "tcp") in c.node_iptables(node)["rules"]


def pod_log(c, pod, previous=False) -> str:
    resp = c.request({"verb": "get", "resource": "pods", "subresource": "log", "namespace": "kube-system",
                      "name": pod["metadata"]["name"], "query": {"previous": "true"} if previous else {}})
    assert resp["code"] == 200, resp
    return resp["text"]


def delete_pod(c, pod):
    ok(c.request({"verb": "delete", "resource": "pods", "namespace": "kube-system", "name": pod["metadata"]["name"]}))


def test_the_daemonset_is_kubeadms(cluster):
    ds = ok(cluster.request({"verb": "get", "group": "apps", "resource": "daemonsets", "namespace": "kube-system",
                             "name": "kube-proxy"}))
    assert ds["metadata"]["labels"] == {"k8s-app": "kube-proxy"}
    assert ds["spec"]["selector"] == {"matchLabels": {"k8s-app": "kube-proxy"}}
    assert ds["spec"]["updateStrategy"]["type"] == "RollingUpdate"
    spec = ds["spec"]["template"]["spec"]
    assert ds["spec"]["template"]["metadata"]["labels"] == {"k8s-app": "kube-proxy"}
    assert spec["priorityClassName"] == "system-node-critical" and spec["hostNetwork"] is True
    assert spec["serviceAccountName"] == "kube-proxy" and spec["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert spec["tolerations"] == [{"operator": "Exists"}]
    volumes = spec["volumes"]
    assert [v["name"] for v in volumes] == ["kube-proxy", "xtables-lock", "lib-modules"]
    assert volumes[0]["configMap"]["name"] == "kube-proxy"
    assert volumes[1]["hostPath"] == {"path": "/run/xtables.lock", "type": "FileOrCreate"}
    assert volumes[2]["hostPath"]["path"] == "/lib/modules"
    (container,) = spec["containers"]
    assert container["command"] == ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf",
                                    "--hostname-override=$(NODE_NAME)"]
    assert container["securityContext"] == {"privileged": True} and not container.get("resources")
    assert container["env"][0]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
    assert [m["mountPath"] for m in container["volumeMounts"]] == ["/var/lib/kube-proxy", "/run/xtables.lock",
                                                                   "/lib/modules"]
    # The image is the cluster's release, the control plane's.
    apiserver = ok(cluster.request({"verb": "get", "resource": "pods", "namespace": "kube-system",
                                    "name": "kube-apiserver-cp-1"}))
    assert container["image"] == IMAGE == "registry.k8s.io/kube-proxy:" + \
        apiserver["spec"]["containers"][0]["image"].rsplit(":", 1)[1]
    # The ConfigMap it mounts says the mode the nodes' kube-proxies run.
    cm = ok(cluster.request({"verb": "get", "resource": "configmaps", "namespace": "kube-system", "name": "kube-proxy"}))
    assert (yaml.safe_load(cm["data"]["config.conf"])["mode"] or "iptables") == cluster.kube_proxy("worker-1").mode


def test_a_kube_proxy_pod_runs_on_every_node_the_control_plane_too(cluster):
    advance_until(cluster, lambda: running(cluster), 10)
    pods = proxy_pods(cluster)
    for i, node in enumerate(NODES):
        pod = pods[node]
        assert pod["metadata"]["ownerReferences"][0]["kind"] == "DaemonSet"
        assert pod["status"]["podIP"] == node_ip(i)   # the host's network
        assert pod["status"]["containerStatuses"][0]["ready"] is True
        assert cluster.kube_proxy(node).syncs >= 1
    log = pod_log(cluster, pods["worker-1"])
    assert '"Using iptables proxy"' in log and '"Starting service config controller"' in log
    ds = ok(cluster.request({"verb": "get", "group": "apps", "resource": "daemonsets", "namespace": "kube-system",
                             "name": "kube-proxy"}))
    advance_until(cluster, lambda: ok(cluster.request({
        "verb": "get", "group": "apps", "resource": "daemonsets", "namespace": "kube-system",
        "name": "kube-proxy"}))["status"].get("numberReady") == 4, 10)
    assert ds["status"]["desiredNumberScheduled"] == 4


def test_a_killed_kube_proxy_pod_leaves_the_rules_and_the_daemonset_replaces_it(cluster):
    advance_until(cluster, lambda: running(cluster), 10)
    vip = web(cluster)
    advance_until(cluster, lambda: all(programmed(cluster, n) for n in NODES), 5)
    proxy = cluster.kube_proxy("worker-1")
    old = proxy_pods(cluster)["worker-1"]
    delete_pod(cluster, old)
    advance_until(cluster, lambda: not proxy.running, 35)
    # No kube-proxy on worker-1 now: its rules stay, and packets still follow them.
    assert programmed(cluster, "worker-1") and cluster.node_proxy_rules("worker-1")["running"] is False
    assert proxy.route({"src": "10.244.1.9", "dst": vip, "dport": 80})["endpoint"] == "10.244.2.1:8080"
    # A Service created meanwhile is programmed everywhere else, and on worker-1 only once its
    # replacement pod runs kube-proxy again.
    web(cluster, "late", 2)
    full = proxy.full_syncs
    while not proxy.running:
        assert not programmed(cluster, "worker-1", "late")
        cluster.advance(0.1)
        assert cluster.now < 200
    advance_until(cluster, lambda: all(programmed(cluster, n, "late") for n in NODES), 3)
    assert proxy.full_syncs == full + 1   # a new process: its first sync is full
    new = proxy_pods(cluster)["worker-1"]
    assert new["metadata"]["uid"] != old["metadata"]["uid"]
    assert new["metadata"]["ownerReferences"][0]["name"] == "kube-proxy"


def test_deleting_the_daemonset_stops_kube_proxy_and_the_rules_stay(cluster):
    advance_until(cluster, lambda: running(cluster), 10)
    vip = web(cluster)
    advance_until(cluster, lambda: all(programmed(cluster, n) for n in NODES), 5)
    ok(cluster.request({"verb": "delete", "group": "apps", "resource": "daemonsets", "namespace": "kube-system",
                        "name": "kube-proxy"}))
    advance_until(cluster, lambda: not proxy_pods(cluster) and not any(cluster.kube_proxy(n).running for n in NODES),
                  60)
    assert all(programmed(cluster, n) for n in NODES)
    assert cluster.kube_proxy("worker-3").route({"src": "10.244.3.9", "dst": vip, "dport": 80})["endpoint"] \
        == "10.244.2.1:8080"
    web(cluster, "late", 2)
    cluster.advance(10)
    assert not any(programmed(cluster, n, "late") for n in NODES)


def test_the_mode_comes_from_the_configmap_and_a_bad_one_crashes_the_pod(cluster):
    advance_until(cluster, lambda: running(cluster), 10)
    web(cluster)
    advance_until(cluster, lambda: programmed(cluster, "worker-1"), 5)
    proxy = cluster.kube_proxy("worker-1")

    def set_mode(mode):
        cm = ok(cluster.request({"verb": "get", "resource": "configmaps", "namespace": "kube-system",
                                 "name": "kube-proxy"}))
        conf = yaml.safe_load(cm["data"]["config.conf"])
        conf["mode"] = mode
        cm["data"]["config.conf"] = yaml.safe_dump(conf)
        ok(cluster.request({"verb": "update", "resource": "configmaps", "namespace": "kube-system",
                            "name": "kube-proxy", "body": cm}))

    set_mode("bogus")
    delete_pod(cluster, proxy_pods(cluster)["worker-1"])

    def crashed():
        pod = proxy_pods(cluster).get("worker-1")
        statuses = (pod or {}).get("status", {}).get("containerStatuses") or [{}]
        return statuses[0].get("restartCount", 0) >= 1
    advance_until(cluster, crashed, 60)
    pod = proxy_pods(cluster)["worker-1"]
    assert not proxy.running and programmed(cluster, "worker-1")   # the old rules stay
    log = pod_log(cluster, pod, previous=True)
    assert '"command failed" err="invalid configuration: KubeProxyConfiguration.ProxyMode: Invalid value: ' \
           '"bogus": must be iptables, ipvs, nftables or blank' in log, log
    # Fixed to nftables: the next restart runs nftables mode, and programs the Service in it.
    set_mode("nftables")
    delete_pod(cluster, pod)
    advance_until(cluster, lambda: proxy.running and proxy.syncs and proxy.mode == "nftables"
                  and "default/web" in proxy.proxy_rules()["text"], 60)
    assert cluster.node_proxy_rules("worker-1")["mode"] == "nftables"
    assert cluster.kube_proxy("worker-2").mode == "iptables"   # its pod still runs what it read


def test_a_node_power_cycle_clears_the_rules_until_its_pod_runs_again(cluster):
    advance_until(cluster, lambda: running(cluster), 10)
    web(cluster)
    advance_until(cluster, lambda: programmed(cluster, "worker-3"), 5)
    cluster.kill_node("worker-3")
    assert not cluster.kube_proxy("worker-3").running and not programmed(cluster, "worker-3")
    cluster.restore_node("worker-3")
    advance_until(cluster, lambda: cluster.kube_proxy("worker-3").running and programmed(cluster, "worker-3"), 60)


def test_after_a_restart_of_pilothouse_kube_proxy_programs_the_services_again(cluster):
    """A restored cluster adopts the running pods without their volumes: kube-proxy finds no
    config.conf and exits; the kubelet sees it exited (its first relist), reconstructs the pod's
    volumes and restarts it, and the new process programs every Service."""
    from sim.cluster import Cluster
    advance_until(cluster, lambda: running(cluster), 10)
    web(cluster)
    advance_until(cluster, lambda: all(programmed(cluster, n) for n in NODES), 5)
    r = Cluster.restore("r", cluster.topology(), cluster.committed_since(0), cluster.now, cluster.compacted_revision)
    advance_until(r, lambda: all(r.kube_proxy(n).running and programmed(r, n) for n in NODES), 15)
    pod = proxy_pods(r)["worker-1"]
    assert pod["status"]["containerStatuses"][0]["restartCount"] == 1
    assert "config.conf: no such file or directory" in pod_log(r, pod, previous=True)


def test_the_process_reads_and_validates_its_config_file_as_kube_proxy_does():
    from sim.kubeproxy_process import read_config
    from sim.runtime.process import FileSystem, ProcessContext

    def read(conf, *flags):
        fs = FileSystem({"/var/lib/kube-proxy/config.conf": conf} if conf is not None else {})
        return read_config(ProcessContext(argv=["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf",
                                                *flags], env={}, hostname="", fs=fs))
    good = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\nclusterCIDR: 10.244.0.0/16\n"
    assert read(good) == ({"mode": "ipvs", "clusterCIDR": "10.244.0.0/16"}, None)
    assert read(good, "--proxy-mode=nftables")[0]["mode"] == "nftables"   # a flag overrides the file
    assert read(None)[1] == ('failed to read config file "/var/lib/kube-proxy/config.conf", error: open '
                             '/var/lib/kube-proxy/config.conf: no such file or directory')
    assert "not a KubeProxyConfiguration" in read("kind: Pod\n")[1]
    assert read("kind: KubeProxyConfiguration\nmode: userspace\n")[1] == (
        'invalid configuration: KubeProxyConfiguration.ProxyMode: Invalid value: "userspace": must be iptables, '
        'ipvs, nftables or blank (blank means the best-available proxy [currently iptables])')
    assert "must be a valid DualStack CIDR" in read("kind: KubeProxyConfiguration\nclusterCIDR: 10.1.0.0/16,10.2.0.0/16\n")[1]
    assert "must be a valid CIDR block" in read("kind: KubeProxyConfiguration\nclusterCIDR: nonsense\n")[1]
    assert "file too large" in read("kind: KubeProxyConfiguration\n#" + "x" * 300_000 + "\n")[1]
