"""The csrsigning controller (pkg/controller/certificates/signer/signer.go): kube-controller-manager
signs approved requests for the well-known signers kubernetes.io/kube-apiserver-client,
kube-apiserver-client-kubelet and kubelet-serving with the cluster CA
(--cluster-signing-cert-file / --cluster-signing-key-file, here the cluster's
sim/pki.CertificateAuthority) and writes the PEM certificate to status.certificate through /status.

Before signing, each signer checks the request is one it issues (isKubeAPIServerClient: only
client usages; isKubeletClient / isKubeletServing: pkg/apis/certificates/helpers.go); one that is
not gets a Failed condition (SignerValidationFailure) instead.  The lifetime is
spec.expirationSeconds, at most --cluster-signing-duration (a year) and at least 10 minutes
(signer.duration); NotBefore is backdated 5 minutes (authority.PermissiveSigningPolicy).  Times are
the virtual clock's, the serial number is drawn from the kernel's seeded generator: a run replays
to the same certificates.  Upstream runs one controller per signer, each with its own queue; here
one queue serves the three.  Denied, failed, unapproved and other signers' requests are left alone.
"""
from __future__ import annotations

import base64

from sim.api import certificates as capi
from sim.controllers.certificatecontroller import CertificateController, Failed
from sim.pki import CSRError, SigningError, parse_csr

MIN_DURATION = 10 * 60


def api_server_client_usages_error(usages) -> str | None:
    """validAPIServerClientUsages: "client auth", optionally "digital signature" and "key
    encipherment", nothing else."""
    has_client_auth = False
    for u in usages or ():
        if u == "client auth":
            has_client_auth = True
        elif u not in ("digital signature", "key encipherment"):
            return f"invalid usage for client certificate: {u}"
    return None if has_client_auth else "missing required usage for client certificate: client auth"


# getCSRVerificationFuncForSignerName
VERIFIERS = {
    capi.KUBE_APISERVER_CLIENT: lambda req, usages: api_server_client_usages_error(usages),
    capi.KUBE_APISERVER_CLIENT_KUBELET: capi.kubelet_client_csr_error,
    capi.KUBELET_SERVING: capi.kubelet_serving_csr_error,
}


class CSRSigningController(CertificateController):
    name = "csrsigning"

    def duration(self, expiration_seconds) -> float:
        """signer.duration: the requested lifetime within [10 minutes, --cluster-signing-duration]."""
        ttl = self.cm.cluster_signing_duration
        if expiration_seconds is None:
            return ttl
        return min(max(float(expiration_seconds), MIN_DURATION), ttl)

    def handle(self, csr: dict, finish) -> None:
        # "Ignore unapproved or failed requests", and signers that are not ours.
        if not capi.is_approved(csr) or capi.has_true_condition(csr, capi.FAILED):
            return finish()
        spec = csr.get("spec") or {}
        verify = VERIFIERS.get(spec.get("signerName"))
        if verify is None or self.cm.cluster_ca is None:
            return finish()
        name = csr["metadata"]["name"]
        try:
            request = parse_csr(capi.request_pem(csr))
        except CSRError as e:
            raise Failed(f'unable to parse csr "{name}": {e}') from None
        problem = verify(request, spec.get("usages"))
        if problem:
            csr.setdefault("status", {}).setdefault("conditions", []).append(
                {"type": capi.FAILED, "status": "True", "reason": "SignerValidationFailure", "message": problem,
                 "lastUpdateTime": self.cm.timestamp()})
            self.cm.action(f"csrsigning refused {name} ({spec.get('signerName')}): {problem}")
            return self.update(csr, "status", finish, "adding failure condition for csr")
        try:
            pem = self.cm.cluster_ca.sign(request, list(spec.get("usages") or []),
                                          self.duration(spec.get("expirationSeconds")), self.cm.api_now,
                                          self.cm.rng.getrandbits(128) or 1)
        except SigningError as e:
            raise Failed(f"error auto signing csr: {e}") from None
        csr.setdefault("status", {})["certificate"] = base64.b64encode(pem.encode()).decode()
        self.cm.action(f"csrsigning issued a certificate for {name} ({spec.get('signerName')}), "
                       f"subject CN={request.common_name}")
        self.update(csr, "status", finish, "updating signature for csr")
