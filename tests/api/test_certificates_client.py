"""CertificateSigningRequests through the official `kubernetes` Python client
(CertificatesV1Api): create, read, the approval subresource (replace_certificate_signing_request_approval),
the issued certificate, a 422 Status, and the kind in discovery."""
from __future__ import annotations

import base64
import json
import random

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from sim import pki
from tests.conftest import wait_until


@pytest.fixture(scope="module")
def certificates(pilothouse_server, module_cluster):
    name = module_cluster("api-certificates", speed=20)
    cfg = client.Configuration()
    cfg.host = pilothouse_server.cluster_url(name)
    api_client = client.ApiClient(cfg)
    yield client.CertificatesV1Api(api_client), api_client
    api_client.close()


def request_b64(cn: str) -> str:
    return base64.b64encode(pki.make_csr(pki.key_from_rng(random.Random(cn)), cn, ["dev"]).encode()).decode()


def test_create_approve_and_read_the_certificate(certificates):
    api, _ = certificates
    body = client.V1CertificateSigningRequest(
        metadata=client.V1ObjectMeta(name="py-user"),
        spec=client.V1CertificateSigningRequestSpec(request=request_b64("py-user"), expiration_seconds=3600,
                                                    signer_name="kubernetes.io/kube-apiserver-client",
                                                    usages=["client auth"]))
    created = api.create_certificate_signing_request(body)
    assert created.spec.username == "system:anonymous" and created.spec.groups == ["system:unauthenticated"]
    assert created.status.conditions is None and created.status.certificate is None
    got = api.read_certificate_signing_request("py-user")
    got.status.conditions = [client.V1CertificateSigningRequestCondition(
        type="Approved", status="True", reason="PythonClient", message="approved from Python")]
    approved = api.replace_certificate_signing_request_approval("py-user", got)
    assert approved.status.conditions[0].type == "Approved"
    assert approved.status.conditions[0].last_update_time is not None

    def issued():
        return api.read_certificate_signing_request("py-user").status.certificate

    pem = base64.b64decode(wait_until(issued, timeout=30, interval=0.2, message="certificate issued"))
    assert pem.startswith(b"-----BEGIN CERTIFICATE-----")
    names = [c.metadata.name for c in api.list_certificate_signing_request(
        field_selector="spec.signerName=kubernetes.io/kube-apiserver-client").items]
    assert "py-user" in names


def test_an_invalid_request_is_a_422_status(certificates):
    api, _ = certificates
    body = client.V1CertificateSigningRequest(
        metadata=client.V1ObjectMeta(name="py-bad"),
        spec=client.V1CertificateSigningRequestSpec(request=base64.b64encode(b"x").decode(),
                                                    signer_name="kubernetes.io/kube-apiserver-client",
                                                    usages=["client auth"]))
    with pytest.raises(ApiException) as e:
        api.create_certificate_signing_request(body)
    status = json.loads(e.value.body)
    assert e.value.status == 422 and status["reason"] == "Invalid"
    assert status["details"]["causes"][0] == {
        "reason": "FieldValueInvalid", "field": "spec.request",
        "message": "Invalid value: []byte{0x78}: PEM block type must be CERTIFICATE REQUEST"}


def test_discovery_lists_the_kind_and_its_subresources(certificates):
    _, api_client = certificates
    resources = client.ApisApi(api_client).get_api_versions()
    assert "certificates.k8s.io/v1" in [v.group_version for g in resources.groups for v in g.versions]
    listed = {r.name: r for r in client.CertificatesV1Api(api_client).get_api_resources().resources}
    csr = listed["certificatesigningrequests"]
    assert (csr.kind, csr.namespaced, csr.short_names) == ("CertificateSigningRequest", False, ["csr"])
    assert sorted(listed["certificatesigningrequests/approval"].verbs) == ["get", "patch", "update"]
    assert "certificatesigningrequests/status" in listed
