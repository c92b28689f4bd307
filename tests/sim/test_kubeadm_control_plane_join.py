"""A stacked HA control plane installed by hand (sim/kubeadm_install.py): `kubeadm init
--upload-certs`, the pod network, then `kubeadm join --control-plane --certificate-key` on two
more hosts.  Each joins etcd as a learner promoted once in sync (kubeadm's learner mode), and
runs kube-apiserver, kube-controller-manager and kube-scheduler as a control-plane node built at
construction does: three etcd voters, three apiservers, one holder of each Lease; losing the
first control-plane node leaves a working control plane."""
from __future__ import annotations

import json

import pytest

from sim.cluster import Cluster, ClusterError
from sim.clusterconfig import config_from_spec
from sim.kubeadm_install import decrypt_certs
from tests.sim.conftest import create_pod, get_pod, ok
from tests.sim.kubeadm_helpers import finish_kubeadm

NODES = [{"name": "cp-1", "role": "control-plane"}, {"name": "cp-2"}, {"name": "cp-3"}, {"name": "worker-1"}]


def _cluster() -> Cluster:
    c = Cluster("ha", config_from_spec({"install": "kubeadm", "seed": 7, "nodes": NODES}))
    c.advance(2)
    return c


def _finish(c: Cluster, host: str, limit: float = 200) -> dict:
    return finish_kubeadm(c, host, limit)


def _node(c: Cluster, name: str) -> dict | None:
    return c.serving_apiserver().cache.objects("nodes").get(("", name))


def _active(c: Cluster, component: str) -> list[str]:
    return [x.host for x in c.control_plane if x.component == component and x.running and x.leading]


@pytest.fixture(scope="module")
def ha():
    c = _cluster()
    c.kubeadm_init("cp-1", upload_certs=True)
    init = _finish(c, "cp-1")
    assert init["state"] == "succeeded", init
    c.kubeadm_pod_network()
    c.advance(10)
    token, key = c.config.kubeadm["token"], c.config.kubeadm["certificateKey"]
    runs = {}
    for host in ("cp-2", "cp-3"):
        c.kubeadm_join(host, token, control_plane=True, certificate_key=key)
        runs[host] = _finish(c, host)
        assert runs[host]["state"] == "succeeded", runs[host]
    c.kubeadm_join("worker-1", token)
    assert _finish(c, "worker-1")["state"] == "succeeded"
    c.advance(30)
    return c, init, runs


def test_init_with_upload_certs_prints_the_certificate_key_and_the_control_plane_join_command(ha):
    c, init, _ = ha
    key = c.config.kubeadm["certificateKey"]
    out = init["output"]
    assert init["command"] == "kubeadm init --upload-certs"
    assert out[out.index("[upload-certs] Using certificate key:") + 1] == key and len(key) == 64
    cp_join = next(line.strip() for line in out if "--control-plane" in line)
    assert cp_join.startswith("kubeadm join 192.168.0.10:6443 --token ") and \
        cp_join.endswith(f"--control-plane --certificate-key {key}")
    assert "You can now join any number of control-plane nodes running the following command on each as root:" in out
    secret = ok(c.request({"verb": "get", "resource": "secrets", "namespace": "kube-system", "name": "kubeadm-certs"}))
    assert set(secret["data"]) >= {"ca.crt", "ca.key", "sa.key", "etcd-ca.crt"}
    # Encrypted: only the key opens it, and the CA in it is the cluster's.
    assert decrypt_certs(secret["data"], key)["ca.crt"].decode() == c.ca.certificate_pem
    owner = secret["metadata"]["ownerReferences"][0]
    token = ok(c.request({"verb": "get", "resource": "secrets", "namespace": "kube-system", "name": owner["name"]}))
    assert token["type"] == "bootstrap.kubernetes.io/token"   # its 2 h expiry is the Secret's


def test_the_join_prints_kubeadms_control_plane_phases(ha):
    _, _, runs = ha
    out = runs["cp-2"]["output"]
    assert runs["cp-2"]["command"].endswith("--control-plane --certificate-key " + ha[0].config.kubeadm["certificateKey"])
    order = ["[preflight] Running pre-flight checks before initializing the new control plane instance",
             '[download-certs] Downloading the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace',
             '[control-plane] Creating static Pod manifest for "kube-apiserver"',
             "[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap",
             "[etcd] Announced new etcd member joining to the existing etcd cluster",
             "[etcd] Waiting for the new etcd member to join the cluster. This can take up to 40s",
             "This node has joined the cluster and a new control plane instance was created:",
             "* A new etcd member was added to the local/stacked etcd cluster."]
    assert [out.index(line) for line in order] == sorted(out.index(line) for line in order)
    assert any(line.startswith("[mark-control-plane] Marking the node cp-2 as control-plane") for line in out)


