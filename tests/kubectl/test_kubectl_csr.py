"""CertificateSigningRequests with the real kubectl (1.27 and 1.37, as the other version-independent
modules): the Kubernetes documentation's "normal user" example
(https://kubernetes.io/docs/reference/access-authn-authz/certificate-signing-requests/#normal-user):
a key and a CSR made with openssl, `kubectl apply` of the CertificateSigningRequest, `kubectl get
csr`, `kubectl certificate approve`, the issued certificate read back with `-o jsonpath` and
checked against the cluster's CA (the kube-root-ca.crt ConfigMap's), `kubectl certificate deny`."""
from __future__ import annotations

import base64
import shutil
import subprocess

import pytest
from cryptography import x509

from tests.conftest import require_service, wait_until
from tests.kubectl.conftest import rows

MANIFEST = """apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata:
  name: {name}
spec:
  request: {request}
  signerName: kubernetes.io/kube-apiserver-client
  expirationSeconds: 86400  # one day
  usages:
  - client auth
"""


def openssl(*args: str, cwd) -> None:
    require_service("openssl", shutil.which("openssl") is not None, "the documentation's example makes its key with it")
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_request(tmp_path, name: str) -> str:
    """The documentation's first step: a private key and a CSR for CN=<name>; the CSR base64'd."""
    openssl("genrsa", "-out", f"{name}.key", "2048", cwd=tmp_path)
    openssl("req", "-new", "-key", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=tmp_path)
    return base64.b64encode((tmp_path / f"{name}.csr").read_bytes()).decode()


def apply_request(kubectl, tmp_path, name: str) -> None:
    manifest = tmp_path / f"{name}.yaml"
    manifest.write_text(MANIFEST.format(name=name, request=make_request(tmp_path, name)))
    out = kubectl("apply", "-f", str(manifest)).stdout.strip()
    assert out == f"certificatesigningrequest.certificates.k8s.io/{name} created"


def test_the_documentations_normal_user_example(kubectl, tmp_path):
    name = f"myuser-{kubectl.suffix}"
    apply_request(kubectl, tmp_path, name)
    table = rows(kubectl("get", "csr").stdout)
    assert table[0] == ["NAME", "AGE", "SIGNERNAME", "REQUESTOR", "REQUESTEDDURATION", "CONDITION"]
    row = next(r for r in table[1:] if r[0] == name)
    # The anonymous user of an open cluster asked (kubectl here sends no credentials).
    assert row[2:] == ["kubernetes.io/kube-apiserver-client", "system:anonymous", "24h", "Pending"]
    assert kubectl("certificate", "approve", name).stdout.strip() == \
        f"certificatesigningrequest.certificates.k8s.io/{name} approved"

    def issued() -> str:
        return kubectl("get", "csr", name, "-o", "jsonpath={.status.certificate}").stdout

    wait_until(lambda: issued() != "", timeout=30, interval=0.2, message="the certificate issued")
    (tmp_path / f"{name}.crt").write_bytes(base64.b64decode(issued()))
    row = next(r for r in rows(kubectl("get", "csr", name).stdout)[1:])
    assert row[-1] == "Approved,Issued"
    # Signed by the cluster's CA, as every pod sees it in kube-root-ca.crt.
    ca = kubectl("get", "configmap", "kube-root-ca.crt", "-o", r"jsonpath={.data.ca\.crt}").stdout
    (tmp_path / "ca.crt").write_text(ca)
    # The cluster's clock runs ahead of the wall clock (a sped-up cluster): check the chain, not the time.
    openssl("verify", "-no_check_time", "-CAfile", "ca.crt", f"{name}.crt", cwd=tmp_path)
    cert = x509.load_pem_x509_certificate((tmp_path / f"{name}.crt").read_bytes())
    assert cert.subject.rfc4514_string() == f"CN={name}"
    assert cert.issuer.rfc4514_string() == "CN=kubernetes"
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).total_seconds() == 86400
    # Its requester and conditions, as `kubectl describe` and -o yaml show them.
    described = kubectl("describe", "csr", name).stdout
    assert "Signer:" in described and "kubernetes.io/kube-apiserver-client" in described
    again = kubectl("certificate", "approve", name).stdout.strip()
    assert again == f"certificatesigningrequest.certificates.k8s.io/{name} approved"
    kubectl("delete", "csr", name)


def test_deny_and_what_the_api_refuses(kubectl, tmp_path):
    name = f"denied-{kubectl.suffix}"
    apply_request(kubectl, tmp_path, name)
    assert kubectl("certificate", "deny", name).stdout.strip() == \
        f"certificatesigningrequest.certificates.k8s.io/{name} denied"
    row = next(r for r in rows(kubectl("get", "csr", name).stdout)[1:])
    assert row[-1] == "Denied"
    # Approved and Denied exclude each other (kubectl itself refuses before the API would).
    both = kubectl("certificate", "approve", name, check=False)
    assert both.returncode != 0
    assert f'certificate signing request "{name}" is already Denied' in both.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text(MANIFEST.format(name=f"bad-{kubectl.suffix}", request=base64.b64encode(b"hello").decode())
                   .replace("86400", "60"))
    refused = kubectl("apply", "-f", str(bad), check=False)
    assert refused.returncode != 0
    assert (f'The CertificateSigningRequest "bad-{kubectl.suffix}" is invalid: \n* spec.request: Invalid value: '
            "[]byte{0x68, 0x65, 0x6c, 0x6c, 0x6f}: PEM block type must be CERTIFICATE REQUEST\n"
            "* spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 600 seconds "
            "(10 minutes)") in refused.stderr
    kubectl("delete", "csr", name)


def test_explain_and_api_resources(kubectl):
    explained = kubectl("explain", "csr.spec.signerName").stdout
    assert "signerName indicates the requested signer, and is a qualified name." in explained
    resources = rows(kubectl("api-resources", "--api-group=certificates.k8s.io").stdout)
    assert resources[1][:2] == ["certificatesigningrequests", "csr"]
    assert resources[1][-1] == "CertificateSigningRequest"
