"""The protobuf bodies of `kubectl create configmap|secret|serviceaccount|quota` (1.32+), read
into the JSON the API decodes: bytes map values become base64, *bool fields stay when false."""
from __future__ import annotations

from cluster.api import protobuf


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, payload: bytes | int) -> bytes:
    if isinstance(payload, int):
        return _varint(number << 3) + _varint(payload)
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    type_meta = _field(1, api_version.encode()) + _field(2, kind.encode())
    return protobuf.MAGIC + _field(1, type_meta) + _field(2, raw)


def _entry(key: str, value: bytes) -> bytes:
    return _field(1, key.encode()) + _field(2, value)


def test_a_secret_with_binary_data_and_string_data():
    meta = _field(1, b"s")
    raw = (_field(1, meta) + _field(2, _entry("bin", b"\x00\xff")) + _field(2, _entry("empty", b""))
           + _field(3, b"kubernetes.io/tls") + _field(4, _entry("p", b"q")) + _field(5, 0))
    assert protobuf.decode(_envelope("v1", "Secret", raw)) == {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
        "data": {"bin": "AP8=", "empty": ""}, "type": "kubernetes.io/tls", "stringData": {"p": "q"},
        "immutable": False}


def test_a_configmap_a_serviceaccount_and_a_quota():
    cm = _field(1, _field(1, b"c")) + _field(2, _entry("a", b"b")) + _field(3, _entry("x", b"\x01")) + _field(4, 1)
    assert protobuf.decode(_envelope("v1", "ConfigMap", cm)) == {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "b"},
        "binaryData": {"x": "AQ=="}, "immutable": True}
    sa = _field(1, _field(1, b"bot")) + _field(2, _field(3, b"tok")) + _field(3, _field(1, b"reg")) + _field(4, 0)
    assert protobuf.decode(_envelope("v1", "ServiceAccount", sa)) == {
        "apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "bot"}, "secrets": [{"name": "tok"}],
        "imagePullSecrets": [{"name": "reg"}], "automountServiceAccountToken": False}
    quota = _field(1, _field(1, b"q")) + _field(2, _field(1, _entry("pods", _field(1, b"2"))))
    assert protobuf.decode(_envelope("v1", "ResourceQuota", quota)) == {
        "apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "q"}, "spec": {"hard": {"pods": "2"}}}


def test_a_certificate_signing_request_as_kubectl_certificate_approve_sends_it():
    """UpdateApproval's body (1.32+): the request bytes, the requester's extra (ExtraValue
    messages, a list each in JSON), an Approved condition with its zero times left out."""
    spec = (_field(1, b"-----BEGIN CERTIFICATE REQUEST-----\n") + _field(7, b"kubernetes.io/kube-apiserver-client")
            + _field(8, 86400) + _field(5, b"client auth") + _field(2, b"alice") + _field(4, b"dev")
            + _field(6, _entry("scopes", _field(1, b"a") + _field(1, b"b"))))
    condition = _field(1, b"Approved") + _field(6, b"True") + _field(2, b"KubectlApprove") + _field(3, b"")
    raw = _field(1, _field(1, b"myuser")) + _field(2, spec) + _field(3, _field(1, condition))
    assert protobuf.decode(_envelope("certificates.k8s.io/v1", "CertificateSigningRequest", raw)) == {
        "apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest", "metadata": {"name": "myuser"},
        "spec": {"request": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0K",
                 "signerName": "kubernetes.io/kube-apiserver-client", "expirationSeconds": 86400,
                 "usages": ["client auth"], "username": "alice", "groups": ["dev"], "extra": {"scopes": ["a", "b"]}},
        "status": {"conditions": [{"type": "Approved", "status": "True", "reason": "KubectlApprove"}]}}
