"""ConfigMaps in kube-apiserver (pkg/registry/core/configmap, ValidateConfigMap /
ValidateConfigMapUpdate): data and base64 binaryData, key rules, the 1 MiB limit, immutable,
and the NAME DATA AGE printer."""
import base64

import pytest

from sim.cluster import Cluster, ClusterConfig
from sim.registry import BUILTIN
from tests.sim.conftest import ok

MERGE = "application/merge-patch+json"


@pytest.fixture(scope="module")
def c():
    cluster = Cluster("cm", ClusterConfig.default(seed=5))
    cluster.advance(5)
    return cluster


def cm(c, verb, name=None, body=None, ns="default", **kw):
    return c.request({"verb": verb, "resource": "configmaps", "namespace": ns, "name": name, "body": body, **kw})


def new(name, **fields):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, **fields}


def test_data_and_binary_data_are_stored_and_served(c):
    body = ok(cm(c, "create", body=new("app", data={"a": "b", "x.y": "z"},
                                       binaryData={"bin": base64.b64encode(b"\x00\xff").decode()})), 201)
    assert body["data"] == {"a": "b", "x.y": "z"} and body["binaryData"] == {"bin": "AP8="}
    assert ok(cm(c, "get", "app"))["binaryData"]["bin"] == "AP8="


def test_binary_data_that_is_not_base64_is_a_decoding_error(c):
    resp = cm(c, "create", body=new("bad", binaryData={"k": "not base64!"}))
    assert resp["code"] == 400
    assert resp["body"]["message"] == ('ConfigMap in version "v1" cannot be handled as a ConfigMap: '
                                       'illegal base64 data at input byte 3')


def test_keys_must_be_config_keys_and_in_one_bag_only(c):
    resp = cm(c, "create", body=new("keys", data={"a b": "1", "dup": "x"}, binaryData={"dup": "eA=="}))
    assert resp["code"] == 422
    msg = resp["body"]["message"]
    assert msg.startswith('ConfigMap "keys" is invalid: [')
    assert ("data[a b]: Invalid value: \"a b\": a valid config key must consist of alphanumeric characters, "
            "'-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
            "'[-._a-zA-Z0-9]+')") in msg
    assert 'data[dup]: Invalid value: "dup": duplicate of key present in binaryData' in msg
    assert 'binaryData[dup]: Invalid value: "dup": duplicate of key present in data' in msg
    for key, why in ((".", "must not be '.'"), ("..", "must not be '..'"), ("..a", "must not start with '..'")):
        resp = cm(c, "create", body=new("dots", data={key: "v"}))
        assert why in resp["body"]["message"], resp


def test_more_than_one_mebibyte_of_data_is_too_long(c):
    resp = cm(c, "create", body=new("big", data={"a": "x" * (1024 * 1024), "b": "y"}))
    assert resp["code"] == 422
    assert resp["body"]["message"] == 'ConfigMap "big" is invalid: []: Too long: may not be more than 1048576 bytes'
    ok(cm(c, "create", body=new("just-fits", data={"a": "x" * (1024 * 1024)})), 201)


def test_an_immutable_configmap_keeps_its_data_and_flag(c):
    ok(cm(c, "create", body=new("frozen", immutable=True, data={"a": "1"})), 201)
    resp = cm(c, "patch", "frozen", {"data": {"a": "2"}}, patch_type=MERGE)
    assert resp["code"] == 422
    assert resp["body"]["message"] == ('ConfigMap "frozen" is invalid: data: Forbidden: '
                                       'field is immutable when `immutable` is set')
    resp = cm(c, "patch", "frozen", {"immutable": False}, patch_type=MERGE)
    assert "immutable: Forbidden: field is immutable when `immutable` is set" in resp["body"]["message"]
    # Labels may still change, and it can be deleted.
    ok(cm(c, "patch", "frozen", {"metadata": {"labels": {"k": "v"}}}, patch_type=MERGE))
    ok(cm(c, "delete", "frozen"))
    # A mutable one can be made immutable.
    ok(cm(c, "create", body=new("thaw", data={"a": "1"})), 201)
    ok(cm(c, "patch", "thaw", {"immutable": True, "data": {"a": "2"}}, patch_type=MERGE))


def test_printer_is_name_data_age(c):
    res = BUILTIN.lookup("", "configmaps")
    assert [col["name"] for col in res.printer.columns] == ["Name", "Data", "Age"]
    obj = ok(cm(c, "get", "app"))
    assert res.printer.row(obj, c.api_time)[:2] == ["app", 3]
    assert res.short_names == ("cm",)


def test_every_namespace_gets_the_root_ca_configmap(c):
    ok(c.request({"verb": "create", "resource": "namespaces", "body": {"metadata": {"name": "team"}}}), 201)
    c.advance(2)
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease", "team"):
        root = ok(cm(c, "get", "kube-root-ca.crt", ns=ns))
        assert root["data"]["ca.crt"].startswith("-----BEGIN CERTIFICATE-----\n")
        assert root["metadata"]["annotations"]["kubernetes.io/description"].startswith("Contains a CA bundle")
    # Changed or deleted, the publisher puts it back.
    ok(cm(c, "patch", "kube-root-ca.crt", {"data": {"ca.crt": "nope"}}, ns="team", patch_type=MERGE))
    c.advance(1)
    assert ok(cm(c, "get", "kube-root-ca.crt", ns="team"))["data"]["ca.crt"].startswith("-----BEGIN")
    ok(cm(c, "delete", "kube-root-ca.crt", ns="team"))
    c.advance(1)
    ok(cm(c, "get", "kube-root-ca.crt", ns="team"))


def test_the_downward_api_writes_labels_and_annotations_as_the_kubelet_formats_them():
    from sim.kubelet.podconfig import field_ref
    pod = {"metadata": {"name": "p", "labels": {"zone": "us-est-coast", "rack": "rack-22"},
                        "annotations": {"builder": "john-doe", "json": '{"a":"b"}\n'}}}
    assert field_ref(pod, "metadata.labels", "", None) == 'rack="rack-22"\nzone="us-est-coast"'
    assert field_ref(pod, "metadata.annotations", "", None) == 'builder="john-doe"\njson="{\\"a\\":\\"b\\"}\\n"'
    assert field_ref(pod, "metadata.labels['zone']", "", None) == "us-est-coast"