def test_three_etcd_voters_three_apiservers_and_one_holder_of_each_lease(ha):
    c, _, _ = ha
    members = c.etcd_member_list()
    assert sorted(m["host"] for m in members) == ["cp-1", "cp-2", "cp-3"]
    assert not any(m["isLearner"] for m in members)
    assert sum(1 for m in c.etcd_status() if m["role"] == "leader") == 1
    assert c.cp_hosts == ["cp-1", "cp-2", "cp-3"]
    assert [a.host for a in c.apiservers if a.running and a.synced] == ["cp-1", "cp-2", "cp-3"]
    # Each new apiserver's etcd is its local member first.
    for host in ("cp-2", "cp-3"):
        api = c.cp_components[host][0]
        local = next(m for m in c.etcd_members if m.host == host)
        assert api.etcd_endpoints[0] == local.address
    assert len(_active(c, "kube-scheduler")) == 1 and len(_active(c, "kube-controller-manager")) == 1
    assert sorted(x.host for x in c.control_plane if x.component == "kube-scheduler") == ["cp-1", "cp-2", "cp-3"]
    lease = ok(c.request({"verb": "get", "group": "coordination.k8s.io", "resource": "leases",
                          "namespace": "kube-system", "name": "kube-controller-manager"}))
    assert lease["spec"]["holderIdentity"].startswith(_active(c, "kube-controller-manager")[0] + "_")


