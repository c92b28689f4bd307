"""The CertificateSubjectRestriction admission plugin
(plugin/pkg/admission/certificates/subjectrestriction): a CertificateSigningRequest for the
kubernetes.io/kube-apiserver-client signer may not ask for the system:masters group (an
Organization of its subject): whoever approved it would hand out a cluster-admin certificate
that RBAC cannot take back."""
from __future__ import annotations

from sim.api import certificates as capi
from sim.apiserver.admission import CREATE, Attributes, forbidden
from sim.auth.user import SYSTEM_PRIVILEGED_GROUP
from sim.pki import CSRError, parse_csr

PLUGIN_NAME = "CertificateSubjectRestriction"


class CertificateSubjectRestriction:
    name = PLUGIN_NAME

    @staticmethod
    def handles(operation: str) -> bool:
        return operation == CREATE

    def validate(self, a: Attributes) -> None:
        if a.group != capi.GROUP or a.resource != "certificatesigningrequests" or a.subresource or a.obj is None:
            return
        signer = (a.obj.get("spec") or {}).get("signerName")
        if signer != capi.KUBE_APISERVER_CLIENT:
            return
        try:
            request = parse_csr(capi.request_pem(a.obj))
        except CSRError as e:
            raise forbidden(a, f"failed to parse CSR: {e}") from None
        if SYSTEM_PRIVILEGED_GROUP in request.organizations:
            raise forbidden(a, f"use of {signer} signer with {SYSTEM_PRIVILEGED_GROUP} group is not allowed")
