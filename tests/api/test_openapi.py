"""The OpenAPI documents, built without a server: upstream's schemas for the served kinds (and a
custom resource's own), shaped as kube-apiserver serves them in v3 and in v2's gnostic protobuf."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from cluster.api import discovery, gnostic, openapi, openapi_schemas, openapi_v2
from cluster.api.protobuf import fields

SERVED = discovery.Served.builtin().resources


def _widget(schema_description: str = "WidgetSpec is what a widget wants.") -> SimpleNamespace:
    """A custom resource as the per-cluster registry will hand it over (schema from its CRD)."""
    return SimpleNamespace(
        name="widgets", group="stable.example.com", version="v1", kind="Widget", namespaced=True,
        verbs=("create", "delete", "get", "list", "patch", "update", "watch"), subresources=("status",),
        openapi_schema={"type": "object", "properties": {
            "spec": {"type": "object", "description": schema_description, "properties": {
                "size": {"type": "integer", "minimum": 1, "description": "How big."},
                "port": {"x-kubernetes-int-or-string": True,
                         "anyOf": [{"type": "integer"}, {"type": "string"}]},
                "colour": {"type": "string", "nullable": True, "enum": ["red", "blue"]}}}}})


def _resolvable(doc: dict, prefix: str, defs: dict) -> None:
    """Every $ref in the document names a schema the document has."""
    missing = {r for r in openapi_schemas.refs(doc) if r not in defs}
    assert not missing, missing
    assert all(ref.startswith(prefix) for ref in _raw_refs(doc))


def _raw_refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                yield v
            else:  # a schema's properties may name a field "$ref" (JSONSchemaProps does)
                yield from _raw_refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _raw_refs(v)


def test_schema_release_follows_the_reported_version():
    assert openapi_schemas.SCHEMA_RELEASE == f"1.{discovery.KUBERNETES_VERSION['minor']}"
    # kubernetes-validate ships later releases too: moving KUBERNETES_VERSION moves the schemas.
    assert "io.k8s.api.core.v1.Pod" in openapi_schemas.upstream_definitions("1.36")


def test_upstream_definitions_read_as_swagger():
    defs = openapi_schemas.upstream_definitions()
    pod = defs["io.k8s.api.core.v1.Pod"]
    assert pod["type"] == "object"
    assert pod["x-kubernetes-group-version-kind"] == [{"group": "", "kind": "Pod", "version": "v1"}]
    assert "enum" not in pod["properties"]["kind"]  # openapi2jsonschema's addition, undone
    probe = defs["io.k8s.api.core.v1.Container"]["properties"]["livenessProbe"]
    assert probe["$ref"] == "#/definitions/io.k8s.api.core.v1.Probe"
    assert probe["description"].startswith("Periodic probe of container liveness.")
    assert defs["io.k8s.api.core.v1.Probe"]["properties"]["initialDelaySeconds"] == {
        "description": "Number of seconds after the container has started before liveness probes are "
                       "initiated. More info: https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle#container-probes",
        "format": "int32", "type": "integer"}
    assert defs[openapi_schemas.INT_OR_STRING] == {"type": "string", "format": "int-or-string"}
    assert "null" not in json.dumps(defs["io.k8s.api.apps.v1.ReplicaSetSpec"])


def test_every_served_kind_has_upstreams_schema():
    for r in SERVED:
        name = openapi_schemas.kind_definition(r)
        assert name, f"no upstream definition for {r.group}/{r.version} {r.kind}"
        assert openapi_schemas.upstream_definitions()[name]["description"]


def test_gv_document_has_the_kinds_schemas_with_their_gvk():
    doc = openapi.gv_document(SERVED, "", "v1")
    schemas = doc["components"]["schemas"]
    _resolvable(doc, openapi.COMPONENTS, schemas)
    for kind in ("Pod", "Node", "Namespace", "Event", "PodList", "Binding"):
        assert {"group": "", "version": "v1", "kind": kind} in schemas[f"io.k8s.api.core.v1.{kind}"][
            "x-kubernetes-group-version-kind"]
    assert "io.k8s.api.policy.v1.Eviction" in schemas  # pods/eviction's kind, as upstream
    assert "io.k8s.api.apps.v1.ReplicaSet" not in schemas  # another group-version's
    probe = schemas["io.k8s.api.core.v1.Container"]["properties"]["livenessProbe"]
    assert probe["allOf"] == [{"$ref": "#/components/schemas/io.k8s.api.core.v1.Probe"}]
    assert probe["description"].startswith("Periodic probe of container liveness.")
    assert schemas[openapi_schemas.INT_OR_STRING]["oneOf"] == [{"type": "integer"}, {"type": "string"}]
    get = doc["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["get"]
    assert get["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/io.k8s.api.core.v1.Pod"}
    scale = openapi.gv_document(SERVED, "apps", "v1")["paths"][
        "/apis/apps/v1/namespaces/{namespace}/replicasets/{name}/scale"]["put"]
    assert scale["x-kubernetes-group-version-kind"] == {"group": "autoscaling", "version": "v1", "kind": "Scale"}
    assert openapi.gv_document(SERVED, "nope", "v1") is None


def test_root_document_hashes_change_with_the_served_resources():
    root = openapi.root_document(SERVED, "/clusters/c")
    url = root["paths"]["api/v1"]["serverRelativeURL"]
    assert url.startswith("/clusters/c/openapi/v3/api/v1?hash=") and len(url.split("=")[1]) == 128
    assert openapi.root_document(SERVED, "/clusters/c") == root  # cached, stable
    # A caller's key (a registry's generation, say) names the resources instead of their identities.
    assert openapi.gv_document(SERVED, "", "v1", key="gen-1") is openapi.gv_document(SERVED, "", "v1", key="gen-1")
    assert openapi.root_document(SERVED, "/clusters/c", key="gen-1") == root
    with_crd = openapi.root_document([*SERVED, _widget()], "/clusters/c")
    assert with_crd["paths"]["api/v1"] == root["paths"]["api/v1"]
    assert "apis/stable.example.com/v1" in with_crd["paths"]
    changed = openapi.root_document([*SERVED, _widget("Changed.")], "/clusters/c")
    assert changed["paths"]["apis/stable.example.com/v1"] != with_crd["paths"]["apis/stable.example.com/v1"]


def test_custom_resource_schema_in_v3():
    doc = openapi.document_for_path([*SERVED, _widget()], ["apis", "stable.example.com", "v1"])
    schemas = doc["components"]["schemas"]
    _resolvable(doc, openapi.COMPONENTS, schemas)
    widget = schemas["com.example.stable.v1.Widget"]
    assert widget["x-kubernetes-group-version-kind"] == [
        {"group": "stable.example.com", "kind": "Widget", "version": "v1"}]
    assert widget["properties"]["metadata"]["allOf"] == [
        {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}]
    assert widget["properties"]["spec"]["properties"]["colour"]["nullable"] is True
    assert schemas["com.example.stable.v1.WidgetList"]["properties"]["items"]["items"] == {
        "$ref": "#/components/schemas/com.example.stable.v1.Widget"}
    assert "/apis/stable.example.com/v1/namespaces/{namespace}/widgets/{name}/status" in doc["paths"]


def test_v2_document_definitions():
    doc = openapi_v2.v2_document([*SERVED, _widget()])
    defs = doc["definitions"]
    _resolvable(doc, "#/definitions/", defs)
    assert {"io.k8s.api.core.v1.Pod", "io.k8s.api.apps.v1.ReplicaSet", "io.k8s.api.autoscaling.v1.Scale",
            "io.k8s.api.coordination.v1.Lease", "io.k8s.api.scheduling.v1.PriorityClass"} <= set(defs)
    spec = defs["com.example.stable.v1.Widget"]["properties"]["spec"]["properties"]
    assert "nullable" not in spec["colour"] and "anyOf" not in spec["port"] and "type" not in spec["port"]
    assert spec["port"]["x-kubernetes-int-or-string"] is True


def _named(message: bytes) -> dict[str, bytes]:
    """NamedSchema entries of a Definitions/Properties message: {name: Schema bytes}."""
    out = {}
    for _, _, entry in fields(message):
        parts = {n: v for n, _, v in fields(entry)}
        out[parts[1].decode()] = parts[2]
    return out


def test_v2_protobuf_decodes_as_gnostic_document():
    raw = openapi.v2_document_protobuf(SERVED)
    assert raw.startswith(b"\x0a\x032.0\x12")
    top = {n: v for n, _, v in fields(raw)}
    assert {n for n, _, _ in fields(top[2])} == {1, 2}  # Info: title, version
    definitions = _named(top[9])
    assert "io.k8s.api.core.v1.Pod" in definitions
    pod = fields(definitions["io.k8s.api.core.v1.Pod"])
    description = [v for n, _, v in pod if n == 4][0].decode()
    assert description.startswith("Pod is a collection of containers")
    # Vendor extensions: NamedAny {name, Any {yaml}}, read back by kube-openapi with a YAML parser.
    extensions = {}
    for n, _, v in pod:
        if n == 31:
            named = {k: val for k, _, val in fields(v)}
            extensions[named[1].decode()] = json.loads({k: val for k, _, val in fields(named[2])}[2])
    assert extensions["x-kubernetes-group-version-kind"] == [{"group": "", "kind": "Pod", "version": "v1"}]
    spec = _named([v for n, _, v in pod if n == 25][0])["spec"]
    assert {n: v for n, _, v in fields(spec)}[1] == b"#/definitions/io.k8s.api.core.v1.PodSpec"
    assert openapi.v2_document_protobuf(SERVED) is raw  # cached


@pytest.mark.parametrize("schema", [
    {"type": "integer", "minimum": 1, "maximum": 10.5, "maxLength": 3, "uniqueItems": True, "readOnly": False},
    {"type": "array", "items": {"type": "string"}, "enum": ["a", 1], "default": ["a"]},
    {"additionalProperties": False, "x-kubernetes-preserve-unknown-fields": True},
])
def test_gnostic_schema_fields_round_trip(schema):
    encoded = gnostic.schema(schema)
    numbers = [n for n, _, _ in fields(encoded)]
    expect = {"type": 22, "minimum": 9, "maximum": 7, "maxLength": 11, "uniqueItems": 16, "items": 23,
              "enum": 20, "default": 5, "additionalProperties": 21,
              "x-kubernetes-preserve-unknown-fields": 31}
    assert set(numbers) == {expect[k] for k in schema if k in expect and schema[k] is not False
                            or k == "additionalProperties"}
