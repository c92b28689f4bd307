"""A kind is one module (DESIGN: "a kind is one module").  This test declares a kind the way
every module under sim/registry/<group>/ does - one `RESOURCE` with its strategy and printer -
adds it to the built-in kinds, and finds it served everywhere: the API (create, get, list,
watch, delete), discovery, OpenAPI, tables, the garbage collector, namespace deletion and the
dashboard's snapshot.  Nothing else is edited.

It also checks that the generic code - the request path, the watch cache, selectors, storage,
admission, the garbage collector, namespace deletion, tables and discovery - names no kind."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import sim.registry.registry as registry_module
from cluster.api import discovery, openapi
from cluster.api.requestinfo import parse
from sim.api.validation import required
from sim.cluster import Cluster, ClusterConfig
from sim.registry import Registry
from sim.registry.printers import AGE, NAME, Printer, col, since
from sim.registry.resource import COMMON_FIELDS, Resource
from sim.registry.strategy import Strategy
from tests.builders import MakeNamespace, MakeObject, MakePod, MakeReplicaSet
from tests.sim.conftest import ok


ROOT = Path(__file__).resolve().parents[2]


# -- the whole of the new kind: what its module would hold -------------------------------------
class WidgetStrategy(Strategy):
    tracks_generation = True

    def default(self, obj, ctx):
        obj = dict(obj, apiVersion="toys.example.com/v1", kind="Widget")
        obj.setdefault("spec", {}).setdefault("color", "blue")
        return obj

    def validate(self, obj):
        return [] if (obj.get("spec") or {}).get("size") else [required("spec.size")]


WIDGET = Resource(
    "widgets", "toys.example.com", "v1", "Widget", True, "/registry/toys.example.com/widgets/", ("wd",), "widget",
    ("status",), WidgetStrategy(), categories=("all",),
    selectable_fields=COMMON_FIELDS + ("spec.color",),
    openapi_schema={"type": "object", "description": "A widget.",
                    "properties": {"spec": {"type": "object", "properties": {
                        "size": {"type": "integer", "description": "How big it is."},
                        "color": {"type": "string"}}}}},
    printer=Printer([NAME, col("Color"), AGE], lambda w, now: [
        w["metadata"]["name"], w["spec"].get("color", ""), since(w["metadata"].get("creationTimestamp"), now)]),
    strategic_merge_patch=False)
# ----------------------------------------------------------------------------------------------

W = {"group": "toys.example.com", "resource": "widgets", "namespace": "default"}


@pytest.fixture
def widgets_served(monkeypatch):
    """The built-in kinds, plus the widget module."""
    kinds = (*registry_module.builtin_kinds(), WIDGET)
    monkeypatch.setattr(registry_module, "builtin_kinds", lambda: kinds)
    monkeypatch.setattr(registry_module, "BUILTIN", Registry(kinds))
    monkeypatch.setattr(discovery, "BUILTIN", Registry(kinds))


def test_a_kind_declared_in_one_module_is_served_everywhere(widgets_served):
    c = Cluster("widgets", ClusterConfig.default())
    c.advance(5)

    # The API: create (defaulted, validated), get, list with a field selector, delete.
    created = ok(c.request({"verb": "create", **W, "body": MakeObject("toys.example.com/v1", "Widget").name("w1").spec(size=3).manifest()}), 201)
    assert created["spec"] == {"size": 3, "color": "blue"} and created["metadata"]["generation"] == 1
    bad = c.request({"verb": "create", **W, "body": {"metadata": {"name": "w0"}, "spec": {}}})
    assert bad["code"] == 422 and bad["body"]["message"] == \
        'Widget.toys.example.com "w0" is invalid: spec.size: Required value'
    assert ok(c.request({"verb": "get", **W, "name": "w1"}))["spec"]["color"] == "blue"
    listed = ok(c.request({"verb": "list", **W, "query": {"fieldSelector": "spec.color=blue"}}))
    assert [i["metadata"]["name"] for i in listed["items"]] == ["w1"]

    # Watch: a watch from the list's resourceVersion sees the next change.
    rv = listed["metadata"]["resourceVersion"]
    ok(c.request({"verb": "patch", **W, "name": "w1", "body": {"spec": {"color": "red"}}}))
    watched = c.request({"verb": "watch", **W, "query": {"resourceVersion": rv}})
    assert [(e["type"], e["object"]["spec"]["color"]) for e in watched["events"]] == [("MODIFIED", "red")]

    # Discovery (what the HTTP front end builds from the apiserver's registry).
    served = discovery.Served.from_discovery(ok(c.request({"verb": "discovery", "resource": ""})))
    doc = discovery.api_resource_list(served, "toys.example.com", "v1")
    entry = next(r for r in doc["resources"] if r["name"] == "widgets")
    assert entry["kind"] == "Widget" and entry["shortNames"] == ["wd"] and entry["categories"] == ["all"]
    assert "toys.example.com" in [g["name"] for g in discovery.api_group_list(served)["groups"]]

    # OpenAPI v3 carries its schema; requestinfo routes its paths; the apiserver's Tables use its printer.
    v3 = openapi.document_for_path(served.resources, ["apis", "toys.example.com", "v1"])
    assert any("Widget" in name for name in v3["components"]["schemas"])
    rr = parse("GET", ["apis", "toys.example.com", "v1", "namespaces", "default", "widgets"], {}, "", b"", served)
    assert rr.res.kind == "Widget"
    table = ok(c.request({"verb": "list", **W, "as": {"apiVersion": "meta.k8s.io/v1"}}))
    assert [col["name"] for col in table["columnDefinitions"]] == ["Name", "Color", "Age"]
    assert table["rows"][0]["cells"][:2] == ["w1", "red"]

    # The garbage collector: a widget owned by a ReplicaSet goes with it.
    rs = ok(c.request({"verb": "create", "group": "apps", "resource": "replicasets", "namespace": "default",
                       "body": (MakeReplicaSet().name("owner").replicas(0).selector({"a": "b"})
                                .template(MakePod().labels({"a": "b"}).container("nginx", name="c")).obj())}), 201)
    ref = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "owner", "uid": rs["metadata"]["uid"]}
    ok(c.request({"verb": "create", **W, "body": MakeObject("toys.example.com/v1", "Widget").name("owned").metadata(ownerReferences=[ref]).spec(size=3).manifest()}), 201)
    c.advance(35)  # the collector's discovery resync finds the kind
    ok(c.request({"verb": "delete", "group": "apps", "resource": "replicasets", "namespace": "default", "name": "owner"}))
    c.advance(10)
    assert c.request({"verb": "get", **W, "name": "owned"})["code"] == 404

    # The dashboard's snapshot lists it with its objects.
    kinds = {k["resource"]: k for k in c.snapshot()["kinds"]}
    assert kinds["widgets"]["count"] == 1 and kinds["widgets"]["names"] == ["default/w1"]

    # Namespace deletion removes it with everything else in the namespace.
    ok(c.request({"verb": "create", "group": "", "resource": "namespaces", "body": MakeNamespace().name("toys").obj()}), 201)
    ok(c.request({"verb": "create", **dict(W, namespace="toys"), "body": MakeObject("toys.example.com/v1", "Widget").name("w2").spec(size=3).manifest()}), 201)
    ok(c.request({"verb": "delete", "group": "", "resource": "namespaces", "name": "toys"}))
    c.advance(10)
    assert c.request({"verb": "get", "group": "", "resource": "namespaces", "name": "toys"})["code"] == 404
    assert ok(c.request({"verb": "list", **dict(W, namespace="toys")}))["items"] == []


# Named on purpose: kube-controller-manager's GCIgnoredResources default is a list of
# GroupResources; the namespace controller writes Namespaces (and deletes every other kind).
ALLOWED = {("sim/controllers/garbagecollector.py", "events"), ("sim/controllers/namespace.py", "namespaces"),
           ("sim/controllers/namespace.py", "pods")}  # OrderedNamespaceDeletion: pods first


def test_the_request_path_names_no_kind():
    """sim/apiserver/server.py, the watch cache, selectors and storage mention no kind's plural."""
    generic = ["sim/apiserver/server.py", "sim/apiserver/admission/__init__.py", "sim/apiserver/watchcache.py", "sim/api/selectors.py",
               "sim/apiserver/storage.py", "sim/apiserver/scale.py", "sim/controllers/garbagecollector.py",
               "sim/controllers/namespace.py", "cluster/api/tables.py", "sim/registry/tables.py", "cluster/api/discovery.py"]
    kinds = [r.name for r in registry_module.builtin_kinds()]
    for rel in generic:
        # comments and docstrings may name kinds as examples
        text = re.sub(r'"""[\s\S]*?"""|#.*', "", (ROOT / rel).read_text())
        # a plural in quotes, not as a dict key ("events": ..., ["events"]) or a membership test
        named = [k for k in kinds if (rel, k) not in ALLOWED and re.search(rf'(?<!\[)["\']{k}["\'](?!\]|:| in )', text)]
        assert named == [], f"{rel} names {named}"


def test_controllers_are_descriptors_settable_per_cluster():
    """kube-controller-manager's --controllers: "*" runs the default ones, "-foo" leaves foo out;
    an unknown name is refused as the flag's validation refuses it."""
    from sim.clusterconfig import ConfigError, config_from_spec
    from sim.controllers.descriptors import enabled, known_names
    assert [d.name for d in enabled(["*"])] == known_names()
    assert "garbage-collector-controller" not in [d.name for d in enabled(["*", "-garbagecollector"])]
    with pytest.raises(ConfigError, match='"nope" is not in the list of known controllers'):
        config_from_spec({"controllers": ["*", "nope"]})
    c = Cluster("no-gc", config_from_spec({"controllers": ["*", "-garbage-collector-controller"]}))
    c.advance(20)
    leader = next(cm for cm in c.controller_managers if cm.running and cm.leading)
    names = [ctrl.name for ctrl in leader.controllers]
    assert "replicaset-controller" in names and "garbage-collector-controller" not in names
