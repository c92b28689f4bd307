"""An HA control plane (issue 3): three control-plane nodes, stacked etcd, leader election of
kube-scheduler and kube-controller-manager over Leases."""
import pytest

from sim.cluster import Cluster, ClusterConfig, ClusterError, NodeSpec
from tests.sim.conftest import create_pod, get_pod, ok


def _ha(topology="stacked", seed=31):
    nodes = [NodeSpec(f"cp-{i}", "control-plane", "4", "16Gi") for i in (1, 2, 3)] + \
            [NodeSpec(f"worker-{i}") for i in (1, 2, 3)]
    cfg = ClusterConfig(seed=seed, nodes=nodes, etcd_members=3, etcd_topology=topology)
    c = Cluster("ha", cfg)
    c.advance(30)
    return c


def _active(c, component):
    return [x.host for x in c.control_plane if x.component == component and x.running and x.leading]


def test_one_active_scheduler_and_controller_manager():
    c = _ha()
    assert len(_active(c, "kube-scheduler")) == 1
    assert len(_active(c, "kube-controller-manager")) == 1
    lease = ok(c.request({"verb": "get", "group": "coordination.k8s.io", "resource": "leases",
                          "namespace": "kube-system", "name": "kube-scheduler"}))
    assert lease["spec"]["holderIdentity"].startswith(_active(c, "kube-scheduler")[0] + "_")
    assert {m["host"] for m in c.etcd_status()} == {"cp-1", "cp-2", "cp-3"}
    ok(create_pod(c, "web"))
    c.advance(10)
    assert ok(get_pod(c, "web"))["status"]["phase"] == "Running"


def test_losing_the_node_of_the_active_scheduler_hands_over_its_lease():
    c = _ha()
    host = _active(c, "kube-scheduler")[0]
    c.kill_node(host)
    # The lease (15 s) must expire as seen by the others before one takes over.
    c.advance(25)
    new = _active(c, "kube-scheduler")
    assert len(new) == 1 and new[0] != host
    ok(create_pod(c, "after"))
    c.advance(10)
    pod = ok(get_pod(c, "after"))
    assert pod["spec"]["nodeName"] and pod["status"]["phase"] == "Running"
    # Two of three stacked members remain: etcd still has quorum and a leader.
    assert sum(1 for m in c.etcd_status() if m["role"] == "leader") == 1


def test_losing_two_stacked_control_plane_nodes_loses_etcd_quorum():
    c = _ha()
    c.kill_node("cp-2")
    c.kill_node("cp-3")
    resp = create_pod(c, "stuck")
    assert resp["code"] == 504  # etcd: no quorum, so the write cannot commit
    c.restore_node("cp-2")
    c.advance(30)
    assert ok(create_pod(c, "unstuck"))["metadata"]["name"] == "unstuck"


def test_external_etcd_survives_control_plane_losses():
    c = _ha("external")
    c.kill_node("cp-2")
    c.kill_node("cp-3")
    ok(create_pod(c, "ok-still"))  # etcd on its own hosts keeps its quorum
    c.advance(40)
    assert ok(get_pod(c, "ok-still"))["status"]["phase"] == "Running"


def test_control_plane_size_rules():
    nodes = [NodeSpec(f"cp-{i}", "control-plane") for i in (1, 2)] + [NodeSpec("worker-1")]
    with pytest.raises(ClusterError, match="1 or 3 control-plane nodes"):
        Cluster("x", ClusterConfig(nodes=nodes, etcd_members=1, etcd_topology="external"))
