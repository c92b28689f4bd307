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
    # The four static pods and two DaemonSets' pods: the CNI plugin's (kube-flannel.yml tolerates
    # every NoSchedule taint, the control plane's too) and kubeadm's kube-proxy (every taint).
    wait_until(lambda: "(6 in total)" in kubectl_some("describe", "node", "cp-1").stdout, 30, 0.5, "cp-1's pods")
    described = kubectl_some("describe", "node", "cp-1").stdout
    assert "Non-terminated Pods:          (6 in total)" in described, described
    for component in COMPONENTS:
        assert f"kube-system                 {component}-cp-1" in described
    assert "kube-flannel                kube-flannel-ds-" in described, described
    assert "kube-system                 kube-proxy-" in described, described
    assert "250m (6%)" in described  # kube-apiserver's request on 4 CPUs
    # kube-proxy requests nothing (kubeadm's manifest sets no resources): the sum is unchanged.
    assert "Allocated resources:" in described and "cpu                750m (18%)" in described
    assert "Machine ID:" in described and "Boot ID:" in described
    pods = kubectl_some("get", "pods", "-A", "--field-selector",
                        "spec.nodeName=cp-1,status.phase!=Succeeded,status.phase!=Failed", "-o", "name").stdout.split()
    daemons = ("pod/kube-flannel-ds-", "pod/kube-proxy-")
    assert sorted(p for p in pods if not p.startswith(daemons)) == sorted(f"pod/{c}-cp-1" for c in COMPONENTS)
    assert len(pods) == len(COMPONENTS) + 2


def test_get_ds_in_kube_system_shows_kube_proxy_on_every_node(kubectl_some):
    """kubeadm's kube-proxy DaemonSet: a pod per node, control-plane nodes included."""
    nodes = kubectl_some("get", "nodes", "-o", "name").stdout.split()

    def ds_row():
        found = [r for r in rows(kubectl_some("get", "ds", "-n", "kube-system", "-o", "wide").stdout)[1:]
                 if r[0] == "kube-proxy"]
        return found[0] if found else None
    # NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE CONTAINERS IMAGES SELECTOR
    wait_until(lambda: (ds_row() or [None] * 6)[3] == str(len(nodes)), 30, 0.5, "kube-proxy ready on every node")
    row = ds_row()
    assert row[1:6] == [str(len(nodes))] * 5, row
    assert row[6] == "kubernetes.io/os=linux" and row[8] == "kube-proxy", row
    assert row[9].startswith("registry.k8s.io/kube-proxy:v") and row[10] == "k8s-app=kube-proxy", row
    on = kubectl_some("get", "pods", "-n", "kube-system", "-l", "k8s-app=kube-proxy",
                      "-o", "jsonpath={.items[*].spec.nodeName}").stdout.split()
    assert sorted(on) == sorted(n.removeprefix("node/") for n in nodes)
    name = kubectl_some("get", "pods", "-n", "kube-system", "-l", "k8s-app=kube-proxy",
                        "--field-selector", "spec.nodeName=cp-1", "-o", "name").stdout.split()[0]
    assert '"Using iptables proxy"' in kubectl_some("logs", "-n", "kube-system", name).stdout
