"""Installing a cluster with kubeadm, step by step (sim/kubeadm_install.py): a cluster created
with "install": "kubeadm" has hosts and containerd only; `kubeadm init` prints upstream's
phases and brings up etcd and the control plane through the kubelet's static pods; the nodes
are NotReady until the pod network's manifest is applied; `kubeadm join` checks the token
against cluster-info's signature before the worker's kubelet starts."""
from __future__ import annotations

import base64

import pytest

from sim.cluster import Cluster, ClusterError
from sim.clusterconfig import ConfigError, config_from_spec
from sim.kubeadm_install import TOKEN_PATTERN, detached_jws
from tests.sim.kubeadm_helpers import finish_kubeadm


def _cluster(**spec) -> Cluster:
    c = Cluster("k", config_from_spec({"install": "kubeadm", "seed": 4, **spec}))
    c.advance(2)
    return c


def _finish(c: Cluster, host: str, limit: float = 120) -> dict:
    return finish_kubeadm(c, host, limit)


def _obj(c: Cluster, resource: str, ns: str, name: str) -> dict | None:
    return c.serving_apiserver().cache.objects(resource).get((ns, name))


def _ready(c: Cluster, node: str) -> str | None:
    obj = _obj(c, "nodes", "", node)
    conds = ((obj or {}).get("status") or {}).get("conditions") or []
    return next((x["status"] for x in conds if x["type"] == "Ready"), None)


def _until(c: Cluster, predicate, limit: float = 90) -> None:
    deadline = c.now + limit
    while not predicate():
        assert c.now < deadline, "condition not reached"
        c.advance(0.5)


@pytest.fixture(scope="module")
def initialised():
    c = _cluster()
    c.kubeadm_init("cp-1")
    run = _finish(c, "cp-1")
    assert run["state"] == "succeeded", run
    return c, run


def test_before_kubeadm_the_hosts_run_only_containerd():
    c = _cluster()
    assert c.serving_apiserver() is None, "no API server before kubeadm init"
    for name, comps in c.node_components.items():
        runtime, kubelet = comps[:2]
        assert runtime.running and not kubelet.running, name
    assert not any(m.running for m in c.etcd_members)
    assert [h["installed"] for h in c.kubeadm_status()["hosts"]] == [False] * 4


def test_init_prints_upstreams_phases_in_order(initialised):
    _, run = initialised
    out = run["output"]
    firsts = []
    for line in out:
        if line.startswith("[") and "]" in line:
            phase = line[1:line.index("]")]
            if phase not in firsts:
                firsts.append(phase)
    assert firsts == ["init", "preflight", "certs", "kubeconfig", "etcd", "control-plane", "kubelet-start",
                      "wait-control-plane", "kubelet-check", "api-check", "upload-config", "kubelet",
                      "upload-certs", "mark-control-plane", "bootstrap-token", "kubelet-finalize", "addons"]
    assert "Your Kubernetes control-plane has initialized successfully!" in out
    assert out[-1].startswith("kubeadm join 192.168.0.10:6443 --token ")
    assert "--discovery-token-ca-cert-hash sha256:" in out[-1]


def test_init_runs_the_control_plane_as_static_pods_and_writes_what_kubeadm_writes(initialised):
    c, run = initialised
    # The kubelet's mirror pods of the static pods kubeadm wrote.
    for pod in ("etcd-cp-1", "kube-apiserver-cp-1", "kube-controller-manager-cp-1", "kube-scheduler-cp-1"):
        _until(c, lambda pod=pod: _obj(c, "pods", "kube-system", pod) is not None, 30)
    assert "ClusterConfiguration" in _obj(c, "configmaps", "kube-system", "kubeadm-config")["data"]
    assert "kubelet" in _obj(c, "configmaps", "kube-system", "kubelet-config")["data"]
    token = c.config.kubeadm["token"]
    token_id, token_secret = TOKEN_PATTERN.match(token).groups()
    secret = _obj(c, "secrets", "kube-system", f"bootstrap-token-{token_id}")
    assert secret["type"] == "bootstrap.kubernetes.io/token"
    assert base64.b64decode(secret["data"]["token-secret"]).decode() == token_secret
    info = _obj(c, "configmaps", "kube-public", "cluster-info")["data"]
    assert info[f"jws-kubeconfig-{token_id}"] == detached_jws(info["kubeconfig"], token_id, token_secret)
    assert _obj(c, "deployments.apps", "kube-system", "coredns") and _obj(c, "daemonsets.apps", "kube-system", "kube-proxy")
    labels = _obj(c, "nodes", "", "cp-1")["metadata"]["labels"]
    assert "node-role.kubernetes.io/control-plane" in labels
    assert "node.kubernetes.io/exclude-from-external-load-balancers" in labels


