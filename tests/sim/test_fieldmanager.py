"""managedFields tracking and server-side apply (sim/api/fieldmanager.py), each test naming the
upstream behaviour it mirrors (k8s.io/apimachinery/pkg/util/managedfields/internal and
sigs.k8s.io/structured-merge-diff)."""
from __future__ import annotations

import copy

import pytest

from sim.api import fieldmanager as fm
from sim.api.fieldpath import from_fields_v1, path_of, to_fields_v1
from sim.api.fieldtypes import TypeInfo
from tests.builders import MakePod, MakeReplicaSet, make_container


T0, T1, T2 = "2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z", "2026-01-01T00:02:00Z"


def entries(obj):
    return {(e["manager"], e["operation"], e.get("subresource", "")): e for e in obj["metadata"]["managedFields"]}


def fields(obj, manager, operation="Update", subresource=""):
    return entries(obj)[(manager, operation, subresource)]["fieldsV1"]


def test_create_owns_every_field_set_in_upstreams_fieldsv1_shape():
    """A create is compared with the kind's zero object (structuredmerge.go Update with
    Creater.New): every field set is the creator's; labels and the container item are "added"
    (".": {}), spec is not (the zero Pod has one); name, namespace, uid... are never owned
    (stripmeta.go)."""
    out = fm.update(None, MakePod().name("web").namespace("default").uid("u1").metadata(resourceVersion="5", creationTimestamp=T0).labels({"app": "web"}).container("nginx:1.25", name="nginx").manifest(), "kubectl-create", "v1", T0)
    assert out["metadata"]["managedFields"] == [{
        "manager": "kubectl-create", "operation": "Update", "apiVersion": "v1", "time": T0,
        "fieldsType": "FieldsV1",
        "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                     "f:spec": {"f:containers": {'k:{"name":"nginx"}': {".": {}, "f:image": {}, "f:name": {}}}}}}]
    assert list(out["metadata"]["managedFields"][0]) == ["manager", "operation", "apiVersion", "time",
                                                         "fieldsType", "fieldsV1"]


def test_fieldsv1_encoding_round_trips_keys_values_and_order():
    """serialize.go / serialize-pe.go: fields before keys before values, keys' fields sorted by
    name (a port is k:{"containerPort":80,"protocol":"TCP"}), set items as v:<json>, "." first."""
    doc = {"f:metadata": {"f:finalizers": {".": {}, 'v:"a.io/x"': {}}},
           "f:spec": {"f:containers": {'k:{"name":"b"}': {".": {}, "f:ports": {
               'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}}}}, "f:replicas": {}}}
    s = from_fields_v1(doc)
    assert to_fields_v1(s) == doc
    assert list(to_fields_v1(s)["f:spec"]) == ["f:containers", "f:replicas"]


def test_update_transfers_changed_fields_and_keeps_the_rest():
    """Updater.update: a field another manager changes leaves its old owner's set; unchanged
    fields stay with the creator; the writer's entry gets the write's time."""
    created = fm.update(None, MakePod().name("web").namespace("default").uid("u1").metadata(resourceVersion="5", creationTimestamp=T0).labels({"app": "web"}).container("nginx:1.25", name="nginx").manifest(), "kubectl-create", "v1", T0)
    changed = copy.deepcopy(created)
    changed["spec"]["containers"][0]["image"] = "nginx:1.26"
    out = fm.update(created, changed, "kubectl-set", "v1", T1)
    assert fields(out, "kubectl-set") == {"f:spec": {"f:containers": {'k:{"name":"nginx"}': {"f:image": {}}}}}
    assert fields(out, "kubectl-create")["f:spec"] == {"f:containers": {'k:{"name":"nginx"}': {".": {},
                                                                                              "f:name": {}}}}
    assert entries(out)[("kubectl-set", "Update", "")]["time"] == T1
    assert entries(out)[("kubectl-create", "Update", "")]["time"] == T0


def test_update_that_changes_nothing_keeps_entries_and_times():
    """managedfieldsupdater.go: the time moves only when the write took fields."""
    created = fm.update(None, MakePod().name("web").namespace("default").uid("u1").metadata(resourceVersion="5", creationTimestamp=T0).labels({"app": "web"}).container("nginx:1.25", name="nginx").manifest(), "kubectl-create", "v1", T0)
    out = fm.update(created, copy.deepcopy(created), "kubectl-create", "v1", T1)
    assert out["metadata"]["managedFields"] == created["metadata"]["managedFields"]


def test_removing_a_field_by_update_removes_it_from_its_owner():
    """Updater.update: compare.Removed leaves every manager's set; an empty entry is dropped."""
    created = fm.update(None, MakePod().name("web").namespace("default").uid("u1").metadata(resourceVersion="5", creationTimestamp=T0).labels({"app": "web"}).container("nginx:1.25", name="nginx").manifest(), "creator", "v1", T0)
    labeled = fm.update(created, MakePod().name("web").namespace("default").uid("u1").metadata(resourceVersion="5", creationTimestamp=T0).labels({"app": "web", "tier": "fe"}).container("nginx:1.25", name="nginx").manifest(), "labeler", "v1", T1)
    assert fields(labeled, "labeler") == {"f:metadata": {"f:labels": {"f:tier": {}}}}
    unlabeled = fm.update(labeled, {**MakePod().name("web").namespace("default").uid("u1").metadata(resourceVersion="5", creationTimestamp=T0).labels({"app": "web"}).container("nginx:1.25", name="nginx").manifest(), "metadata": {**MakePod().name("web").namespace("default").uid("u1").metadata(resourceVersion="5", creationTimestamp=T0).labels({"app": "web"}).container("nginx:1.25", name="nginx").manifest()["metadata"],
                                                           "managedFields": labeled["metadata"]["managedFields"]}},
                          "creator", "v1", T2)
    assert ("labeler", "Update", "") not in entries(unlabeled)


def test_apply_conflict_with_one_manager_is_a_409_with_upstreams_message():
    """conflict.go NewConflictError / getConflictMessage (one conflict), errors.NewApplyConflict."""
    live = fm.update(None, MakeReplicaSet().name("web").replicas(3).spec(template={"spec": {"containers": [make_container("nginx", name="c")]}}).manifest(), "kubectl-client-side-apply", "apps/v1", T0)
    result = fm.apply(live, MakeReplicaSet().name("web").replicas(5).spec(template={"spec": {"containers": [make_container("nginx", name="c")]}}).manifest(), "ssa", "apps/v1", T1, force=False)
    assert isinstance(result, fm.Conflicts)
    assert result.message() == ('Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" '
                                'using apps/v1: .spec.replicas')
    assert result.status() == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": result.message(), "reason": "Conflict", "code": 409,
        "details": {"causes": [{"reason": "FieldManagerConflict",
                                "message": 'conflict with "kubectl-client-side-apply" using apps/v1',
                                "field": ".spec.replicas"}]}}


def test_apply_conflicts_with_two_managers_are_grouped_by_sorted_manager():
    """getConflictMessage (several): "conflicts with <manager>:" then "- <path>" lines, managers
    sorted; an applier is printed without "using"."""
    live = fm.update(None, MakeReplicaSet().name("web").replicas(3).spec(template={"spec": {"containers": [make_container("nginx", name="c")]}}).manifest(), "m2", "apps/v1", T0)
    live = fm.apply(live, {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web"},
                           "spec": {"replicas": 3}}, "m1", "apps/v1", T1)
    result = fm.apply(live, MakeReplicaSet().name("web").replicas(4).spec(template={"spec": {"containers": [make_container("httpd", name="c")]}}).manifest(), "ssa", "apps/v1", T2)
    assert result.message() == ('Apply failed with 3 conflicts: conflicts with "m1":\n- .spec.replicas\n'
                                'conflicts with "m2" using apps/v1:\n- .spec.replicas\n'
                                '- .spec.template.spec.containers[name="c"].image')
    assert [c["message"] for c in result.status()["details"]["causes"]] == [
        'conflict with "m1"', 'conflict with "m2" using apps/v1', 'conflict with "m2" using apps/v1']


def test_force_takes_conflicting_fields_from_their_owners():
    """Updater.update with force: the conflicting fields leave the other managers' sets."""
    live = fm.update(None, MakeReplicaSet().name("web").replicas(3).spec(template={"spec": {"containers": [make_container("nginx", name="c")]}}).manifest(), "kubectl-client-side-apply", "apps/v1", T0)
    out = fm.apply(live, {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web"},
                          "spec": {"replicas": 5}}, "ssa", "apps/v1", T1, force=True)
    assert out["spec"]["replicas"] == 5
    assert fields(out, "ssa", "Apply") == {"f:spec": {"f:replicas": {}}}
    assert "f:replicas" not in fields(out, "kubectl-client-side-apply")["f:spec"]
    assert out["metadata"]["managedFields"][0]["manager"] == "ssa"    # Apply entries sort first


def test_applying_the_same_value_shares_ownership_without_conflict():
    """Same value, no change: not in compare's Modified, so no conflict and both own it."""
    live = fm.update(None, MakeReplicaSet().name("web").replicas(3).spec(template={"spec": {"containers": [make_container("nginx", name="c")]}}).manifest(), "creator", "apps/v1", T0)
    out = fm.apply(live, {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web"},
                          "spec": {"replicas": 3}}, "ssa", "apps/v1", T1)
    assert not isinstance(out, fm.Conflicts)
    assert "f:replicas" in fields(out, "creator")["f:spec"]
    assert fields(out, "ssa", "Apply") == {"f:spec": {"f:replicas": {}}}
    # An apply that changed nothing returns the live object; the new entry has no time yet.
    assert "time" not in entries(out)[("ssa", "Apply", "")]


def test_dropping_a_field_from_the_apply_configuration_removes_it():
    """Updater.prune: applied last time, not this time, owned by nobody else: removed."""
    config = MakePod().name("web").namespace("default").uid("u1").metadata(resourceVersion="5", creationTimestamp=T0).labels({"app": "web", "tier": "fe"}).container("nginx:1.25", name="nginx").manifest()
    del config["metadata"]["uid"], config["metadata"]["resourceVersion"], config["metadata"]["creationTimestamp"]
    first = fm.apply(None, config, "ssa", "v1", T0)
    config["metadata"]["labels"] = {"app": "web"}
    second = fm.apply(first, config, "ssa", "v1", T1)
    assert second["metadata"]["labels"] == {"app": "web"}
    assert fields(second, "ssa", "Apply")["f:metadata"] == {"f:labels": {"f:app": {}}}


def test_dropped_field_still_owned_by_another_applier_stays():
    """addBackOwnedItems: a field another manager owns is not pruned."""
    base = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    a = fm.apply(None, {**base, "data": {"x": "1", "y": "2"}}, "a", "v1", T0)
    b = fm.apply(a, {**base, "data": {"y": "2"}}, "b", "v1", T1)
    out = fm.apply(b, {**base, "data": {"x": "1"}}, "a", "v1", T2)
    assert out["data"] == {"x": "1", "y": "2"}
    out = fm.apply(b, {**base, "data": {}}, "a", "v1", T2)
    assert out["data"] == {"y": "2"}


def test_associative_list_merges_containers_by_name():
    """merge.go visitListItems: items merge by key; the live object's other items are kept."""
    live = fm.update(None, MakePod().name("web").namespace("default").uid("u1").metadata(resourceVersion="5", creationTimestamp=T0).labels({"app": "web"}).container("nginx:1.25", name="nginx").manifest(), "creator", "v1", T0)
    config = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
              "spec": {"containers": [{"name": "sidecar", "image": "envoy"}]}}
    out = fm.apply(live, config, "mesh", "v1", T1)
    assert [c["name"] for c in out["spec"]["containers"]] == ["nginx", "sidecar"]
    assert out["spec"]["containers"][0]["image"] == "nginx:1.25"
    assert fields(out, "mesh", "Apply") == {"f:spec": {"f:containers": {
        'k:{"name":"sidecar"}': {".": {}, "f:image": {}, "f:name": {}}}}}
    # The applier drops its container: only that one goes.
    out2 = fm.apply(out, {**config, "spec": {"containers": []}}, "mesh", "v1", T2)
    assert [c["name"] for c in out2["spec"]["containers"]] == ["nginx"]


def test_set_list_items_are_owned_by_value():
    """+listType=set (ObjectMeta.finalizers): items are v:"<value>" and merge as a union."""
    live = fm.update(None, {**MakePod().name("web").namespace("default").uid("u1").metadata(resourceVersion="5", creationTimestamp=T0).labels({"app": "web"}).container("nginx:1.25", name="nginx").manifest(), "metadata": {**MakePod().name("web").namespace("default").uid("u1").metadata(resourceVersion="5", creationTimestamp=T0).labels({"app": "web"}).container("nginx:1.25", name="nginx").manifest()["metadata"], "finalizers": ["a.io/x"]}},
                     "creator", "v1", T0)
    out = fm.apply(live, {"apiVersion": "v1", "kind": "Pod",
                          "metadata": {"name": "web", "finalizers": ["b.io/y"]}}, "ssa", "v1", T1)
    assert out["metadata"]["finalizers"] == ["a.io/x", "b.io/y"]
    assert fields(out, "ssa", "Apply") == {"f:metadata": {"f:finalizers": {'v:"b.io/y"': {}}}}
    assert fields(out, "creator")["f:metadata"]["f:finalizers"] == {".": {}, 'v:"a.io/x"': {}}


def test_atomic_list_is_owned_whole_and_conflicts_whole():
    """Lists without list-type markers are atomic (schemaconv): f:args is a leaf."""
    live = fm.update(None, MakePod().name("web").namespace("default").uid("u1").metadata(resourceVersion="5", creationTimestamp=T0).labels({"app": "web"}).container("nginx:1.25", name="nginx").manifest(), "creator", "v1", T0)
    live["spec"]["containers"][0]["args"] = ["a", "b"]
    live = fm.update(fm.update(None, MakePod().name("web").namespace("default").uid("u1").metadata(resourceVersion="5", creationTimestamp=T0).labels({"app": "web"}).container("nginx:1.25", name="nginx").manifest(), "creator", "v1", T0), live, "editor", "v1", T1)
    assert fields(live, "editor")["f:spec"]["f:containers"]['k:{"name":"nginx"}'] == {"f:args": {}}
    config = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
              "spec": {"containers": [{"name": "nginx", "args": ["c"]}]}}
    result = fm.apply(live, config, "ssa", "v1", T2)
    assert result.message().endswith('.spec.containers[name="nginx"].args')


def test_crd_list_and_map_types_come_from_callbacks():
    """x-kubernetes-list-type / -list-map-keys / -map-type through TypeInfo's callbacks."""
    ti = TypeInfo(list_type=lambda p: ("map", ("port",)) if p == ("spec", "ports") else None,
                  map_type=lambda p: "atomic" if p == ("spec", "selector") else None,
                  is_field=lambda p: p[0] in ("metadata", "spec") and len(p) <= 2 and p[-1] != "labels"
                  or None)
    cr = {"apiVersion": "x.io/v1", "kind": "Thing", "metadata": {"name": "t"},
          "spec": {"ports": [{"port": 80, "name": "http"}], "selector": {"a": "b"}}}
    out = fm.update(None, cr, "creator", "x.io/v1", T0, type_info=ti)
    assert fields(out, "creator") == {"f:spec": {".": {}, "f:ports": {".": {}, "k:{\"port\":80}": {
        ".": {}, "f:name": {}, "f:port": {}}}, "f:selector": {}}}


def test_status_subresource_entries_carry_subresource_and_ignore_spec():
    """buildmanagerinfo.go puts the subresource in the identifier; decodeLiveOrNew takes the live
    managedFields for a subresource; the pod status strategy's reset fields (spec) are not owned."""
    live = fm.update(None, {**MakePod().name("web").namespace("default").uid("u1").metadata(resourceVersion="5", creationTimestamp=T0).labels({"app": "web"}).container("nginx:1.25", name="nginx").manifest(), "status": {}}, "creator", "v1", T0)
    new = copy.deepcopy(live)
    new["status"] = {"phase": "Running"}
    new["spec"]["containers"][0]["image"] = "ignored-by-status"
    new["metadata"]["managedFields"] = []
    out = fm.update(live, new, "kubelet", "v1", T1, subresource="status")
    kubelet = entries(out)[("kubelet", "Update", "status")]
    assert kubelet["subresource"] == "status" and kubelet["fieldsV1"] == {"f:status": {"f:phase": {}}}
    assert ("creator", "Update", "") in entries(out)


def test_conflict_with_a_subresource_manager_names_it():
    """printManager: `"kubelet" with subresource "status" using v1`."""
    live = fm.update(None, MakePod().name("web").namespace("default").uid("u1").metadata(resourceVersion="5", creationTimestamp=T0).labels({"app": "web"}).container("nginx:1.25", name="nginx").manifest(), "creator", "v1", T0)
    new = copy.deepcopy(live)
    new["status"] = {"phase": "Running"}
    live = fm.update(live, new, "kubelet", "v1", T1, subresource="status")
    result = fm.apply(live, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
                             "status": {"phase": "Failed"}}, "ssa", "v1", T2, subresource="status")
    assert result.message() == ('Apply failed with 1 conflict: conflict with "kubelet" with subresource '
                                '"status" using v1: .status.phase')


def test_update_managers_are_capped_at_ten():
    """capmanagers.go: beyond DefaultMaxUpdateManagers (10) Update entries, the oldest two (and
    more) merge into "ancient-changes" per apiVersion."""
    obj = fm.update(None, MakePod().name("web").namespace("default").uid("u1").metadata(resourceVersion="5", creationTimestamp=T0).labels({}).container("nginx:1.25", name="nginx").manifest(), "creator", "v1", "2026-01-01T00:00:00Z")
    for i in range(11):
        new = copy.deepcopy(obj)
        new["metadata"]["labels"][f"l{i}"] = "x"
        obj = fm.update(obj, new, f"m{i:02}", "v1", f"2026-01-01T00:{i + 1:02}:00Z")
    managers = [e["manager"] for e in obj["metadata"]["managedFields"]]
    assert len(managers) == 10 and "ancient-changes" in managers
    assert "creator" not in managers and "m00" not in managers and "m01" not in managers
    ancient = entries(obj)[("ancient-changes", "Update", "")]
    assert ancient["time"] == "2026-01-01T00:02:00Z"     # the latest merged one's
    assert set(ancient["fieldsV1"]["f:metadata"]["f:labels"]) >= {"f:l0", "f:l1"}


def test_client_managed_fields_reset_invalid_fallback_and_apply_refusal():
    """decodeLiveOrNew: `[]` resets; undecodable ones fall back to the live object's;
    structuredmerge.go Apply refuses a configuration with managedFields or another version."""
    live = fm.update(None, MakePod().name("web").namespace("default").uid("u1").metadata(resourceVersion="5", creationTimestamp=T0).labels({"app": "web"}).container("nginx:1.25", name="nginx").manifest(), "creator", "v1", T0)
    reset = copy.deepcopy(live)
    reset["metadata"]["managedFields"] = []
    assert "managedFields" not in fm.update(live, reset, "x", "v1", T1)["metadata"]
    bad = copy.deepcopy(live)
    bad["metadata"]["managedFields"] = [{"manager": "x", "operation": "Patch", "apiVersion": "v1"}]
    assert fm.validate_managed_fields(bad) == "operation must be `Apply` or `Update`"
    assert fm.update(live, bad, "x", "v1", T1)["metadata"]["managedFields"] == live["metadata"]["managedFields"]
    with pytest.raises(fm.ApplyError, match="metadata.managedFields must be nil"):
        fm.apply(live, bad, "ssa", "v1", T1)
    with pytest.raises(fm.ApplyError) as e:
        fm.apply(live, {"apiVersion": "v2", "kind": "Pod", "metadata": {"name": "web"}}, "ssa", "v1", T1)
    assert e.value.status()["message"] == ("Incorrect version specified in apply patch. "
                                           "Specified patch version: v2, expected: v1")


def test_default_manager_is_the_user_agent_prefix():
    """handlers/rest.go prefixFromUserAgent."""
    assert fm.default_manager("kubectl/v1.37.1 (linux/amd64) kubernetes/abc") == "kubectl"
    assert fm.default_manager("kube-controller-manager/v1.37 (linux/amd64)") == "kube-controller-manager"
    assert fm.default_manager("a\x00b" + "c" * 200) == "ab" + "c" * 126
    assert fm.manager_identifier("", "Update", "v1") == '{"manager":"unknown","operation":"Update","apiVersion":"v1"}'


def test_apply_creates_and_owns_only_its_configuration():
    """An apply that creates merges into the zero object; apiVersion, kind, name are not owned."""
    out = fm.apply(None, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "labels": {"a": "b"}},
                          "spec": {"containers": [{"name": "c", "image": "i"}]}}, "ssa", "v1", T0)
    assert out["metadata"]["managedFields"] == [{
        "manager": "ssa", "operation": "Apply", "apiVersion": "v1", "time": T0, "fieldsType": "FieldsV1",
        "fieldsV1": {"f:metadata": {"f:labels": {"f:a": {}}},
                     "f:spec": {"f:containers": {'k:{"name":"c"}': {".": {}, "f:image": {}, "f:name": {}}}}}}]
    assert path_of("spec") == (("f", "spec"),)


def test_duplicate_keys_in_an_apply_configuration_are_refused():
    """structuredmerge.go: the configuration must convert to a typed value without duplicate
    keys (typed/validate.go), else "failed to create typed patch object", a 500."""
    config = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "default"},
              "spec": {"containers": [{"name": "a", "image": "x"}, {"name": "a", "image": "y"}]}}
    with pytest.raises(fm.ApplyError) as e:
        fm.apply(None, config, "ssa", "v1", T0)
    assert e.value.code == 500
    assert str(e.value) == ('failed to create typed patch object (default/web; /v1, Kind=Pod): '
                            '.spec.containers: duplicate entries for key [name="a"]')


