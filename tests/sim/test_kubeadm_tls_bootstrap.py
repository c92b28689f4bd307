"""kubeadm join's TLS bootstrap (sim/kubeadm_install.py, sim/kubelet/certificate.py): the joining
kubelet authenticates with the bootstrap token, asks for its client certificate with a
CertificateSigningRequest, and registers its Node once kube-controller-manager approved and
signed it.  Without kubeadm's auto-approval binding the join waits for `kubectl certificate
approve`, and gives up after 5 minutes as kubeadm does."""
from __future__ import annotations

import base64
import copy

import pytest
from cryptography import x509

from sim.cluster import Cluster
from sim.clusterconfig import config_from_spec
from sim.kubeadm_install import TOKEN_PATTERN
from tests.sim.kubeadm_helpers import finish_kubeadm

G, RBAC = "certificates.k8s.io", "rbac.authorization.k8s.io"


def _finish(c: Cluster, host: str, limit: float = 400) -> dict:
    return finish_kubeadm(c, host, limit)


def _csrs(c: Cluster) -> dict[str, dict]:
    return {k[1]: v for k, v in c.serving_apiserver().cache.objects(f"certificatesigningrequests.{G}").items()}


def _for(c: Cluster, node: str) -> dict | None:
    """The CSR a node's kubelet made (its request's CN: system:node:<node>)."""
    from sim.pki import parse_csr
    for csr in _csrs(c).values():
        if parse_csr(base64.b64decode(csr["spec"]["request"])).common_name == f"system:node:{node}":
            return csr
    return None


@pytest.fixture
def cluster():
    c = Cluster("k", config_from_spec({"install": "kubeadm", "seed": 4}))
    c.advance(2)
    c.kubeadm_init("cp-1")
    assert _finish(c, "cp-1")["state"] == "succeeded"
    c.kubeadm_pod_network()
    c.advance(5)
    return c


def test_join_creates_the_kubelets_csr_and_registers_once_it_is_issued(cluster):
    c = cluster
    token = c.config.kubeadm["token"]
    c.kubeadm_join("worker-1", token)
    run = _finish(c, "worker-1")
    assert run["state"] == "succeeded", run
    out = run["output"]
    assert out.index("[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap") < \
        out.index("This node has joined the cluster:")
    assert c.node_registered("worker-1")
    csr = _for(c, "worker-1")
    assert csr["metadata"]["name"].startswith("node-csr-")
    spec = csr["spec"]
    token_id = TOKEN_PATTERN.match(token).group(1)
    assert spec["username"] == f"system:bootstrap:{token_id}"
    assert spec["groups"] == ["system:bootstrappers", "system:bootstrappers:kubeadm:default-node-token",
                              "system:authenticated"]
    assert spec["signerName"] == "kubernetes.io/kube-apiserver-client-kubelet"
    assert spec["usages"] == ["digital signature", "client auth"]
    assert [(x["type"], x["reason"]) for x in csr["status"]["conditions"]] == [("Approved", "AutoApproved")]
    cert = x509.load_pem_x509_certificate(base64.b64decode(csr["status"]["certificate"]))
    cert.verify_directly_issued_by(c.ca.certificate)
    assert cert.subject.rfc4514_string() == "CN=system:node:worker-1,O=system:nodes"
    kubelet = c.node_components["worker-1"][1]
    assert kubelet.kubelet_conf and kubelet.client_certificate.startswith("-----BEGIN CERTIFICATE-----")
    assert kubelet.bootstrap_kubeconfig is None, "kubeadm removes bootstrap-kubelet.conf"
    assert "worker-1" not in c.config.kubeadm.get("bootstrapping", {})
    # A reboot finds kubelet.conf: no second request.
    c.kill_node("worker-1")
    c.restore_node("worker-1")
    c.advance(30)
    assert len(_csrs(c)) == 1 and c.node_registered("worker-1")


def test_without_auto_approval_the_join_waits_for_kubectl_certificate_approve(cluster):
    c = cluster
    c.request({"verb": "delete", "group": RBAC, "resource": "clusterrolebindings",
               "name": "kubeadm:node-autoapprove-bootstrap"})
    c.kubeadm_join("worker-2", c.config.kubeadm["token"])
    c.advance(120)
    run = next(r for r in c.kubeadm_status()["runs"] if r["node"] == "worker-2")
    assert run["state"] == "running" and run["output"][-1] == \
        "[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap"
    csr = _for(c, "worker-2")
    assert csr["status"] == {}, "Pending: the SubjectAccessReview says no"
    assert not c.node_registered("worker-2")
    # kubectl certificate approve <name>
    approved = copy.deepcopy(csr)
    approved["status"]["conditions"] = [{"type": "Approved", "status": "True", "reason": "KubectlApprove",
                                         "message": "This CSR was approved by kubectl certificate approve."}]
    resp = c.request({"verb": "update", "group": G, "resource": "certificatesigningrequests",
                      "name": csr["metadata"]["name"], "subresource": "approval", "body": approved})
    assert resp["code"] == 200, resp
    run = _finish(c, "worker-2")
    assert run["state"] == "succeeded", run
    assert c.node_registered("worker-2")


def test_kubeadm_gives_up_after_five_minutes_and_the_kubelet_still_waits(cluster):
    c = cluster
    c.request({"verb": "delete", "group": RBAC, "resource": "clusterrolebindings",
               "name": "kubeadm:node-autoapprove-bootstrap"})
    c.kubeadm_join("worker-3", c.config.kubeadm["token"])
    run = _finish(c, "worker-3")
    assert run["state"] == "failed"
    assert run["error"] == "error execution phase kubelet-start: context deadline exceeded"
    assert "Unfortunately, an error has occurred:" in run["output"] and "\tcontext deadline exceeded" in run["output"]
    assert c.node_components["worker-3"][1].bootstrap_kubeconfig is None, "the deferred os.Remove ran"
    # The kubelet read the token before: an approval now still lets it register.
    csr = copy.deepcopy(_for(c, "worker-3"))
    csr["status"]["conditions"] = [{"type": "Approved", "status": "True", "reason": "KubectlApprove"}]
    assert c.request({"verb": "update", "group": G, "resource": "certificatesigningrequests",
                      "name": csr["metadata"]["name"], "subresource": "approval", "body": csr})["code"] == 200
    deadline = c.now + 30
    while not c.node_registered("worker-3"):
        assert c.now < deadline
        c.advance(0.5)


def test_a_denied_request_keeps_the_node_out(cluster):
    c = cluster
    c.request({"verb": "delete", "group": RBAC, "resource": "clusterrolebindings",
               "name": "kubeadm:node-autoapprove-bootstrap"})
    c.kubeadm_join("worker-1", c.config.kubeadm["token"])
    c.advance(20)
    csr = copy.deepcopy(_for(c, "worker-1"))
    csr["status"]["conditions"] = [{"type": "Denied", "status": "True", "reason": "KubectlDeny",
                                    "message": "This CSR was denied by kubectl certificate deny."}]
    assert c.request({"verb": "update", "group": G, "resource": "certificatesigningrequests",
                      "name": csr["metadata"]["name"], "subresource": "approval", "body": csr})["code"] == 200
    c.advance(60)
    assert not c.node_registered("worker-1")
    texts = [e["text"] for e in c.kernel.trace if e.get("kind") == "action"]
    assert any("failed to run Kubelet: certificate signing request is denied, reason: KubectlDeny" in t
               for t in texts)
    assert len(_csrs(c)) == 1, "the restarted kubelet finds its request again (same key, same name)"
