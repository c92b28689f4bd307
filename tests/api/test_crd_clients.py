"""CustomResourceDefinitions through the official `kubernetes` Python client: the documentation's
CronTab CRD is created with ApiextensionsV1Api and established, its objects go through
CustomObjectsApi (create, get, list, merge patch, the scale subresource, watch, delete), an
invalid one is refused with the 422's causes, and deleting the CRD deletes its objects."""
from __future__ import annotations

import json
import threading

import pytest
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from tests.api.crontab import crontab, crontab_crd
from tests.conftest import wait_until

GROUP = "stable.example.com"
NS = "default"


@pytest.fixture(scope="module")
def api(pilothouse_server, module_cluster):
    name = module_cluster("api-crd-clients", speed=20)
    cfg = client.Configuration()
    cfg.host = pilothouse_server.cluster_url(name)
    api_client = client.ApiClient(cfg)
    yield api_client
    api_client.close()


def established(ext: client.ApiextensionsV1Api, name: str) -> bool:
    crd = ext.read_custom_resource_definition(name)
    return any(c.type == "Established" and c.status == "True" for c in (crd.status.conditions or []))


@pytest.fixture(scope="module")
def crd(api):
    ext = client.ApiextensionsV1Api(api)
    created = ext.create_custom_resource_definition(crontab_crd(GROUP))
    assert created.metadata.name == f"crontabs.{GROUP}"
    assert created.spec.names.kind == "CronTab"
    wait_until(lambda: established(ext, f"crontabs.{GROUP}"), timeout=20, interval=0.1,
               message="CRD Established")
    # Served once established: discovery lists the kind.
    custom = client.CustomObjectsApi(api)
    wait_until(lambda: custom.list_namespaced_custom_object(GROUP, "v1", NS, "crontabs") is not None,
               timeout=10, interval=0.1, message="crontabs served")
    return f"crontabs.{GROUP}"


def test_crd_is_established_and_discoverable(api, crd):
    ext = client.ApiextensionsV1Api(api)
    got = ext.read_custom_resource_definition(crd)
    assert got.status.accepted_names.kind == "CronTab"
    assert got.status.accepted_names.short_names == ["ct"]
    assert crd in [c.metadata.name for c in ext.list_custom_resource_definition().items]
    resources = client.ApisApi(api).get_api_versions()
    assert GROUP in [g.name for g in resources.groups]
    found = client.CustomObjectsApi(api).get_api_resources(GROUP, "v1")
    byname = {r.name: r for r in found.resources}
    assert byname["crontabs"].kind == "CronTab" and byname["crontabs"].namespaced is True
    assert {"crontabs/status", "crontabs/scale"} <= set(byname)