def test_create_of_a_replicaset_value_structs_and_atomic_selector():
    """The zero ReplicaSet has spec.template (a value struct), so f:template has no ".";
    LabelSelector is +structType=atomic, so f:selector is a leaf."""
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "rs"},
          "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "a"}},
                   "template": {"metadata": {"labels": {"app": "a"}},
                                "spec": {"containers": [{"name": "c", "image": "i"}]}}}}
    out = fm.update(None, rs, "kubectl-create", "apps/v1", T0)
    assert fields(out, "kubectl-create") == {"f:spec": {
        "f:replicas": {}, "f:selector": {},
        "f:template": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                       "f:spec": {"f:containers": {'k:{"name":"c"}': {".": {}, "f:image": {}, "f:name": {}}}}}}}


def test_pruning_keeps_unowned_defaults_but_drops_them_with_their_item():
    """addBackDanglingItems: a field nobody ever owned (a server default) stays when the applier
    drops a sibling; an associative item the applier drops goes with its defaulted fields."""
    config = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
              "spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}],
                       "restartPolicy": "Always"}}
    live = fm.apply(None, config, "ssa", "v1", T0)
    for c in live["spec"]["containers"]:
        c["terminationMessagePath"] = "/dev/termination-log"       # defaulted after the apply
    live["spec"]["dnsPolicy"] = "ClusterFirst"
    config["spec"] = {"containers": [{"name": "a", "image": "x"}]}
    out = fm.apply(live, config, "ssa", "v1", T1)
    assert out["spec"] == {"containers": [{"name": "a", "image": "x",
                                           "terminationMessagePath": "/dev/termination-log"}],
                           "dnsPolicy": "ClusterFirst"}
    assert list(out)[:2] == ["apiVersion", "kind"]
