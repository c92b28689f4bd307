"""A CustomResourceDefinition with several versions (conversion `None`): objects are stored at
the storage version and served at the version asked for, only their apiVersion changing; the
served versions are listed by Kubernetes' version priority, the preferred one first."""
from __future__ import annotations

import copy

from sim.apiextensions.versions import sort_versions
from tests.sim.conftest import ok

SCHEMA = {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object", "properties": {
    "size": {"type": "integer"}}}}}}
CRD = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
       "metadata": {"name": "gadgets.toys.example.com"},
       "spec": {"group": "toys.example.com", "scope": "Namespaced",
                "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
                "versions": [{"name": "v1beta1", "served": True, "storage": False, "schema": SCHEMA},
                             {"name": "v1", "served": True, "storage": True, "schema": SCHEMA},
                             {"name": "v1alpha1", "served": False, "storage": False, "schema": SCHEMA}]}}
G = {"group": "toys.example.com", "resource": "gadgets", "namespace": "default"}


def test_version_priority_as_apimachinery_sorts():
    assert sort_versions(["v1beta1", "v1", "v2alpha1", "foo", "v11alpha2", "v10", "v12alpha1", "v10beta3",
                          "v3beta1"]) == ["v10", "v1", "v10beta3", "v3beta1", "v1beta1", "v12alpha1", "v11alpha2",
                                          "v2alpha1", "foo"]


def test_objects_are_stored_at_the_storage_version_and_served_at_the_one_asked_for(cluster):
    ok(cluster.request({"verb": "create", "group": "apiextensions.k8s.io", "resource": "customresourcedefinitions",
                        "body": copy.deepcopy(CRD)}), 201)
    cluster.advance(2)
    made = ok(cluster.request({"verb": "create", **G, "version": "v1beta1",
                               "body": {"apiVersion": "toys.example.com/v1beta1", "kind": "Gadget",
                                        "metadata": {"name": "g"}, "spec": {"size": 2}}}), 201)
    assert made["apiVersion"] == "toys.example.com/v1beta1"
    assert ok(cluster.request({"verb": "get", **G, "version": "v1", "name": "g"}))["apiVersion"] == "toys.example.com/v1"
    listed = ok(cluster.request({"verb": "list", **G, "version": "v1beta1"}))
    assert listed["apiVersion"] == "toys.example.com/v1beta1"
    assert [i["apiVersion"] for i in listed["items"]] == ["toys.example.com/v1beta1"]
    # etcd holds the storage version
    api = cluster.serving_apiserver()
    stored = api.cache.objects("gadgets.toys.example.com")[("default", "g")]
    assert stored["apiVersion"] == "toys.example.com/v1"
    # discovery: served versions only, the preferred (v1) first
    resources = ok(cluster.request({"verb": "discovery", "resource": ""}))["resources"]
    gadget = next(r for r in resources if r["name"] == "gadgets")
    assert gadget["versions"] == ["v1", "v1beta1"]
    # a body of the other served version's apiVersion is refused at this one's URL
    wrong = cluster.request({"verb": "create", **G, "version": "v1",
                             "body": {"apiVersion": "toys.example.com/v1beta1", "kind": "Gadget",
                                      "metadata": {"name": "h"}}})
    assert wrong["code"] == 400
