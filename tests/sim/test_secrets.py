"""Secrets in kube-apiserver (pkg/registry/core/secret, ValidateSecret / ValidateSecretUpdate):
base64 data (a bad value is a 400 decoding error), stringData merged into data and never
stored, type Opaque by default and immutable, the per-type rules, immutable, the `type` field
selector, and the NAME TYPE DATA AGE printer."""
import base64

import pytest

from sim.cluster import Cluster, ClusterConfig
from sim.registry import BUILTIN
from tests.sim.conftest import ok

MERGE = "application/merge-patch+json"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture(scope="module")
def c():
    cluster = Cluster("secrets", ClusterConfig.default(seed=6))
    cluster.advance(5)
    return cluster


def secret(c, verb, name=None, body=None, **kw):
    return c.request({"verb": verb, "resource": "secrets", "namespace": "default", "name": name, "body": body, **kw})


def new(name, **fields):
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, **fields}


def test_string_data_is_merged_into_data_and_type_defaults_to_opaque(c):
    body = ok(secret(c, "create", body=new("s", data={"a": b64("old"), "keep": b64("k")},
                                           stringData={"a": "new", "p": "q"})), 201)
    assert body["data"] == {"a": b64("new"), "keep": b64("k"), "p": b64("q")}
    assert "stringData" not in body and body["type"] == "Opaque"
    stored = ok(secret(c, "get", "s"))
    assert "stringData" not in stored and stored["data"]["p"] == "cQ=="
    # On update too.
    ok(secret(c, "patch", "s", {"stringData": {"p": "z"}}, patch_type=MERGE))
    assert ok(secret(c, "get", "s"))["data"]["p"] == b64("z")


@pytest.mark.parametrize("value, byte", [("cQ", 0), ("not base64", 3), ("cQ==x", 4), ("YWJj!", 4)])
def test_data_that_is_not_base64_is_a_400(c, value, byte):
    resp = secret(c, "create", body=new("bad", data={"k": value}))
    assert resp["code"] == 400
    assert resp["body"]["reason"] == "BadRequest"
    assert resp["body"]["message"] == (f'Secret in version "v1" cannot be handled as a Secret: '
                                       f'illegal base64 data at input byte {byte}')


def test_a_data_value_of_the_wrong_type_names_the_go_type(c):
    resp = secret(c, "create", body=new("bad", data={"k": 1}))
    assert resp["body"]["message"] == ('Secret in version "v1" cannot be handled as a Secret: json: cannot '
                                       'unmarshal number into Go struct field Secret.data of type []uint8')


@pytest.mark.parametrize("typ, data, annotations, errors", [
    ("kubernetes.io/tls", {}, None, ["data[tls.crt]: Required value", "data[tls.key]: Required value"]),
    ("kubernetes.io/tls", {"tls.crt": "eA=="}, None, ["data[tls.key]: Required value"]),
    ("kubernetes.io/dockerconfigjson", {}, None, ["data[.dockerconfigjson]: Required value"]),
    ("kubernetes.io/dockerconfigjson", {".dockerconfigjson": b64("{")}, None,
     ['data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": unexpected end of JSON input']),
    ("kubernetes.io/dockercfg", {".dockercfg": b64("x")}, None,
     ["data[.dockercfg]: Invalid value: \"<secret contents redacted>\": invalid character 'x' looking for "
      "beginning of value"]),
    ("kubernetes.io/basic-auth", {}, None, ["data[username]: Required value", "data[password]: Required value"]),
    ("kubernetes.io/ssh-auth", {"ssh-privatekey": ""}, None, ["data[ssh-privatekey]: Required value"]),
    ("kubernetes.io/service-account-token", {}, None,
     ["metadata.annotations[kubernetes.io/service-account.name]: Required value"]),
])
def test_type_specific_validation(c, typ, data, annotations, errors):
    body = new("typed", type=typ, data=data)
    resp = secret(c, "create", body=body)
    assert resp["code"] == 422, resp
    msg = resp["body"]["message"]
    expected = errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
    assert msg == f'Secret "typed" is invalid: {expected}'


@pytest.mark.parametrize("typ, data, annotations", [
    ("kubernetes.io/tls", {"tls.crt": b64("c"), "tls.key": b64("k")}, None),
    ("kubernetes.io/dockerconfigjson", {".dockerconfigjson": b64('{"auths": {}}')}, None),
    ("kubernetes.io/basic-auth", {"username": ""}, None),
    ("kubernetes.io/ssh-auth", {"ssh-privatekey": b64("k")}, None),
    ("kubernetes.io/service-account-token", {}, {"kubernetes.io/service-account.name": "default"}),
    ("example.com/anything", {}, None),
])
def test_valid_typed_secrets(c, typ, data, annotations):
    name = "ok-" + typ.rpartition("/")[2].replace(".", "-")
    body = new(name, type=typ, data=data)
    if annotations:
        body["metadata"]["annotations"] = annotations
    ok(secret(c, "create", body=body), 201)


def test_type_may_not_change_and_immutable_keeps_data(c):
    ok(secret(c, "create", body=new("fixed", data={"a": b64("1")}, immutable=True)), 201)
    resp = secret(c, "patch", "fixed", {"type": "kubernetes.io/basic-auth", "data": {"username": "dQ=="}},
                  patch_type=MERGE)
    assert resp["code"] == 422
    msg = resp["body"]["message"]
    assert 'type: Invalid value: "kubernetes.io/basic-auth": field is immutable' in msg
    assert "data: Forbidden: field is immutable when `immutable` is set" in msg
    resp = secret(c, "patch", "fixed", {"stringData": {"a": "2"}}, patch_type=MERGE)
    assert resp["body"]["message"] == ('Secret "fixed" is invalid: data: Forbidden: '
                                       'field is immutable when `immutable` is set')


def test_more_than_one_mebibyte_is_too_long(c):
    resp = secret(c, "create", body=new("big", stringData={"a": "x" * (1024 * 1024 + 1)}))
    assert resp["code"] == 422
    assert resp["body"]["message"] == 'Secret "big" is invalid: data: Too long: may not be more than 1048576 bytes'


def test_field_selector_type_and_printer(c):
    items = ok(secret(c, "list", query={"fieldSelector": "type=kubernetes.io/tls"}))["items"]
    assert [s["metadata"]["name"] for s in items] == ["ok-tls"]
    resp = secret(c, "list", query={"fieldSelector": "spec.type=x"})
    assert resp["code"] == 400
    res = BUILTIN.lookup("", "secrets")
    assert [col["name"] for col in res.printer.columns] == ["Name", "Type", "Data", "Age"]
    assert res.printer.row(items[0], c.api_time)[:3] == ["ok-tls", "kubernetes.io/tls", 2]