def test_nodes_are_ready_only_once_the_pod_network_is_applied_then_a_worker_joins(initialised):
    c, _ = initialised
    c.advance(10)
    assert _ready(c, "cp-1") == "False", "no CNI configuration yet: the runtime's network is not ready"
    c.kubeadm_pod_network()
    _until(c, lambda: _ready(c, "cp-1") == "True")
    c.kubeadm_join("worker-1", c.config.kubeadm["token"])
    run = _finish(c, "worker-1")
    assert run["state"] == "succeeded", run
    assert run["output"][-1] == "Run 'kubectl get nodes' on the control-plane to see this node join the cluster."
    _until(c, lambda: _ready(c, "worker-1") == "True")
    assert _obj(c, "nodes", "", "worker-2") is None, "not joined"


@pytest.mark.parametrize("token, error", [
    ("abcdef.0123456789abcdef",
     'could not find a JWS signature in the cluster-info ConfigMap for token ID "abcdef"'),
    ("not-a-token", 'the bootstrap token "not-a-token" was not of the form'),
])
def test_join_with_a_wrong_token_fails_as_upstream(initialised, token, error):
    c, _ = initialised
    c.kubeadm_join("worker-3", token)
    run = _finish(c, "worker-3")
    assert run["state"] == "failed" and error in run["error"], run
    assert not c.host_installed("worker-3") and not c.node_components["worker-3"][1].running


def test_a_forged_secret_fails_the_signature_check(initialised):
    c, _ = initialised
    token_id = TOKEN_PATTERN.match(c.config.kubeadm["token"]).group(1)
    c.kubeadm_join("worker-3", f"{token_id}.0000000000000000")
    run = _finish(c, "worker-3")
    assert "failed to verify JWS signature of received cluster info object" in run["error"], run


def test_join_before_init_cannot_reach_the_api_server():
    c = _cluster()
    c.kubeadm_join("worker-1", "abcdef.0123456789abcdef")
    run = _finish(c, "worker-1")
    assert "dial tcp 192.168.0.10:6443: connect: connection refused" in run["error"], run


def test_a_second_init_fails_preflight(initialised):
    c, _ = initialised
    c.kubeadm_init("cp-1")
    run = _finish(c, "cp-1")
    assert run["state"] == "failed" and "[ERROR Port-6443]: Port 6443 is in use" in run["error"]


def test_refusals_say_why():
    c = _cluster()
    with pytest.raises(ClusterError, match="init runs on the control-plane host"):
        c.kubeadm_init("worker-1")
    with pytest.raises(ClusterError, match="run kubeadm init first"):
        c.kubeadm_pod_network()
    with pytest.raises(ClusterError, match="not found"):
        c.kubeadm_init("nope")
    ready_made = Cluster("r", config_from_spec({"seed": 1, "etcd": {"members": 1}}))
    with pytest.raises(ClusterError, match='create one with "install": "kubeadm"'):
        ready_made.kubeadm_init("cp-1")
    with pytest.raises(ConfigError, match="exactly one control-plane node"):
        config_from_spec({"install": "kubeadm", "etcd": {"members": 3}})
    with pytest.raises(ConfigError, match="install: Unsupported value"):
        config_from_spec({"install": "by-hand"})


def test_a_restart_finds_the_hosts_as_kubeadm_left_them(initialised):
    c, _ = initialised
    # The module's cluster, with the pod network and worker-1 joined (as the test above leaves
    # it, but this one may run alone).
    if not c.kubeadm_status()["podNetwork"]:
        c.kubeadm_pod_network()
    if _obj(c, "nodes", "", "worker-1") is None:
        c.kubeadm_join("worker-1", c.config.kubeadm["token"])
        assert _finish(c, "worker-1")["state"] == "succeeded"
    _until(c, lambda: _ready(c, "worker-1") == "True")
    r = Cluster.restore("k", c.topology(), c.committed_since(0), c.now, c.compacted_revision)
    r.advance(30)
    assert r.serving_apiserver() is not None
    assert r.node_components["worker-1"][1].running, "joined: its kubelet runs on every boot"
    assert not r.node_components["worker-2"][1].running, "never joined"
    assert r.kubeadm_status()["podNetwork"] and r.kubeadm_status()["joinCommand"] == c.kubeadm_status()["joinCommand"]
    _until(r, lambda: _ready(r, "worker-1") == "True")