def test_custom_objects_crud(api, crd):
    custom = client.CustomObjectsApi(api)
    created = custom.create_namespaced_custom_object(GROUP, "v1", NS, "crontabs", crontab(GROUP, "crud", 3))
    assert created["kind"] == "CronTab" and created["apiVersion"] == f"{GROUP}/v1"
    assert created["metadata"]["uid"] and created["metadata"]["resourceVersion"]
    assert created["metadata"]["namespace"] == NS
    assert created["metadata"]["generation"] == 1

    got = custom.get_namespaced_custom_object(GROUP, "v1", NS, "crontabs", "crud")
    assert got["spec"] == {"cronSpec": "* * * * */5", "image": "my-awesome-cron-image", "replicas": 3}

    listed = custom.list_namespaced_custom_object(GROUP, "v1", NS, "crontabs")
    assert listed["kind"] == "CronTabList" and "crud" in [o["metadata"]["name"] for o in listed["items"]]
    everywhere = custom.list_cluster_custom_object(GROUP, "v1", "crontabs")
    assert "crud" in [o["metadata"]["name"] for o in everywhere["items"]]
    by_label = custom.list_namespaced_custom_object(GROUP, "v1", NS, "crontabs", label_selector="nope=1")
    assert by_label["items"] == []

    # CustomObjectsApi sends a dict patch as a JSON merge patch.
    patched = custom.patch_namespaced_custom_object(GROUP, "v1", NS, "crontabs", "crud",
                                                    {"metadata": {"labels": {"color": "blue"}},
                                                     "spec": {"image": "other-image"}})
    assert patched["metadata"]["labels"] == {"color": "blue"}
    assert patched["spec"]["image"] == "other-image" and patched["spec"]["replicas"] == 3
    assert patched["metadata"]["generation"] == 2
    assert int(patched["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])

    # A JSON patch too (the client sends every patch as a merge patch unless told).
    jp = custom.patch_namespaced_custom_object(GROUP, "v1", NS, "crontabs", "crud",
                                               [{"op": "replace", "path": "/spec/replicas", "value": 4}],
                                               _content_type="application/json-patch+json")
    assert jp["spec"]["replicas"] == 4

    # replace with the current resourceVersion works; with a stale one it is a 409.
    jp["spec"]["cronSpec"] = "*/2 * * * *"
    replaced = custom.replace_namespaced_custom_object(GROUP, "v1", NS, "crontabs", "crud", jp)
    assert replaced["spec"]["cronSpec"] == "*/2 * * * *"
    with pytest.raises(ApiException) as e:
        custom.replace_namespaced_custom_object(GROUP, "v1", NS, "crontabs", "crud", jp)
    assert e.value.status == 409 and json.loads(e.value.body)["reason"] == "Conflict"

    # The status subresource: a status write changes only status, the main resource ignores it.
    st = custom.patch_namespaced_custom_object_status(GROUP, "v1", NS, "crontabs", "crud",
                                                      {"status": {"replicas": 2, "labelSelector": "app=crud"},
                                                       "spec": {"replicas": 9}})
    assert st["status"] == {"replicas": 2, "labelSelector": "app=crud"} and st["spec"]["replicas"] == 4

    custom.delete_namespaced_custom_object(GROUP, "v1", NS, "crontabs", "crud")
    with pytest.raises(ApiException) as e:
        custom.get_namespaced_custom_object(GROUP, "v1", NS, "crontabs", "crud")
    assert e.value.status == 404
    body = json.loads(e.value.body)
    assert body["reason"] == "NotFound" and body["details"]["name"] == "crud"
    assert body["details"]["group"] == GROUP and body["details"]["kind"] == "crontabs"


def test_scale_subresource(api, crd):
    custom = client.CustomObjectsApi(api)
    custom.create_namespaced_custom_object(GROUP, "v1", NS, "crontabs", crontab(GROUP, "scaled", 2))
    custom.patch_namespaced_custom_object_status(GROUP, "v1", NS, "crontabs", "scaled",
                                                 {"status": {"replicas": 2, "labelSelector": "app=scaled"}})
    scale = custom.get_namespaced_custom_object_scale(GROUP, "v1", NS, "crontabs", "scaled")
    assert scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1"
    assert scale["spec"] == {"replicas": 2}
    assert scale["status"] == {"replicas": 2, "selector": "app=scaled"}

    patched = custom.patch_namespaced_custom_object_scale(GROUP, "v1", NS, "crontabs", "scaled",
                                                          {"spec": {"replicas": 5}})
    assert patched["spec"]["replicas"] == 5
    assert custom.get_namespaced_custom_object(GROUP, "v1", NS, "crontabs", "scaled")["spec"]["replicas"] == 5

    scale = custom.get_namespaced_custom_object_scale(GROUP, "v1", NS, "crontabs", "scaled")
    scale["spec"]["replicas"] = 6
    replaced = custom.replace_namespaced_custom_object_scale(GROUP, "v1", NS, "crontabs", "scaled", scale)
    assert replaced["spec"]["replicas"] == 6
    assert custom.get_namespaced_custom_object(GROUP, "v1", NS, "crontabs", "scaled")["spec"]["replicas"] == 6

    # The CRD's schema bounds replicas (maximum 10) through the scale subresource too.
    with pytest.raises(ApiException) as e:
        custom.patch_namespaced_custom_object_scale(GROUP, "v1", NS, "crontabs", "scaled", {"spec": {"replicas": 20}})
    assert e.value.status == 422


def test_watch_sees_added_modified_deleted(api, crd):
    custom = client.CustomObjectsApi(api)
    rv = custom.list_namespaced_custom_object(GROUP, "v1", NS, "crontabs")["metadata"]["resourceVersion"]
    seen: list[tuple[str, str, int]] = []
    w = watch.Watch()

    def run():
        for event in w.stream(custom.list_namespaced_custom_object, GROUP, "v1", NS, "crontabs",
                              field_selector="metadata.name=watched", resource_version=rv,
                              timeout_seconds=20):
            obj = event["object"]
            seen.append((event["type"], obj["metadata"]["name"], obj["spec"]["replicas"]))
            if event["type"] == "DELETED":
                w.stop()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    custom.create_namespaced_custom_object(GROUP, "v1", NS, "crontabs", crontab(GROUP, "watched", 1))
    custom.patch_namespaced_custom_object(GROUP, "v1", NS, "crontabs", "watched", {"spec": {"replicas": 2}})
    custom.delete_namespaced_custom_object(GROUP, "v1", NS, "crontabs", "watched")
    t.join(25)
    assert not t.is_alive(), seen
    assert seen == [("ADDED", "watched", 1), ("MODIFIED", "watched", 2), ("DELETED", "watched", 2)]


def test_invalid_object_is_422_with_causes(api, crd):
    custom = client.CustomObjectsApi(api)
    bad = crontab(GROUP, "bad", 20, cron_spec="not a cron spec")
    with pytest.raises(ApiException) as e:
        custom.create_namespaced_custom_object(GROUP, "v1", NS, "crontabs", bad)
    assert e.value.status == 422
    body = json.loads(e.value.body)
    assert body["kind"] == "Status" and body["reason"] == "Invalid" and body["code"] == 422
    assert body["details"]["name"] == "bad" and body["details"]["kind"] == "CronTab"
    assert body["details"]["group"] == GROUP
    causes = {c["field"]: c for c in body["details"]["causes"]}
    assert set(causes) == {"spec.replicas", "spec.cronSpec"}, causes
    assert causes["spec.replicas"]["reason"] == "FieldValueInvalid"
    assert "should be less than or equal to 10" in causes["spec.replicas"]["message"]
    assert "should match" in causes["spec.cronSpec"]["message"]
    assert body["message"].startswith('CronTab.stable.example.com "bad" is invalid: ')
    with pytest.raises(ApiException) as e:
        custom.get_namespaced_custom_object(GROUP, "v1", NS, "crontabs", "bad")
    assert e.value.status == 404


def test_dynamic_client(api, crd):
    """kubernetes.dynamic: discovery finds the custom kind, then CRUD, the scale subresource and a watch."""
    from kubernetes.dynamic import DynamicClient

    dyn = DynamicClient(api)
    crontabs = dyn.resources.get(api_version=f"{GROUP}/v1", kind="CronTab")
    assert (crontabs.name, crontabs.namespaced, crontabs.short_names) == ("crontabs", True, ["ct"])
    created = crontabs.create(body=crontab(GROUP, "dyn", 2), namespace=NS)
    assert created.metadata.name == "dyn" and created.spec.replicas == 2
    assert crontabs.get(name="dyn", namespace=NS).spec.image == "my-awesome-cron-image"
    assert "dyn" in [o.metadata.name for o in crontabs.get(namespace=NS).items]
    patched = crontabs.patch(name="dyn", namespace=NS, body={"spec": {"replicas": 3}},
                             content_type="application/merge-patch+json")
    assert patched.spec.replicas == 3
    scale = crontabs.subresources["scale"]
    assert scale.get(name="dyn", namespace=NS).spec.replicas == 3
    scale.patch(name="dyn", namespace=NS, body={"spec": {"replicas": 1}}, content_type="application/merge-patch+json")
    assert crontabs.get(name="dyn", namespace=NS).spec.replicas == 1
    events = []
    for event in crontabs.watch(namespace=NS, field_selector="metadata.name=dyn", timeout=10):
        events.append((event["type"], event["object"].metadata.name))
        break  # the initial ADDED of the existing object
    assert events == [("ADDED", "dyn")]
    crontabs.delete(name="dyn", namespace=NS)
    with pytest.raises(ApiException) as e:
        crontabs.get(name="dyn", namespace=NS)
    assert e.value.status == 404


def test_deleting_the_crd_removes_its_objects(api, crd):
    custom = client.CustomObjectsApi(api)
    ext = client.ApiextensionsV1Api(api)
    for name in ("doomed-1", "doomed-2"):
        custom.create_namespaced_custom_object(GROUP, "v1", NS, "crontabs", crontab(GROUP, name))
    ext.delete_custom_resource_definition(crd)

    def crd_gone() -> bool:
        try:
            ext.read_custom_resource_definition(crd)
        except ApiException as e:
            return e.status == 404
        return False

    wait_until(crd_gone, timeout=30, interval=0.2, message="the CRD deleted once its objects are gone")
    with pytest.raises(ApiException) as e:
        custom.list_namespaced_custom_object(GROUP, "v1", NS, "crontabs")
    assert e.value.status == 404

    # Created again, the kind is served empty: the old objects did not survive.
    ext.create_custom_resource_definition(crontab_crd(GROUP))
    wait_until(lambda: established(ext, crd), timeout=20, interval=0.1, message="CRD Established again")
    items = wait_until(lambda: custom.list_namespaced_custom_object(GROUP, "v1", NS, "crontabs"),
                       timeout=10, interval=0.1, message="crontabs served again")["items"]
    assert items == []
