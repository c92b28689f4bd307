"""Decoding request bodies as kube-apiserver does: JSON text as Go reads it (sim/api/gojson.py),
values into the kinds' Go types (sim/api/gotypes.py, sim/api/schema.py), quantities as
ParseQuantity parses them (sim/api/quantity.py), query parameters as the parameter codec reads
them (sim/api/queryparams.py)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.api import gojson, schema
from sim.api.gotypes import decode
from sim.api.quantity import NUMERIC_ERROR, QUANTITY_ERROR, SUFFIX_ERROR, INT64_MAX, QuantityError, milli_value, \
    parse_quantity, value
from sim.api.queryparams import is_true, query_error


# -- JSON text --------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "message"), [
    ('{"a": NaN}', "invalid character 'N' looking for beginning of value"),
    ('{"a": Infinity}', "invalid character 'I' looking for beginning of value"),
    ('{"a": -Infinity}', "invalid character 'I' in numeric literal"),
    ('{"a": 1', "unexpected end of JSON input"),
    ('{"a" 1}', "invalid character '1' after object key"),
    ('{"a": 1 "b": 2}', "invalid character '\"' after object key:value pair"),
    ("[1 2]", "invalid character '2' after array element"),
    ("{'a': 1}", "invalid character ''' looking for beginning of object key string"),
    ('{"a": 1} x', "invalid character 'x' after top-level value"),
])
def test_text_go_refuses_is_a_syntax_error_worded_as_go(text, message):
    with pytest.raises(gojson.JSONSyntaxError) as e:
        gojson.loads(text)
    assert e.value.message == message


def test_nesting_is_bounded_before_and_after_python_would_recurse():
    ok = "[" * gojson.MAX_DEPTH + "]" * gojson.MAX_DEPTH
    assert gojson.depth(gojson.loads(ok)) == gojson.MAX_DEPTH
    for n in (gojson.MAX_DEPTH + 1, 999, 100000):
        with pytest.raises(gojson.JSONSyntaxError) as e:
            gojson.loads("[" * n + "]" * n)
        assert e.value.message == gojson.DEPTH_ERROR


def test_numbers_keep_their_literal():
    doc = gojson.loads('{"a": 1e3, "b": 1.50, "c": 123456789012345678901234567890, "d": 7, "e": 1e309}')
    assert [gojson.literal(doc[k]) for k in "abcde"] == ["1e3", "1.50", "123456789012345678901234567890", "7", "1e309"]
    assert type(doc["d"]) is int and doc["b"] == 1.5


# -- Go types -------------------------------------------------------------------------------
def pod_error(spec=None, **top):
    body = {"metadata": {"name": "p"}, "spec": spec or {"containers": [{"name": "c", "image": "i"}]}, **top}
    return decode(body, schema.POD).error


@pytest.mark.parametrize(("spec", "message"), [
    ({"containers": 1}, "json: cannot unmarshal number into Go struct field PodSpec.spec.containers of type "
                        "[]v1.Container"),
    ({"containers": [{"ports": [{"containerPort": gojson.loads("1.5")}]}]},
     "json: cannot unmarshal number 1.5 into Go struct field ContainerPort.spec.containers.ports.containerPort "
     "of type int32"),
    ({"containers": [{"ports": [{"containerPort": gojson.loads("1e3")}]}]},
     "json: cannot unmarshal number 1e3 into Go struct field ContainerPort.spec.containers.ports.containerPort "
     "of type int32"),
    ({"activeDeadlineSeconds": 2 ** 63},
     f"json: cannot unmarshal number {2 ** 63} into Go struct field PodSpec.spec.activeDeadlineSeconds of type int64"),
    ({"containers": [{"resources": {"limits": []}}]},
     "json: cannot unmarshal array into Go struct field ResourceRequirements.spec.containers.resources.limits of "
     "type v1.ResourceList"),
    ({"volumes": [{"name": "v", "gcePersistentDisk": "disk"}]},
     "json: cannot unmarshal string into Go struct field Volume.spec.volumes.gcePersistentDisk of type "
     "v1.GCEPersistentDiskVolumeSource"),
    ({"containers": [{"livenessProbe": {"httpGet": {"port": True}}}]},
     "json: cannot unmarshal bool into Go value of type int32"),
    ({"containers": [{"env": [{"name": "A", "value": 1}]}]},
     "json: cannot unmarshal number into Go struct field EnvVar.spec.containers.env.value of type string"),
])
def test_a_value_of_the_wrong_type_names_the_struct_the_path_and_the_go_type(spec, message):
    assert pod_error(spec) == message


def test_the_first_type_error_is_reported_but_an_unmarshalers_error_wins():
    spec = {"priority": "high", "containers": [{"resources": {"requests": {"cpu": "lots"}}}]}
    assert pod_error(spec) == QUANTITY_ERROR  # Quantity.UnmarshalJSON's error stops decoding
    assert pod_error({"priority": "high", "nodeName": 1}) == (
        "json: cannot unmarshal string into Go struct field PodSpec.spec.priority of type int32")


def test_metadata_types():
    assert pod_error(metadata={"name": "p", "ownerReferences": 1}) == (
        "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.ownerReferences of type "
        "[]v1.OwnerReference")
    assert pod_error(metadata={"name": "p", "labels": {"a": 1}}) == (
        "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string")
    assert pod_error(metadata={"name": "p", "creationTimestamp": "yesterday"}).startswith('parsing time "yesterday"')
    assert pod_error(metadata={"name": "p", "creationTimestamp": "2026-01-01T00:00:00+02:00"}) is None


def test_nulls_are_zero_values_and_unknown_fields_are_dropped_with_their_paths():
    d = decode({"metadata": {"name": "p", "labels": None, "x": 1},
                "spec": {"tolerations": None, "containers": [None, {"name": None, "y": 2}]},
                "status": {"conditions": [{"type": "Ready", "lastProbeTime": None}]}}, schema.POD)
    assert d.error is None
    assert d.value == {"metadata": {"name": "p"}, "spec": {"containers": [{}, {}]},
                       "status": {"conditions": [{"type": "Ready", "lastProbeTime": None}]}}
    assert d.unknown == ["metadata.x", "spec.containers[1].y"]


def test_quantities_are_kept_as_the_text_they_parse_from():
    d = decode({"spec": {"containers": [{"resources": {"requests": {"cpu": gojson.loads("0.5"), "memory": " 1Gi "}}}]}},
               schema.POD)
    assert d.value["spec"]["containers"][0]["resources"]["requests"] == {"cpu": "0.5", "memory": "1Gi"}


def test_other_bodies():
    assert decode({"preconditions": "x"}, schema.DELETE_OPTIONS).error == (
        "json: cannot unmarshal string into Go struct field DeleteOptions.preconditions of type v1.Preconditions")
    assert decode({"target": 5}, schema.BINDING).error == (
        "json: cannot unmarshal number into Go struct field Binding.target of type v1.ObjectReference")
    assert decode({"spec": {"replicas": 2 ** 31}}, schema.SCALE).error == (
        f"json: cannot unmarshal number {2 ** 31} into Go struct field ScaleSpec.spec.replicas of type int32")


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=15)


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(sorted(schema.BY_KIND)), body=st.dictionaries(
    st.sampled_from(["metadata", "spec", "status", "apiVersion", "value", "target", "involvedObject", "x"]), JSON))
def test_any_json_decodes_or_is_refused_without_raising(kind, body):
    d = decode(body, schema.BY_KIND[kind])
    assert d.error is None or isinstance(d.error, str)


# -- quantities -----------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "error"), [
    (" 1", QUANTITY_ERROR), ("1 ", QUANTITY_ERROR), ("abc", QUANTITY_ERROR), ("1.2.3", QUANTITY_ERROR), ("", QUANTITY_ERROR),
    ("1KiB", QUANTITY_ERROR), ("1e", SUFFIX_ERROR), ("1ki", SUFFIX_ERROR), ("1e99999999999999999999", SUFFIX_ERROR),
])
def test_quantities_upstream_refuses(text, error):
    with pytest.raises(QuantityError) as e:
        parse_quantity(text)
    assert str(e.value) == error
    assert NUMERIC_ERROR != error


@pytest.mark.parametrize(("text", "milli", "whole"), [
    ("100m", 100, 1), ("1.5", 1500, 2), (".5", 500, 1), ("1.", 1000, 1), ("1e3", 1_000_000, 1000),
    ("1Gi", 2 ** 30 * 1000, 2 ** 30), ("1e-20", 1, 1),
    # any magnitude parses; Value()/MilliValue() saturate where Go's overflow int64
    ("1e20", INT64_MAX, INT64_MAX), ("1e309", INT64_MAX, INT64_MAX), ("1e2000000000", INT64_MAX, INT64_MAX),
    ("9Ei", INT64_MAX, INT64_MAX),
])
def test_quantities_upstream_takes(text, milli, whole):
    assert (milli_value(text), value(text)) == (milli, whole)


# -- query parameters -----------------------------------------------------------------------
def test_query_parameters():
    assert query_error({"limit": "500", "timeoutSeconds": "-1", "resourceVersion": "42"}) is None
    assert query_error({"limit": "abc"}) == 'strconv.ParseInt: parsing "abc": invalid syntax'
    assert query_error({"gracePeriodSeconds": "9" * 20}) == f'strconv.ParseInt: parsing "{"9" * 20}": value out of range'
    assert query_error({"resourceVersion": "-1"}) == (
        'resourceVersion: Invalid value: "-1": strconv.ParseUint: parsing "-1": invalid syntax')
    assert [is_true(v) for v in ("true", "1", "", "yes", "false", "0", None)] == [True, True, True, True, False,
                                                                                    False, False]