def test_the_joined_nodes_are_control_plane_nodes_with_their_static_pods(ha):
    c, _, _ = ha
    for host in ("cp-2", "cp-3"):
        node = _node(c, host)
        assert "node-role.kubernetes.io/control-plane" in node["metadata"]["labels"]
        assert "node.kubernetes.io/exclude-from-external-load-balancers" in node["metadata"]["labels"]
        assert {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"} in node["spec"]["taints"]
        ready = next(x["status"] for x in node["status"]["conditions"] if x["type"] == "Ready")
        assert ready == "True"
        for comp in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"):
            pod = ok(c.request({"verb": "get", "resource": "pods", "namespace": "kube-system",
                                "name": f"{comp}-{host}"}))
            assert pod["status"]["phase"] == "Running", (comp, host)
    assert "node-role.kubernetes.io/control-plane" not in _node(c, "worker-1")["metadata"]["labels"]
    assert c.kubeadm_status()["hosts"][1] == {"name": "cp-2", "role": "control-plane", "installed": True,
                                               "registered": True}


def test_a_wrong_certificate_key_is_refused():
    c = _cluster()
    c.kubeadm_init("cp-1", upload_certs=True)
    assert _finish(c, "cp-1")["state"] == "succeeded"
    token, key = c.config.kubeadm["token"], c.config.kubeadm["certificateKey"]
    wrong = key[::-1]
    c.kubeadm_join("cp-2", token, control_plane=True, certificate_key=wrong)
    run = _finish(c, "cp-2")
    assert run["state"] == "failed"
    assert run["error"] == ("error execution phase control-plane-prepare/download-certs: error downloading certs: "
                            "error decoding secret data with provided key: cipher: message authentication failed")
    assert not c.host_installed("cp-2") and len(c.etcd_member_list()) == 1 and c.cp_hosts == ["cp-1"]
    # Without a key the certificates must be on the host already: they are not.
    c.kubeadm_join("cp-2", token, control_plane=True)
    run = _finish(c, "cp-2")
    assert run["state"] == "failed" and "one or more conditions for hosting a new control plane" in run["error"]
    # The right key: it joins.
    c.kubeadm_join("cp-2", token, control_plane=True, certificate_key=key)
    assert _finish(c, "cp-2")["state"] == "succeeded"
    assert c.cp_hosts == ["cp-1", "cp-2"] and len(c.etcd_member_list()) == 2


def test_join_control_plane_without_upload_certs_finds_no_kubeadm_certs():
    c = _cluster()
    c.kubeadm_init("cp-1")
    assert _finish(c, "cp-1")["state"] == "succeeded"
    c.kubeadm_join("cp-2", c.config.kubeadm["token"], control_plane=True, certificate_key="ab" * 32)
    run = _finish(c, "cp-2")
    assert run["state"] == "failed" and 'secrets "kubeadm-certs" not found' in run["error"]
    with pytest.raises(ClusterError):
        c.kubeadm_join("cp-3", c.config.kubeadm["token"], control_plane="yes")


def _persisted(c: Cluster) -> tuple:
    return (json.loads(json.dumps(c.topology())), c.committed_since(0), c.now, c.compacted_revision,
            json.loads(json.dumps(c.etcd_disk_states())))


def test_a_restart_of_pilothouse_keeps_the_three_control_plane_nodes(ha):
    c, _, _ = ha
    topology, log, now, compacted, disks = _persisted(c)
    r = Cluster.restore("ha", topology, log, now, compacted, etcd_disks=disks)
    r.advance(30)
    assert r.cp_hosts == ["cp-1", "cp-2", "cp-3"]
    assert sorted(m["host"] for m in r.etcd_member_list()) == ["cp-1", "cp-2", "cp-3"]
    assert not any(m["isLearner"] for m in r.etcd_member_list())
    assert all(a.running for a in r.apiservers) and len(r.apiservers) == 3
    assert len(_active(r, "kube-scheduler")) == 1
    ok(create_pod(r, "after-restart"))
    r.advance(15)
    assert ok(get_pod(r, "after-restart"))["status"]["phase"] == "Running"


def test_losing_the_first_control_plane_node_leaves_a_working_control_plane():
    c = _cluster()
    c.kubeadm_init("cp-1", upload_certs=True)
    assert _finish(c, "cp-1")["state"] == "succeeded"
    c.kubeadm_pod_network()
    c.advance(10)
    token, key = c.config.kubeadm["token"], c.config.kubeadm["certificateKey"]
    for host in ("cp-2", "cp-3"):
        c.kubeadm_join(host, token, control_plane=True, certificate_key=key)
        assert _finish(c, host)["state"] == "succeeded"
    c.kubeadm_join("worker-1", token)
    assert _finish(c, "worker-1")["state"] == "succeeded"
    c.advance(30)
    # Make cp-1 lead etcd and hold the Leases where it can, then power it off.
    first = next(m for m in c.etcd_members if m.host == "cp-1")
    if not first.is_leader:
        c.etcd_transfer_leadership(first.name)
        c.advance(3)
    c.kill_node("cp-1")
    c.advance(30)
    leaders = [m for m in c.etcd_status() if m["role"] == "leader"]
    assert len(leaders) == 1 and leaders[0]["host"] in ("cp-2", "cp-3")
    assert c.serving_apiserver().host in ("cp-2", "cp-3")
    assert _active(c, "kube-scheduler")[0] in ("cp-2", "cp-3")
    assert _active(c, "kube-controller-manager")[0] in ("cp-2", "cp-3")
    ok(create_pod(c, "after"))
    c.advance(15)
    pod = ok(get_pod(c, "after"))
    assert pod["spec"]["nodeName"] == "worker-1" and pod["status"]["phase"] == "Running"


def test_a_joined_control_plane_node_powers_off_and_on_with_its_static_pods(ha):
    c, _, _ = ha
    c.kill_node("cp-3")
    c.advance(5)
    assert not c.cp_components["cp-3"][0].running
    assert not next(m for m in c.etcd_members if m.host == "cp-3").running
    ok(create_pod(c, "while-cp-3-down"))
    c.restore_node("cp-3")
    c.advance(20)
    assert c.cp_components["cp-3"][0].running and c.cp_components["cp-3"][0].synced
    assert {m["host"]: m["role"] in ("leader", "follower") for m in c.etcd_status()} == \
        {"cp-1": True, "cp-2": True, "cp-3": True}
    # Its kube-apiserver is a static pod the kubelet restarts when killed.
    c.kill_component("cp-3", "kube-apiserver")
    c.advance(15)
    assert c.cp_components["cp-3"][0].running
    assert ok(get_pod(c, "while-cp-3-down"))["status"]["phase"] == "Running"


def test_two_control_plane_nodes_joining_at_once_both_join():
    """etcd takes one learner at a time ("too many learner members in cluster"): the second
    join's etcd client polls its member add until the first learner is promoted, as kubeadm's
    does, and both nodes join."""
    c = _cluster()
    c.kubeadm_init("cp-1", upload_certs=True)
    assert _finish(c, "cp-1")["state"] == "succeeded"
    c.kubeadm_pod_network()
    c.advance(10)
    token, key = c.config.kubeadm["token"], c.config.kubeadm["certificateKey"]
    for host in ("cp-2", "cp-3"):
        c.kubeadm_join(host, token, control_plane=True, certificate_key=key)
    runs = {host: _finish(c, host) for host in ("cp-2", "cp-3")}
    assert all(r["state"] == "succeeded" for r in runs.values()), runs
    assert sorted((m["host"], m["isLearner"]) for m in c.etcd_member_list()) == \
        [("cp-1", False), ("cp-2", False), ("cp-3", False)]
