"""kube-system as kubeadm leaves it, with the machine's real kubectl: the control plane's mirror
pods are listed Running on the control-plane node's IP, and `kubectl describe node` lists the
node's non-terminated pods (the field selector spec.nodeName=…,status.phase!=Succeeded,
status.phase!=Failed) with their requests and the node's allocated resources."""
from __future__ import annotations

from tests.conftest import wait_until
from tests.kubectl.conftest import rows

COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")


def control_plane_nodes(kubectl) -> list[str]:
    out = kubectl("get", "nodes", "-l", "node-role.kubernetes.io/control-plane", "-o", "name").stdout.split()
    return [n.removeprefix("node/") for n in out]


def test_get_pods_in_kube_system_lists_the_static_pods(kubectl_some):
    nodes = control_plane_nodes(kubectl_some)
    assert nodes
    wanted = {f"{c}-{n}" for c in COMPONENTS for n in nodes}  # a stacked etcd member on each

    def table():
        return {r[0]: r for r in rows(kubectl_some("get", "pods", "-n", "kube-system", "-o", "wide").stdout)[1:]}
    wait_until(lambda: wanted <= set(table()), 30, 0.5, "the mirror pods")
    ips = {n: kubectl_some("get", "node", n, "-o", "jsonpath={.status.addresses[0].address}").stdout for n in nodes}
    for name, row in table().items():
        if name in wanted:
            # NAME READY STATUS RESTARTS AGE IP NODE ...
            node = name.rsplit("-", 2)[-2] + "-" + name.rsplit("-", 1)[-1]
            assert row[1] == "1/1" and row[2] == "Running" and row[5] == ips[node] and row[6] == node, row
    selected = kubectl_some("get", "pods", "-n", "kube-system", "-l", "tier=control-plane", "-o", "name").stdout.split()
    assert sorted(selected) == sorted(f"pod/{n}" for n in wanted)
    # A mirror pod's log is its static pod's container's.
    assert "Serving securely on [::]:6443" in kubectl_some("logs", "-n", "kube-system", f"kube-apiserver-{nodes[0]}").stdout


def test_describe_node_lists_its_non_terminated_pods(kubectl_some):
    described = kubectl_some("describe", "node", "cp-1").stdout
    # The four static pods and the CNI plugin's DaemonSet pod (kube-flannel.yml tolerates every
    # NoSchedule taint, the control plane's too).
    assert "Non-terminated Pods:          (5 in total)" in described, described
    for component in COMPONENTS:
        assert f"kube-system                 {component}-cp-1" in described
    assert "kube-flannel                kube-flannel-ds-" in described, described
    assert "250m (6%)" in described  # kube-apiserver's request on 4 CPUs
    assert "Allocated resources:" in described and "cpu                750m (18%)" in described
    assert "Machine ID:" in described and "Boot ID:" in described
    pods = kubectl_some("get", "pods", "-A", "--field-selector",
                        "spec.nodeName=cp-1,status.phase!=Succeeded,status.phase!=Failed", "-o", "name").stdout.split()
    assert sorted(p for p in pods if not p.startswith("pod/kube-flannel-ds-")) == sorted(f"pod/{c}-cp-1" for c in COMPONENTS)
    assert len(pods) == len(COMPONENTS) + 1
