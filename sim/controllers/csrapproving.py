"""The csrapproving controller (pkg/controller/certificates/approver/sarapprove.go, sarApprover):
a pending kubernetes.io/kube-apiserver-client-kubelet request that is a kubelet client
certificate (O=system:nodes, CN=system:node:<name>, no SANs, the client usages) is approved when
a SubjectAccessReview says its requester may `create` certificatesigningrequests/selfnodeclient
(a node renewing its own certificate: the CN is the requester) or .../nodeclient (anyone asking
for a node, e.g. a bootstrap token).  kubeadm grants the latter to its bootstrap tokens' group
(the ClusterRoleBinding kubeadm:node-autoapprove-bootstrap) and the former to system:nodes
(kubeadm:node-autoapprove-certificate-rotation): delete the first and a joining node's CSR waits
for `kubectl certificate approve`.  A request it recognizes but may not approve is retried with
backoff (an ignorable error); every other request is left to a human.
"""
from __future__ import annotations

from sim.api import certificates as capi
from sim.controllers.certificatecontroller import CertificateController, Failed
from sim.pki import CSRError, parse_csr

# recognizers(): (the subresource the SubjectAccessReview asks about, whether it needs the CN to
# be the requester, the condition's message), in upstream's order.
RECOGNIZERS = (
    ("selfnodeclient", True, "Auto approving self kubelet client certificate after SubjectAccessReview."),
    ("nodeclient", False, "Auto approving kubelet client certificate after SubjectAccessReview."),
)


class CSRApprovingController(CertificateController):
    name = "csrapproving"

    def handle(self, csr: dict, finish) -> None:
        approved, denied = capi.approval_condition(csr)
        if approved or denied:
            return finish()
        try:
            request = parse_csr(capi.request_pem(csr))
        except CSRError as e:
            raise Failed(f'unable to parse csr "{csr["metadata"]["name"]}": {e}') from None
        spec = csr.get("spec") or {}
        is_node_client = (spec.get("signerName") == capi.KUBE_APISERVER_CLIENT_KUBELET
                          and capi.kubelet_client_csr_error(request, spec.get("usages")) is None)
        candidates = [r for r in RECOGNIZERS
                      if is_node_client and (not r[1] or spec.get("username") == request.common_name)]
        self._try(csr, candidates, [], finish)

    def _try(self, csr: dict, candidates: list, tried: list[str], finish) -> None:
        if not candidates:
            if tried:
                return finish(Failed(f'recognized csr "{csr["metadata"]["name"]}" as [{" ".join(tried)}] but '
                                     "subject access review was not approved", ignorable=True))
            return finish()
        subresource, _, message = candidates[0]
        tried = tried + [subresource]
        spec = csr.get("spec") or {}

        def reviewed(resp: dict) -> None:
            if resp["code"] >= 400:
                return finish(Failed(f"subject access review failed: {(resp.get('body') or {}).get('message')}"))
            if not ((resp.get("body") or {}).get("status") or {}).get("allowed"):
                return self._try(csr, candidates[1:], tried, finish)
            # appendApprovalCondition, then UpdateApproval.
            csr.setdefault("status", {}).setdefault("conditions", []).append(
                {"type": capi.APPROVED, "status": "True", "reason": "AutoApproved", "message": message})
            self.cm.action(f"csrapproving approved {csr['metadata']['name']} for {spec.get('username')}: {message}")
            self.update(csr, "approval", finish, "updating approval for csr")

        # authorize(): the requester, as the CSR records it, asked about one subresource.
        self.api.create("subjectaccessreviews", {
            "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "metadata": {},
            "spec": {"user": spec.get("username", ""), "uid": spec.get("uid", ""),
                     "groups": list(spec.get("groups") or []), "extra": dict(spec.get("extra") or {}),
                     "resourceAttributes": {"group": capi.GROUP, "resource": "certificatesigningrequests",
                                            "verb": "create", "subresource": subresource, "version": "*"}}},
            reviewed, group="authorization.k8s.io")
