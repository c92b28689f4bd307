"""The certificates.k8s.io vocabulary, shared by the CertificateSigningRequest kind
(sim/registry/certificates/), kube-controller-manager's csrapproving, csrsigning and csrcleaner
controllers and the kubelet's TLS bootstrap: the well-known signer names and key usages
(k8s.io/api/certificates/v1/types.go), the condition helpers of pkg/controller/certificates
(certificate_controller_utils.go) and the kubelet CSR checks of pkg/apis/certificates/helpers.go.
"""
from __future__ import annotations

import base64
import hashlib

from sim import pki

GROUP = "certificates.k8s.io"
API_VERSION = f"{GROUP}/v1"

# The well-known signers (KubeAPIServerClientSignerName, ...).
KUBE_APISERVER_CLIENT = "kubernetes.io/kube-apiserver-client"
KUBE_APISERVER_CLIENT_KUBELET = "kubernetes.io/kube-apiserver-client-kubelet"
KUBELET_SERVING = "kubernetes.io/kubelet-serving"
LEGACY_UNKNOWN = "kubernetes.io/legacy-unknown"

# Condition types (RequestConditionType).
APPROVED, DENIED, FAILED = "Approved", "Denied", "Failed"

# KeyUsage values, sorted as sets.List sorts them (validation's allValidUsages).
USAGES = ("any", "cert sign", "client auth", "code signing", "content commitment", "crl sign",
          "data encipherment", "decipher only", "digital signature", "email protection", "encipher only",
          "ipsec end system", "ipsec tunnel", "ipsec user", "key agreement", "key encipherment",
          "microsoft sgc", "netscape sgc", "ocsp signing", "s/mime", "server auth", "signing", "timestamping")

NODES_GROUP = "system:nodes"
NODE_USER_PREFIX = "system:node:"


def request_pem(csr: dict) -> bytes:
    """spec.request as the bytes the client sent (the JSON carries them base64-encoded)."""
    raw = (csr.get("spec") or {}).get("request") or ""
    try:
        return base64.b64decode(raw) if isinstance(raw, str) else b""
    except ValueError:
        return b""


def certificate_pem(csr: dict) -> bytes:
    raw = (csr.get("status") or {}).get("certificate") or ""
    try:
        return base64.b64decode(raw) if isinstance(raw, str) else b""
    except ValueError:
        return b""


def conditions(csr: dict) -> list[dict]:
    return [c for c in (csr.get("status") or {}).get("conditions") or [] if isinstance(c, dict)]


def has_true_condition(csr: dict, ctype: str) -> bool:
    """certificates.HasTrueCondition."""
    return any(c.get("type") == ctype and c.get("status") in ("True", None, "") for c in conditions(csr))


def approval_condition(csr: dict) -> tuple[bool, bool]:
    """GetCertApprovalCondition: (approved, denied)."""
    types = {c.get("type") for c in conditions(csr)}
    return APPROVED in types, DENIED in types


def is_approved(csr: dict) -> bool:
    """IsCertificateRequestApproved: approved and not denied."""
    approved, denied = approval_condition(csr)
    return approved and not denied


def is_issued(csr: dict) -> bool:
    return bool((csr.get("status") or {}).get("certificate"))


def condition_summary(csr: dict) -> str:
    """printers.go extractCSRStatus: Denied, else Approved, else Pending; then ",Failed" and
    ",Issued"."""
    types = {c.get("type") for c in conditions(csr)}
    status = "Denied" if DENIED in types else "Approved" if APPROVED in types else "Pending"
    if FAILED in types:
        status += ",Failed"
    if is_issued(csr):
        status += ",Issued"
    return status


# -- pkg/apis/certificates/helpers.go --------------------------------------------------------
KUBELET_CLIENT_USAGES = {"digital signature", "key encipherment", "client auth"}
KUBELET_CLIENT_USAGES_NO_RSA = {"digital signature", "client auth"}
KUBELET_SERVING_USAGES = {"digital signature", "key encipherment", "server auth"}
KUBELET_SERVING_USAGES_NO_RSA = {"digital signature", "server auth"}


def kubelet_client_csr_error(req: pki.CertificateRequest, usages) -> str | None:
    """ValidateKubeletClientCSR: O=system:nodes only, no SANs, CN system:node:<name>, the
    kubelet client usages; None when it is one."""
    if list(req.organizations) != [NODES_GROUP]:
        return "subject organization is not system:nodes"
    for values, what in ((req.dns_names, "DNS"), (req.emails, "Email"), (req.ip_addresses, "IP"), (req.uris, "URI")):
        if values:
            return f"{what} subjectAltNames are not allowed"
    if not req.common_name.startswith(NODE_USER_PREFIX):
        return "subject common name does not begin with system:node:"
    got = set(usages or ())
    if got != KUBELET_CLIENT_USAGES and got != KUBELET_CLIENT_USAGES_NO_RSA:
        return f"usages did not match [{' '.join(sorted(KUBELET_CLIENT_USAGES))}]"
    return None


def kubelet_serving_csr_error(req: pki.CertificateRequest, usages) -> str | None:
    """ValidateKubeletServingCSR."""
    if list(req.organizations) != [NODES_GROUP]:
        return "subject organization is not system:nodes"
    if not req.dns_names and not req.ip_addresses:
        return "DNS or IP subjectAltName is required"
    if req.emails:
        return "Email subjectAltNames are not allowed"
    if req.uris:
        return "URI subjectAltNames are not allowed"
    got = set(usages or ())
    if got != KUBELET_SERVING_USAGES and got != KUBELET_SERVING_USAGES_NO_RSA:
        return f"usages did not match [{' '.join(sorted(KUBELET_SERVING_USAGES))}]"
    if not req.common_name.startswith(NODE_USER_PREFIX):
        return "subject common name does not begin with system:node:"
    return None


def digested_name(public_key_der: bytes, common_name: str, organizations, usages) -> str:
    """pkg/kubelet/certificate/bootstrap digestedName: "node-csr-" and a SHA-512/256 digest of the
    public key, the subject and the usages, so a kubelet that restarts with the same key asks
    under the same name (and finds its CSR again)."""
    h = hashlib.new("sha512_256")

    def write(data: bytes) -> None:
        h.update(base64.urlsafe_b64encode(data).rstrip(b"="))
        h.update(b"|")

    write(public_key_der)
    write(common_name.encode())
    for o in organizations:
        write(o.encode())
    for u in usages:
        write(u.encode())
    return "node-csr-" + base64.urlsafe_b64encode(h.digest()).rstrip(b"=").decode()
